package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/offsets"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "cdcd run --config FILE", stderr)
	path := fs.String("config", "", "the configuration `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = daemon(ctx, cfg, log)
	if err != nil {
		log.Error("cdcd stopped", "error", err)
		return &exitError{code: exitCodeOf(err), err: nil}
	}
	log.Info("cdcd stopped")
	return nil
}

func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// daemon runs every configured source's pipeline until ctx ends or one fails terminally.
func daemon(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	log.Info("cdcd starting", "version", version, "sources", len(cfg.Sources), "aggregations", len(cfg.Aggregations))
	specs, err := checkConfig(cfg)
	if err != nil {
		return err
	}
	conn, caps, err := connectClickHouseRetrying(ctx, cfg, log)
	if ctx.Err() != nil {
		return nil // stopped while waiting for ClickHouse: nothing was started
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	log.Info("connected to clickhouse", "version", caps.Version.String(), "is_deleted_engine", caps.IsDeleted, "datetime64", caps.DateTime64)
	db := cfg.ClickHouse.Database
	if err := clickhouse.EnsureDatabase(ctx, conn, db); err != nil {
		return err
	}
	store := offsets.NewStore(conn, db)
	if err := store.Ensure(ctx); err != nil {
		return err
	}
	reg, serveRegistry, err := openRegistry(ctx, cfg, conn, log)
	if err != nil {
		return err
	}

	owner, _, _ := offsets.Owner()
	for _, s := range cfg.Sources {
		l, ok, err := store.CurrentLease(ctx, s.Name)
		if err != nil {
			return err
		}
		if ok && l.Alive() && l.Owner != owner {
			return fmt.Errorf("source %q is already run by %s; stop it first (two daemons on one source would fight over its position)", s.Name, l)
		}
	}
	beats, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		heartbeat(beats, store, cfg, owner, log)
	}()
	defer func() {
		stopBeats()
		<-beatDone
	}()

	limits := pipeline.Limits{
		Rows:      cfg.ClickHouse.Batch.Rows,
		Bytes:     int(cfg.ClickHouse.Batch.Bytes),
		Interval:  time.Duration(cfg.ClickHouse.Batch.Interval),
		Heartbeat: time.Second, // idle offsets advance at most this often (and only as keepalives report progress)
	}
	g, gctx := errgroup.WithContext(ctx)
	if serveRegistry != nil {
		// The registry outlives the pipelines' drain, so clients reading it see the end.
		rctx, stopRegistry := context.WithCancel(context.WithoutCancel(ctx))
		defer stopRegistry()
		served := make(chan error, 1)
		go func() { served <- serveRegistry(rctx) }()
		defer func() {
			stopRegistry()
			if err := <-served; err != nil {
				log.Warn("schema registry server", "error", err)
			}
		}()
	}
	type run struct {
		src   *config.Source
		cfg   pipeline.Config
		stats *pipeline.Stats
	}
	var runs []run
	var metrics []sourceMetrics
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		k, err := kindOf(s)
		if err != nil {
			return err
		}
		src := k.new(s, log, store)
		stats := &pipeline.Stats{}
		runs = append(runs, run{src: s, stats: stats, cfg: pipeline.Config{Name: s.Name, Source: src,
			Sink: clickhouse.New(conn, db, s.Name, caps, log.With("source", s.Name)), Offsets: store, Limits: limits, Log: log,
			Stats: stats, Registry: reg, Subject: subjectOf(cfg), HaltRetry: time.Duration(cfg.Registry.HaltRetry),
			Aggregations: aggregationsOf(specs, s.Name)}})
		metrics = append(metrics, sourceMetrics{name: s.Name, kind: s.Kind(), stats: stats, source: src})
	}
	if cfg.Metrics.Listen != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.Metrics.Listen, metrics, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	for _, r := range runs {
		g.Go(func() error {
			if err := pipeline.Run(gctx, r.cfg); err != nil {
				return fmt.Errorf("source %q: %w", r.src.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// connectClickHouseRetrying connects, retrying while ClickHouse is unreachable: a daemon started
// before its database should wait for it, not exit.
func connectClickHouseRetrying(ctx context.Context, cfg *config.Config, log *slog.Logger) (conn driver.Conn, caps clickhouse.Capabilities, err error) {
	wait := 200 * time.Millisecond
	for {
		conn, caps, err = connectClickHouse(ctx, cfg, log)
		if err == nil || exitCodeOf(err) == 2 {
			return conn, caps, err
		}
		log.Warn("clickhouse unreachable; retrying", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, caps, fmt.Errorf("stopped while waiting for clickhouse: %w", err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// heartbeat keeps the daemon's leases on its sources fresh, and releases them when it stops.
func heartbeat(ctx context.Context, store *offsets.Store, cfg *config.Config, owner string, log *slog.Logger) {
	beat := func(ctx context.Context, released bool) {
		for _, s := range cfg.Sources {
			if err := store.Beat(ctx, s.Name, owner, released); err != nil && ctx.Err() == nil {
				log.Warn("lease heartbeat failed", "source", s.Name, "error", err)
			}
		}
	}
	beat(ctx, false)
	t := time.NewTicker(offsets.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			beat(rctx, true)
			cancel()
			return
		case <-t.C:
			beat(ctx, false)
		}
	}
}
