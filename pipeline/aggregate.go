package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
	"github.com/cdcd-dev/cdcd/transform"
)

// aggStage maintains a source's aggregations in the writer's goroutine, batch by batch, after the
// batch's rows and before its offset: exactly-once comes from each group's position (an event at
// or below it is a no-op for the group) and from recovering the groups from ClickHouse at every
// (re)start of the stream, never from memory that may be ahead of what was written.
//
// Each aggregate table holds a marker row (empty _group) with the aggregation's definition
// fingerprint and the horizon its state was built from. An aggregation without one is new: when the
// source already streams, it is backfilled from the source table's ClickHouse rows (which reflect
// the source up to their newest _version, the horizon); when a snapshot of its table is coming
// (the source is fresh, or the table was just added to it), the snapshot feeds it. A changed
// definition rebuilds the table the same way.
type aggStage struct {
	sink  *clickhouse.Sink
	log   *slog.Logger
	fresh bool // the source has no stored offset: its snapshot feeds every aggregation
	aggs  []*aggState
}

type aggState struct {
	spec        *transform.Spec
	agg         *transform.Aggregation
	fingerprint []byte
	bound       *change.Table // the schema the aggregation is bound to
	table       clickhouse.AggregateTable
	init        bool // no usable marker: backfill (or, fresh, start empty) when bound
	rebuild     bool // the stored table has another definition: drop it first
	pending     []clickhouse.AggregateRow
}

// newAggStage recovers each aggregation's groups from ClickHouse: live groups, tombstones above
// the stored offset, and the marker.
func newAggStage(ctx context.Context, sink *clickhouse.Sink, specs []*transform.Spec, from change.Position, log *slog.Logger) (*aggStage, error) {
	s := &aggStage{sink: sink, log: log, fresh: from.IsZero()}
	for _, spec := range specs {
		st := &aggState{spec: spec, agg: transform.New(spec), fingerprint: fingerprint(spec), init: true}
		var horizon uint64
		restored := 0
		err := sink.LoadAggregate(ctx, "agg_"+spec.Name, from.Version, func(r clickhouse.AggregateRow) error {
			if len(r.Group) == 0 {
				if bytes.Equal(r.State, st.fingerprint) {
					st.init, horizon = false, r.Version
				} else {
					st.rebuild = true
				}
				return nil
			}
			if st.rebuild {
				return nil
			}
			restored++
			err := st.agg.Restore(transform.Row{Group: r.Group, Version: r.Version, Seq: r.Seq, Deleted: r.Deleted, State: r.State})
			if errors.Is(err, transform.ErrSpecChanged) {
				st.rebuild = true // state written under another definition
				return nil
			}
			return err
		})
		if err != nil {
			var limit *transform.GroupLimitError
			if errors.As(err, &limit) {
				return nil, change.Terminal(err)
			}
			return nil, fmt.Errorf("aggregation %q: recover from ClickHouse: %w", spec.Name, err)
		}
		switch {
		case st.rebuild:
			log.Warn("aggregation definition changed: rebuilding its table from the source table's rows", "aggregation", spec.Name)
			st.agg, st.init = transform.New(spec), true
		case !st.init:
			st.agg.SetHorizon(horizon)
			log.Info("aggregation recovered from ClickHouse", "aggregation", spec.Name, "groups", restored)
		}
		s.aggs = append(s.aggs, st)
	}
	return s, nil
}

// fingerprint identifies an aggregation's definition: a change makes its stored state unusable.
func fingerprint(spec *transform.Spec) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%v|", spec.Name, spec.From.String(), strings.Join(spec.GroupBy, ","), spec.InsertOnly)
	if spec.Where != nil {
		b.WriteString(fmt.Sprint(spec.Where))
	}
	if w := spec.Window; w != nil {
		fmt.Fprintf(&b, "|%s %v %v", w.Column, w.Size, w.Hop)
	}
	for _, m := range spec.Measures {
		fmt.Fprintf(&b, "|%s", m)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return append([]byte("cdcd-agg-v1:"), sum[:]...)
}

// schemas binds the aggregations of the batch's announced tables, creating or evolving their
// ClickHouse tables, and initialises new ones (backfill). Idempotent: the writer retries it.
func (s *aggStage) schemas(ctx context.Context, batch *Batch) error {
	for _, t := range batch.Schemas {
		for _, st := range s.aggs {
			if st.spec.From != t.ID || st.bound == t {
				continue
			}
			out, err := st.agg.Bind(t)
			if err != nil {
				return change.Terminal(err)
			}
			st.table = clickhouse.AggregateTable{Name: out.Table, Columns: out.Columns}
			if st.rebuild {
				if err := s.sink.DropAggregate(ctx, st.table); err != nil {
					return err
				}
				st.rebuild = false
			}
			if err := s.sink.EnsureAggregate(ctx, st.table); err != nil {
				return change.Terminal(fmt.Errorf("aggregation %q: %w (rename the aggregation, or drop its table to rebuild it)", st.spec.Name, err))
			}
			st.bound = t
			if st.init {
				if err := s.initialise(ctx, st, t, snapshotStarts(batch, t.ID)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// snapshotStarts reports whether the batch starts a snapshot of the table: its snapshot truncate,
// which a snapshot emits with the table's schema, before any of its rows.
func snapshotStarts(batch *Batch, id change.TableID) bool {
	for i := range batch.Events {
		if ev := &batch.Events[i]; ev.Op == change.Truncate && ev.Snapshot && ev.Table.ID == id {
			return true
		}
	}
	return false
}

// initialise gives a new aggregation its starting state and marker: empty when the snapshot of its
// table is yet to come (fed), else the source table's current rows as ClickHouse holds them. (A
// backfill while a snapshot is being written would read part of it.)
func (s *aggStage) initialise(ctx context.Context, st *aggState, t *change.Table, fed bool) error {
	var horizon uint64
	if !s.fresh && !fed {
		var err error
		if horizon, err = s.sink.NewestVersion(ctx, t); err != nil {
			return err
		}
		st.agg = transform.New(st.spec)
		if _, err := st.agg.Bind(t); err != nil {
			return change.Terminal(err)
		}
		n := 0
		err = s.sink.ScanCurrent(ctx, t, func(row []any) error {
			n++
			// Every row its own position (an event at or below a group's position is a no-op).
			ev := change.Event{Op: change.Insert, Table: t, After: row, Version: horizon, Seq: uint32(n)}
			if err := st.agg.Apply(&ev); err != nil {
				// The row table holds only values that were written: anything else is a bug,
				// and skipping the row would make the aggregate silently wrong.
				return change.Terminal(fmt.Errorf("backfill: %w", err))
			}
			return nil
		})
		if err != nil {
			return err
		}
		st.agg.SetHorizon(horizon)
		s.log.Info("aggregation backfilled from the source table's ClickHouse rows", "aggregation", st.spec.Name,
			"rows", n, "groups", st.agg.Stats().Groups, "horizon", horizon)
	}
	rows := append(s.convert(st.agg.Flush()), clickhouse.AggregateRow{Version: horizon, Deleted: true, State: st.fingerprint})
	if err := s.sink.WriteAggregate(ctx, st.table.Name, rows); err != nil {
		return err
	}
	st.init = false
	return nil
}

// apply applies a batch's events to the aggregations of their tables and keeps the changed groups
// for write. It runs once per batch (no I/O: the writes are retried on their own).
func (s *aggStage) apply(batch *Batch) error {
	for i := range batch.Events {
		ev := &batch.Events[i]
		for _, st := range s.aggs {
			if st.spec.From != ev.Table.ID || st.bound == nil {
				continue
			}
			if err := st.agg.Apply(ev); err != nil {
				var bad *transform.BadValueError
				if errors.As(err, &bad) {
					// Its row went to the dead-letter table too: the aggregate leaves it out alike.
					s.log.Warn("change left out of an aggregation", "error", err)
					continue
				}
				return change.Terminal(err)
			}
		}
	}
	for _, st := range s.aggs {
		if st.bound != nil {
			st.pending = append(st.pending, s.convert(st.agg.Flush())...)
		}
	}
	return nil
}

func (s *aggStage) convert(rows []transform.Row) []clickhouse.AggregateRow {
	out := make([]clickhouse.AggregateRow, len(rows))
	for i, r := range rows {
		out[i] = clickhouse.AggregateRow{Group: r.Group, Values: r.Values, Version: r.Version, Seq: r.Seq, Deleted: r.Deleted, State: r.State}
	}
	return out
}

// write writes the changed groups (one block per aggregation); a failed write is retried with the
// same rows.
func (s *aggStage) write(ctx context.Context) error {
	for _, st := range s.aggs {
		if len(st.pending) == 0 {
			continue
		}
		if err := s.sink.WriteAggregate(ctx, st.table.Name, st.pending); err != nil {
			return err
		}
		st.pending = st.pending[:0]
	}
	return nil
}

// logStats reports each aggregation's memory: groups held and bytes per group.
func (s *aggStage) logStats() {
	for _, st := range s.aggs {
		stats := st.agg.Stats()
		s.log.Info("aggregation memory", "aggregation", st.spec.Name, "groups", stats.Groups, "tombstones", stats.Tombstones,
			"bytes", stats.Bytes, "bytes_per_group", int64(stats.BytesPerGroup))
	}
}
