// Package pipeline runs one source's stream into ClickHouse: capture, batching at commit
// boundaries, the sink, the offset, and only then the source's acknowledgement.
//
// It owns the order of those steps and the retry policy: every error is retried with backoff
// except change.Terminal ones, which stop the pipeline. It must never acknowledge a position to the
// source, nor store it as the offset, before ClickHouse has every row up to it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/offsets"
	"github.com/cdcd-dev/cdcd/schema"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
	"github.com/cdcd-dev/cdcd/transform"
)

// Config is one source's pipeline.
type Config struct {
	Name    string // the source's name: offsets and table names
	Source  capture.Source
	Sink    *clickhouse.Sink
	Offsets *offsets.Store
	Limits  Limits
	Log     *slog.Logger
	// DrainTimeout bounds how long a stopping pipeline may spend writing what it has (default 7s).
	DrainTimeout time.Duration
	// Stats, when set, receives the pipeline's counters.
	Stats *Stats
	// Registry, when set, is where every table schema is registered (as Avro) before its events
	// pass, and the sink encodes every row it writes under it. Subject names a table's subject.
	Registry schema.Registry
	Subject  func(change.TableID) string
	// HaltRetry is how often a halted table's schema is offered to the registry again (30s).
	HaltRetry time.Duration
	// Aggregations are the aggregations over this source's tables.
	Aggregations []*transform.Spec
}

// Stats are a pipeline's counters, safe to read while it runs.
type Stats struct {
	Rows        atomic.Int64 // rows written to row tables
	Events      atomic.Int64 // change events written (before collapsing)
	Batches     atomic.Int64
	DeadLetters atomic.Int64
	Commits     atomic.Int64  // offsets stored
	Version     atomic.Uint64 // version of the newest stored offset
	Restarts    atomic.Int64
}

// Run runs the pipeline until ctx ends (returning nil once what was complete is committed) or a
// terminal error. Other errors restart the stream from the stored offset, with backoff.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 7 * time.Second
	}
	log := cfg.Log.With("source", cfg.Name)
	backoff := newBackoff()
	for {
		started := time.Now()
		err := runOnce(ctx, cfg, log)
		if ctx.Err() != nil {
			return nil
		}
		if change.IsTerminal(err) {
			return err
		}
		if err == nil {
			err = errors.New("source stopped")
		}
		if time.Since(started) > time.Minute {
			backoff = newBackoff()
		}
		wait := backoff.next()
		cfg.Stats.Restarts.Add(1)
		log.Warn("pipeline stopped; restarting from the stored offset", "error", err, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func runOnce(ctx context.Context, cfg Config, log *slog.Logger) error {
	from, _, err := cfg.Offsets.Load(ctx, cfg.Name)
	if err != nil {
		return err
	}
	snapshotted, err := cfg.Offsets.Snapshots(ctx, cfg.Name)
	if err != nil {
		return err
	}
	var aggs *aggStage
	if len(cfg.Aggregations) > 0 {
		if aggs, err = newAggStage(ctx, cfg.Sink, cfg.Aggregations, from.Position, log); err != nil {
			return err
		}
		defer aggs.logStats()
	}
	b := newBatcher(cfg.Limits, from.Position)
	var e capture.Emitter = b
	if cfg.Registry != nil {
		avro := newAvroStage(b, cfg.Registry, cfg.Subject, from.Position, cfg.HaltRetry, log)
		cfg.Sink.Encode = avro.Encode
		e = avro
	}

	// The writer outlives a stopping source by up to DrainTimeout, so what is complete gets
	// committed; it is not cancelled by the source's errors.
	wctx, cancelW := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelW()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.DrainTimeout, cancelW) })
	defer stopDrain()

	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()
	var g errgroup.Group
	g.Go(func() error {
		err := cfg.Source.Run(srcCtx, capture.Start{Position: from.Position, Tables: snapshotted}, e)
		stopped := srcCtx.Err() != nil // by shutdown or by the writer's failure, which it reports
		cancelSrc()
		b.close(wctx)
		if stopped {
			return nil
		}
		if err == nil {
			err = errors.New("source stopped")
		}
		return err
	})
	g.Go(func() error {
		t := time.NewTicker(max(cfg.Limits.Interval/2, 5*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-srcCtx.Done():
				return nil
			case <-t.C:
				if err := b.tick(srcCtx); err != nil && srcCtx.Err() == nil {
					return err
				}
			}
		}
	})
	g.Go(func() error {
		err := write(wctx, cfg, log, b, aggs)
		if err != nil {
			cancelSrc()
			for range b.out { // let the source's last seal go through
			}
		}
		return err
	})
	return g.Wait()
}

// write applies sealed batches in order: rows, then the offset, then the source's ack.
func write(ctx context.Context, cfg Config, log *slog.Logger, b *batcher, aggs *aggStage) error {
	lastStats := time.Now()
	for batch := range b.out {
		if err := retry(ctx, log, "write batch", batch.born, func() error { return apply(ctx, cfg, batch) }); err != nil {
			return err
		}
		if aggs != nil {
			if err := retry(ctx, log, "prepare aggregations", batch.born, func() error { return aggs.schemas(ctx, batch) }); err != nil {
				return err
			}
			if err := aggs.apply(batch); err != nil {
				return err
			}
			if err := retry(ctx, log, "write aggregates", batch.born, func() error { return aggs.write(ctx) }); err != nil {
				return err
			}
			if time.Since(lastStats) > time.Minute {
				aggs.logStats()
				lastStats = time.Now()
			}
		}
		if len(batch.Snapshots) > 0 {
			// After the snapshot's rows (and aggregates), before the offset that covers them.
			tables := make(map[change.TableID]uint64, len(batch.Snapshots))
			for _, ts := range batch.Snapshots {
				tables[ts.Table] = ts.Version
			}
			if err := retry(ctx, log, "record table snapshots", batch.born, func() error {
				return cfg.Offsets.RecordSnapshots(ctx, cfg.Name, tables)
			}); err != nil {
				return err
			}
		}
		pos, ok := batch.Checkpoint()
		b.recycle(batch)
		if !ok {
			continue
		}
		err := retry(ctx, log, "store offset", batch.born, func() error {
			return cfg.Offsets.Commit(ctx, cfg.Name, cfg.Source.Kind(), pos)
		})
		if err != nil {
			return err
		}
		cfg.Stats.Commits.Add(1)
		cfg.Stats.Version.Store(pos.Version)
		cfg.Source.Ack(pos)
	}
	return nil
}

func apply(ctx context.Context, cfg Config, batch *Batch) error {
	for _, t := range batch.Schemas {
		if err := cfg.Sink.EnsureTable(ctx, t); err != nil {
			return err
		}
	}
	if len(batch.Events) == 0 {
		return nil
	}
	st, err := cfg.Sink.Write(ctx, batch.Events)
	if err != nil {
		return err
	}
	cfg.Stats.Rows.Add(int64(st.Rows))
	cfg.Stats.Events.Add(int64(len(batch.Events)))
	cfg.Stats.Batches.Add(1)
	cfg.Stats.DeadLetters.Add(int64(st.DeadLetters))
	return nil
}

// retry runs f until it succeeds, fails terminally, or ctx ends, backing off between attempts and
// logging how far behind the stream is.
func retry(ctx context.Context, log *slog.Logger, what string, since time.Time, f func() error) error {
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			if attempt > 1 {
				log.Info(what+": recovered", "attempts", attempt)
			}
			return nil
		}
		if change.IsTerminal(err) || ctx.Err() != nil {
			if ctx.Err() != nil && !change.IsTerminal(err) {
				return fmt.Errorf("%s: abandoned at shutdown: %w", what, err)
			}
			return err
		}
		wait := b.next()
		log.Warn(what+" failed; retrying", "error", err, "attempt", attempt, "retry_in", wait.Round(time.Millisecond),
			"lag", time.Since(since).Round(time.Second))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: abandoned at shutdown: %w", what, err)
		case <-time.After(wait):
		}
	}
}

type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 100 * time.Millisecond} }

// next returns the next wait: doubling from 100ms to 30s, with ±20% jitter.
func (b *backoff) next() time.Duration {
	d := b.d
	b.d = min(b.d*2, 30*time.Second)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
