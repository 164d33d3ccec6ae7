package integration

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/cdcd-dev/cdcd/capture/mysql"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// myEnv is one MySQL-source test's servers and databases: the harness's MariaDB (or a dedicated
// one) and ClickHouse, with the source named "legacy".
type myEnv struct {
	*env // its ClickHouse side: chRows, chCount, table
	my   mariaServer
	db   string // the test's MariaDB database
	// serverID is the replica id of this test's source (unique per test: the harness's server is
	// shared by the package's tests).
	serverID uint32
	// dsn, when set, replaces the all-privileges user's DSN in configs.
	dsn string
}

// mariaServer is what the tests need of a MariaDB server: the harness's or a dedicated one.
type mariaServer interface {
	Addr() string
	DSN(db string) string
	Exec(t testing.TB, db string, stmts ...string)
	Conn(t testing.TB, db string) *client.Conn
}

var nextServerID atomic.Uint32

func newMyEnv(t testing.TB) *myEnv {
	t.Helper()
	my := testenv.StartMariaDB(t)
	e := newMyEnvOn(t, my)
	e.db = my.NewDatabase(t)
	return e
}

// newMyEnvOn is newMyEnv on a given server; the caller creates the database (e.db).
func newMyEnvOn(t testing.TB, my mariaServer) *myEnv {
	t.Helper()
	ch := testenv.StartClickHouse(t)
	e := &myEnv{env: &env{ch: ch}, my: my, serverID: 4200 + nextServerID.Add(1)}
	e.chDB = ch.NewDatabase(t)
	e.chConn = ch.Conn(t, "default")
	return e
}

// myTable is a table of the test's database as written in a config: `db`.`name`.
func (e *myEnv) myTable(name string) string {
	return "`" + strings.ReplaceAll(e.db, "`", "``") + "`.`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// chName is the ClickHouse table of one of the test database's tables.
func (e *myEnv) chName(table string) string { return "legacy_" + e.db + "_" + table }

// config returns a config for one mysql source named legacy capturing the test database's tables,
// plus extra YAML for the source's mysql section.
func (e *myEnv) config(t testing.TB, tables []string, extra string) string {
	t.Helper()
	var quoted []string
	for _, tb := range tables {
		quoted = append(quoted, "'"+strings.ReplaceAll(e.myTable(tb), "'", "''")+"'")
	}
	e.registryAddr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dsn := e.dsn
	if dsn == "" {
		dsn = e.my.DSN("")
	}
	return writeConfig(t, fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: %s
  batch: {interval: 20ms}
registry:
  listen: %q
sources:
  - name: legacy
    mysql:
      dsn: %q
      tables: [%s]
      server_id: %d
%s`, e.ch.Addr(), e.chDB, e.registryAddr, dsn, strings.Join(quoted, ", "), e.serverID, extra))
}

// exec runs statements in the test database.
func (e *myEnv) exec(t testing.TB, stmts ...string) {
	t.Helper()
	e.my.Exec(t, e.db, stmts...)
}

// scalar runs a query and returns its first value as text.
func (e *myEnv) scalar(t testing.TB, q string) string {
	t.Helper()
	c := e.my.Conn(t, e.db)
	defer c.Close()
	r, err := c.Execute(q)
	if err != nil {
		t.Fatalf("mariadb %q: %v", q, err)
	}
	s, _ := r.GetString(0, 0)
	return s
}

// storedOffset reads source legacy's stored position token.
func (e *myEnv) storedOffset(t testing.TB) string {
	t.Helper()
	// Killed before it created its tables (a slow start): nothing is stored yet.
	if n, err := e.chCount("SELECT count() FROM system.tables WHERE database = '" + e.chDB + "' AND name = '_cdcd_offsets'"); err != nil || n == 0 {
		return ""
	}
	rows := e.chRows(t, "SELECT position FROM "+e.table("_cdcd_offsets")+" WHERE source = 'legacy' ORDER BY seq DESC LIMIT 1")
	if len(rows) == 0 {
		return ""
	}
	return rows[0][0]
}

// domainSeq returns a MariaDB GTID position's sequence number in domain 0.
func domainSeq(pos string) uint64 {
	p, err := mysql.ParseMariaPos(pos)
	if err != nil {
		return 0
	}
	g, _ := p.Get(0)
	return g.Seq
}

// waitCaughtUp waits until the stored offset covers the server's current GTID position (every
// transaction, captured or not, moves the offset: the stream commits or idles past it).
func (e *myEnv) waitCaughtUp(t testing.TB) {
	t.Helper()
	target := domainSeq(e.scalar(t, "SELECT @@gtid_binlog_pos"))
	waitFor(t, 90*time.Second, fmt.Sprintf("the offset to reach GTID 0-*-%d", target), func() (bool, error) {
		return domainSeq(e.storedOffset(t)) >= target, nil
	})
}

// myCol is a column to compare between a MariaDB table and its ClickHouse view; both sides render
// it to the same text in SQL.
type myCol struct {
	name string
	kind string // int, num, text, ts (TIMESTAMP/DATETIME as microseconds), date, bytes
}

func myExpr(c myCol) string {
	n := "`" + strings.ReplaceAll(c.name, "`", "``") + "`"
	var e string
	switch c.kind {
	case "ts":
		e = "CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " + n + ") AS CHAR)"
	case "bytes":
		e = "LOWER(HEX(" + n + "))"
	case "text":
		e = n
	default:
		e = "CAST(" + n + " AS CHAR)"
	}
	return "IFNULL(" + e + ", 'NULL')"
}

// myRows reads a MariaDB table as text rows ordered by key.
func (e *myEnv) myRows(t testing.TB, table string, cols []myCol, key []string) [][]string {
	t.Helper()
	var exprs, order []string
	for _, c := range cols {
		exprs = append(exprs, myExpr(c))
	}
	for _, k := range key {
		order = append(order, "`"+strings.ReplaceAll(k, "`", "``")+"`")
	}
	c := e.my.Conn(t, e.db)
	defer c.Close()
	if _, err := c.Execute("SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + e.myTable(table) + " ORDER BY " + strings.Join(order, ", ")
	r, err := c.Execute(q)
	if err != nil {
		t.Fatalf("mariadb %q: %v", q, err)
	}
	out := make([][]string, r.RowNumber())
	for i := range out {
		out[i] = make([]string, len(cols))
		for j := range cols {
			out[i][j], _ = r.GetString(i, j)
		}
	}
	return out
}

// chMyRows reads a ClickHouse view as text rows ordered by key, rendered like myExpr.
func (e *myEnv) chMyRows(t testing.TB, view string, cols []myCol, key []string) [][]string {
	t.Helper()
	var exprs, order []string
	for _, c := range cols {
		n := chIdent(c.name)
		var x string
		switch c.kind {
		case "bytes":
			x = "lower(hex(" + n + "))"
		case "text":
			x = n
		default:
			x = "toString(" + n + ")"
		}
		exprs = append(exprs, "ifNull("+x+", 'NULL')")
	}
	for _, k := range key {
		order = append(order, chIdent(k))
	}
	return e.chRows(t, "SELECT "+strings.Join(exprs, ", ")+" FROM "+e.table(view)+" ORDER BY "+strings.Join(order, ", "))
}

// sameMyTable compares a MariaDB table with its ClickHouse view and fails the test on a mismatch.
// Decimal columns are compared as numbers (ClickHouse prints 1.50 as 1.5).
func (e *myEnv) sameMyTable(t testing.TB, table string, cols []myCol, key []string) int {
	t.Helper()
	src := e.myRows(t, table, cols, key)
	ch := e.chMyRows(t, e.chName(table)+"_current", cols, key)
	normalizeNums(src, cols)
	normalizeNums(ch, cols)
	n, bad, report := diffRows(src, ch)
	if bad > 0 {
		t.Fatalf("%s vs its ClickHouse view: %d mismatches over %d rows:\n%s", table, bad, n, report)
	}
	return n
}

// normalizeNums rewrites num columns to a canonical decimal text.
func normalizeNums(rows [][]string, cols []myCol) {
	for _, r := range rows {
		for j, c := range cols {
			if c.kind == "num" && r[j] != "NULL" {
				r[j] = canonicalNum(r[j])
			}
		}
	}
}

func canonicalNum(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	s = strings.TrimLeft(s, "0")
	if s == "" || strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// parseVersion reads a decimal UInt64 text.
func parseUint(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
