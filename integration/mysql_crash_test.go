package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
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

// myKeyState is what ClickHouse must hold for a key a covered transaction touched.
type myKeyState struct {
	min       uint64 // a row at this version or later
	mustExist bool   // false: a key deleted before the snapshot's position may be absent
	live      bool
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
	laterTruncate := map[string]uint64{} // ClickHouse may be ahead: a later truncate may already be applied
	for _, tx := range txns {
		for _, tb := range tx.truncated {
			if _, ok := laterTruncate[tb]; !ok && tx.seq > stored {
				laterTruncate[tb] = tx.before
			}
		}
	}
	need := map[string]map[string]*myKeyState{}
	truncatedAt := map[string]uint64{}
	for _, tx := range txns {
		if tx.seq > stored {
			break
		}
		covered++
		for _, tb := range tx.truncated {
			truncatedAt[tb] = tx.before
			need[tb] = map[string]*myKeyState{}
		}
		for _, tk := range tx.touched {
			keys := need[tk[0]]
			if keys == nil {
				keys = map[string]*myKeyState{}
				need[tk[0]] = keys
			}
			for i, k := range strings.Split(tk[1], ">") {
				if prefix, ok := strings.CutSuffix(k, "*"); ok {
					for key, st := range keys {
						if strings.HasPrefix(key, prefix) && st.live {
							*st = myKeyState{min: tx.before, mustExist: tx.seq > snapshotSeq}
						}
					}
					continue
				}
				deleted := tk[2] == "d" || (tk[2] == "move" && i == 0)
				keys[k] = &myKeyState{min: tx.before, mustExist: !deleted || tx.seq > snapshotSeq, live: !deleted}
			}
		}
	}
	for _, ct := range myCrashTables {
		var keyExpr []string
		for _, k := range ct.key {
			keyExpr = append(keyExpr, "toString("+chIdent(k)+")")
		}
		key := keyExpr[0]
		if len(keyExpr) > 1 {
			key = "concat(" + strings.Join(keyExpr, ", ',', ") + ")"
		}
		have := map[string]uint64{}
		for _, r := range e.chRows(t, "SELECT "+key+", toString(max(_version)) FROM "+e.table(e.chName(ct.name))+" GROUP BY "+strings.Join(keyExpr, ", ")) {
			have[r[0]] = parseUint(r[1])
		}
		for k, st := range need[ct.name] {
			if lt, ok := laterTruncate[ct.name]; ok && st.min < lt {
				continue
			}
			v, ok := have[k]
			if !ok && !st.mustExist {
				continue
			}
			if v < st.min {
				violations++
				if violations <= 5 {
					t.Errorf("offset at GTID seq %d covers a change of %s key %s (version >= %d) that ClickHouse lacks (has %d)", stored, ct.name, k, st.min, v)
					if violations == 1 && os.Getenv("CDCD_CRASH_DEBUG") != "" {
						t.Logf("clickhouse rows of the key: %v", e.chRows(t, "SELECT toString(_version), toString(_is_deleted), ifNull(status, 'NULL') FROM "+e.table(e.chName(ct.name))+" WHERE "+keyExpr[0]+" = '"+k+"'"))
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
		}
		if at, ok := truncatedAt[ct.name]; ok {
			if n, err := e.chCount(fmt.Sprintf("SELECT count() FROM %s WHERE _version < %d", e.table(e.chName(ct.name)), at)); err != nil || n > 0 {
				violations++
				t.Errorf("offset at GTID seq %d covers a truncate of %s but %d older rows remain (%v)", stored, ct.name, n, err)
			}
		}
	}
	return covered, violations
}

// TestMySQLExactlyOnceUnderCrashes is the backbone's crash test on a MariaDB source: a seeded
// random workload of multi-row transactions (some rolled back, with key moves and truncates) over
// three tables, one with a composite key and hostile names, while cdcd is SIGKILLed at random
// moments (the first during the snapshot) and restarted. At each kill the stored offset must not
// be ahead of ClickHouse's data; at the end every _current view must equal its source table.
func TestMySQLExactlyOnceUnderCrashes(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CDCD_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	const totalOps, minKills = 22000, 12
	t.Logf("seed %d (rerun with CDCD_CRASH_SEED=%d)", seed, seed)
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
	w := &myWorkload{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), conn: conn,
		live:   map[string]map[string]bool{"orders": {}, "accounts": {}, myLineItems: {}},
		nextID: map[string]int64{"orders": 30000, "accounts": 2000}}
	for i := 1; i <= 30000; i++ {
		w.live["orders"][strconv.Itoa(i)] = true
	}
	for i := 1; i <= 2000; i++ {
		w.live["accounts"][strconv.Itoa(i)] = true
	}

	killRNG := rand.New(rand.NewPCG(seed+1, seed+2))
	d := startDaemon(t, cfg)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- w.run(totalOps, stop) }()
	defer close(stop)

	// The GTID position of the snapshot that completed, from the daemon's logs.
	var logs []string
	snapshotSeq := func() uint64 {
		seq := uint64(0)
		for _, out := range append(logs, d.out.String()) {
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, `msg="snapshot read"`) {
					if i := strings.Index(line, " gtid="); i >= 0 {
						seq = domainSeq(strings.Fields(line[i+6:])[0])
					}
				}
			}
		}
		return seq
	}
	kills, violations, checked := 0, 0, 0
	first, finished := true, false
	var prevSeq uint64
	for !finished || kills < minKills {
		if first {
			// The first kill lands inside the snapshot: as soon as it has started.
			waitFor(t, 30*time.Second, "the snapshot to start", func() (bool, error) {
				return strings.Contains(d.out.String(), `msg="snapshot started"`), nil
			})
			first = false
		} else {
			if !finished {
				// Let the restarted daemon make progress first (see the PostgreSQL crash test).
				e.waitNewOffset(t, "legacy", prevSeq, 30*time.Second)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("workload: %v", err)
				}
				finished = true
			case <-time.After(time.Duration(200+killRNG.IntN(1300)) * time.Millisecond):
			}
		}
		if d.exited() {
			t.Fatalf("cdcd exited by itself:\n%s", tail(d.out.String(), 40))
		}
		d.kill()
		kills++
		logs = append(logs, d.out.String())
		c, v := e.checkOffsetNotAhead(t, w, snapshotSeq())
		checked += c
		violations += v
		prevSeq = e.offsetSeq("legacy")
		d = startDaemon(t, cfg)
	}
	if checked == 0 {
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
	all := strings.Join(append(logs, d.out.String()), "\n")
	t.Logf("mariadb crash test: %d ops (%d transactions committed, %d rolled back; %d key moves, %d truncates), "+
		"%d SIGKILLs (%d snapshots started, %d completed), %d covered transactions checked at kills, %d offset-ahead violations, "+
		"%d rows compared, %d mismatches, caught up in %v",
		w.ops, len(w.txns), w.rolled, w.moves, w.truncate, kills, strings.Count(all, `msg="snapshot started"`), strings.Count(all, `msg="snapshot read"`),
		checked, violations, compared, mismatches, catchUp.Round(time.Millisecond))
	if violations > 0 || mismatches > 0 {
		t.Fatalf("exactly-once violated: %d offset-ahead violations, %d mismatches", violations, mismatches)
	}
	d.stop()
}
