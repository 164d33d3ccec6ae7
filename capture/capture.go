package capture

import (
	"context"

	"github.com/cdcd-dev/cdcd/change"
)

// Source is one database's change stream.
type Source interface {
	// Run streams the source's changes into e until ctx ends or an error stops it, from start.
	// Run returns nil only when ctx ended. Errors retrying cannot fix are change.Terminal; the
	// caller restarts Run after others.
	Run(ctx context.Context, start Start, e Emitter) error
	// Ack tells the source that every change up to pos is durable in ClickHouse, offset
	// included, so the source may release what it holds for them (a replication slot's WAL).
	// Ack is safe to call concurrently with Run and never blocks on the network.
	Ack(pos change.Position)
	// Kind names the source kind ("postgres", "mysql"), as stored with offsets.
	Kind() string
}

// Start is where a Run begins.
type Start struct {
	// Position is the stored offset: zero means nothing was delivered yet (the source snapshots
	// every table first when configured to); otherwise Run resumes after it.
	Position change.Position
	// Tables are the tables whose snapshot ClickHouse holds, each with the version it was taken
	// at (what Emitter.Snapshotted reported). With a stored Position, a source configured to
	// snapshot snapshots each captured table missing here on its own, then streams; and it drops
	// a table's changes at or below its version, which its snapshot already holds. nil means
	// unknown (an offset stored before these records): every captured table counts as
	// snapshotted, and the source reports them all (at version 0).
	Tables map[change.TableID]uint64
}

// Emitter receives a source's stream. One goroutine (the source's) calls it. Any call may block
// while the pipeline is full (backpressure); it returns ctx's error if ctx ends first.
//
// The order of calls is the order of the stream: Schema before the first event under a schema,
// then the events of a transaction, then its Commit. Idle comes only between transactions.
type Emitter interface {
	// Schema announces t as the schema in force for its table from now on.
	Schema(ctx context.Context, t *change.Table) error
	// Change adds one event of the open transaction (or of the snapshot).
	Change(ctx context.Context, ev change.Event) error
	// Commit closes the open transaction: pos covers it and everything before it.
	Commit(ctx context.Context, pos change.Position) error
	// Idle says the stream holds nothing more up to pos, so the offset may advance to pos even
	// though no transaction committed (idle tables must not pin the source's log).
	Idle(ctx context.Context, pos change.Position) error
	// Snapshotted says every row of the snapshot of tables, taken at version, has been emitted.
	// It comes after the snapshot's last row and before the Commit that closes it; once that
	// much is durable, a later Run's Start.Tables holds them.
	Snapshotted(ctx context.Context, tables []change.TableID, version uint64) error
}
