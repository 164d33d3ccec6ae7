package mysql

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/change"
)

// recorder is an Emitter that keeps everything it is given.
type recorder struct {
	mu      sync.Mutex
	schemas []*change.Table
	events  []change.Event
	commits []change.Position
	idles   []change.Position
	snaps   []snapshotted
	order   []string // "schema", "change", "commit", "idle", "snapshotted"
}

// snapshotted is one call of Snapshotted.
type snapshotted struct {
	tables  []change.TableID
	version uint64
}

func (r *recorder) Schema(_ context.Context, t *change.Table) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schemas = append(r.schemas, t)
	r.order = append(r.order, "schema")
	return nil
}

func (r *recorder) Change(_ context.Context, ev change.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.order = append(r.order, "change")
	return nil
}

func (r *recorder) Commit(_ context.Context, p change.Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commits = append(r.commits, p)
	r.order = append(r.order, "commit")
	return nil
}

func (r *recorder) Idle(_ context.Context, p change.Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idles = append(r.idles, p)
	r.order = append(r.order, "idle")
	return nil
}

func (r *recorder) Snapshotted(_ context.Context, tables []change.TableID, version uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, snapshotted{tables: append([]change.TableID(nil), tables...), version: version})
	r.order = append(r.order, "snapshotted")
	return nil
}

// snapshot returns copies of what was recorded.
func (r *recorder) snapshot() ([]*change.Table, []change.Event, []change.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*change.Table(nil), r.schemas...), append([]change.Event(nil), r.events...), append([]change.Position(nil), r.commits...)
}

// calls returns copies of the Snapshotted calls and of the order of all calls.
func (r *recorder) calls() ([]snapshotted, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]snapshotted(nil), r.snaps...), append([]string(nil), r.order...)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}
