package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var aggOrdersCols = []col{{"id", "int"}, {"customer_id", "int"}, {"account_id", "int"}, {"status", "text"}, {"amount", "num"}, {"created_at", "ts"}}

// writeBoth runs single-statement transactions on items and orders until ctx ends: inserts,
// updates that move orders between groups and windows, deletes.
func writeBoth(ctx context.Context, t *testing.T, dsn string, seed uint64, writes *int) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(context.Background())
	rng := rand.New(rand.NewPCG(seed, seed+1))
	statuses := []string{"new", "paid", "paid", "refunded"}
	for ctx.Err() == nil {
		id := rng.IntN(60000) + 1
		var err error
		switch rng.IntN(6) {
		case 0:
			_, err = conn.Exec(ctx, "INSERT INTO items VALUES ($1, 1, 9.99, 'new', now()) ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1", id%2000+1)
		case 1:
			_, err = conn.Exec(ctx, "DELETE FROM items WHERE id = $1", id%2000+1)
		case 2:
			_, err = conn.Exec(ctx, `INSERT INTO orders VALUES ($1, $2, $3, $4, 12.34, '2024-03-10 06:58:00+00')
ON CONFLICT (id) DO UPDATE SET amount = orders.amount + 1`, id, rng.IntN(20), rng.IntN(6), statuses[rng.IntN(4)])
		case 3:
			_, err = conn.Exec(ctx, "UPDATE orders SET status = $1, account_id = $2 WHERE id = $3", statuses[rng.IntN(4)], rng.IntN(6), id)
		case 4:
			_, err = conn.Exec(ctx, "UPDATE orders SET created_at = created_at + interval '1 minute', amount = NULL WHERE id = $1", id)
		case 5:
			_, err = conn.Exec(ctx, "DELETE FROM orders WHERE id = $1", id)
		}
		if err != nil && ctx.Err() == nil {
			t.Error(err)
			return
		}
		*writes++
	}
}

// TestPostgresTableAddedToRunningSource: a table added to the configuration of a source that has
// been streaming is snapshotted on its own, while both tables are written to, and while the first
// table keeps streaming from the stored offset; the daemon is SIGKILLed during that snapshot and
// takes it again. Both tables, and three aggregations over the new one, end equal to PostgreSQL;
// a later start snapshots nothing.
func TestPostgresTableAddedToRunningSource(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB,
		"CREATE TABLE items (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)",
		"INSERT INTO items SELECT g, g % 100, g * 1.25, 'seed ' || g, now() FROM generate_series(1, 1000) g",
		ordersAggDDL)
	d := startDaemon(t, e.config(t, []string{"public.items"}, ""))
	e.waitCaughtUp(t)
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	// Rows the new table holds before it is added, and changes to the first table meanwhile.
	e.pg.Exec(t, e.pgDB,
		`INSERT INTO orders SELECT g, g % 20, g % 6, (ARRAY['new', 'paid', 'refunded'])[g % 3 + 1], (g % 1000) * 1.01,
  '2024-03-10 06:55:00+00'::timestamptz + (g % 600) * interval '1 second' FROM generate_series(1, 150000) g`,
		"UPDATE items SET note = 'while stopped' WHERE id <= 100")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes int
	wg.Add(1)
	go func() { defer wg.Done(); writeBoth(ctx, t, e.pgDSN, 7, &writes) }()
	defer func() { cancel(); wg.Wait() }()

	cfg := writeConfig(t, readFile(t, e.config(t, []string{"public.items", "public.orders"}, ""))+aggYAML)
	d = startDaemon(t, cfg)
	waitFor(t, 60*time.Second, "the new table's snapshot to start", func() (bool, error) {
		return strings.Contains(d.out.String(), "snapshotting tables new to the source"), nil
	})
	time.Sleep(150 * time.Millisecond)
	d.kill()
	first := d.out.String()
	if strings.Contains(first, "created replication slot") {
		t.Fatalf("a stored offset was ignored: the source was snapshotted whole\n%s", tail(first, 20))
	}
	d = startDaemon(t, cfg)
	waitFor(t, 60*time.Second, "the new table's snapshot to be taken again", func() (bool, error) {
		return strings.Contains(d.out.String(), `msg="snapshot read"`), nil
	})
	time.Sleep(2 * time.Second)
	cancel()
	wg.Wait()
	e.waitCaughtUp(t)
	n := e.sameTable(t, "items", "shop_public_items_current", ordersCols, []string{"id"})
	m := e.sameTable(t, "orders", "shop_public_orders_current", aggOrdersCols, []string{"id"})
	groups, bad := e.compareAggregates(t, orderAggChecks)
	report(t, "%d concurrent writes; %d + %d rows compared, 0 mismatches; %d aggregate groups compared, %d mismatches", writes, n, m, groups, bad)
	if bad > 0 {
		t.Fatalf("%d aggregate mismatches", bad)
	}
	snaps := e.chRows(t, "SELECT name, toString(argMax(version, seq) > 0) FROM "+e.table("_cdcd_snapshots")+
		" WHERE source = 'shop' GROUP BY name ORDER BY name")
	if fmt.Sprint(snaps) != "[[items 1] [orders 1]]" {
		t.Errorf("recorded table snapshots: %v", snaps)
	}
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}

	// Nothing is new any more.
	d = startDaemon(t, cfg)
	e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (999999, 1, 1, 'paid', 1.00, now())")
	e.waitCaughtUp(t)
	if strings.Contains(d.out.String(), "snapshotting tables new") || strings.Contains(d.out.String(), "snapshot read") {
		t.Errorf("a restart snapshotted again:\n%s", tail(d.out.String(), 20))
	}
	e.sameTable(t, "orders", "shop_public_orders_current", aggOrdersCols, []string{"id"})
	if _, bad := e.compareAggregates(t, orderAggChecks); bad > 0 {
		t.Errorf("%d aggregate mismatches after the restart", bad)
	}
	d.stop()
}
