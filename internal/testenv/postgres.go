package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a PostgreSQL server with wal_level=logical.
type Postgres struct {
	Host string
	Port int
	User string // a superuser
	Pass string
	proc *process
}

var (
	pgOnce sync.Once
	pgSrv  *Postgres
	pgErr  error
)

// PostgresBinDir is where Debian puts PostgreSQL 15's server programs.
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// StartPostgres returns the process's PostgreSQL server, starting it on first use.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	if os.Getenv("CDCD_TEST_POSTGRES_DSN") == "" && findBinary([]string{"postgres"}, PostgresBinDir) == "" {
		missing(t, "PostgreSQL 15 server (postgres)", "apt-get install -y postgresql")
	}
	srv, err := PostgresServer()
	if err != nil {
		t.Fatalf("testenv: postgres: %v", err)
	}
	return srv
}

// PostgresServer is StartPostgres for programs that are not tests (make demo, make bench).
func PostgresServer() (*Postgres, error) {
	pgOnce.Do(func() {
		if dsn := os.Getenv("CDCD_TEST_POSTGRES_DSN"); dsn != "" {
			pgSrv, pgErr = postgresFromDSN(dsn)
		} else {
			pgSrv, pgErr = startPostgres()
		}
	})
	return pgSrv, pgErr
}

func postgresFromDSN(dsn string) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("CDCD_TEST_POSTGRES_DSN: %w", err)
	}
	return &Postgres{Host: cfg.Host, Port: int(cfg.Port), User: cfg.User, Pass: cfg.Password}, nil
}

// NewPostgres starts a dedicated PostgreSQL server for one test, with settings ("name=value")
// overriding the harness's, and stops it when the test ends. For tests that need a server
// configured differently (wal_level=replica, say); others share StartPostgres's.
func NewPostgres(t testing.TB, settings ...string) *Postgres {
	t.Helper()
	if os.Getenv("CDCD_TEST_POSTGRES_DSN") != "" {
		t.Skip("testenv: a dedicated PostgreSQL cannot be started when CDCD_TEST_POSTGRES_DSN names the server")
	}
	if findBinary([]string{"postgres"}, PostgresBinDir) == "" {
		missing(t, "PostgreSQL 15 server (postgres)", "apt-get install -y postgresql")
	}
	srv, err := startPostgres(settings...)
	if err != nil {
		t.Fatalf("testenv: postgres: %v", err)
	}
	t.Cleanup(srv.proc.release)
	return srv
}

func startPostgres(settings ...string) (*Postgres, error) {
	bin := filepath.Dir(findBinary([]string{"postgres"}, PostgresBinDir))
	dir, err := tempDir("postgres")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	cred, err := postgresCredential(dir)
	if err != nil {
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "port="+strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+dir,
		"-c", "wal_level=logical",
		"-c", "max_replication_slots=40",
		"-c", "max_wal_senders=40",
		"-c", "max_connections=200",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=128MB",
		"-c", "max_wal_size=4GB",
		"-c", "log_min_messages=warning",
	)
	for _, kv := range settings {
		cmd.Args = append(cmd.Args, "-c", kv)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGQUIT is PostgreSQL's immediate shutdown: the right thing for a throwaway server.
	p, err := startProcess("postgres", dir, filepath.Join(dir, "server.log"), syscall.SIGQUIT, cmd)
	if err != nil {
		return nil, err
	}
	srv := &Postgres{Host: "127.0.0.1", Port: port, User: "postgres", proc: p}
	err = waitReady(p, 60*time.Second, func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, srv.DSN("postgres"))
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres on port %d: %w", port, err)
	}
	return srv, nil
}

// postgresCredential returns the postgres user's credential when running as root (initdb refuses
// root) and hands it the dir; it returns nil when already running as an ordinary user.
func postgresCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user to run the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// DSN returns a superuser URL for database db.
func (p *Postgres) DSN(db string) string {
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", p.Host, p.Port), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	if p.Pass != "" {
		u.User = url.UserPassword(p.User, p.Pass)
	} else {
		u.User = url.User(p.User)
	}
	return u.String()
}

// Exec runs SQL statements on database db as the superuser, failing the test on error.
func (p *Postgres) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		t.Fatalf("testenv: postgres connect %s: %v", db, err)
	}
	defer c.Close(context.Background())
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("testenv: postgres %s: %q: %v", db, s, err)
		}
	}
}

// NewDatabase creates a fresh database for the test and returns its name and superuser DSN. The
// database, with any replication slots in it, is dropped when the test ends.
func (p *Postgres) NewDatabase(t testing.TB) (name, dsn string) {
	t.Helper()
	name = uniqueName(t)
	p.Exec(t, "postgres", "CREATE DATABASE "+name)
	t.Cleanup(func() { p.dropDatabase(name) })
	return name, p.DSN(name)
}

func (p *Postgres) dropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	// Slots pin WAL on a shared server: drop those of this database (ending their walsenders).
	// A terminated walsender releases its slot asynchronously, so try a few times.
	for i := 0; i < 50; i++ {
		_, _ = c.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, name)
		_, _ = c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, name)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
