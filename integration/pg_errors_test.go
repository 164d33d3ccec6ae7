package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// expectStartupError runs cdcd on cfg and expects it to exit with code within timeout, its output
// containing every one of want.
func expectStartupError(t *testing.T, cfg string, code int, want ...string) string {
	t.Helper()
	d := startDaemon(t, cfg)
	got := d.wait(60 * time.Second)
	out := strings.ReplaceAll(d.out.String(), `\"`, `"`) // logfmt escapes quotes in values
	if got != code {
		t.Fatalf("cdcd exited %d, want %d; output:\n%s", got, code, tail(out, 30))
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, tail(out, 30))
		}
	}
	return out
}

func TestPostgresStartupErrors(t *testing.T) {
	t.Run("wal_level", func(t *testing.T) {
		pg := testenv.NewPostgres(t, "wal_level=replica")
		db, dsn := pg.NewDatabase(t)
		pg.Exec(t, db, "CREATE TABLE orders (id int PRIMARY KEY)")
		e := newEnv(t)
		e.pgDSN = dsn
		expectStartupError(t, e.config(t, []string{"public.orders"}, ""), 1, `wal_level is "replica"`, "wal_level = logical")
	})
	t.Run("no replication privilege", func(t *testing.T) {
		e := newEnv(t)
		user := "noreplication_" + e.pgDB
		e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id int PRIMARY KEY)",
			"CREATE ROLE "+user+" LOGIN", "GRANT SELECT ON orders TO "+user)
		t.Cleanup(func() {
			e.pg.Exec(t, e.pgDB, "DROP OWNED BY "+user+" CASCADE")
			e.pg.Exec(t, "postgres", "DROP ROLE IF EXISTS "+user)
		})
		e.pgDSN = strings.Replace(e.pgDSN, "//postgres@", "//"+user+"@", 1)
		expectStartupError(t, e.config(t, []string{"public.orders"}, ""), 1, `role "`+user+`" lacks the REPLICATION attribute`, "ALTER ROLE")
	})
	t.Run("no primary key", func(t *testing.T) {
		e := newEnv(t)
		e.pg.Exec(t, e.pgDB, "CREATE TABLE logs (id int, msg text)")
		expectStartupError(t, e.config(t, []string{"public.logs"}, ""), 1, "table public.logs has no primary key", "REPLICA IDENTITY USING INDEX")
	})
	t.Run("replica identity nothing", func(t *testing.T) {
		e := newEnv(t)
		e.pg.Exec(t, e.pgDB, "CREATE TABLE logs (id int PRIMARY KEY)", "ALTER TABLE logs REPLICA IDENTITY NOTHING")
		expectStartupError(t, e.config(t, []string{"public.logs"}, ""), 1, "table public.logs has REPLICA IDENTITY NOTHING")
	})
	t.Run("missing table", func(t *testing.T) {
		e := newEnv(t)
		expectStartupError(t, e.config(t, []string{"public.nope"}, ""), 1, "table public.nope does not exist")
	})
	t.Run("bad config", func(t *testing.T) {
		cfg := writeConfig(t, "clickhouse:\n  addr: [\"127.0.0.1:9000\"]\nsources:\n  - name: Shop\n    postgres: {dsn: \"postgres://x@127.0.0.1/db\", tables: [a.b]}\n")
		expectStartupError(t, cfg, 2, "sources[0].name", "Shop")
	})
	t.Run("slot lost with offsets", func(t *testing.T) {
		e := newEnv(t)
		e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id int PRIMARY KEY)", "INSERT INTO orders VALUES (1)")
		cfg := e.config(t, []string{"public.orders"}, "")
		d := startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "an offset", func() (bool, error) {
			n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
			return n > 0, err
		})
		if code, _ := d.stop(); code != 0 {
			t.Fatalf("cdcd exited %d", code)
		}
		e.pg.Exec(t, e.pgDB, "SELECT pg_drop_replication_slot('cdcd_shop')")
		expectStartupError(t, cfg, 1, `replication slot "cdcd_shop" does not exist`, "will not create a new slot silently",
			"cdcd offsets reset --config <file> --source shop --to snapshot")
		// The documented recovery works: reset to snapshot, and the next start re-snapshots.
		if code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "snapshot"); code != 0 {
			t.Fatalf("reset --to snapshot exited %d: %s", code, out)
		}
		recorded := "SELECT toString(argMax(forgotten, seq)) FROM " + e.table("_cdcd_snapshots") + " WHERE source = 'shop' AND name = 'orders'"
		if got := e.chRows(t, recorded); fmt.Sprint(got) != "[[1]]" {
			t.Errorf("after the reset, the table's snapshot record is %v, want forgotten", got)
		}
		e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (2)")
		d = startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "the new snapshot", func() (bool, error) {
			n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current"))
			return n == 2, err
		})
		waitFor(t, 30*time.Second, "the new snapshot's record", func() (bool, error) {
			got := e.chRows(t, recorded)
			return fmt.Sprint(got) == "[[0]]", nil
		})
		d.stop()
	})
	t.Run("slot invalidated with offsets", func(t *testing.T) {
		e := newEnv(t)
		e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id int PRIMARY KEY)", "INSERT INTO orders VALUES (1)",
			"CREATE TABLE filler (id int, pad text)")
		cfg := e.config(t, []string{"public.orders"}, "")
		d := startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "an offset", func() (bool, error) {
			n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
			return n > 0, err
		})
		if code, _ := d.stop(); code != 0 {
			t.Fatalf("cdcd exited %d", code)
		}
		// PostgreSQL may remove WAL an inactive slot needs beyond max_slot_wal_keep_size: the slot
		// is then invalidated (wal_status = lost).
		e.pg.Exec(t, e.pgDB, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()")
		t.Cleanup(func() { e.pg.Exec(t, e.pgDB, "ALTER SYSTEM RESET max_slot_wal_keep_size", "SELECT pg_reload_conf()") })
		for i := 0; ; i++ {
			e.pg.Exec(t, e.pgDB, "INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 50000) g",
				"SELECT pg_switch_wal()", "CHECKPOINT")
			if e.pgScalar(t, "SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'") == "lost" {
				break
			}
			if i == 20 {
				t.Fatal("the slot was not invalidated")
			}
		}
		expectStartupError(t, cfg, 1, `replication slot "cdcd_shop" was invalidated (wal_status = lost`,
			"will not create a new slot silently", "cdcd offsets reset --config <file> --source shop --to snapshot")
		if code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "shop", "--to", "snapshot"); code != 0 {
			t.Fatalf("reset --to snapshot exited %d: %s", code, out)
		}
		e.pg.Exec(t, e.pgDB, "INSERT INTO orders VALUES (2)")
		d = startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "the new snapshot", func() (bool, error) {
			n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_orders_current"))
			return n == 2, err
		})
		d.stop()
	})
}

// TestUnreachableServers: a daemon whose source or ClickHouse is down keeps retrying with a clear
// message naming what it cannot reach (and no secret), and still stops cleanly on SIGTERM.
func TestUnreachableServers(t *testing.T) {
	closed := testenv.FreePort(t)
	t.Run("postgres", func(t *testing.T) {
		e := newEnv(t)
		e.pgDSN = fmt.Sprintf("postgres://cdcd:${PGPASS}@127.0.0.1:%d/shop?sslmode=disable", closed)
		d := startDaemon(t, e.config(t, []string{"public.orders"}, ""), "PGPASS=s3cr3t-pw")
		waitFor(t, 30*time.Second, "a retry naming the server", func() (bool, error) {
			out := d.out.String()
			return strings.Contains(out, "restarting") && strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", closed)), nil
		})
		if code, took := d.stop(); code != 0 || took > 10*time.Second {
			t.Errorf("SIGTERM: exit %d after %v, want 0 within 10s", code, took)
		}
		if strings.Contains(d.out.String(), "s3cr3t-pw") {
			t.Errorf("the password reached the log:\n%s", d.out.String())
		}
	})
	t.Run("clickhouse", func(t *testing.T) {
		cfg := writeConfig(t, fmt.Sprintf(`clickhouse:
  addr: ["127.0.0.1:%d"]
  password: ${CHPASS}
sources:
  - name: shop
    postgres: {dsn: "postgres://x@127.0.0.1:1/db", tables: [orders]}
`, closed))
		d := startDaemon(t, cfg, "CHPASS=ch-s3cr3t")
		waitFor(t, 30*time.Second, "a retry naming clickhouse", func() (bool, error) {
			out := d.out.String()
			return strings.Contains(out, "clickhouse unreachable") && strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", closed)), nil
		})
		if code, took := d.stop(); code != 0 || took > 10*time.Second {
			t.Errorf("SIGTERM: exit %d after %v, want 0 within 10s", code, took)
		}
		if strings.Contains(d.out.String(), "ch-s3cr3t") {
			t.Errorf("the password reached the log:\n%s", d.out.String())
		}
	})
}
