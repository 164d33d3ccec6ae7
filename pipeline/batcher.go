package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/cdcd-dev/cdcd/change"
)

// Batch is a run of change events in stream order, handed to the writer as a unit.
type Batch struct {
	Events []change.Event
	// Schemas announced in the batch, in order, before the events that use them.
	Schemas []*change.Table
	// Snapshots are the table snapshots the batch completes (capture.Emitter.Snapshotted): to be
	// recorded once its rows are written.
	Snapshots []TableSnapshot
	// checkpoint is the position of the last transaction the batch completes, if any. Events after
	// it (the start of a transaction too large for one batch) are written but not covered.
	checkpoint *change.Position
	bytes      int
	born       time.Time
}

// Checkpoint returns the position the batch completes, and false when it completes none. It is
// only meaningful once the batch is sealed (handed to the writer).
func (b *Batch) Checkpoint() (change.Position, bool) {
	if b.checkpoint == nil {
		return change.Position{}, false
	}
	return *b.checkpoint, true
}

// TableSnapshot is one table's completed snapshot and the version it was taken at.
type TableSnapshot struct {
	Table   change.TableID
	Version uint64
}

// Limits bound a batch.
type Limits struct {
	Rows     int
	Bytes    int
	Interval time.Duration // max wait of a committed change before its batch is sealed
	// Heartbeat is how often an idle stream's advancing position is written on its own.
	Heartbeat time.Duration
}

// batcher turns an Emitter's calls into sealed batches on out. Seals happen at commit boundaries,
// except that a transaction larger than a batch is cut (its checkpoint comes with its last part).
// Events at or below skip (the stored offset) are dropped: they are already in ClickHouse.
type batcher struct {
	limits Limits
	out    chan *Batch
	skip   uint64

	mu        sync.Mutex
	cur       *Batch
	commitIdx int // events of cur covered by cur.checkpoint
	schemaIdx int // schemas of cur announced before commitIdx
	snapIdx   int // snapshots of cur completed before commitIdx
	inTxn     bool
	txnEvents int // events of the open transaction, including any already sealed
	lastSent  time.Time
	lastCkpt  change.Position // the newest checkpoint sealed
	closed    bool
	// carry is a sealed batch whose send was cancelled; close sends it first so completed
	// transactions are still committed at shutdown.
	carry *Batch
	free  chan []change.Event // event slices of written batches, for reuse
}

func newBatcher(limits Limits, skip change.Position) *batcher {
	b := &batcher{limits: limits, out: make(chan *Batch, 1), skip: skip.Version, lastCkpt: skip, lastSent: time.Now(),
		free: make(chan []change.Event, 2)}
	b.cur = &Batch{Events: b.events()}
	return b
}

// events returns an empty event slice for a new batch: one the writer is done with, or a new one
// sized for a full batch, so batches do not grow (and garbage) their way up to Rows.
func (b *batcher) events() []change.Event {
	select {
	case ev := <-b.free:
		return ev
	default:
		return make([]change.Event, 0, min(b.limits.Rows, 1<<16))
	}
}

// recycle gives back the event slice of a batch the writer has finished with.
func (b *batcher) recycle(batch *Batch) {
	ev := batch.Events
	clear(ev[:cap(ev)]) // drop references to rows and tables
	batch.Events = nil
	select {
	case b.free <- ev[:0]:
	default:
	}
}

func (b *batcher) Schema(ctx context.Context, t *change.Table) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur.Events) == 0 && len(b.cur.Schemas) == 0 {
		b.cur.born = time.Now()
	}
	b.cur.Schemas = append(b.cur.Schemas, t)
	return nil
}

func (b *batcher) Change(ctx context.Context, ev change.Event) error {
	if ev.Version <= b.skip {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inTxn = true
	b.txnEvents++
	if len(b.cur.Events) == 0 {
		b.cur.born = time.Now()
	}
	b.cur.Events = append(b.cur.Events, ev)
	b.cur.bytes += eventSize(&ev)
	if len(b.cur.Events) >= b.limits.Rows || b.cur.bytes >= b.limits.Bytes {
		// A full batch: seal all of it, even mid-transaction, so memory stays bounded.
		return b.sealLocked(ctx, len(b.cur.Events), len(b.cur.Schemas), true)
	}
	return nil
}

func (b *batcher) Commit(ctx context.Context, pos change.Position) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inTxn = false
	had := b.txnEvents
	b.txnEvents = 0
	if pos.Version <= b.lastCkpt.Version {
		// A replayed transaction already covered by the stored offset.
		b.commitIdx, b.schemaIdx, b.snapIdx = len(b.cur.Events), len(b.cur.Schemas), len(b.cur.Snapshots)
		return nil
	}
	if had == 0 && len(b.cur.Events) == 0 && len(b.cur.Schemas) == 0 && len(b.cur.Snapshots) == 0 {
		// A transaction with nothing for us: advance like an idle stream.
		return b.advanceLocked(ctx, pos)
	}
	if len(b.cur.Events) == 0 {
		b.cur.born = time.Now() // a transaction whose events were all sealed with an earlier batch
	}
	p := pos
	b.cur.checkpoint = &p
	b.commitIdx, b.schemaIdx, b.snapIdx = len(b.cur.Events), len(b.cur.Schemas), len(b.cur.Snapshots)
	return b.maybeSealLocked(ctx)
}

func (b *batcher) Snapshotted(ctx context.Context, tables []change.TableID, version uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur.Events) == 0 && len(b.cur.Schemas) == 0 && len(b.cur.Snapshots) == 0 {
		b.cur.born = time.Now()
	}
	for _, t := range tables {
		b.cur.Snapshots = append(b.cur.Snapshots, TableSnapshot{Table: t, Version: version})
	}
	if !b.inTxn {
		b.snapIdx = len(b.cur.Snapshots) // not part of a transaction: complete now
	}
	return nil
}

func (b *batcher) Idle(ctx context.Context, pos change.Position) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inTxn {
		return nil
	}
	return b.advanceLocked(ctx, pos)
}

// advanceLocked moves the checkpoint to pos, between transactions, without new events. An otherwise
// empty batch is only sealed every Heartbeat, so a quiet stream writes its offset rarely.
func (b *batcher) advanceLocked(ctx context.Context, pos change.Position) error {
	if pos.Version <= b.lastCkpt.Version || (b.cur.checkpoint != nil && pos.Version <= b.cur.checkpoint.Version) {
		return nil
	}
	empty := len(b.cur.Events) == 0 && len(b.cur.Schemas) == 0 && len(b.cur.Snapshots) == 0
	if empty && time.Since(b.lastSent) < b.limits.Heartbeat {
		return nil
	}
	p := pos
	b.cur.checkpoint = &p
	b.commitIdx, b.schemaIdx, b.snapIdx = len(b.cur.Events), len(b.cur.Schemas), len(b.cur.Snapshots)
	if empty {
		b.cur.born = time.Now().Add(-b.limits.Interval)
	}
	return b.maybeSealLocked(ctx)
}

// maybeSealLocked seals the committed part of cur when it is big enough, or old enough and the
// writer has nothing queued (so small batches never pile up behind a slow write).
func (b *batcher) maybeSealLocked(ctx context.Context) error {
	full := b.commitIdx >= b.limits.Rows || b.cur.bytes >= b.limits.Bytes
	// Committed events are due even without a new checkpoint (a halted table holds the
	// checkpoint while the other tables' rows keep flowing).
	// Schemas announced between transactions are due on their own too, so their tables are
	// created and checked at start rather than with the first change.
	schemasOnly := !b.inTxn && len(b.cur.Events) == 0 && len(b.cur.Schemas) > 0
	due := (b.cur.checkpoint != nil || b.commitIdx > 0 || b.snapIdx > 0 || schemasOnly) && time.Since(b.cur.born) >= b.limits.Interval && len(b.out) == 0
	if full || due {
		ns := b.schemaIdx
		if schemasOnly {
			ns = len(b.cur.Schemas)
		}
		return b.sealLocked(ctx, b.commitIdx, ns, full)
	}
	return nil
}

// tick seals the committed part of cur when it is due; the runner calls it on a timer so a quiet
// stream's last changes do not wait for the next one.
func (b *batcher) tick(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	return b.maybeSealLocked(ctx)
}

// sealLocked hands the first n events (and first ns schemas) of cur to the writer; the rest start
// the next batch. With wait it blocks until the writer has room; otherwise it seals only when the
// writer's queue is empty.
func (b *batcher) sealLocked(ctx context.Context, n, ns int, wait bool) error {
	if n == 0 && ns == 0 && b.snapIdx == 0 && b.cur.checkpoint == nil {
		return nil
	}
	if !wait && len(b.out) > 0 {
		return nil
	}
	sealed, rest := b.cur, &Batch{Events: b.events()}
	if n < len(sealed.Events) {
		rest.Events = append(rest.Events, sealed.Events[n:]...)
		sealed.Events = sealed.Events[:n:n]
		for i := range rest.Events {
			rest.bytes += eventSize(&rest.Events[i])
		}
		sealed.bytes -= rest.bytes
		rest.born = time.Now()
	}
	if ns < len(sealed.Schemas) {
		rest.Schemas = append(rest.Schemas, sealed.Schemas[ns:]...)
		sealed.Schemas = sealed.Schemas[:ns:ns]
	}
	// Snapshots still inside the open transaction wait for its commit.
	if k := b.snapIdx; k < len(sealed.Snapshots) {
		rest.Snapshots = append(rest.Snapshots, sealed.Snapshots[k:]...)
		sealed.Snapshots = sealed.Snapshots[:k:k]
	}
	b.cur = rest
	b.commitIdx, b.schemaIdx, b.snapIdx = 0, 0, 0
	if sealed.checkpoint != nil {
		b.lastCkpt = *sealed.checkpoint
	}
	b.lastSent = time.Now()
	if !wait {
		b.out <- sealed // cannot block: the queue was empty and only this goroutine sends under mu
		return nil
	}
	// Release the lock while blocked so tick is not held up; cur is already the next batch.
	b.mu.Unlock()
	defer b.mu.Lock()
	select {
	case b.out <- sealed:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		b.carry = sealed
		b.mu.Unlock()
		return ctx.Err()
	}
}

// close seals what is committed and closes out. Events of an open transaction are dropped: the
// source replays them after a restart.
func (b *batcher) close(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.carry != nil {
		select {
		case b.out <- b.carry:
		case <-ctx.Done():
		}
		b.carry = nil
	}
	if b.commitIdx > 0 || b.snapIdx > 0 || b.cur.checkpoint != nil {
		_ = b.sealLocked(ctx, b.commitIdx, b.schemaIdx, true)
	}
	close(b.out)
}

// eventSize estimates an event's memory, for the batch byte limit.
func eventSize(ev *change.Event) int {
	n := 64 + 16*len(ev.After) + 16*len(ev.Before)
	for _, v := range ev.After {
		n += valueSize(v)
	}
	for _, v := range ev.Before {
		n += valueSize(v)
	}
	return n
}

func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	case []any:
		n := 24
		for _, e := range x {
			n += 16 + valueSize(e)
		}
		return n
	}
	return 8
}
