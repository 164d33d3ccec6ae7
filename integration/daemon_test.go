package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// cdcdBinary builds cmd/cdcd once per test process.
func cdcdBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cdcd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cdcd")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/cdcd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/cdcd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemon is a running `cdcd run`.
type daemon struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// startDaemon runs `cdcd run --config cfg` as a child process with extra environment.
func startDaemon(t testing.TB, cfg string, env ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, out: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(cdcdBinary(t), "run", "--config", cfg)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		if !d.exited() {
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("cdcd output:\n%s", tail(d.out.String(), 60))
		}
	})
	return d
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the daemon and waits for it.
func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	<-d.done
}

// stop sends SIGTERM and returns the exit code and how long the daemon took to exit.
func (d *daemon) stop() (int, time.Duration) {
	d.t.Helper()
	start := time.Now()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.t.Fatalf("cdcd did not exit 30s after SIGTERM\n%s", tail(d.out.String(), 40))
	}
	return d.cmd.ProcessState.ExitCode(), time.Since(start)
}

// wait waits for the daemon to exit by itself and returns its exit code.
func (d *daemon) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("cdcd still running after %v\n%s", timeout, tail(d.out.String(), 40))
	}
	return d.cmd.ProcessState.ExitCode()
}

// runCLI runs a cdcd command to completion and returns its exit code and combined output.
func runCLI(t testing.TB, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cdcdBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("cdcd %v: %v", args, err)
		}
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// writeConfig writes a config file for the test.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cdcd.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, last)
}

// env is one test's servers and databases.
type env struct {
	pg     *testenv.Postgres
	pgDB   string
	pgDSN  string
	ch     *testenv.ClickHouse
	chDB   string
	chConn driver.Conn
	// registryAddr is where the daemon of the last config serves the embedded registry.
	registryAddr string
	// registryExtra are more lines (indented) for the config's registry section.
	registryExtra string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{pg: testenv.StartPostgres(t), ch: testenv.StartClickHouse(t)}
	e.pgDB, e.pgDSN = e.pg.NewDatabase(t)
	e.chDB = e.ch.NewDatabase(t)
	e.chConn = e.ch.Conn(t, "default")
	return e
}

// config returns a config for one postgres source named shop capturing tables, plus extra YAML
// appended to the source's postgres section.
func (e *env) config(t testing.TB, tables []string, extra string) string {
	t.Helper()
	var quoted []string
	for _, tb := range tables {
		quoted = append(quoted, "'"+strings.ReplaceAll(tb, "'", "''")+"'")
	}
	e.registryAddr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	return writeConfig(t, fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: %s
  batch: {interval: 20ms}
registry:
  listen: %q
%ssources:
  - name: shop
    postgres:
      dsn: %q
      tables: [%s]
      status_interval: 1s
%s`, e.ch.Addr(), e.chDB, e.registryAddr, e.registryExtra, e.pgDSN, strings.Join(quoted, ", "), extra))
}

// chQuery runs a query and returns every row as strings (toString of each column).
func (e *env) chRows(t testing.TB, q string) [][]string {
	t.Helper()
	rows, err := e.chConn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("clickhouse %q: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	n := len(rows.Columns())
	for rows.Next() {
		vals := make([]string, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("clickhouse %q: %v", q, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// chCount returns SELECT count() of a query's FROM clause.
// waitRows waits until the ClickHouse table or view holds n rows.
func (e *env) waitRows(t testing.TB, view string, n uint64) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d rows in %s", n, view), func() (bool, error) {
		c, err := e.chCount("SELECT count() FROM " + e.table(view))
		return c == n, err
	})
}

func (e *env) chCount(q string) (uint64, error) {
	var n uint64
	err := e.chConn.QueryRow(context.Background(), q).Scan(&n)
	return n, err
}

// table quotes db.name for ClickHouse.
func (e *env) table(name string) string {
	return "`" + e.chDB + "`.`" + strings.ReplaceAll(strings.ReplaceAll(name, `\`, `\\`), "`", "\\`") + "`"
}

// readFile returns a file's text, failing the test on error.
func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
