package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	myItemsCols     = []myCol{{"id", "int"}, {"qty", "int"}, {"amount", "num"}, {"note", "text"}, {"at", "ts"}}
	myAggOrdersCols = []myCol{{"id", "int"}, {"customer_id", "int"}, {"account_id", "int"}, {"status", "text"}, {"paid", "int"},
		{"amount", "num"}, {"created_at", "ts"}}
)

// writeMyBoth runs transactions of one to four statements on items and orders until ctx ends:
// inserts, updates that move orders between groups, windows and the filter of myAggYAML, deletes;
// some transactions change both tables.
func (e *myEnv) writeMyBoth(ctx context.Context, t *testing.T, seed uint64, writes *int) {
	c := e.my.Conn(t, e.db)
	defer c.Close()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	statuses := []string{"'new'", "'paid'", "'paid'", "'refunded'", "NULL"}
	paid := []string{"0", "1", "1", "NULL"}
	amount := func() string {
		if rng.IntN(30) == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%d.%02d", rng.IntN(1000), rng.IntN(100))
	}
	ts := func() string {
		return fmt.Sprintf("'2024-03-10 06:%02d:%02d.%06d'", 55+rng.IntN(5), rng.IntN(60), rng.IntN(1000000))
	}
	stmt := func() string {
		id := rng.IntN(120000) + 1
		switch rng.IntN(8) {
		case 0:
			return fmt.Sprintf("INSERT INTO items VALUES (%d, 1, 9.99, 'new', NOW(6)) ON DUPLICATE KEY UPDATE qty = qty + 1", id%2000+1)
		case 1:
			return fmt.Sprintf("DELETE FROM items WHERE id = %d", id%2000+1)
		case 2:
			return fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE amount = amount + 1",
				id, rng.IntN(20), rng.IntN(6), statuses[rng.IntN(len(statuses))], paid[rng.IntN(len(paid))], amount(), ts())
		case 3:
			return fmt.Sprintf("UPDATE orders SET status = %s, paid = %s WHERE id = %d", statuses[rng.IntN(len(statuses))], paid[rng.IntN(len(paid))], id)
		case 4:
			return fmt.Sprintf("UPDATE orders SET account_id = %d, amount = %s WHERE id = %d", rng.IntN(6), amount(), id)
		case 5:
			return fmt.Sprintf("UPDATE orders SET created_at = %s, customer_id = %d WHERE id = %d", ts(), rng.IntN(20), id)
		case 6:
			return fmt.Sprintf("DELETE FROM orders WHERE id = %d", id)
		}
		return fmt.Sprintf("UPDATE items SET note = 'w%d', amount = %s WHERE id = %d", rng.IntN(1000), amount(), id%2000+1)
	}
	for ctx.Err() == nil {
		stmts := []string{stmt()}
		if rng.IntN(4) == 0 {
			stmts = []string{"BEGIN"}
			for n := 2 + rng.IntN(3); n > 0; n-- {
				stmts = append(stmts, stmt())
			}
			stmts = append(stmts, "COMMIT")
		}
		for _, s := range stmts {
			if _, err := c.Execute(s); err != nil {
				if ctx.Err() == nil {
					t.Errorf("mariadb %q: %v", s, err)
				}
				return
			}
		}
		*writes++
	}
}

// TestMySQLTableAddedToRunningSource: a table added to the configuration of a MariaDB source that
// has been streaming is snapshotted on its own (it held rows before the stored offset, and was
// mostly filled and changed while the daemon was stopped), while both tables are written to and
// while the first table keeps streaming from the stored offset; the daemon is SIGKILLed during that snapshot and takes it again. Both tables, and three
// aggregations over the new one, end equal to MariaDB; both snapshots are recorded; a later start
// snapshots nothing.
func TestMySQLTableAddedToRunningSource(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, "CREATE TABLE items (id bigint PRIMARY KEY, qty int, amount decimal(12,2), note text, at datetime(6))",
		"CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, account_id INT, status VARCHAR(20), paid BOOL, amount DECIMAL(12,2), created_at DATETIME(6))")
	var vals []string
	for g := 1; g <= 1000; g++ {
		vals = append(vals, fmt.Sprintf("(%d, %d, %d.25, 'seed %d', NOW(6))", g, g%100, g, g))
	}
	e.exec(t, "INSERT INTO items VALUES "+strings.Join(vals, ", "))
	const seeded = 100000
	fillOrders := func(from, to int) {
		for i := from; i < to; i += 5000 {
			vals = vals[:0]
			for g := i + 1; g <= i+5000; g++ {
				vals = append(vals, fmt.Sprintf("(%d, %d, %d, '%s', %d, %d.%02d, '2024-03-10 06:55:00' + INTERVAL %d SECOND)",
					g, g%20, g%6, []string{"new", "paid", "refunded"}[g%3], g%2, g%1000, g%100, g%300))
			}
			e.exec(t, "INSERT INTO orders VALUES "+strings.Join(vals, ", "))
		}
	}
	fillOrders(0, 20000) // the new table holds rows from before the stored offset, which the stream cannot replay
	d := startDaemon(t, e.config(t, []string{"items"}, ""))
	e.waitCaughtUp(t)
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	stored := e.storedOffset(t)

	// While cdcd is stopped: most of the new table's rows, changes to its older rows (between
	// groups, windows and the filter), and changes to the first table. The stream replays these
	// after the new table's snapshot, which holds them: they must not count twice.
	fillOrders(20000, seeded)
	e.exec(t, "UPDATE orders SET paid = 1 - paid, account_id = (account_id + 1) % 6 WHERE id % 7 = 0 AND id <= 20000",
		"UPDATE orders SET status = 'refunded', created_at = created_at + INTERVAL 1 MINUTE WHERE id % 11 = 0 AND id <= 20000",
		"DELETE FROM orders WHERE id % 13 = 0 AND id <= 20000")
	e.exec(t, "UPDATE items SET note = 'while stopped' WHERE id <= 100")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes int
	wg.Add(1)
	go func() { defer wg.Done(); e.writeMyBoth(ctx, t, 7, &writes) }()
	defer func() { cancel(); wg.Wait() }()

	cfg := writeConfig(t, readFile(t, e.config(t, []string{"items", "orders"}, ""))+fmt.Sprintf(myAggYAML, e.db))
	d = startDaemon(t, cfg)
	waitFor(t, 60*time.Second, "the new table's snapshot to start", func() (bool, error) {
		return strings.Contains(d.out.String(), "snapshotting tables new to the source"), nil
	})
	// Killed as soon as part of its rows are in ClickHouse: polled closely, the snapshot takes
	// well under a second.
	recorded := func() uint64 {
		n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_snapshots") + " WHERE source = 'legacy' AND name = 'orders'")
		return n
	}
	var partial uint64
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if partial, _ = e.chCount("SELECT count() FROM " + e.table(e.chName("orders"))); partial > 0 || recorded() > 0 {
			break
		}
	}
	d.kill()
	first := d.out.String()
	if strings.Contains(first, `msg="snapshot started"`) {
		t.Fatalf("a stored offset was ignored: the source was snapshotted whole\n%s", tail(first, 20))
	}
	if recorded() > 0 {
		t.Fatalf("the kill came after the new table's snapshot was complete in ClickHouse, not during it (%d rows written)", partial)
	}
	if got := e.storedOffset(t); got != stored {
		t.Errorf("the offset moved from %s to %s during the new table's snapshot", stored, got)
	}

	d = startDaemon(t, cfg)
	waitFor(t, 60*time.Second, "the new table's snapshot to be taken again", func() (bool, error) {
		return strings.Contains(d.out.String(), `msg="snapshot read"`), nil
	})
	second := d.out.String()
	if !strings.Contains(second, "snapshotting tables new to the source") || strings.Contains(second, `msg="snapshot started"`) {
		t.Fatalf("the restart did not snapshot the new table alone\n%s", tail(second, 20))
	}
	time.Sleep(2 * time.Second) // both tables stream under the concurrent writer
	cancel()
	wg.Wait()
	e.waitCaughtUp(t)
	n := e.sameMyTable(t, "items", myItemsCols, []string{"id"})
	m := e.sameMyTable(t, "orders", myAggOrdersCols, []string{"id"})
	groups, bad := e.compareMyAggregates(t)
	report(t, "%d concurrent writes; SIGKILL with %d of %d seeded rows of the new table written; %d + %d rows compared, 0 mismatches; "+
		"%d aggregate groups compared, %d mismatches", writes, partial, seeded, n, m, groups, bad)
	if bad > 0 {
		t.Fatalf("%d aggregate mismatches", bad)
	}
	snaps := e.chRows(t, "SELECT name, toString(argMax(version, seq) > 0) FROM "+e.table("_cdcd_snapshots")+
		" WHERE source = 'legacy' GROUP BY name ORDER BY name")
	if fmt.Sprint(snaps) != "[[items 1] [orders 1]]" {
		t.Errorf("recorded table snapshots: %v", snaps)
	}
	if n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); n != 0 {
		t.Errorf("%d dead letters", n)
	}
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}

	// Nothing is new any more.
	d = startDaemon(t, cfg)
	e.exec(t, "INSERT INTO orders VALUES (999999, 1, 1, 'paid', 1, 1.00, NOW(6))")
	e.waitCaughtUp(t)
	if out := d.out.String(); strings.Contains(out, "snapshotting tables new") || strings.Contains(out, "snapshot read") || strings.Contains(out, "snapshot started") {
		t.Errorf("a restart snapshotted again:\n%s", tail(out, 20))
	}
	e.sameMyTable(t, "orders", myAggOrdersCols, []string{"id"})
	if _, bad := e.compareMyAggregates(t); bad > 0 {
		t.Errorf("%d aggregate mismatches after the restart", bad)
	}
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}

	// The offset reset back to where it was when the table was added (a GTID position: Version
	// 0), with the new table's snapshot still recorded: the stream replays its changes from before
	// that snapshot to a process whose aggregations are restored from ClickHouse, and must drop
	// them again.
	if code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", stored); code != 0 || !strings.Contains(out, "backward by") {
		t.Fatalf("offsets reset: exit %d; output:\n%s", code, out)
	}
	d = startDaemon(t, cfg)
	e.exec(t, "UPDATE orders SET amount = amount + 1 WHERE id = 999999")
	e.waitCaughtUp(t)
	if out := d.out.String(); strings.Contains(out, "snapshotting tables new") || strings.Contains(out, "snapshot read") || strings.Contains(out, "snapshot started") {
		t.Errorf("the reset snapshotted again:\n%s", tail(out, 20))
	} else if !strings.Contains(out, "dropping a table's changes its snapshot holds") || !strings.Contains(out, e.db+".orders") {
		t.Errorf("the stream does not drop what the new table's recorded snapshot holds:\n%s", tail(out, 20))
	}
	n = e.sameMyTable(t, "items", myItemsCols, []string{"id"})
	m = e.sameMyTable(t, "orders", myAggOrdersCols, []string{"id"})
	groups, bad = e.compareMyAggregates(t)
	report(t, "after a reset to the offset the table was added at: %d + %d rows compared, 0 mismatches; %d aggregate groups compared, %d mismatches",
		n, m, groups, bad)
	if bad > 0 {
		t.Errorf("%d aggregate mismatches after replaying from before the new table's snapshot", bad)
	}
	d.stop()
}
