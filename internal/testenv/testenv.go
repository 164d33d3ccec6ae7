// Package testenv starts the real database servers that cdcd's tests talk to: PostgreSQL 15 with
// wal_level=logical, MariaDB 10.11 with a full-row, GTID binlog, ClickHouse (Debian's 18.16) and a
// third-party Confluent-compatible schema registry.
//
// Each server is a private, throwaway process in a temp dir on a free 127.0.0.1 port, started on
// first use and shared by every test of one `go test` process; tests isolate themselves by database
// name (see NewDatabase on each server). Servers are stopped by PID when the process ends: call Main
// from TestMain so that happens after the tests, on failure and on SIGINT/SIGTERM. A parent-death
// signal stops them even if the test binary is killed.
//
// Instead of starting servers, the harness uses ones named by the environment:
// CDCD_TEST_POSTGRES_DSN (a superuser DSN), CDCD_TEST_MYSQL_DSN (user:pass@tcp(host:port)/ of a
// user with all privileges), CDCD_TEST_CLICKHOUSE_ADDR (host:port of the native protocol, user
// default) and CDCD_TEST_REGISTRY_URL.
//
// A missing server binary fails the test with the command that installs it when CI=true or
// CDCD_TEST_REQUIRE_SERVERS=1 (as `make test` sets), and skips it otherwise.
//
// testenv must never touch a server it did not start, except those named by the environment, and
// never sends traffic anywhere but 127.0.0.1.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Main runs the tests of a package and then stops every server the harness started. Call it from
// TestMain: func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "testenv: %v: stopping servers\n", s)
		StopAll()
		os.Exit(1)
	}()
	code := m.Run()
	StopAll()
	os.Exit(code)
}

var (
	procsMu sync.Mutex
	procs   []*process
	baseDir string
)

// process is a server the harness started and must stop.
type process struct {
	name string
	cmd  *exec.Cmd
	stop syscall.Signal // the signal that shuts it down cleanly and fast
	done chan struct{}
	dir  string
	log  string // file holding the server's own log, shown when it fails
}

// StopAll stops every server the harness started, by PID, and removes their temp dirs.
func StopAll() {
	procsMu.Lock()
	ps := procs
	procs = nil
	procsMu.Unlock()
	for i := len(ps) - 1; i >= 0; i-- {
		ps[i].terminate()
	}
	if baseDir != "" && os.Getenv("CDCD_TEST_KEEP") == "" {
		_ = os.RemoveAll(baseDir)
	}
}

func (p *process) terminate() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(p.stop)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last lines of the process's log, for error messages.
func (p *process) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// startProcess starts a server in the background; its output goes to logFile.
func startProcess(name, dir, logFile string, stop syscall.Signal, cmd *exec.Cmd) (*process, error) {
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = f
	cmd.Stderr = f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = stop
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, stop: stop, done: make(chan struct{}), dir: dir, log: logFile}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

// release stops a server a test started for itself and forgets it (the process-wide servers are
// stopped at exit instead).
func (p *process) release() {
	p.terminate()
	procsMu.Lock()
	defer procsMu.Unlock()
	if i := slices.Index(procs, p); i >= 0 {
		procs = slices.Delete(procs, i, i+1)
	}
}

// tempDir returns a fresh directory for one server under the process's base dir. The base dir is
// world-traversable because PostgreSQL runs as the postgres user.
func tempDir(name string) (string, error) {
	procsMu.Lock()
	defer procsMu.Unlock()
	if baseDir == "" {
		d, err := os.MkdirTemp("", "cdcd-testenv-")
		if err != nil {
			return "", err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
		baseDir = d
	}
	d, err := os.MkdirTemp(baseDir, name+"-")
	if err != nil {
		return "", err
	}
	return d, os.Chmod(d, 0o755)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a free TCP port on 127.0.0.1 (for a daemon's HTTP listener in a test).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	return p
}

// requireServers reports whether a missing server must fail the test instead of skipping it.
func requireServers() bool {
	return os.Getenv("CI") == "true" || os.Getenv("CDCD_TEST_REQUIRE_SERVERS") == "1"
}

// missing fails or skips t because a server binary is absent.
func missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("testenv: %s not found; install it with: %s (or point the harness at a running server, see internal/testenv)", what, install)
	if requireServers() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// findBinary looks for the first of names in PATH and in extra directories.
func findBinary(names []string, dirs ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, d := range dirs {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// waitReady polls check until it succeeds, the process exits or the deadline passes.
func waitReady(p *process, timeout time.Duration, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited during start-up; its log:\n%s", p.name, p.tail())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	tail := ""
	if p != nil {
		tail = "; its log:\n" + p.tail()
	}
	return fmt.Errorf("not ready after %v: %v%s", timeout, last, tail)
}

// uniqueName returns a database name unique within this process, derived from the test's name so
// leftovers are recognisable: lower case, [a-z0-9_], at most 50 bytes.
func uniqueName(t testing.TB) string {
	nameSeqMu.Lock()
	nameSeq++
	n := nameSeq
	nameSeqMu.Unlock()
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 30 {
		s = s[:30]
	}
	return fmt.Sprintf("t%d_%d_%s", os.Getpid()%100000, n, s)
}

var (
	nameSeqMu sync.Mutex
	nameSeq   int
)
