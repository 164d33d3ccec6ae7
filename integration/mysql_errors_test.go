package integration

import (
	"github.com/cdcd-dev/cdcd/internal/testenv"

	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMySQLStartupErrors: each setting, privilege or table problem stops cdcd at start with a
// clear error naming it and the fix, instead of retrying.
func TestMySQLStartupErrors(t *testing.T) {
	t.Run("log_bin off", func(t *testing.T) {
		my := testenv.NewMariaDB(t, "skip-log-bin")
		e := newMyEnvOn(t, my)
		e.db = "shop"
		my.Exec(t, "", "CREATE DATABASE shop", "CREATE TABLE shop.orders (id int PRIMARY KEY)")
		expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "log_bin is OFF", "log-bin=mysql-bin")
	})
	t.Run("binlog settings", func(t *testing.T) {
		my := testenv.NewMariaDB(t)
		e := newMyEnvOn(t, my)
		e.db = "shop"
		my.Exec(t, "", "CREATE DATABASE shop", "CREATE TABLE shop.orders (id int PRIMARY KEY)")
		cfg := e.config(t, []string{"orders"}, "")
		my.Exec(t, "", "SET GLOBAL binlog_format = 'STATEMENT'")
		expectStartupError(t, cfg, 1, "binlog_format is STATEMENT but cdcd needs ROW", "SET GLOBAL binlog_format = 'ROW'")
		my.Exec(t, "", "SET GLOBAL binlog_format = 'ROW'", "SET GLOBAL binlog_row_image = 'MINIMAL'")
		expectStartupError(t, cfg, 1, "binlog_row_image is MINIMAL but cdcd needs FULL")
	})
	privileged := func(t *testing.T, grants ...string) *myEnv {
		e := newMyEnv(t)
		e.exec(t, "CREATE TABLE orders (id int PRIMARY KEY)")
		user := "u" + fmt.Sprint(e.serverID)
		e.exec(t, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'pw'")
		t.Cleanup(func() { e.exec(t, "DROP USER '"+user+"'@'%'") })
		for _, g := range grants {
			e.exec(t, "GRANT "+strings.ReplaceAll(g, "DB", "`"+e.db+"`")+" TO '"+user+"'@'%'")
		}
		e.dsn = strings.Replace(e.my.DSN(""), "root@", user+":pw@", 1)
		return e
	}
	t.Run("no REPLICATION SLAVE", func(t *testing.T) {
		e := privileged(t, "SELECT ON DB.* ", "BINLOG MONITOR ON *.*")
		expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "lacks the REPLICATION SLAVE privilege", "GRANT REPLICATION SLAVE ON *.*")
	})
	t.Run("no BINLOG MONITOR", func(t *testing.T) {
		e := privileged(t, "SELECT ON DB.*", "REPLICATION SLAVE ON *.*")
		expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "lacks the BINLOG MONITOR privilege", "GRANT BINLOG MONITOR ON *.*")
	})
	t.Run("no SELECT", func(t *testing.T) {
		e := privileged(t, "INSERT ON DB.orders", "REPLICATION SLAVE, BINLOG MONITOR ON *.*")
		expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "cannot be read by cdcd's user", "GRANT SELECT ON `"+e.db+"`.`orders`")
	})
	t.Run("wrong password", func(t *testing.T) {
		e := privileged(t, "SELECT ON DB.*", "REPLICATION SLAVE, BINLOG MONITOR ON *.*")
		e.dsn = strings.Replace(e.dsn, ":pw@", ":wrong@", 1)
		out := expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "Access denied", "check the user and password")
		if strings.Contains(out, "wrong") {
			t.Errorf("the password appears in the output:\n%s", out)
		}
	})
	t.Run("no primary key", func(t *testing.T) {
		e := newMyEnv(t)
		e.exec(t, "CREATE TABLE logs (id int, msg text)")
		expectStartupError(t, e.config(t, []string{"logs"}, ""), 1, "table "+e.db+".logs has no primary key", "ADD PRIMARY KEY")
	})
	t.Run("missing table", func(t *testing.T) {
		e := newMyEnv(t)
		expectStartupError(t, e.config(t, []string{"nope"}, ""), 1, "table "+e.db+".nope does not exist")
	})
	t.Run("view", func(t *testing.T) {
		e := newMyEnv(t)
		e.exec(t, "CREATE TABLE t (id int PRIMARY KEY)", "CREATE VIEW v AS SELECT * FROM t")
		expectStartupError(t, e.config(t, []string{"v"}, ""), 1, "is a view, not a base table")
	})
	t.Run("server_id of the server", func(t *testing.T) {
		e := newMyEnv(t)
		e.exec(t, "CREATE TABLE orders (id int PRIMARY KEY)")
		e.serverID = 1
		expectStartupError(t, e.config(t, []string{"orders"}, ""), 1, "mysql.server_id 1 is the server's own server_id")
	})
	t.Run("flavor", func(t *testing.T) {
		e := newMyEnv(t)
		e.exec(t, "CREATE TABLE orders (id int PRIMARY KEY)")
		expectStartupError(t, e.config(t, []string{"orders"}, "      flavor: mysql\n"), 1, `mysql.flavor is "mysql" but the server`, "is mariadb")
	})
}

// TestMySQLPurgedBinlog: binlog files purged while cdcd was stopped, past its stored GTID position,
// stop cdcd at start with the recovery (no retry loop); the documented recovery, offsets reset
// --to snapshot, then brings ClickHouse back equal to the source.
func TestMySQLPurgedBinlog(t *testing.T) {
	my := testenv.NewMariaDB(t)
	e := newMyEnvOn(t, my)
	e.db = "shop"
	my.Exec(t, "", "CREATE DATABASE shop")
	e.exec(t, myOrdersDDL, "INSERT INTO orders VALUES (1, 1, 1.00, 'one', NOW(6))")
	cfg := e.config(t, []string{"orders"}, "")
	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "an offset", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
		return n > 0, err
	})
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	stored := e.storedOffset(t)
	e.exec(t, "INSERT INTO orders VALUES (2, 2, 2.00, 'two', NOW(6))", "FLUSH BINARY LOGS",
		"INSERT INTO orders VALUES (3, 3, 3.00, 'three', NOW(6))", "FLUSH BINARY LOGS")
	c := my.Conn(t, "")
	r, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	current, _ := r.GetString(0, 0)
	// MariaDB keeps binlog files its crash recovery may still need (until InnoDB's background log
	// flush moves the binlog checkpoint past them): purge until only the current one is left.
	waitFor(t, 30*time.Second, "the purge of the older binlog files", func() (bool, error) {
		if _, err := c.Execute("PURGE BINARY LOGS TO '" + current + "'"); err != nil {
			return false, err
		}
		r, err := c.Execute("SHOW BINARY LOGS")
		return err == nil && r.RowNumber() == 1, err
	})
	started := time.Now()
	expectStartupError(t, cfg, 1, "cannot stream the binlog from the stored GTID position \""+stored+"\"",
		"the files before were purged", "cdcd offsets reset --config <file> --source legacy --to snapshot")
	if took := time.Since(started); took > 20*time.Second {
		t.Errorf("cdcd took %v to give up: a retry loop?", took)
	}
	if code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", "snapshot"); code != 0 {
		t.Fatalf("reset --to snapshot exited %d: %s", code, out)
	}
	d = startDaemon(t, cfg)
	e.waitCaughtUp(t)
	if n := e.sameMyTable(t, "orders", myOrdersCols, []string{"id"}); n != 3 {
		t.Errorf("%d rows after the re-snapshot, want 3", n)
	}
	d.stop()
}
