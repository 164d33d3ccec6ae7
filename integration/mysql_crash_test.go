package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// myCrashTable is a table of the MariaDB crash workload.
type myCrashTable struct {
	name string
	key  []string
	cols []myCol
}

var myLineItems = `Line "Items" ` + "`x`"

var myCrashTables = []myCrashTable{
	{"accounts", []string{"id"}, []myCol{{"id", "int"}, {"balance", "num"}, {"name", "text"}, {"updated", "ts"}}},
	{"orders", []string{"id"}, []myCol{{"id", "int"}, {"account_id", "int"}, {"amount", "num"}, {"status", "text"},
		{"note", "text"}, {"created", "ts"}, {"paid", "int"}}},
	{myLineItems, []string{"order_id", "line"}, []myCol{{"order_id", "int"}, {"line", "int"}, {"qty (n)", "int"},
		{"sku ü", "text"}, {"price", "num"}}},
}

var myCrashDDL = []string{
	"CREATE TABLE accounts (id bigint PRIMARY KEY, balance decimal(14,2), name text, updated timestamp(6) NULL)",
	"CREATE TABLE orders (id bigint PRIMARY KEY, account_id int NOT NULL, amount decimal(12,2), status varchar(20), note text, created datetime(6), paid tinyint)",
	"CREATE TABLE `Line \"Items\" ``x``` (order_id bigint, line int, `qty (n)` int, `sku ü` text, price decimal(10,4), PRIMARY KEY (order_id, line))",
}

// checkOffsetNotAhead verifies, with the daemon dead, that every transaction the stored offset
// covers (its GTID at or below the stored position) is in ClickHouse: each key it touched has a row
// (live or deleted) at its version or later, and rows older than a covered truncate are gone.
func (e *myEnv) checkOffsetNotAhead(t *testing.T, w *myWorkload, snapshotSeq uint64) (covered, violations int) {
	t.Helper()
	stored := domainSeq(e.storedOffset(t))
	if stored == 0 {
		return 0, 0
	}
	w.mu.Lock()
	txns := append([]myTxn(nil), w.txns...)
	w.mu.Unlock()
	need := expectCovered(txns,
		func(tx myTxn) bool { return tx.seq <= stored },
		func(tx myTxn) bool { return tx.seq > snapshotSeq })
	for _, ct := range myCrashTables {
		have := e.chKeyVersions(t, e.chName(ct.name), ct.key)
		for _, k := range need.missing(ct.name, have) {
			violations++
			if violations <= 5 {
				t.Errorf("offset at GTID seq %d covers a change of %s key %s (version >= %d) that ClickHouse lacks (has %d)", stored, ct.name, k, need.keys[ct.name][k].min, have[k])
				if violations == 1 && os.Getenv("CDCD_CRASH_DEBUG") != "" {
					t.Logf("clickhouse rows of the key: %v", e.chRows(t, "SELECT toString(_version), toString(_is_deleted), ifNull(status, 'NULL') FROM "+e.table(e.chName(ct.name))+" WHERE toString("+chIdent(ct.key[0])+") = '"+k+"'"))
					t.Logf("clickhouse versions: %v", e.chRows(t, "SELECT toString(count()), toString(min(_version)), toString(max(_version)), toString(uniqExact(_version)) FROM "+e.table(e.chName(ct.name))))
					t.Logf("offsets: %v", e.chRows(t, "SELECT position, toString(version), toString(seq) FROM "+e.table("_cdcd_offsets")+" WHERE source = 'legacy' ORDER BY seq DESC LIMIT 3"))
					for i, tx := range txns {
						for _, tk := range tx.touched {
							if tk[0] == ct.name && strings.Contains(">"+tk[1]+">", ">"+k+">") {
								t.Logf("txn %d seq %d before %d touched %v", i, tx.seq, tx.before, tk)
							}
						}
					}
				}
			}
		}
		if at, ok := need.truncatedAt[ct.name]; ok {
			if n, err := e.chCount(fmt.Sprintf("SELECT count() FROM %s WHERE _version < %d", e.table(e.chName(ct.name)), at)); err != nil || n > 0 {
				violations++
				t.Errorf("offset at GTID seq %d covers a truncate of %s but %d older rows remain (%v)", stored, ct.name, n, err)
			}
		}
	}
	return need.covered, violations
}

// TestMySQLExactlyOnceUnderCrashes is the backbone's crash test on a MariaDB source: a seeded
// random workload of multi-row transactions (some rolled back, with key moves and truncates) over
// three tables, one with a composite key and hostile names, while cdcd is SIGKILLed at random
// moments (the first during the snapshot) and restarted. At each kill the stored offset must not
// be ahead of ClickHouse's data; at the end every _current view must equal its source table.
func TestMySQLExactlyOnceUnderCrashes(t *testing.T) {
	workRNG, killRNG := crashRNGs(t)
	const totalOps, minKills = 22000, 12
	e := newMyEnv(t)
	e.exec(t, myCrashDDL...)
	for i := 0; i < 2000; i += 500 {
		var vals []string
		for g := i + 1; g <= i+500; g++ {
			vals = append(vals, fmt.Sprintf("(%d, %d.50, 'acct %d', '2024-03-10 06:59:59.999999')", g, g*10, g))
		}
		e.exec(t, "INSERT INTO accounts VALUES "+strings.Join(vals, ", "))
	}
	for i := 0; i < 30000; i += 1000 {
		var vals []string
		for g := i + 1; g <= i+1000; g++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, %d.99, 'new', NULL, '2024-11-03 05:30:00.5', %d)", g, 1+g%2000, g%100000, g%2))
		}
		e.exec(t, "INSERT INTO orders VALUES "+strings.Join(vals, ", "))
	}
	var tables []string
	for _, ct := range myCrashTables {
		tables = append(tables, ct.name)
	}
	cfg := e.config(t, tables, "")
	conn := e.my.Conn(t, e.db)
	if _, err := conn.Execute("SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	w := &myWorkload{crashWorkload: newCrashWorkload(workRNG, myLineItems), conn: conn}

	d := startDaemon(t, cfg)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- w.run(totalOps, stop) }()
	defer close(stop)

	// The GTID position of the last snapshot that completed, from the daemons' logs.
	snapshotSeq := func(logs []string) uint64 { return domainSeq(lastSnapshotRead(logs, "gtid")) }
	crashes := e.killRepeatedly(t, d, done, killPlan{cfg: cfg, source: "legacy", minKills: minKills, rng: killRNG,
		firstKill: func(d *daemon) {
			// The first kill lands inside the snapshot: as soon as it has started.
			waitFor(t, 30*time.Second, "the snapshot to start", func() (bool, error) {
				return strings.Contains(d.out.String(), `msg="snapshot started"`), nil
			})
		},
		check: func(logs []string) (int, int) { return e.checkOffsetNotAhead(t, w, snapshotSeq(logs)) }})
	if crashes.checked == 0 {
		t.Error("no kill came after a stored offset: the offset-ahead check covered nothing")
	}
	caughtUp := time.Now()
	e.waitCaughtUp(t)
	catchUp := time.Since(caughtUp)

	compared, mismatches := 0, 0
	for _, ct := range myCrashTables {
		src := e.myRows(t, ct.name, ct.cols, ct.key)
		ch := e.chMyRows(t, e.chName(ct.name)+"_current", ct.cols, ct.key)
		normalizeNums(src, ct.cols)
		normalizeNums(ch, ct.cols)
		n, bad, report := diffRows(src, ch)
		compared += n
		mismatches += bad
		if bad > 0 {
			t.Errorf("%s: %d mismatches:\n%s", ct.name, bad, report)
		}
	}
	if n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); n != 0 {
		t.Errorf("%d dead letters: %v", n, e.chRows(t, "SELECT table, op, error FROM "+e.table("_cdcd_dead_letters")+" LIMIT 5"))
	}
	all := strings.Join(append(crashes.logs, crashes.d.out.String()), "\n")
	report(t, "mariadb crash test: %d ops (%d transactions committed, %d rolled back; %d key moves, %d truncates), "+
		"%d SIGKILLs (%d snapshots started, %d completed), %d covered transactions checked at kills, %d offset-ahead violations, "+
		"%d rows compared, %d mismatches, caught up in %v",
		w.ops, len(w.txns), w.rolled, w.moves, w.truncate, crashes.kills, strings.Count(all, `msg="snapshot started"`), strings.Count(all, `msg="snapshot read"`),
		crashes.checked, crashes.violations, compared, mismatches, catchUp.Round(time.Millisecond))
	if crashes.violations > 0 || mismatches > 0 {
		t.Fatalf("exactly-once violated: %d offset-ahead violations, %d mismatches", crashes.violations, mismatches)
	}
	crashes.d.stop()
}
