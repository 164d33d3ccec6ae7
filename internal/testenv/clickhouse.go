package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouse is a ClickHouse server reached over the native protocol as user default.
type ClickHouse struct {
	Host     string
	Port     int // native protocol
	HTTPPort int // 0 when not known
	proc     *process
	dir      string
	cfg      string
}

var (
	chOnce sync.Once
	chSrv  *ClickHouse
	chErr  error
)

// StartClickHouse returns the process's ClickHouse server, starting it on first use.
func StartClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	if os.Getenv("CDCD_TEST_CLICKHOUSE_ADDR") == "" && findBinary([]string{"clickhouse-server"}, "/usr/bin") == "" {
		missing(t, "ClickHouse server (clickhouse-server)", "apt-get install -y clickhouse-server clickhouse-client")
	}
	srv, err := ClickHouseServer()
	if err != nil {
		t.Fatalf("testenv: clickhouse: %v", err)
	}
	return srv
}

// ClickHouseServer is StartClickHouse for programs that are not tests (make demo, make bench).
func ClickHouseServer() (*ClickHouse, error) {
	chOnce.Do(func() {
		addr := os.Getenv("CDCD_TEST_CLICKHOUSE_ADDR")
		if addr == "" {
			chSrv, chErr = startClickHouse()
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			chErr = fmt.Errorf("CDCD_TEST_CLICKHOUSE_ADDR: %w", err)
			return
		}
		p, _ := strconv.Atoi(port)
		chSrv = &ClickHouse{Host: host, Port: p}
	})
	return chSrv, chErr
}

const chConfig = `<yandex>
 <logger><console>1</console><level>warning</level></logger>
 <listen_host>127.0.0.1</listen_host>
 <tcp_port>%[2]d</tcp_port><http_port>%[3]d</http_port>
 <path>%[1]s/data/</path><tmp_path>%[1]s/data/tmp/</tmp_path>
 <mark_cache_size>268435456</mark_cache_size>
 <max_concurrent_queries>200</max_concurrent_queries>
 <users_config>users.xml</users_config>
</yandex>
`

const chUsers = `<yandex>
 <profiles><default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type></default></profiles>
 <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
 <quotas><default/></quotas>
</yandex>
`

func startClickHouse() (*ClickHouse, error) {
	dir, err := tempDir("clickhouse")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, chConfig, dir, port, httpPort), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(chUsers), 0o644); err != nil {
		return nil, err
	}
	srv := &ClickHouse{Host: "127.0.0.1", Port: port, HTTPPort: httpPort, dir: dir, cfg: cfg}
	if err := srv.start(); err != nil {
		return nil, err
	}
	return srv, nil
}

func (c *ClickHouse) start() error {
	cmd := exec.Command(findBinary([]string{"clickhouse-server"}, "/usr/bin"), "--config-file="+c.cfg)
	cmd.Dir = c.dir
	p, err := startProcess("clickhouse", c.dir, filepath.Join(c.dir, "server.log"), syscall.SIGKILL, cmd)
	if err != nil {
		return err
	}
	c.proc = p
	err = waitReady(p, 60*time.Second, func(ctx context.Context) error {
		conn, err := c.open("default")
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Ping(ctx)
	})
	if err != nil {
		return fmt.Errorf("clickhouse on port %d: %w", c.Port, err)
	}
	return nil
}

// Stop kills the server (a crash, as far as clients can tell). Only for servers the harness started.
func (c *ClickHouse) Stop(t testing.TB) {
	t.Helper()
	if c.proc == nil {
		t.Skip("testenv: cannot stop a ClickHouse named by CDCD_TEST_CLICKHOUSE_ADDR")
	}
	_ = c.proc.cmd.Process.Kill()
	<-c.proc.done
}

// Start restarts a server stopped with Stop, on the same port and data.
func (c *ClickHouse) Start(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatalf("testenv: restart clickhouse: %v", err)
	}
}

// Addr is host:port of the native protocol.
func (c *ClickHouse) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

func (c *ClickHouse) open(db string) (driver.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:        []string{c.Addr()},
		Auth:        clickhouse.Auth{Database: db, Username: "default"},
		DialTimeout: 2 * time.Second,
		ReadTimeout: 120 * time.Second,
	})
}

// Open opens a connection to database db (for programs that are not tests).
func (c *ClickHouse) Open(db string) (driver.Conn, error) { return c.open(db) }

// Conn opens a connection to database db, closed when the test ends.
func (c *ClickHouse) Conn(t testing.TB, db string) driver.Conn {
	t.Helper()
	conn, err := c.open(db)
	if err != nil {
		t.Fatalf("testenv: clickhouse open: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Exec runs statements, failing the test on error.
func (c *ClickHouse) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	conn := c.Conn(t, "default")
	for _, s := range stmts {
		if err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("testenv: clickhouse %q: %v", s, err)
		}
	}
}

// NewDatabase returns the name of a database for the test to use (not yet created: cdcd creates
// its database itself); it is dropped when the test ends.
func (c *ClickHouse) NewDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() {
		if conn, err := c.open("default"); err == nil {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
			conn.Close()
		}
	})
	return name
}
