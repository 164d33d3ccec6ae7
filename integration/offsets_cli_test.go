package integration

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// storedOffset reads source shop's stored position token from ClickHouse.
func (e *env) storedOffset(t testing.TB) string {
	t.Helper()
	rows := e.chRows(t, "SELECT position FROM "+e.table("_cdcd_offsets")+" WHERE source = 'shop' ORDER BY seq DESC LIMIT 1")
	if len(rows) == 0 {
		return ""
	}
	return rows[0][0]
}

func (e *env) pgScalar(t testing.TB, q string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestOffsetsCLI(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)",
		"INSERT INTO orders VALUES (1, 1, 1, 'a', now())")
	cfg := e.config(t, []string{"public.orders"}, "")

	t.Run("usage", func(t *testing.T) {
		// Bad input is exit 2 before anything is connected: also with ClickHouse unreachable.
		text, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		down := writeConfig(t, strings.Replace(string(text), e.ch.Addr(), fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), 1))
		uncaptured := writeConfig(t, string(text)+`aggregations:
  - name: by_qty
    from: shop.public.nosuch
    group_by: [qty]
    measures: {n: count()}
`)
		collision := e.config(t, []string{"public.a_b", "public_a.b"}, "")
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"offsets", "--help"}, 0, "cdcd offsets reset"},
			{[]string{"offsets", "reset", "--help"}, 0, "--dry-run"},
			{[]string{"offsets", "list", "--help"}, 0, "--config"},
			{[]string{"offsets"}, 2, "Usage"},
			{[]string{"offsets", "bogus"}, 2, `unknown offsets command "bogus"`},
			{[]string{"offsets", "list"}, 2, "--config is required"},
			{[]string{"offsets", "reset", "--config", cfg}, 2, "--source and --to are required"},
			{[]string{"offsets", "reset", "--config", cfg, "--source", "nope", "--to", "latest"}, 2, `no source "nope"`},
			{[]string{"offsets", "reset", "--config", cfg, "--source", "shop", "--to", "garbage"}, 2, `"garbage" is not a PostgreSQL LSN`},
			{[]string{"offsets", "reset", "--config", cfg, "--bogus-flag"}, 2, "flag provided but not defined"},
			{[]string{"offsets", "reset", "--config", down, "--source", "nope", "--to", "latest"}, 2, `no source "nope"`},
			{[]string{"offsets", "reset", "--config", down, "--source", "shop", "--to", "garbage"}, 2, `"garbage" is not a PostgreSQL LSN`},
			{[]string{"check", "--config", cfg}, 0, "ok (1 sources, 0 aggregations)"},
			{[]string{"check", "--config", uncaptured}, 2, `aggregations[0].from: table public.nosuch is not among the tables of source "shop" (public.orders)`},
			{[]string{"run", "--config", uncaptured}, 2, "table public.nosuch is not among the tables of source"},
			{[]string{"check", "--config", collision}, 2, "shop_public_a_b"},
			{[]string{"run", "--help"}, 0, "--config"},
			{[]string{"nonsense"}, 2, `unknown command "nonsense"`},
		} {
			code, out := runCLI(t, nil, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("cdcd %v: exit %d, want %d with %q; output:\n%s", c.args, code, c.code, c.want, out)
			}
		}
	})

	// A first run stores an offset.
	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current"))
		return n == 1, err
	})

	t.Run("refused while running", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "latest")
		if code != 1 || !strings.Contains(out, `source "shop" is being run by cdcd pid`) {
			t.Errorf("exit %d, want 1 naming the running daemon; output:\n%s", code, out)
		}
	})
	t.Run("list while running", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "list", "--config", cfg)
		if code != 0 || !strings.Contains(out, "shop") || !strings.Contains(out, "running: cdcd pid") || !strings.Contains(out, "slot cdcd_shop active") {
			t.Errorf("exit %d; output:\n%s", code, out)
		}
	})
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}

	stored := e.storedOffset(t)
	t.Run("list", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "list", "--config", cfg)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		if !regexp.MustCompile(`shop\s+postgres\s+` + regexp.QuoteMeta(stored) + `\s+\S+\s+[0-9A-F]+/[0-9A-F]+\s+\d`).MatchString(out) {
			t.Errorf("list does not show source, kind, stored %s, current position and lag:\n%s", stored, out)
		}
	})
	t.Run("refused backward", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "0/10")
		if code != 2 || !strings.Contains(out, "valid positions are") || !strings.Contains(out, "confirmed_flush_lsn") {
			t.Errorf("exit %d, want 2 with the valid range; output:\n%s", code, out)
		}
		if got := e.storedOffset(t); got != stored {
			t.Errorf("offset changed to %s by a refused reset", got)
		}
	})

	// Changes made now, then skipped by a reset to latest, must never arrive.
	e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (2, 2, 2, 'skipped', now())")
	t.Run("dry run", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "latest", "--dry-run")
		if code != 0 || !strings.Contains(out, "would move the offset from "+stored) || !strings.Contains(out, "dry run") {
			t.Errorf("exit %d; output:\n%s", code, out)
		}
		if got := e.storedOffset(t); got != stored {
			t.Errorf("offset changed to %s by a dry run", got)
		}
	})
	t.Run("reset forward", func(t *testing.T) {
		latest := e.pgScalar(t, "SELECT pg_current_wal_insert_lsn()::text")
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "latest")
		if code != 0 || !strings.Contains(out, "offset moved from "+stored+" to ") || !strings.Contains(out, "will not be delivered") {
			t.Fatalf("exit %d; output:\n%s", code, out)
		}
		got := e.storedOffset(t)
		if got == stored {
			t.Fatalf("offset still %s", got)
		}
		t.Logf("moved %s -> %s (insert LSN was %s)", stored, got, latest)
		e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (3, 3, 3, 'delivered', now())")
		d := startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "the change after the reset", func() (bool, error) {
			n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current") + " WHERE id = 3")
			return n == 1, err
		})
		if n, _ := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current") + " WHERE id = 2"); n != 0 {
			t.Errorf("the change before the reset point was delivered")
		}
		d.stop()
	})
}

// TestSIGTERM: a daemon streaming under load stops within 10 s with exit 0, and what it committed
// is in ClickHouse; a restart continues without loss.
func TestSIGTERM(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)")
	cfg := e.config(t, []string{"public.orders"}, "")
	d := startDaemon(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := pgx.Connect(ctx, e.pgDSN)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for i := 0; ctx.Err() == nil; i++ {
			_, _ = conn.Exec(ctx, "INSERT INTO orders SELECT g, 1, 1, 'x', now() FROM generate_series($1::bigint, $1::bigint + 999) g", i*1000)
		}
	}()
	waitFor(t, 30*time.Second, "rows flowing", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders"))
		return n > 5000, err
	})
	code, took := d.stop()
	cancel()
	<-done
	if code != 0 || took > 10*time.Second {
		t.Fatalf("SIGTERM: exit %d after %v, want 0 within 10s", code, took)
	}
	t.Logf("stopped in %v", took)
	d = startDaemon(t, cfg)
	e.waitCaughtUp(t)
	e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	d.stop()
}

// TestClickHouseOutage: ClickHouse killed while changes flow; cdcd retries with backoff, logs the
// lag, acknowledges nothing it has not written, and catches up exactly when ClickHouse returns.
func TestClickHouseOutage(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)")
	d := startDaemon(t, e.config(t, []string{"public.orders"}, ""))
	e.pg.Exec(t, e.pgDB, "INSERT INTO orders SELECT g, 1, 1, 'before', now() FROM generate_series(1, 1000) g")
	e.waitCaughtUp(t)
	confirmedBefore := e.pgScalar(t, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'")

	e.ch.Stop(t)
	restarted := false
	defer func() {
		if !restarted {
			e.ch.Start(t)
		}
	}()
	e.pg.Exec(t, e.pgDB, "INSERT INTO orders SELECT g, 2, 2, 'during', now() FROM generate_series(1001, 30000) g",
		"UPDATE orders SET note = 'updated during' WHERE id <= 500", "DELETE FROM orders WHERE id BETWEEN 600 AND 700")
	waitFor(t, 30*time.Second, "retries with the lag", func() (bool, error) {
		out := d.out.String()
		return strings.Contains(out, "failed; retrying") && strings.Contains(out, "lag="), nil
	})
	// Nothing written, nothing acknowledged.
	if got := e.pgScalar(t, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'"); got != confirmedBefore {
		// Idle keepalives may only move the slot after ClickHouse has the offset; with ClickHouse
		// down it must not move at all.
		t.Errorf("slot moved from %s to %s while ClickHouse was down", confirmedBefore, got)
	}
	e.ch.Start(t)
	restarted = true
	e.chConn = e.ch.Conn(t, "default")
	e.waitCaughtUp(t)
	n := e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	t.Logf("%d rows equal after the outage", n)
	if d.exited() {
		t.Fatal("cdcd exited during the outage")
	}
	d.stop()
}
