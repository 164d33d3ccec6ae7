package offsets

import (
	"maps"
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

// TestTableSnapshots: a source without records reads nil (unknown); records are per source and
// the newest record of a table wins; forgetting leaves an empty (known) set; a Store on the same
// database reads the same.
func TestTableSnapshots(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	id := func(src, name string) change.TableID {
		return change.TableID{Source: src, Namespace: "public", Name: name}
	}
	got, err := s.Snapshots(ctx, "shop")
	if err != nil || got != nil {
		t.Fatalf("no records: %v, %v; want nil", got, err)
	}
	if err := s.RecordSnapshots(ctx, "shop", map[change.TableID]uint64{id("shop", "a"): 10, id("shop", "b"): 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSnapshots(ctx, "other", map[change.TableID]uint64{id("other", "a"): 99}); err != nil {
		t.Fatal(err)
	}
	// A table snapshotted again (added back, or re-snapshotted at a lower coordinate after a
	// failover) keeps its newest record, whatever the version.
	if err := s.RecordSnapshots(ctx, "shop", map[change.TableID]uint64{id("shop", "b"): 7}); err != nil {
		t.Fatal(err)
	}
	want := map[change.TableID]uint64{id("shop", "a"): 10, id("shop", "b"): 7}
	if got, err = s.Snapshots(ctx, "shop"); err != nil || !maps.Equal(got, want) {
		t.Fatalf("Snapshots = %v, %v; want %v", got, err, want)
	}
	if err := s.ForgetSnapshots(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Snapshots(ctx, "shop"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("after forgetting: %v, %v; want an empty set", got, err)
	}
	if err := s.RecordSnapshots(ctx, "shop", map[change.TableID]uint64{id("shop", "c"): 20}); err != nil {
		t.Fatal(err)
	}
	fresh := NewStore(s.conn, s.db)
	want = map[change.TableID]uint64{id("shop", "c"): 20}
	if got, err = fresh.Snapshots(ctx, "shop"); err != nil || !maps.Equal(got, want) {
		t.Fatalf("after a new record: %v, %v; want %v", got, err, want)
	}
	if got, err = fresh.Snapshots(ctx, "other"); err != nil || got[id("other", "a")] != 99 || len(got) != 1 {
		t.Errorf("the other source: %v, %v", got, err)
	}
}
