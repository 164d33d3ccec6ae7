package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var ordersCols = []col{{"id", "int"}, {"qty", "int"}, {"amount", "num"}, {"note", "text"}, {"at", "ts"}}

// TestPostgresSnapshotWithConcurrentWrites starts cdcd on a table that is being written to, so
// the snapshot and the start of the stream overlap with transactions; the result must be exactly
// the source, with no gap and no duplicate effect.
func TestPostgresSnapshotWithConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)",
		"INSERT INTO orders SELECT g, g % 100, g * 1.25, 'seed ' || g, now() FROM generate_series(1, 50000) g")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes int
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := pgx.Connect(ctx, e.pgDSN)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		rng := mrand.New(mrand.NewPCG(1, 2))
		for ctx.Err() == nil {
			id := rng.IntN(60000) + 1
			var err error
			switch rng.IntN(3) {
			case 0:
				_, err = conn.Exec(ctx, "INSERT INTO orders VALUES ($1, 1, 9.99, 'new', now()) ON CONFLICT (id) DO UPDATE SET qty = orders.qty + 1", id)
			case 1:
				_, err = conn.Exec(ctx, "UPDATE orders SET amount = amount + 0.01, note = note || '+' WHERE id = $1", id)
			case 2:
				_, err = conn.Exec(ctx, "DELETE FROM orders WHERE id = $1", id)
			}
			if err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			writes++
		}
	}()
	time.Sleep(200 * time.Millisecond)
	d := startDaemon(t, e.config(t, []string{"public.orders"}, ""))
	time.Sleep(3 * time.Second)
	cancel()
	wg.Wait()
	e.waitCaughtUp(t)
	n := e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	t.Logf("%d concurrent writes; %d rows compared, 0 mismatches", writes, n)
	if !strings.Contains(d.out.String(), "snapshot read") {
		t.Error("no snapshot was logged")
	}
	d.stop()
}

// waitCaughtUp waits until the source's offset covers the current WAL position of the server.
func (e *env) waitCaughtUp(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A marker transaction in a captured table's publication would be ideal, but the offset also
	// advances on idle keepalives: wait for it to pass the current WAL end.
	var target uint64
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn() - '0/0'").Scan(&target); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("the offset to reach %d", target), func() (bool, error) {
		n, err := e.chCount("SELECT toUInt64(max(version)) FROM " + e.table("_cdcd_offsets") + " WHERE source = 'shop'")
		return n+1 >= target, err
	})
}

// randomText returns n bytes of incompressible hex, so PostgreSQL stores it out of line (TOAST).
func randomText(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestPostgresUnchangedTOAST: an update that leaves a TOASTed column alone sends it as "unchanged";
// ClickHouse must keep the value, whether the earlier image is in the same batch, in the event
// (REPLICA IDENTITY FULL) or only in ClickHouse.
func TestPostgresUnchangedTOAST(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB,
		"CREATE TABLE docs (id int PRIMARY KEY, n int, body text)",
		"ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL",
		"CREATE TABLE docs_full (id int PRIMARY KEY, n int, body text)",
		"ALTER TABLE docs_full ALTER COLUMN body SET STORAGE EXTERNAL",
		"ALTER TABLE docs_full REPLICA IDENTITY FULL")
	for i := 1; i <= 20; i++ {
		body := randomText(8000)
		e.pg.Exec(t, e.pgDB, fmt.Sprintf("INSERT INTO docs VALUES (%d, 0, '%s')", i, body),
			fmt.Sprintf("INSERT INTO docs_full VALUES (%d, 0, '%s')", i, body))
	}
	d := startDaemon(t, e.config(t, []string{"public.docs", "public.docs_full"}, ""))
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_docs_current"))
		return n == 20, err
	})
	// In ClickHouse only: separate transactions, separate batches.
	for i := 1; i <= 10; i++ {
		e.pg.Exec(t, e.pgDB, fmt.Sprintf("UPDATE docs SET n = n + 1 WHERE id = %d", i),
			fmt.Sprintf("UPDATE docs_full SET n = n + 1 WHERE id = %d", i))
		time.Sleep(30 * time.Millisecond)
	}
	// In the same batch: a new body, then an update that leaves it alone, in one transaction.
	var stmts []string
	stmts = append(stmts, "BEGIN")
	for i := 11; i <= 20; i++ {
		body := randomText(6000)
		stmts = append(stmts, fmt.Sprintf("UPDATE docs SET body = '%s' WHERE id = %d", body, i),
			fmt.Sprintf("UPDATE docs SET n = n + 5 WHERE id = %d", i),
			fmt.Sprintf("UPDATE docs_full SET body = '%s' WHERE id = %d", body, i),
			fmt.Sprintf("UPDATE docs_full SET n = n + 5 WHERE id = %d", i))
	}
	stmts = append(stmts, "COMMIT")
	e.pg.Exec(t, e.pgDB, strings.Join(stmts, "; "))
	// A key change with the body unchanged.
	e.pg.Exec(t, e.pgDB, "UPDATE docs SET id = 100 WHERE id = 1", "UPDATE docs_full SET id = 100 WHERE id = 1")
	e.waitCaughtUp(t)
	cols := []col{{"id", "int"}, {"n", "int"}, {"body", "text"}}
	for _, tb := range []string{"docs", "docs_full"} {
		e.sameTable(t, tb, "shop_public_"+tb+"_current", cols, []string{"id"})
	}
	if n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); n != 0 {
		t.Fatalf("%d dead letters: %v", n, e.chRows(t, "SELECT error FROM "+e.table("_cdcd_dead_letters")))
	}
	d.stop()
}

// TestPostgresTruncate: TRUNCATE empties the ClickHouse table, also when replayed after a restart.
func TestPostgresTruncate(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)",
		"INSERT INTO orders SELECT g, g, g, 'a', now() FROM generate_series(1, 100) g")
	cfg := e.config(t, []string{"public.orders"}, "")
	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current"))
		return n == 100, err
	})
	e.pg.Exec(t, e.pgDB, "BEGIN; INSERT INTO orders VALUES (1000, 1, 1, 'gone', now()); TRUNCATE orders; INSERT INTO orders VALUES (7, 7, 7.77, 'after', now()); COMMIT")
	e.waitCaughtUp(t)
	e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	d.kill()
	// Replay the same stretch: a restart from an older offset must converge on the same state.
	e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (8, 8, 8, 'x', now())", "TRUNCATE orders", "INSERT INTO orders VALUES (9, 9, 9, 'y', now())")
	d = startDaemon(t, cfg)
	e.waitCaughtUp(t)
	e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	d.stop()
}

// TestPostgresHostileIdentifiers: quotes, backticks, spaces, unicode, dots, parentheses and comment
// markers in schema, table and column names survive into ClickHouse verbatim.
func TestPostgresHostileIdentifiers(t *testing.T) {
	e := newEnv(t)
	schema := `Sch "é" ma`
	table := "Ta`b.le (x) -- #1"
	cols := []string{`I"d`, "v`al", "sp ace,comma", "ünï©ødé ☃", "a(b)c", "--x", "/*y*/", "_version_x"}
	var defs []string
	for i, c := range cols {
		typ := "text"
		if i == 0 {
			typ = "int PRIMARY KEY"
		}
		defs = append(defs, pgIdent(c)+" "+typ)
	}
	qt := pgIdent(schema) + "." + pgIdent(table)
	e.pg.Exec(t, e.pgDB, "CREATE SCHEMA "+pgIdent(schema), "CREATE TABLE "+qt+" ("+strings.Join(defs, ", ")+")",
		"INSERT INTO "+qt+" VALUES (1, 'a', 'b', 'c', 'd', 'e', 'f', 'g')")
	cfgTable := `"` + strings.ReplaceAll(schema, `"`, `""`) + `"."` + strings.ReplaceAll(table, `"`, `""`) + `"`
	d := startDaemon(t, e.config(t, []string{cfgTable}, ""))
	view := "shop_" + schema + "_" + table + "_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 1, err
	})
	e.pg.Exec(t, e.pgDB, "INSERT INTO "+qt+" VALUES (2, 'a2', 'b2', 'c2', 'd2', 'e2', 'f2', 'g2')",
		"UPDATE "+qt+" SET "+pgIdent("v`al")+" = 'changed' WHERE "+pgIdent(`I"d`)+" = 1")
	e.waitCaughtUp(t)
	cc := []col{{cols[0], "int"}}
	for _, c := range cols[1:] {
		cc = append(cc, col{c, "text"})
	}
	e.sameTable(t, qt, view, cc, []string{cols[0]})
	names := e.chRows(t, "SELECT name FROM system.columns WHERE database = '"+e.chDB+"' AND table = "+
		"'"+strings.ReplaceAll(strings.ReplaceAll("shop_"+schema+"_"+table, `\`, `\\`), "'", `\'`)+"'")
	var got []string
	for _, n := range names {
		got = append(got, n[0])
	}
	want := append(append([]string{}, cols...), "_version", "_is_deleted")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("clickhouse columns %q, want %q", got, want)
	}
	d.stop()
}

// TestPostgresIdleSlotAdvances: with nothing to capture, the slot still advances past WAL written
// by other tables, so idle published tables never pin WAL.
func TestPostgresIdleSlotAdvances(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE quiet (id int PRIMARY KEY)", "CREATE TABLE busy (id int PRIMARY KEY, pad text)")
	d := startDaemon(t, e.config(t, []string{"public.quiet"}, ""))
	waitFor(t, 30*time.Second, "the first offset", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
		return n > 0, err
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var before, target uint64
	if err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'").Scan(&before); err != nil {
		t.Fatal(err)
	}
	e.pg.Exec(t, e.pgDB, "INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g")
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn() - '0/0'").Scan(&target); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the slot to pass the other table's WAL", func() (bool, error) {
		var lsn uint64
		err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'").Scan(&lsn)
		return lsn >= target, err
	})
	// And the offset was stored before the slot moved: it is at or past the slot.
	var slot uint64
	if err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'").Scan(&slot); err != nil {
		t.Fatal(err)
	}
	stored, err := e.chCount("SELECT toUInt64(max(version)) + 1 FROM " + e.table("_cdcd_offsets"))
	if err != nil || stored < slot {
		t.Fatalf("stored offset %d is behind the slot's confirmed position %d (%v)", stored, slot, err)
	}
	t.Logf("slot advanced from %d to %d with no captured change", before, slot)
	d.stop()
}
