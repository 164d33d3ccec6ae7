package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/decode"
	"github.com/cdcd-dev/cdcd/schema"
)

// avroStage sits between the source and the batcher. It maps each table schema to Avro and
// registers it before the first event under it passes, so no row is written under a schema the
// registry has not accepted; and it encodes the rows the sink writes (Encode).
//
// A registry that cannot be reached pauses the stream (Schema blocks, retrying) without
// acknowledging anything. A schema the registry refuses halts that table only: its events are
// dropped, the other tables keep flowing, and the stream's checkpoint is held at the last position
// before the change, so the source keeps (and a restart replays) everything from there. The stage
// re-tries a halted table's schema every HaltRetry; once accepted (the operator raised the
// subject's compatibility level, say) the pipeline restarts from the held position and replays.
//
// Schema, Change, Commit and Idle are called by the source's goroutine; Encode by the writer's.
type avroStage struct {
	next    capture.Emitter
	reg     schema.Registry
	subject func(change.TableID) string
	log     *slog.Logger

	mu     sync.RWMutex
	known  map[*change.Table]*registered
	halted map[change.TableID]*halt

	held      change.Position // the newest checkpoint passed on: where a halt holds the stream
	nextRetry time.Time
	haltRetry time.Duration // how often a halted table's schema is offered again
}

type registered struct {
	ts      *decode.TableSchema
	id      int
	version int
	subject string
}

// halt is a table whose new schema the registry refused.
type halt struct {
	table   *change.Table
	ts      *decode.TableSchema
	subject string
	err     error
}

// errHaltLifted restarts the pipeline so a table whose schema is now accepted replays from the
// held position.
var errHaltLifted = errors.New("a halted table's schema is now accepted: replaying from the held position")

func newAvroStage(next capture.Emitter, reg schema.Registry, subject func(change.TableID) string, from change.Position,
	haltRetry time.Duration, log *slog.Logger) *avroStage {
	if haltRetry <= 0 {
		haltRetry = 30 * time.Second
	}
	return &avroStage{next: next, reg: reg, subject: subject, log: log, held: from, haltRetry: haltRetry,
		known: map[*change.Table]*registered{}, halted: map[change.TableID]*halt{}}
}

func (a *avroStage) Schema(ctx context.Context, t *change.Table) error {
	a.mu.RLock()
	_, ok := a.known[t]
	_, isHalted := a.halted[t.ID]
	a.mu.RUnlock()
	if ok {
		return a.next.Schema(ctx, t)
	}
	subject := a.subject(t.ID)
	ts, err := decode.Schema(t, decode.Options{})
	if err != nil {
		a.stop(t, nil, subject, fmt.Errorf("table %s cannot be mapped to Avro: %w", t.ID, err))
		return nil
	}
	id, version, err := a.register(ctx, subject, ts.JSON)
	var inc *schema.IncompatibleError
	switch {
	case errors.As(err, &inc):
		a.stop(t, ts, subject, err)
		return nil
	case err != nil:
		return err
	}
	if isHalted {
		a.log.Info("a halted table's new schema is accepted", "table", t.ID.String(), "subject", subject, "version", version)
		return errHaltLifted
	}
	a.mu.Lock()
	a.known[t] = &registered{ts: ts, id: id, version: version, subject: subject}
	a.mu.Unlock()
	if t.Generation > 1 {
		a.log.Info("registered a new schema version", "table", t.ID.String(), "subject", subject, "version", version, "id", id)
	}
	return a.next.Schema(ctx, t)
}

// register registers a schema, retrying with backoff while the registry is unavailable.
func (a *avroStage) register(ctx context.Context, subject, avro string) (id, version int, err error) {
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		id, version, err = a.reg.Register(ctx, subject, avro)
		if err == nil || !schema.IsUnavailable(err) {
			if err != nil {
				var inc *schema.IncompatibleError
				if !errors.As(err, &inc) {
					return 0, 0, change.Terminal(fmt.Errorf("register schema of subject %q: %w", subject, err))
				}
			}
			return id, version, err
		}
		wait := b.next()
		a.log.Warn("schema registry unavailable: the stream is paused, nothing is acknowledged", "subject", subject,
			"error", err, "attempt", attempt, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// stop halts a table whose new schema cannot be used.
func (a *avroStage) stop(t *change.Table, ts *decode.TableSchema, subject string, err error) {
	a.mu.Lock()
	a.halted[t.ID] = &halt{table: t, ts: ts, subject: subject, err: err}
	a.nextRetry = time.Now().Add(a.haltRetry)
	a.mu.Unlock()
	a.log.Error("table halted: its changes are not written and the source position is held until this is resolved",
		"table", t.ID.String(), "subject", subject, "error", err, "held_at", a.held.Token,
		"recovery", "change the subject's compatibility level (PUT /config/"+subject+" on the registry, e.g. NONE) "+
			"or delete the subject (DELETE /subjects/"+subject+"); cdcd then resumes by itself from the held position")
}

func (a *avroStage) Change(ctx context.Context, ev change.Event) error {
	if len(a.halted) > 0 {
		a.mu.RLock()
		_, halted := a.halted[ev.Table.ID]
		a.mu.RUnlock()
		if halted {
			return nil
		}
	}
	return a.next.Change(ctx, ev)
}

func (a *avroStage) Commit(ctx context.Context, pos change.Position) error {
	if len(a.halted) == 0 {
		a.held = pos
		return a.next.Commit(ctx, pos)
	}
	if err := a.retryHalted(ctx); err != nil {
		return err
	}
	// Close the transaction without advancing: the batcher sees an already-covered position.
	return a.next.Commit(ctx, a.held)
}

// Snapshotted passes on the snapshots of tables that are not halted: a halted table's rows were
// not written, so its snapshot must be taken again.
func (a *avroStage) Snapshotted(ctx context.Context, tables []change.TableID, version uint64) error {
	if len(a.halted) > 0 {
		a.mu.RLock()
		var kept []change.TableID
		for _, t := range tables {
			if _, halted := a.halted[t]; !halted {
				kept = append(kept, t)
			}
		}
		a.mu.RUnlock()
		tables = kept
	}
	if len(tables) == 0 {
		return nil
	}
	return a.next.Snapshotted(ctx, tables, version)
}

func (a *avroStage) Idle(ctx context.Context, pos change.Position) error {
	if len(a.halted) == 0 {
		a.held = pos
		return a.next.Idle(ctx, pos)
	}
	return a.retryHalted(ctx)
}

// retryHalted offers halted tables' schemas to the registry again, every HaltRetry.
func (a *avroStage) retryHalted(ctx context.Context) error {
	if time.Now().Before(a.nextRetry) {
		return nil
	}
	a.nextRetry = time.Now().Add(a.haltRetry)
	for _, h := range a.halted {
		if h.ts == nil {
			continue
		}
		if _, _, err := a.reg.Register(ctx, h.subject, h.ts.JSON); err == nil {
			a.log.Info("a halted table's schema is now accepted", "table", h.table.ID.String(), "subject", h.subject)
			return errHaltLifted
		}
	}
	return nil
}

// Encode appends the Confluent wire-format record of a row the sink writes (the event's row with
// its unchanged values resolved) and returns its schema id.
func (a *avroStage) Encode(buf []byte, ev *change.Event, row []any) ([]byte, int, error) {
	a.mu.RLock()
	r := a.known[ev.Table]
	a.mu.RUnlock()
	if r == nil {
		return buf, 0, fmt.Errorf("decode: table %s: no registered schema for generation %d", ev.Table.ID, ev.Table.Generation)
	}
	e := *ev
	if e.Op == change.Delete {
		e.Before = row
	} else {
		e.After = row
	}
	out, err := r.ts.AppendWire(buf, r.id, &e)
	return out, r.id, err
}

// Halted lists the halted tables and why, for status reports.
func (a *avroStage) Halted() map[change.TableID]error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make(map[change.TableID]error, len(a.halted))
	for id, h := range a.halted {
		out[id] = h.err
	}
	return out
}
