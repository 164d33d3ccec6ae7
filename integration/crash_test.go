package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// crashTable is a table of the crash workload.
type crashTable struct {
	name string // PostgreSQL name (unquoted)
	key  []string
	cols []col
}

var crashTables = []crashTable{
	{"accounts", []string{"id"}, []col{{"id", "int"}, {"balance", "num"}, {"name", "text"}, {"updated", "ts"}}},
	{"orders", []string{"id"}, []col{{"id", "int"}, {"account_id", "int"}, {"amount", "num"}, {"status", "text"},
		{"note", "text"}, {"created", "ts"}, {"paid", "bool"}}},
	{`Line "Items" ` + "`x`", []string{"order_id", "line"}, []col{{"order_id", "int"}, {"line", "int"}, {"qty (n)", "int"},
		{"sku ü", "text"}, {"price", "num"}}},
}

const crashDDL = `
CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric(14,2), name text, updated timestamptz);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id int NOT NULL, amount numeric(12,2), status text,
  note text, created timestamptz, paid bool);
ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL;
ALTER TABLE orders REPLICA IDENTITY FULL;
CREATE TABLE "Line ""Items"" ` + "`x`" + `" (order_id bigint, line int, "qty (n)" int, "sku ü" text, price numeric(10,4),
  PRIMARY KEY (order_id, line));
ALTER TABLE "Line ""Items"" ` + "`x`" + `" REPLICA IDENTITY FULL;
INSERT INTO accounts SELECT g, g * 10.5, 'acct ' || g, '2024-03-10 06:59:59.999999+00' FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, g % 100000 + 0.99, 'new', NULL, '2024-11-03 05:30:00.5+00', g % 3 = 0
  FROM generate_series(1, 30000) g;
`

// crashAggYAML are the crash test's aggregations over orders: one with a filter (and avg), one
// windowed, one with min/max/count_distinct.
const crashAggYAML = `aggregations:
  - name: paid_by_account
    from: shop.public.orders
    group_by: [account_id]
    where: "status = 'paid' AND paid = true"
    measures: {n: count(), revenue: sum(amount), avg_amount: avg(amount)}
  - name: per_hour
    from: shop.public.orders
    group_by: [status]
    window: {column: created, size: 1h}
    measures: {n: count(), total: sum(amount)}
  - name: extremes
    from: shop.public.orders
    group_by: [account_id]
    measures: {n: count(), biggest: max(amount), smallest: min(amount), statuses: count_distinct(status)}
`

var crashAggChecks = []aggCheck{
	{"paid_by_account",
		`SELECT account_id::text, count(*)::text, coalesce(sum(amount)::text, 'NULL'), coalesce(avg(amount)::text, 'NULL')
		 FROM orders WHERE status = 'paid' AND paid GROUP BY account_id ORDER BY orders.account_id`,
		`SELECT toString(account_id), toString(n), ifNull(toString(revenue), 'NULL'), ifNull(toString(avg_amount), 'NULL') FROM %s ORDER BY account_id`,
		3},
	{"per_hour",
		`SELECT coalesce(status, 'NULL'), ((extract(epoch from date_trunc('hour', created)) * 1000000)::bigint)::text, count(*)::text, coalesce(sum(amount)::text, 'NULL')
		 FROM orders WHERE created IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT ifNull(status, 'NULL') AS s, toString(window_start), toString(n), ifNull(toString(total), 'NULL') FROM %s ORDER BY s, window_start`,
		-1},
	{"extremes",
		`SELECT account_id::text, count(*)::text, coalesce(max(amount)::text, 'NULL'), coalesce(min(amount)::text, 'NULL'), count(DISTINCT status)::text
		 FROM orders GROUP BY account_id ORDER BY orders.account_id`,
		`SELECT toString(account_id), toString(n), ifNull(toString(biggest), 'NULL'), ifNull(toString(smallest), 'NULL'), toString(statuses) FROM %s ORDER BY account_id`,
		-1},
}

// txnRecord is what the workload knows of one committed transaction; its before is the insert
// LSN just before COMMIT (<= its commit record).
type txnRecord struct {
	crashTxn
	after uint64 // the insert LSN just after COMMIT
}

// workload runs a seeded random workload of multi-row transactions on one connection, recording
// what each committed transaction touched and the LSNs around its commit.
type workload struct {
	crashWorkload
	conn   *pgx.Conn
	mu     sync.Mutex
	txns   []txnRecord
	toasts int
}

func (w *workload) amount(max int) string {
	if w.rng.IntN(50) == 0 {
		return fmt.Sprintf("%d.99", max) // extreme
	}
	if w.rng.IntN(20) == 0 {
		return "NULL"
	}
	return fmt.Sprintf("%d.%02d", w.rng.IntN(max), w.rng.IntN(100))
}

func (w *workload) timestamp() string {
	// Around the 2024 DST changes, with microseconds.
	base := []int64{1710053999, 1730611800}[w.rng.IntN(2)]
	return fmt.Sprintf("'%s'", time.Unix(base+int64(w.rng.IntN(7200)-3600), int64(w.rng.IntN(1e6))*1000).UTC().Format("2006-01-02 15:04:05.999999Z07:00"))
}

func (w *workload) text() string {
	switch w.rng.IntN(20) {
	case 0:
		w.toasts++
		return "'" + randomText(4000+w.rng.IntN(4000)) + "'"
	case 1:
		return "NULL"
	case 2:
		return "'quote '' back\\slash ü ☃'"
	}
	return fmt.Sprintf("'note %d'", w.rng.IntN(1e6))
}

// op returns one random statement and the (table, key) it touches; pending tracks keys inserted or
// deleted by the open transaction.
func (w *workload) op(pending pendingKeys) (string, [3]string) {
	lineTable := crashTables[2].name
	qLine := pgIdent(lineTable)
	switch r := w.rng.IntN(100); {
	case r < 30: // insert order
		w.nextID["orders"]++
		id := w.nextID["orders"]
		k := strconv.FormatInt(id, 10)
		pending.mark("orders", k, 1)
		return fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %s, 'new', %s, %s, %v)", id, 1+w.rng.IntN(2000), w.amount(99999),
			w.text(), w.timestamp(), w.rng.IntN(2) == 0), [3]string{"orders", k}
	case r < 50: // update order, sometimes leaving a TOASTed note unchanged
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] < 0 {
			break
		}
		set := []string{"status = 'paid', paid = true", "amount = " + w.amount(99999), "note = " + w.text(),
			"created = " + w.timestamp() + ", status = 'shipped'"}[w.rng.IntN(4)]
		return "UPDATE orders SET " + set + " WHERE id = " + k, [3]string{"orders", k}
	case r < 55: // move an order to a new key (its note, maybe TOASTed, unchanged)
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] != 0 {
			break
		}
		w.nextID["orders"]++
		nk := strconv.FormatInt(w.nextID["orders"], 10)
		pending.mark("orders", k, -1)
		pending.mark("orders", nk, 1)
		w.moves++
		return fmt.Sprintf("UPDATE orders SET id = %s WHERE id = %s", nk, k), [3]string{"orders", k + ">" + nk, "move"}
	case r < 65: // delete order
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] != 0 {
			break
		}
		pending.mark("orders", k, -1)
		return "DELETE FROM orders WHERE id = " + k, [3]string{"orders", k, "d"}
	case r < 80: // account balance
		k, ok := w.randomKey("accounts")
		if !ok {
			break
		}
		return fmt.Sprintf("UPDATE accounts SET balance = %s, updated = %s WHERE id = %s", w.amount(999999999999), w.timestamp(), k),
			[3]string{"accounts", k}
	case r < 85: // new account
		w.nextID["accounts"]++
		id := w.nextID["accounts"]
		k := strconv.FormatInt(id, 10)
		pending.mark("accounts", k, 1)
		return fmt.Sprintf("INSERT INTO accounts VALUES (%d, %s, %s, %s)", id, w.amount(1000), w.text(), w.timestamp()), [3]string{"accounts", k}
	case r < 95: // line items (composite key, REPLICA IDENTITY FULL)
		order, line := w.rng.IntN(40000), w.rng.IntN(5)
		k := fmt.Sprintf("%d,%d", order, line)
		return fmt.Sprintf(`INSERT INTO %s VALUES (%d, %d, %d, %s, %s) ON CONFLICT (order_id, line) DO UPDATE SET "qty (n)" = EXCLUDED."qty (n)" + 1, price = EXCLUDED.price`,
			qLine, order, line, w.rng.IntN(100), w.text(), w.amount(999999)), [3]string{lineTable, k}
	default: // delete line items of an order
		order := w.rng.IntN(40000)
		return fmt.Sprintf(`DELETE FROM %s WHERE order_id = %d`, qLine, order), [3]string{lineTable, strconv.Itoa(order) + ",*", "d"}
	}
	return "SELECT 1", [3]string{}
}

func (w *workload) lsn(ctx context.Context) (uint64, error) {
	var n uint64
	err := w.conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn() - '0/0'").Scan(&n)
	return n, err
}

// run executes transactions until total operations were issued.
func (w *workload) run(ctx context.Context, total int) error {
	for w.ops < total && ctx.Err() == nil {
		if _, err := w.conn.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		pending := pendingKeys{}
		var touched [][3]string
		var truncated []string
		if w.rng.IntN(1500) == 0 && w.truncate < 2 {
			// A rare TRUNCATE of the line items, in a transaction with other changes.
			if _, err := w.conn.Exec(ctx, "TRUNCATE "+pgIdent(crashTables[2].name)); err != nil {
				return err
			}
			truncated = append(truncated, crashTables[2].name)
			w.truncate++
		}
		n := 1 + w.rng.IntN(20)
		for i := 0; i < n; i++ {
			stmt, tk := w.op(pending)
			if _, err := w.conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
			w.ops++
			if tk[0] != "" {
				touched = append(touched, tk)
			}
		}
		if w.rng.IntN(10) == 0 {
			if _, err := w.conn.Exec(ctx, "ROLLBACK"); err != nil {
				return err
			}
			w.rolled++
			// Keys reserved by the rolled-back transaction stay unused: harmless.
			continue
		}
		before, err := w.lsn(ctx)
		if err != nil {
			return err
		}
		if _, err := w.conn.Exec(ctx, "COMMIT"); err != nil {
			return err
		}
		after, err := w.lsn(ctx)
		if err != nil {
			return err
		}
		w.commitKeys(pending)
		w.mu.Lock()
		w.txns = append(w.txns, txnRecord{crashTxn: crashTxn{before: before, touched: touched, truncated: truncated}, after: after})
		w.mu.Unlock()
	}
	return ctx.Err()
}

// checkOffsetNotAhead verifies, with the daemon dead, that every transaction the stored offset
// covers is in ClickHouse: each key it touched has a row (live or deleted) at its version or later,
// and rows older than a covered truncate are gone. It returns the number of violations.
func (e *env) checkOffsetNotAhead(t *testing.T, w *workload, snapshotCP uint64) (covered, violations int) {
	t.Helper()
	// Killed before it created its tables (a slow start): nothing is covered yet.
	if n, err := e.chCount("SELECT count() FROM system.tables WHERE database = '" + e.chDB + "' AND name = '_cdcd_offsets'"); err != nil || n == 0 {
		return 0, 0
	}
	rows := e.chRows(t, "SELECT toString(version) FROM "+e.table("_cdcd_offsets")+" WHERE source = 'shop' ORDER BY seq DESC LIMIT 1")
	if len(rows) == 0 {
		return 0, 0
	}
	stored, _ := strconv.ParseUint(rows[0][0], 10, 64)
	w.mu.Lock()
	txns := append([]txnRecord(nil), w.txns...)
	w.mu.Unlock()
	need := expectCovered(txns,
		func(tx txnRecord) bool { return tx.after <= stored+1 }, // (certainly) covered
		func(tx txnRecord) bool { return tx.after > snapshotCP })
	for _, ct := range crashTables {
		have := e.chKeyVersions(t, "shop_public_"+ct.name, ct.key)
		for _, k := range need.missing(ct.name, have) {
			violations++
			if violations <= 5 {
				t.Errorf("offset %d covers a change of %s key %s (version >= %d) that ClickHouse lacks (has %d)", stored, ct.name, k, need.keys[ct.name][k].min, have[k])
				if violations == 1 && os.Getenv("CDCD_CRASH_DEBUG") != "" {
					t.Logf("offsets: %v", e.chRows(t, "SELECT position, toString(version), toString(seq), toString(updated) FROM "+e.table("_cdcd_offsets")+" ORDER BY seq"))
					t.Logf("rows of %s in clickhouse: %d keys; versions: %v", ct.name, len(have),
						e.chRows(t, "SELECT toString(count()), toString(min(_version)), toString(max(_version)) FROM "+e.table("shop_public_"+ct.name)))
					t.Logf("truncated at %v, snapshot CP %d", need.truncatedAt, snapshotCP)
					for i, tx := range txns {
						if len(tx.truncated) > 0 {
							t.Logf("txn %d before %d after %d truncated %v", i, tx.before, tx.after, tx.truncated)
						}
					}
					for i, tx := range txns {
						for _, tk := range tx.touched {
							if tk[0] == ct.name && strings.Contains(">"+tk[1]+">", ">"+k+">") {
								t.Logf("txn %d before %d after %d touched %v", i, tx.before, tx.after, tk)
							}
						}
					}
				}
			}
		}
		if at, ok := need.truncatedAt[ct.name]; ok {
			if n, err := e.chCount(fmt.Sprintf("SELECT count() FROM %s WHERE _version < %d", e.table("shop_public_"+ct.name), at)); err != nil || n > 0 {
				violations++
				t.Errorf("offset %d covers a truncate of %s but %d older rows remain (%v)", stored, ct.name, n, err)
			}
		}
	}
	return need.covered, violations
}

// TestExactlyOnceUnderCrashes is the backbone's proof: a seeded random workload of inserts,
// updates, deletes, key moves and truncates in multi-row transactions (some rolled back) over three
// tables, while cdcd is SIGKILLed at random moments (the first during the snapshot) and restarted.
// At each kill the stored offset must not be ahead of ClickHouse's data; at the end every _current
// view must equal its source table row for row.
func TestExactlyOnceUnderCrashes(t *testing.T) {
	workRNG, killRNG := crashRNGs(t)
	const totalOps, minKills = 24000, 12
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, crashDDL)
	var tables []string
	for _, ct := range crashTables {
		tables = append(tables, `public."`+strings.ReplaceAll(ct.name, `"`, `""`)+`"`)
	}
	cfg := writeConfig(t, readFile(t, e.config(t, tables, ""))+crashAggYAML)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	w := &workload{crashWorkload: newCrashWorkload(workRNG, crashTables[2].name), conn: conn}

	d := startDaemon(t, cfg)
	done := make(chan error, 1)
	go func() { done <- w.run(ctx, totalOps) }()

	// The consistent point of the last snapshot that completed, from the daemons' logs.
	snapshotCP := func(logs []string) uint64 {
		var hi, lo uint64
		if _, err := fmt.Sscanf(lastSnapshotRead(logs, "consistent_point"), "%X/%X", &hi, &lo); err != nil {
			return 0
		}
		return hi<<32 | lo
	}
	crashes := e.killRepeatedly(t, d, done, killPlan{cfg: cfg, source: "shop", minKills: minKills, rng: killRNG,
		firstKill: func(*daemon) {
			time.Sleep(time.Duration(50+killRNG.IntN(150)) * time.Millisecond) // likely inside the snapshot
		},
		check: func(logs []string) (int, int) {
			c, v := e.checkOffsetNotAhead(t, w, snapshotCP(logs))
			if v > 0 && os.Getenv("CDCD_CRASH_DEBUG") != "" {
				_ = os.WriteFile("/tmp/cdcd-crash-logs.txt", []byte(strings.Join(logs, "\n=== restart ===\n")), 0o644)
			}
			return c, v
		}})
	if crashes.checked == 0 {
		t.Error("no kill came after a stored offset: the offset-ahead check covered nothing")
	}
	caughtUp := time.Now()
	e.waitCaughtUp(t)
	catchUp := time.Since(caughtUp)

	compared, mismatches := 0, 0
	for _, ct := range crashTables {
		pgTable := `public."` + strings.ReplaceAll(ct.name, `"`, `""`) + `"`
		pg := pgTableRows(t, e.pgDSN, pgTable, ct.cols, ct.key)
		ch := e.chTableRows(t, "shop_public_"+ct.name+"_current", ct.cols, ct.key)
		n, bad, report := diffRows(pg, ch)
		compared += n
		mismatches += bad
		if bad > 0 {
			t.Errorf("%s: %d mismatches:\n%s", ct.name, bad, report)
		}
	}
	groups, aggBad := e.compareAggregates(t, crashAggChecks)
	if n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); n != 0 {
		t.Errorf("%d dead letters: %v", n, e.chRows(t, "SELECT table, op, toString(version), error, substring(record, 1, 300) FROM "+e.table("_cdcd_dead_letters")))
	}
	report(t, "crash test: %d ops (%d transactions committed, %d rolled back; %d TOAST values, %d key moves, %d truncates), "+
		"%d SIGKILLs, %d covered transactions checked at kills, %d offset-ahead violations, %d rows compared, %d mismatches, "+
		"%d aggregate groups compared over 3 aggregations, %d aggregate mismatches, caught up in %v",
		w.ops, len(w.txns), w.rolled, w.toasts, w.moves, w.truncate, crashes.kills, crashes.checked, crashes.violations, compared, mismatches,
		groups, aggBad, catchUp.Round(time.Millisecond))
	if crashes.violations > 0 || mismatches > 0 || aggBad > 0 {
		t.Fatalf("exactly-once violated: %d offset-ahead violations, %d mismatches, %d aggregate mismatches", crashes.violations, mismatches, aggBad)
	}
	crashes.d.stop()
}
