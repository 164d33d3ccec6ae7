package capture

import (
	"context"

	"github.com/cdcd-dev/cdcd/change"
)

// Source is one database's change stream.
type Source interface {
	// Run streams the source's changes into e until ctx ends or an error stops it. from is the
	// stored offset: zero means nothing was delivered yet (the source snapshots first when
	// configured to); otherwise Run resumes after from. Run returns nil only when ctx ended.
	// Errors retrying cannot fix are change.Terminal; the caller restarts Run after others.
	Run(ctx context.Context, from change.Position, e Emitter) error
	// Ack tells the source that every change up to pos is durable in ClickHouse, offset
	// included, so the source may release what it holds for them (a replication slot's WAL).
	// Ack is safe to call concurrently with Run and never blocks on the network.
	Ack(pos change.Position)
	// Kind names the source kind ("postgres", "mysql"), as stored with offsets.
	Kind() string
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
}
