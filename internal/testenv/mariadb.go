package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// MariaDB is a MariaDB (or MySQL) server with a row-based, full-image, GTID binlog.
type MariaDB struct {
	Host string
	Port int
	User string // has all privileges
	Pass string
	proc *process
	dir  string
}

var (
	myOnce sync.Once
	mySrv  *MariaDB
	myErr  error
)

// StartMariaDB returns the process's MariaDB server, starting it on first use.
func StartMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	if os.Getenv("CDCD_TEST_MYSQL_DSN") == "" && findBinary([]string{"mariadbd", "mysqld"}, "/usr/sbin") == "" {
		missing(t, "MariaDB server (mariadbd)", "apt-get install -y mariadb-server")
	}
	srv, err := MariaDBServer()
	if err != nil {
		t.Fatalf("testenv: mariadb: %v", err)
	}
	return srv
}

// MariaDBServer is StartMariaDB for programs that are not tests (make demo, make bench).
func MariaDBServer() (*MariaDB, error) {
	myOnce.Do(func() {
		if dsn := os.Getenv("CDCD_TEST_MYSQL_DSN"); dsn != "" {
			mySrv, myErr = mariadbFromDSN(dsn)
		} else {
			mySrv, myErr = startMariaDB()
		}
	})
	return mySrv, myErr
}

var goDSN = regexp.MustCompile(`^([^:@]*)(?::([^@]*))?@tcp\(([^)]*)\)/?`)

func mariadbFromDSN(dsn string) (*MariaDB, error) {
	m := goDSN.FindStringSubmatch(dsn)
	if m == nil {
		return nil, fmt.Errorf("CDCD_TEST_MYSQL_DSN: want user:password@tcp(host:port)/")
	}
	host, port, err := net.SplitHostPort(m[3])
	if err != nil {
		return nil, fmt.Errorf("CDCD_TEST_MYSQL_DSN: %w", err)
	}
	p, _ := strconv.Atoi(port)
	return &MariaDB{Host: host, Port: p, User: m[1], Pass: m[2]}, nil
}

const myCnf = `[mariadbd]
datadir=%[1]s/data
socket=%[1]s/mysqld.sock
pid-file=%[1]s/mysqld.pid
port=%[2]d
bind-address=127.0.0.1
log-error=%[1]s/error.log
skip-name-resolve
server-id=1
log-bin=%[1]s/data/mysql-bin
binlog-format=ROW
binlog-row-image=FULL
binlog-row-metadata=FULL
gtid-domain-id=0
gtid-strict-mode=1
innodb-buffer-pool-size=256M
innodb-log-file-size=64M
innodb-flush-log-at-trx-commit=2
innodb-use-native-aio=0
sync-binlog=0
max-connections=300
max-allowed-packet=64M
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
`

// startMariaDB starts a server, trying a second fresh directory if the first install fails (a
// start-up hiccup of the machine, not of cdcd: the first failure's log is reported with the second's).
func startMariaDB(settings ...string) (*MariaDB, error) {
	srv, err := startMariaDBOnce(settings...)
	if err == nil {
		return srv, nil
	}
	srv, err2 := startMariaDBOnce(settings...)
	if err2 != nil {
		return nil, fmt.Errorf("%w\n(second attempt: %v)", err, err2)
	}
	fmt.Fprintf(os.Stderr, "testenv: mariadb started on a second attempt; the first failed: %v\n", err)
	return srv, nil
}

func startMariaDBOnce(settings ...string) (*MariaDB, error) {
	server := findBinary([]string{"mariadbd", "mysqld"}, "/usr/sbin")
	installDB := findBinary([]string{"mariadb-install-db", "mysql_install_db"}, "/usr/bin")
	if installDB == "" {
		return nil, fmt.Errorf("mariadb-install-db not found: apt-get install -y mariadb-server")
	}
	dir, err := tempDir("mariadb")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cnf := filepath.Join(dir, "my.cnf")
	text := fmt.Sprintf(myCnf, dir, port)
	for _, kv := range settings {
		text += kv + "\n"
	}
	if err := os.WriteFile(cnf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	install := exec.Command(installDB, "--defaults-file="+cnf, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s\nerror.log:\n%s", err, out, log)
	}
	cmd := exec.Command(server, "--defaults-file="+cnf, "--user=root")
	p, err := startProcess("mariadb", dir, filepath.Join(dir, "error.log"), syscall.SIGTERM, cmd)
	if err != nil {
		return nil, err
	}
	srv := &MariaDB{Host: "127.0.0.1", Port: port, User: "root", proc: p, dir: dir}
	err = waitReady(p, 60*time.Second, func(ctx context.Context) error {
		c, err := srv.connect("")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Execute("SELECT 1")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mariadb on port %d: %w", port, err)
	}
	return srv, nil
}

// NewMariaDB starts a dedicated MariaDB server for one test, with settings ("name=value" lines
// of my.cnf's [mariadbd] section, later ones winning) overriding the harness's, and stops it when
// the test ends. For tests that need a server configured differently (binlog_format=STATEMENT,
// say); others share StartMariaDB's.
func NewMariaDB(t testing.TB, settings ...string) *MariaDB {
	t.Helper()
	if os.Getenv("CDCD_TEST_MYSQL_DSN") != "" {
		t.Skip("testenv: a dedicated MariaDB cannot be started when CDCD_TEST_MYSQL_DSN names the server")
	}
	if findBinary([]string{"mariadbd", "mysqld"}, "/usr/sbin") == "" {
		missing(t, "MariaDB server (mariadbd)", "apt-get install -y mariadb-server")
	}
	srv, err := startMariaDB(settings...)
	if err != nil {
		t.Fatalf("testenv: mariadb: %v", err)
	}
	t.Cleanup(srv.proc.release)
	return srv
}

// Addr is host:port.
func (m *MariaDB) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// DSN returns a go-sql-driver style DSN (user:pass@tcp(host:port)/db) of the all-privileges user.
func (m *MariaDB) DSN(db string) string {
	auth := m.User
	if m.Pass != "" {
		auth += ":" + m.Pass
	}
	return fmt.Sprintf("%s@tcp(%s)/%s", auth, m.Addr(), db)
}

func (m *MariaDB) connect(db string) (*client.Conn, error) {
	return client.ConnectWithTimeout(m.Addr(), m.User, m.Pass, db, 10*time.Second)
}

// Conn opens a connection as the all-privileges user, closed when the test ends.
func (m *MariaDB) Conn(t testing.TB, db string) *client.Conn {
	t.Helper()
	c, err := m.connect(db)
	if err != nil {
		t.Fatalf("testenv: mariadb connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Exec runs statements in database db (may be ""), failing the test on error.
func (m *MariaDB) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	c, err := m.connect(db)
	if err != nil {
		t.Fatalf("testenv: mariadb connect: %v", err)
	}
	defer c.Close()
	for _, s := range stmts {
		if _, err := c.Execute(s); err != nil {
			t.Fatalf("testenv: mariadb %q: %v", s, err)
		}
	}
}

// Query runs one query and returns its result.
func (m *MariaDB) Query(t testing.TB, db, q string, args ...any) *mysql.Result {
	t.Helper()
	c, err := m.connect(db)
	if err != nil {
		t.Fatalf("testenv: mariadb connect: %v", err)
	}
	defer c.Close()
	r, err := c.Execute(q, args...)
	if err != nil {
		t.Fatalf("testenv: mariadb %q: %v", q, err)
	}
	return r
}

// NewDatabase creates a fresh database for the test and returns its name; it is dropped when the
// test ends.
func (m *MariaDB) NewDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	m.Exec(t, "", "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() {
		if c, err := m.connect(""); err == nil {
			_, _ = c.Execute("DROP DATABASE IF EXISTS `" + name + "`")
			c.Close()
		}
	})
	return name
}
