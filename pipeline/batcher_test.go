package pipeline

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/change"
)

var (
	tabA = &change.Table{
		ID:      change.TableID{Source: "src", Namespace: "public", Name: "a"},
		Columns: []change.Column{{Name: "id", Type: change.Type{Kind: change.Int64}}},
		Key:     []int{0},
	}
	tabB = &change.Table{
		ID:      change.TableID{Source: "src", Namespace: "public", Name: "b"},
		Columns: []change.Column{{Name: "id", Type: change.Type{Kind: change.Int64}}},
		Key:     []int{0},
	}
)

// ev is an insert of row id in the transaction of version v.
func ev(v uint64, id int64) change.Event {
	return change.Event{Op: change.Insert, Table: tabA, After: []any{id}, Version: v}
}

func pos(v uint64) change.Position { return change.Position{Version: v, Token: fmt.Sprintf("0/%X", v)} }

// evSize is eventSize of ev(v, id): 64 + 16 per value + 8 per int64.
const evSize = 64 + 16 + 8

// step is one call on a batcher, or a check of what it has sealed.
type step struct {
	do   string // change, commit, idle, schema, tick, age, close, want, none, closed
	v    uint64 // change, commit, idle: the version
	id   int64  // change: the row id
	tab  *change.Table
	want *wantBatch
}

// wantBatch is a sealed batch as the test expects it: row ids in order, the checkpoint version
// (0: none) and the schemas.
type wantBatch struct {
	ids     []int64
	ckpt    uint64
	schemas []*change.Table
}

func chg(v uint64, id int64) step     { return step{do: "change", v: v, id: id} }
func commit(v uint64) step            { return step{do: "commit", v: v} }
func idle(v uint64) step              { return step{do: "idle", v: v} }
func schemaStep(t *change.Table) step { return step{do: "schema", tab: t} }
func want(ckpt uint64, ids ...int64) step {
	return step{do: "want", want: &wantBatch{ids: append([]int64{}, ids...), ckpt: ckpt}}
}
func wantS(ckpt uint64, schemas []*change.Table, ids ...int64) step {
	return step{do: "want", want: &wantBatch{ids: append([]int64{}, ids...), ckpt: ckpt, schemas: schemas}}
}

var (
	tick   = step{do: "tick"}
	age    = step{do: "age"} // as if Interval and Heartbeat had passed since the batch began and the last seal
	none   = step{do: "none"}
	closeB = step{do: "close"}
	closed = step{do: "closed"}
)

func ids(b *Batch) []int64 {
	out := []int64{}
	for _, e := range b.Events {
		out = append(out, e.After[0].(int64))
	}
	return out
}

func describe(b *Batch) string {
	ck := "none"
	if p, ok := b.Checkpoint(); ok {
		ck = fmt.Sprint(p.Version)
	}
	return fmt.Sprintf("ids %v checkpoint %s schemas %d", ids(b), ck, len(b.Schemas))
}

func run(t *testing.T, b *batcher, steps []step) {
	t.Helper()
	ctx := t.Context()
	for i, s := range steps {
		var err error
		switch s.do {
		case "change":
			err = b.Change(ctx, ev(s.v, s.id))
		case "commit":
			err = b.Commit(ctx, pos(s.v))
		case "idle":
			err = b.Idle(ctx, pos(s.v))
		case "schema":
			err = b.Schema(ctx, s.tab)
		case "tick":
			err = b.tick(ctx)
		case "age":
			b.mu.Lock()
			b.cur.born = b.cur.born.Add(-24 * time.Hour)
			b.lastSent = b.lastSent.Add(-24 * time.Hour)
			b.mu.Unlock()
		case "close":
			b.close(ctx)
		case "none":
			select {
			case got, ok := <-b.out:
				if !ok {
					t.Fatalf("step %d: out is closed, want it open and empty", i)
				}
				t.Fatalf("step %d: sealed %s, want nothing", i, describe(got))
			default:
			}
		case "closed":
			select {
			case got, ok := <-b.out:
				if ok {
					t.Fatalf("step %d: sealed %s, want out closed", i, describe(got))
				}
			default:
				t.Fatalf("step %d: out is open, want it closed", i)
			}
		case "want":
			var got *Batch
			select {
			case sealed, ok := <-b.out:
				if !ok {
					t.Fatalf("step %d: out is closed, want a batch", i)
				}
				got = sealed
			default:
				t.Fatalf("step %d: nothing sealed, want ids %v checkpoint %d", i, s.want.ids, s.want.ckpt)
			}
			p, ok := got.Checkpoint()
			if !reflect.DeepEqual(ids(got), s.want.ids) || ok != (s.want.ckpt != 0) || p.Version != s.want.ckpt ||
				(ok && p != pos(s.want.ckpt)) {
				t.Fatalf("step %d: sealed %s, want ids %v checkpoint %d", i, describe(got), s.want.ids, s.want.ckpt)
			}
			if s.want.schemas != nil && !reflect.DeepEqual(got.Schemas, s.want.schemas) {
				t.Fatalf("step %d: sealed schemas %v, want %v", i, got.Schemas, s.want.schemas)
			}
			wantBytes := 0
			for i := range got.Events {
				wantBytes += eventSize(&got.Events[i])
			}
			if got.bytes != wantBytes {
				t.Fatalf("step %d: sealed batch counts %d bytes, its events hold %d", i, got.bytes, wantBytes)
			}
		default:
			t.Fatalf("step %d: unknown step %q", i, s.do)
		}
		if err != nil {
			t.Fatalf("step %d (%s %d): %v", i, s.do, s.v, err)
		}
	}
}

func TestBatcher(t *testing.T) {
	const hour = time.Hour
	big := 1 << 30
	cases := []struct {
		name   string
		limits Limits
		skip   uint64
		steps  []step
	}{
		{
			name:   "tick does not seal events before their commit",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			steps:  []step{chg(1, 1), chg(1, 2), tick, none, age, tick, none, commit(1), want(1, 1, 2), none},
		},
		{
			name:   "a commit waits for Interval, then tick seals it",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), none, tick, none, chg(2, 2), commit(2), tick, none, age, tick, want(2, 1, 2), none},
		},
		{
			name:   "a commit past Interval seals at once when out is empty",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), want(1, 1), chg(2, 2), chg(2, 3), commit(2), want(2, 2, 3)},
		},
		{
			name:   "a due commit does not seal while out holds a batch",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			steps: []step{
				chg(1, 1), commit(1), // sealed, not yet taken
				chg(2, 2), commit(2), tick, chg(3, 3), commit(3), tick,
				want(1, 1), none,
				tick, want(3, 2, 3), none,
			},
		},
		{
			name:   "the tick after a due commit seals only the committed part",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps: []step{
				chg(1, 1), commit(1), chg(2, 2), age, tick, want(1, 1),
				chg(2, 3), commit(2), age, tick, want(2, 2, 3),
			},
		},
		{
			name:   "Rows seals mid-transaction with the last completed commit",
			limits: Limits{Rows: 3, Bytes: big, Interval: hour, Heartbeat: hour},
			steps: []step{
				chg(1, 1), commit(1), chg(2, 2), chg(2, 3), want(1, 1, 2, 3),
				chg(2, 4), commit(2), none, age, tick, want(2, 4),
			},
		},
		{
			name:   "Rows seals mid-transaction with no checkpoint when none completed",
			limits: Limits{Rows: 3, Bytes: big, Interval: hour, Heartbeat: hour},
			steps: []step{
				chg(1, 1), chg(1, 2), chg(1, 3), want(0, 1, 2, 3),
				chg(1, 4), chg(1, 5), chg(1, 6), want(0, 4, 5, 6),
				chg(1, 7), commit(1), age, tick, want(1, 7),
			},
		},
		{
			name:   "Rows seals whole transactions too",
			limits: Limits{Rows: 3, Bytes: big, Interval: hour, Heartbeat: hour},
			steps: []step{
				chg(1, 1), commit(1), chg(2, 2), commit(2), chg(3, 3), want(2, 1, 2, 3),
				commit(3), chg(4, 4), commit(4), age, tick, want(4, 4),
			},
		},
		{
			name:   "Bytes seals mid-transaction",
			limits: Limits{Rows: 100, Bytes: 2 * evSize, Interval: hour, Heartbeat: hour},
			steps: []step{
				chg(1, 1), none, chg(1, 2), want(0, 1, 2),
				chg(1, 3), commit(1), chg(2, 4), want(1, 3, 4),
				commit(2), chg(3, 5), commit(3), age, tick, want(3, 5),
			},
		},
		{
			name:   "events at or below the stored offset are dropped",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			skip:   5,
			steps: []step{
				chg(4, 1), commit(4), chg(5, 2), chg(5, 3), commit(5), age, tick, none,
				chg(6, 4), commit(6), want(6, 4),
			},
		},
		{
			// A schema announced between transactions is sealed on its own (its table is
			// created and checked at once); the replayed transaction's event is dropped.
			name:   "a replayed transaction's schema is sealed on its own",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: 0},
			skip:   5,
			steps: []step{
				schemaStep(tabA), chg(5, 1), commit(5), age, tick, wantS(0, []*change.Table{tabA}),
				chg(6, 2), commit(6), want(6, 2),
			},
		},
		{
			name:   "a commit at or below the last checkpoint sets none",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: 0},
			steps: []step{
				chg(6, 1), commit(6), want(6, 1),
				commit(6), age, tick, none,
				commit(3), age, tick, none,
				idle(6), none,
			},
		},
		{
			name:   "idle on an empty batch waits for Heartbeat",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			steps:  []step{idle(3), tick, none, age, idle(4), want(4), idle(5), tick, none, age, idle(6), want(6)},
		},
		{
			name:   "idle with Heartbeat 0 advances every time",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: 0},
			steps:  []step{idle(3), want(3), idle(4), want(4), idle(4), none},
		},
		{
			name:   "a heartbeat waits while out holds a batch",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: 0},
			steps:  []step{idle(3), idle(4), tick, want(3), none, tick, want(4), none},
		},
		{
			name:   "an empty transaction advances like idle",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: hour},
			steps:  []step{commit(2), tick, none, age, commit(3), want(3)},
		},
		{
			name:   "idle inside a transaction does nothing",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: 0},
			steps:  []step{chg(1, 1), idle(5), age, tick, none, commit(1), want(1, 1), chg(2, 2), idle(9), tick, none, commit(2), want(2, 2)},
		},
		{
			name:   "idle between transactions moves a pending batch's checkpoint",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), idle(7), none, age, tick, want(7, 1)},
		},
		{
			name:   "idle below a pending checkpoint does not lower it",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: 0},
			steps:  []step{chg(5, 1), commit(5), idle(4), idle(5), age, tick, want(5, 1)},
		},
		{
			name:   "close seals the committed part and drops the open transaction",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), chg(2, 2), chg(2, 3), closeB, want(1, 1), closed},
		},
		{
			name:   "close with nothing committed",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), closeB, closed},
		},
		{
			name:   "close of an empty batcher",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{closeB, closed},
		},
		{
			name:   "close twice, tick after close",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), closeB, closeB, tick, want(1, 1), closed},
		},
		{
			name:   "close after a mid-transaction seal",
			limits: Limits{Rows: 2, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{chg(1, 1), commit(1), chg(2, 2), want(1, 1, 2), chg(2, 3), closeB, closed},
		},
		{
			name:   "close seals a heartbeat's pending checkpoint",
			limits: Limits{Rows: 100, Bytes: big, Interval: 0, Heartbeat: 0},
			steps:  []step{idle(3), idle(4), want(3), closeB, want(4), closed},
		},
		{
			name:   "schemas go with the committed part",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps: []step{
				schemaStep(tabA), chg(1, 1), commit(1), schemaStep(tabB), chg(2, 2), age, tick,
				wantS(1, []*change.Table{tabA}, 1),
				commit(2), age, tick, wantS(2, []*change.Table{tabB}, 2),
			},
		},
		{
			name:   "close drops the open transaction's schemas",
			limits: Limits{Rows: 100, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{schemaStep(tabA), chg(1, 1), commit(1), schemaStep(tabB), chg(2, 2), closeB, wantS(1, []*change.Table{tabA}, 1), closed},
		},
		{
			name:   "a mid-transaction seal takes the open transaction's schemas",
			limits: Limits{Rows: 2, Bytes: big, Interval: hour, Heartbeat: hour},
			steps:  []step{schemaStep(tabA), chg(1, 1), schemaStep(tabB), chg(1, 2), wantS(0, []*change.Table{tabA, tabB}, 1, 2)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run(t, newBatcher(c.limits, pos(c.skip)), c.steps)
		})
	}
}

// TestBatcherCommitAfterCutAtTransactionEnd: a transaction whose last event fills a batch is sealed
// without its checkpoint (the commit has not arrived). Its Commit then finds an empty batch and is
// treated like an idle stream's position: held back for up to Heartbeat, and dropped by close.
func TestBatcherCommitAfterCutAtTransactionEnd(t *testing.T) {
	limits := Limits{Rows: 3, Bytes: 1 << 30, Interval: 0, Heartbeat: time.Hour}
	t.Run("due at once", func(t *testing.T) {
		run(t, newBatcher(limits, change.Position{}), []step{
			chg(1, 1), chg(1, 2), chg(1, 3), want(0, 1, 2, 3), commit(1), tick, want(1),
		})
	})
	t.Run("sealed by close", func(t *testing.T) {
		run(t, newBatcher(limits, change.Position{}), []step{
			chg(1, 1), chg(1, 2), chg(1, 3), want(0, 1, 2, 3), commit(1), closeB, want(1), closed,
		})
	})
}

func TestBatchCheckpoint(t *testing.T) {
	var b Batch
	if p, ok := b.Checkpoint(); ok || !p.IsZero() {
		t.Errorf("Checkpoint of a batch without one = %v, %v", p, ok)
	}
	p := pos(7)
	b.checkpoint = &p
	got, ok := b.Checkpoint()
	if !ok || got != pos(7) {
		t.Errorf("Checkpoint = %v, %v; want %v, true", got, ok, pos(7))
	}
	got.Version = 99
	if again, _ := b.Checkpoint(); again.Version != 7 {
		t.Errorf("Checkpoint returns a reference to the batch's position")
	}
}

func TestEventSize(t *testing.T) {
	cases := []struct {
		ev   change.Event
		want int
	}{
		{change.Event{}, 64},
		{ev(1, 1), evSize},
		{change.Event{After: []any{"abcd", []byte{1, 2}, nil}}, 64 + 3*16 + 4 + 2 + 8},
		{change.Event{Before: []any{int64(1)}, After: []any{[]any{"ab", int64(1)}}}, 64 + 16 + 8 + 16 + 24 + (16 + 2) + (16 + 8)},
	}
	for _, c := range cases {
		if got := eventSize(&c.ev); got != c.want {
			t.Errorf("eventSize(%+v) = %d, want %d", c.ev, got, c.want)
		}
	}
}

// TestBatcherBlockedSeal: a seal that must wait for the writer (Rows reached while out is full)
// honours ctx, and lets tick run meanwhile.
func TestBatcherBlockedSeal(t *testing.T) {
	limits := Limits{Rows: 1, Bytes: 1 << 30, Interval: time.Hour, Heartbeat: time.Hour}

	t.Run("cancelled before", func(t *testing.T) {
		b := newBatcher(limits, change.Position{})
		run(t, b, []step{chg(1, 1)}) // fills out
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Change(ctx, ev(1, 2)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Change with out full and ctx cancelled = %v, want context.Canceled", err)
		}
	})

	t.Run("cancelled while blocked", func(t *testing.T) {
		b := newBatcher(limits, change.Position{})
		run(t, b, []step{chg(1, 1)})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		before := curBatch(b)
		go func() { done <- b.Change(ctx, ev(1, 2)) }()
		waitBlocked(t, b, before)
		// The lock is free while the seal waits: tick and Idle return.
		if err := b.tick(t.Context()); err != nil {
			t.Fatalf("tick while a seal is blocked: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("Change returned %v while out was full", err)
		default:
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("blocked Change = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("blocked Change did not return after ctx was cancelled")
		}
	})

	t.Run("released by the writer", func(t *testing.T) {
		b := newBatcher(limits, change.Position{})
		run(t, b, []step{chg(1, 1)})
		done := make(chan error, 1)
		before := curBatch(b)
		go func() { done <- b.Change(t.Context(), ev(1, 2)) }()
		waitBlocked(t, b, before)
		run(t, b, []step{want(0, 1)})
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Change: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Change did not return after the writer took a batch")
		}
		run(t, b, []step{want(0, 2), none})
	})
}

// waitBlocked waits until a Change has started its blocked seal: it has replaced cur with the next
// batch and released the lock, while out still holds the previous batch.
func waitBlocked(t *testing.T, b *batcher, before *Batch) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		blocked := b.cur != before && len(b.out) == 1
		b.mu.Unlock()
		if blocked {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("Change did not reach its blocked seal")
}

func curBatch(b *batcher) *Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// TestBatcherConcurrent runs a producer (Change, Commit, Idle), a ticker and a writer at once,
// under -race: every committed event arrives exactly once and in order, and checkpoints never go
// backwards and only cover events that have arrived.
func TestBatcherConcurrent(t *testing.T) {
	const txns = 3000
	// Transaction v has v%5 + v%3 events: empty ones, and ones larger than a batch.
	var sent []change.Event
	covered := make([]int, txns+1) // covered[v]: events of versions <= v
	for v := uint64(1); v <= txns; v++ {
		for s := range int(v%5 + v%3) {
			e := ev(v, int64(len(sent)))
			e.Seq = uint32(s)
			sent = append(sent, e)
		}
		covered[v] = len(sent)
	}
	b := newBatcher(Limits{Rows: 3, Bytes: 1 << 30, Interval: 50 * time.Microsecond, Heartbeat: 20 * time.Microsecond}, change.Position{})
	ctx := t.Context()

	producerErr := make(chan error, 1)
	go func() { // the source
		defer b.close(ctx)
		i := 0
		for v := uint64(1); v <= txns; v++ {
			for ; i < covered[v]; i++ {
				if err := b.Change(ctx, sent[i]); err != nil {
					producerErr <- err
					return
				}
			}
			if err := b.Commit(ctx, pos(v)); err != nil {
				producerErr <- err
				return
			}
			if v%7 == 0 {
				if err := b.Idle(ctx, pos(v)); err != nil {
					producerErr <- err
					return
				}
			}
		}
		producerErr <- nil
	}()
	stopTick := make(chan struct{})
	tickErr := make(chan error, 1)
	go func() { // the runner's timer
		for {
			select {
			case <-stopTick:
				tickErr <- nil
				return
			default:
			}
			if err := b.tick(ctx); err != nil {
				tickErr <- err
				return
			}
			runtime.Gosched()
		}
	}()
	defer close(stopTick)

	var got []change.Event
	var last uint64
	batches := 0
	for batch := range b.out { // the writer
		batches++
		got = append(got, batch.Events...)
		p, ok := batch.Checkpoint()
		if !ok {
			continue
		}
		if p.Version <= last || p.Version > txns {
			t.Fatalf("batch %d: checkpoint %d after %d", batches, p.Version, last)
		}
		last = p.Version
		if len(got) < covered[p.Version] {
			t.Fatalf("batch %d: checkpoint %d covers %d events, only %d arrived", batches, p.Version, covered[p.Version], len(got))
		}
	}
	if err := <-producerErr; err != nil {
		t.Fatalf("producer: %v", err)
	}
	if len(got) != len(sent) {
		t.Fatalf("got %d events, sent %d", len(got), len(sent))
	}
	for i := range sent {
		if got[i].Version != sent[i].Version || got[i].Seq != sent[i].Seq || got[i].After[0] != sent[i].After[0] {
			t.Fatalf("event %d = v%d seq %d id %v, want v%d seq %d id %v", i, got[i].Version, got[i].Seq, got[i].After[0],
				sent[i].Version, sent[i].Seq, sent[i].After[0])
		}
	}
	t.Logf("%d events in %d batches, last checkpoint %d", len(got), batches, last)
}

// TestBatcherSnapshots: a completed table snapshot travels with the batch that holds the
// snapshot's last rows, never with an earlier part of it, and with no checkpoint of its own when
// the snapshot does not move the offset; one reported outside a transaction is due by itself.
func TestBatcherSnapshots(t *testing.T) {
	ctx := t.Context()
	snapB := []TableSnapshot{{Table: tabB.ID, Version: 9}}
	seal := func(b *batcher) *Batch {
		t.Helper()
		if err := b.tick(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-b.out:
			return got
		default:
			t.Fatal("nothing sealed")
			return nil
		}
	}
	check := func(got *Batch, wantIDs []int64, ckpt uint64, snaps []TableSnapshot) {
		t.Helper()
		p, ok := got.Checkpoint()
		if !reflect.DeepEqual(ids(got), wantIDs) || ok != (ckpt != 0) || p.Version != ckpt || !reflect.DeepEqual(got.Snapshots, snaps) {
			t.Fatalf("sealed %s snapshots %v; want ids %v checkpoint %d snapshots %v", describe(got), got.Snapshots, wantIDs, ckpt, snaps)
		}
	}
	limits := Limits{Rows: 2, Bytes: 1 << 30, Heartbeat: time.Hour}

	// A table added to a source that has stored offset 5: its snapshot (version 9) is closed by a
	// commit at the stored offset, which moves nothing.
	b := newBatcher(limits, pos(5))
	for _, err := range []error{b.Change(ctx, ev(9, 1)), b.Change(ctx, ev(9, 2))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(<-b.out, []int64{1, 2}, 0, nil) // a full batch, mid-snapshot: no snapshot yet
	if err := b.Change(ctx, ev(9, 3)); err != nil {
		t.Fatal(err)
	}
	if err := b.Snapshotted(ctx, []change.TableID{tabB.ID}, 9); err != nil {
		t.Fatal(err)
	}
	if err := b.tick(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-b.out:
		t.Fatalf("sealed %s before the snapshot's commit", describe(got))
	default:
	}
	if err := b.Commit(ctx, pos(5)); err != nil {
		t.Fatal(err)
	}
	check(seal(b), []int64{3}, 0, snapB)

	// The source's first snapshot: reported with its checkpoint.
	b = newBatcher(limits, change.Position{})
	if err := b.Change(ctx, ev(9, 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Snapshotted(ctx, []change.TableID{tabB.ID}, 9); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, pos(9)); err != nil {
		t.Fatal(err)
	}
	check(seal(b), []int64{1}, 9, snapB)

	// Reported between transactions (an offset that predates the records): due on its own.
	b = newBatcher(limits, pos(5))
	if err := b.Snapshotted(ctx, []change.TableID{tabB.ID}, 0); err != nil {
		t.Fatal(err)
	}
	check(seal(b), []int64{}, 0, []TableSnapshot{{Table: tabB.ID, Version: 0}})

	// close seals a completed snapshot; one whose transaction is still open is dropped with it.
	b = newBatcher(limits, pos(5))
	if err := b.Snapshotted(ctx, []change.TableID{tabB.ID}, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Change(ctx, ev(9, 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Snapshotted(ctx, []change.TableID{tabA.ID}, 9); err != nil {
		t.Fatal(err)
	}
	b.close(ctx)
	check(<-b.out, []int64{}, 0, []TableSnapshot{{Table: tabB.ID, Version: 0}})
}
