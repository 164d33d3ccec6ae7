// Command bench is cdcd's end-to-end benchmark (make bench). It starts private servers, builds and
// runs the real daemon, and prints:
//
//   - drain: rows/s draining a 1,000,000-row backlog of a 6-column table (bigint key, int,
//     numeric(12,2), text, timestamptz, 100-byte text) from PostgreSQL into ClickHouse;
//   - MariaDB drain: the same for a 1,000,000-row binlog backlog of the same table in MariaDB
//     (bigint, int, decimal(12,2), varchar, timestamp(6), 100-byte varchar);
//   - latency: commit-to-visible p50/p99 under a steady 10,000 rows/s;
//   - memory: the daemon's peak RSS.
//
// It measures; it does not assert. Targets are printed beside the figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

var (
	batchRows = 50000
	only      string
)

func main() {
	flag.IntVar(&batchRows, "batch-rows", batchRows, "clickhouse.batch.rows of the daemon")
	rows := flag.Int("rows", 1_000_000, "rows in the backlog")
	rate := flag.Int("rate", 10_000, "rows/s of the latency run")
	seconds := flag.Int("seconds", 20, "length of the latency run")
	flag.StringVar(&only, "only", "", "run only the postgres or the mariadb measures")
	flag.Parse()
	err := run(*rows, *rate, *seconds)
	testenv.StopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type servers struct {
	pg     *testenv.Postgres
	ch     *testenv.ClickHouse
	chConn driver.Conn
	bin    string
	dir    string
}

func run(rows, rate, seconds int) error {
	ctx := context.Background()
	s := &servers{}
	var err error
	if s.dir, err = os.MkdirTemp("", "cdcd-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(s.dir)
	s.bin = filepath.Join(s.dir, "cdcd")
	if out, err := exec.Command("go", "build", "-o", s.bin, "./cmd/cdcd").CombinedOutput(); err != nil {
		return fmt.Errorf("build cdcd: %v\n%s", err, out)
	}
	if s.ch, err = testenv.ClickHouseServer(); err != nil {
		return err
	}
	fmt.Printf("servers: ClickHouse %s; %d cores\n", s.ch.Addr(), numCPU())

	var results []string
	var peak int64
	if only != "mariadb" {
		if s.pg, err = testenv.PostgresServer(); err != nil {
			return err
		}
		drain, drainRSS, err := s.drain(ctx, rows, "bench_drain", false)
		if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		aggDrain, aggRSS, err := s.drain(ctx, rows, "bench_agg", true)
		if err != nil {
			return fmt.Errorf("drain with aggregations: %w", err)
		}
		p50, p99, n, latRSS, err := s.latency(ctx, rate, seconds)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		peak = max(peak, drainRSS, latRSS, aggRSS)
		results = append(results,
			fmt.Sprintf("| drain %d-row backlog, PostgreSQL -> ClickHouse | %.0f rows/s | >= 200,000 rows/s |", rows, drain),
			fmt.Sprintf("| the same with 3 aggregations (windowed; filtered with avg; min/max/count_distinct) | %.0f rows/s, %.0f%% of without | >= 75%% |",
				aggDrain, 100*aggDrain/drain),
			fmt.Sprintf("| aggregation memory | %s | bounded per group |", aggMemory),
			fmt.Sprintf("| commit-to-visible latency at %d rows/s (%d samples) | p50 %v, p99 %v | p99 <= 150 ms |", rate, n, p50, p99))
	}
	if only != "postgres" {
		drain, rss, err := s.mariaDrain(ctx, rows)
		if err != nil {
			return fmt.Errorf("mariadb drain: %w", err)
		}
		peak = max(peak, rss)
		results = append(results, fmt.Sprintf("| drain %d-row binlog backlog, MariaDB -> ClickHouse | %.0f rows/s | >= 400,000 rows/s |", rows, drain))
	}
	fmt.Println()
	fmt.Println("| measure | result | target |")
	fmt.Println("|---|---|---|")
	for _, r := range results {
		fmt.Println(r)
	}
	fmt.Printf("| daemon peak RSS | %d MB | <= 300 MB |\n", peak>>20)
	return nil
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

const benchDDL = `CREATE TABLE bench (id bigint PRIMARY KEY, n int, amount numeric(12,2), note text,
  at timestamptz, pad text); ALTER TABLE bench REPLICA IDENTITY FULL`

// database creates a fresh PostgreSQL database and ClickHouse database name for one run.
func (s *servers) database(ctx context.Context, name string) (pgDSN, chDB string, err error) {
	admin, err := pgx.Connect(ctx, s.pg.DSN("postgres"))
	if err != nil {
		return "", "", err
	}
	defer admin.Close(ctx)
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", err
	}
	pgDSN = s.pg.DSN(name)
	c, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		return "", "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, benchDDL); err != nil {
		return "", "", err
	}
	return pgDSN, name, nil
}

// benchAggregations are the three aggregations of the aggregation run: a windowed one, a
// filtered one with avg, one with min/max/count_distinct.
const benchAggregations = `aggregations:
  - name: per_minute
    from: %[1]s.public.bench
    window: {column: at, size: 1m}
    measures: {rows: count(), total: sum(amount)}
  - name: small_n
    from: %[1]s.public.bench
    group_by: [n]
    where: "n < 500"
    measures: {rows: count(), total: sum(amount), avg_amount: avg(amount)}
  - name: extremes
    from: %[1]s.public.bench
    group_by: [n]
    measures: {biggest: max(amount), smallest: min(amount), amounts: count_distinct(amount)}
`

// aggMemory is the aggregation run's memory figure, read from the daemon's log.
var aggMemory = "not measured"

func (s *servers) config(pgDSN, chDB string) (string, error) {
	p := filepath.Join(s.dir, chDB+".yaml")
	cfg := fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: %s
  batch: {rows: %d}
sources:
  - name: %s
    postgres:
      dsn: %q
      tables: [public.bench]
      snapshot: never
      status_interval: 1s
`, s.ch.Addr(), chDB, batchRows, chDB, pgDSN)
	return p, os.WriteFile(p, []byte(cfg), 0o600)
}

// daemon is a running cdcd.
type daemon struct {
	cmd *exec.Cmd
	log *os.File
}

func (s *servers) start(cfg string) (*daemon, error) {
	log, err := os.Create(cfg + ".log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, "run", "--config", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &daemon{cmd: cmd, log: log}, nil
}

// stop ends the daemon and returns its peak RSS in bytes (VmHWM).
func (d *daemon) stop() int64 {
	rss := d.peakRSS()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	_ = d.cmd.Wait()
	d.log.Close()
	return rss
}

func (d *daemon) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *servers) clickhouse(ctx context.Context) (driver.Conn, error) {
	if s.chConn != nil {
		return s.chConn, nil
	}
	c, err := s.ch.Open("default")
	s.chConn = c
	return c, err
}

// waitOffset waits until the stored offset of the run's source (named like its database) covers lsn.
func (s *servers) waitOffset(ctx context.Context, chDB string, lsn uint64, timeout time.Duration) error {
	conn, err := s.clickhouse(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var v uint64
		err := conn.QueryRow(ctx, "SELECT toUInt64(max(version)) FROM `"+chDB+"`.`_cdcd_offsets` WHERE source = '"+chDB+"'").Scan(&v)
		if err == nil && v+1 >= lsn {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("offset did not reach %d within %v", lsn, timeout)
}

func insertLSN(ctx context.Context, c *pgx.Conn) (uint64, error) {
	var n uint64
	err := c.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn() - '0/0'").Scan(&n)
	return n, err
}

// drain measures rows/s draining a backlog written while cdcd was stopped.
func (s *servers) drain(ctx context.Context, rows int, name string, aggregations bool) (float64, int64, error) {
	pgDSN, chDB, err := s.database(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	cfg, err := s.config(pgDSN, chDB)
	if err != nil {
		return 0, 0, err
	}
	if aggregations {
		f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return 0, 0, err
		}
		_, err = fmt.Fprintf(f, benchAggregations, chDB)
		f.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	c, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close(ctx)
	// A first run creates the slot and stores an offset, then stops.
	d, err := s.start(cfg)
	if err != nil {
		return 0, 0, err
	}
	start, err := insertLSN(ctx, c)
	if err != nil {
		return 0, 0, err
	}
	if err := s.waitOffset(ctx, chDB, start, time.Minute); err != nil {
		d.stop()
		return 0, 0, fmt.Errorf("first start: %w (see %s.log)", err, cfg)
	}
	d.stop()

	fmt.Printf("writing a backlog of %d rows in transactions of 1000 ...\n", rows)
	t0 := time.Now()
	for i := 0; i < rows; i += 1000 {
		_, err := c.Exec(ctx, `INSERT INTO bench SELECT g, g % 1000, (g % 100000) * 1.01, 'note ' || g,
			'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second', repeat('x', 100)
			FROM generate_series($1::bigint, $2::bigint) g`, i+1, min(i+1000, rows))
		if err != nil {
			return 0, 0, err
		}
	}
	end, err := insertLSN(ctx, c)
	if err != nil {
		return 0, 0, err
	}
	fmt.Printf("backlog written in %v (%.1f MiB of WAL)\n", time.Since(t0).Round(time.Millisecond), float64(end-start)/(1<<20))

	d, err = s.start(cfg)
	if err != nil {
		return 0, 0, err
	}
	t1 := time.Now()
	if err := s.waitOffset(ctx, chDB, end, 10*time.Minute); err != nil {
		d.stop()
		return 0, 0, err
	}
	took := time.Since(t1)
	rss := d.stop()
	conn, err := s.clickhouse(ctx)
	if err != nil {
		return 0, 0, err
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM `"+chDB+"`.`"+chDB+"_public_bench`").Scan(&n); err != nil {
		return 0, 0, err
	}
	if int(n) != rows {
		return 0, 0, fmt.Errorf("clickhouse holds %d rows, want %d", n, rows)
	}
	rate := float64(rows) / took.Seconds()
	fmt.Printf("drained %d rows in %v: %.0f rows/s, peak RSS %d MB\n", rows, took.Round(time.Millisecond), rate, rss>>20)
	if aggregations {
		aggMemory = memoryFigure(cfg + ".log")
		fmt.Printf("aggregation memory: %s\n", aggMemory)
	}
	return rate, rss, nil
}

// memoryFigure reads the daemon's last "aggregation memory" line per aggregation: groups held and
// bytes per group.
func memoryFigure(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return "no log"
	}
	last := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="aggregation memory"`) {
			continue
		}
		field := func(k string) string {
			i := strings.Index(line, " "+k+"=")
			if i < 0 {
				return "?"
			}
			return strings.Fields(line[i+len(k)+2:])[0]
		}
		name := field("aggregation")
		if _, seen := last[name]; !seen {
			order = append(order, name)
		}
		last[name] = fmt.Sprintf("%s: %s groups, %s bytes/group", name, field("groups"), field("bytes_per_group"))
	}
	var parts []string
	for _, n := range order {
		parts = append(parts, last[n])
	}
	if len(parts) == 0 {
		return "not logged"
	}
	return strings.Join(parts, "; ")
}

// latency writes rate rows/s in 100-row transactions and measures, per transaction, the time from
// COMMIT returning to its rows being visible in ClickHouse.
func (s *servers) latency(ctx context.Context, rate, seconds int) (p50, p99 time.Duration, samples int, rss int64, err error) {
	pgDSN, chDB, err := s.database(ctx, "bench_latency")
	if err != nil {
		return
	}
	cfg, err := s.config(pgDSN, chDB)
	if err != nil {
		return
	}
	d, err := s.start(cfg)
	if err != nil {
		return
	}
	defer func() { rss = max(rss, d.stop()) }()
	c, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	// The harness runs PostgreSQL with synchronous_commit=off for speed; then WAL reaches the
	// walsender only when the WAL writer flushes it (every 200 ms). Commit as production does.
	if _, err = c.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return
	}
	lsn, err := insertLSN(ctx, c)
	if err != nil {
		return
	}
	if err = s.waitOffset(ctx, chDB, lsn, time.Minute); err != nil {
		log, _ := os.ReadFile(cfg + ".log")
		err = fmt.Errorf("first start: %w; cdcd log:\n%s", err, log)
		return
	}
	conn, err := s.clickhouse(ctx)
	if err != nil {
		return
	}
	const perTxn = 100
	interval := time.Second * perTxn / time.Duration(rate)
	type commit struct {
		lastID int64
		at     time.Time
	}
	commits := make(chan commit, 100000)
	writeErr := make(chan error, 1)
	go func() {
		defer close(commits)
		next := time.Now()
		total := rate * seconds
		for id := int64(1); id <= int64(total); id += perTxn {
			time.Sleep(time.Until(next))
			next = next.Add(interval)
			if _, err := c.Exec(ctx, `INSERT INTO bench SELECT g, 1, 1.5, 'x', now(), repeat('y', 100)
				FROM generate_series($1::bigint, $2::bigint) g`, id, id+perTxn-1); err != nil {
				writeErr <- err
				return
			}
			commits <- commit{lastID: id + perTxn - 1, at: time.Now()}
		}
		writeErr <- nil
	}()
	fmt.Printf("latency run: %d rows/s for %ds ...\n", rate, seconds)
	var lat []time.Duration
	var visible int64
	for cm := range commits {
		for visible < cm.lastID {
			if err = conn.QueryRow(ctx, "SELECT toInt64(max(id)) FROM `"+chDB+"`.`"+chDB+"_public_bench`").Scan(&visible); err != nil {
				if !strings.Contains(err.Error(), "doesn't exist") { // created with the first rows
					return
				}
				err = nil
			}
			if visible < cm.lastID {
				time.Sleep(2 * time.Millisecond)
			}
		}
		lat = append(lat, time.Since(cm.at))
	}
	if err = <-writeErr; err != nil {
		return
	}
	rss = d.peakRSS()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50 = lat[len(lat)/2].Round(time.Millisecond)
	p99 = lat[len(lat)*99/100].Round(time.Millisecond)
	fmt.Printf("latency p50 %v p99 %v over %d transactions\n", p50, p99, len(lat))
	return p50, p99, len(lat), rss, nil
}
