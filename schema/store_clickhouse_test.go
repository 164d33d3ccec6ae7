package schema

import (
	"context"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func clickHouseStoreIn(ch *testenv.ClickHouse, db string) openStore {
	return func(t *testing.T) (Store, func()) {
		t.Helper()
		s, err := NewClickHouseStore(context.Background(), ch.Conn(t, "default"), db)
		if err != nil {
			t.Fatal(err)
		}
		return s, func() {}
	}
}

func TestClickHouseStoreRestart(t *testing.T) {
	ch := testenv.StartClickHouse(t)
	checkRestart(t, clickHouseStoreIn(ch, ch.NewDatabase(t)))
}

func TestClickHouseStoreDuplicateSeq(t *testing.T) {
	ch := testenv.StartClickHouse(t)
	s, _ := clickHouseStoreIn(ch, ch.NewDatabase(t))(t)
	checkDuplicateSeq(t, s)
}

// TestClickHouseStoreUnavailable: with ClickHouse down, registering a new schema is reported as
// unavailable and hands out nothing, known schemas still resolve, and the same call succeeds
// once ClickHouse is back.
func TestClickHouseStoreUnavailable(t *testing.T) {
	ch := testenv.StartClickHouse(t)
	db := ch.NewDatabase(t)
	store, _ := clickHouseStoreIn(ch, db)(t)
	ctx := context.Background()
	e, err := NewEmbedded(ctx, store, "")
	if err != nil {
		t.Fatal(err)
	}
	v1 := record("orders", field("id", `"long"`, ""))
	if _, _, err := e.Register(ctx, "orders-value", v1); err != nil {
		t.Fatal(err)
	}
	ch.Stop(t)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			ch.Start(t)
		}
	})
	v2 := record("orders", field("id", `"long"`, ""), field("note", `["null","string"]`, "null"))
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	_, _, err = e.Register(cctx, "orders-value", v2)
	cancel()
	if !IsUnavailable(err) {
		t.Fatalf("Register with ClickHouse down: %v, want an unavailable error", err)
	}
	t.Logf("with ClickHouse down: %v", err)
	if text, err := e.SchemaByID(ctx, 1); err != nil || text != v1 {
		t.Fatalf("SchemaByID of a known id with ClickHouse down: %q %v", text, err)
	}
	// After a failed append the registry reloads before answering again, so even a known
	// schema waits for the store.
	if id, _, err := e.Register(ctx, "orders-value", v1); !IsUnavailable(err) && (err != nil || id != 1) {
		t.Fatalf("known schema with ClickHouse down: id %d, %v", id, err)
	}
	ch.Start(t)
	restarted = true

	deadline := time.Now().Add(30 * time.Second)
	for {
		id, version, err := e.Register(ctx, "orders-value", v2)
		if err == nil {
			if id != 2 || version != 2 {
				t.Fatalf("after ClickHouse came back: id %d version %d, want 2 2", id, version)
			}
			break
		}
		if !IsUnavailable(err) || time.Now().After(deadline) {
			t.Fatalf("after ClickHouse came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	again, _ := clickHouseStoreIn(ch, db)(t)
	e2, err := NewEmbedded(ctx, again, "")
	if err != nil {
		t.Fatal(err)
	}
	if id, version, err := e2.Register(ctx, "orders-value", v2); err != nil || id != 2 || version != 2 {
		t.Fatalf("after a restart: %d %d %v, want 2 2", id, version, err)
	}
	recs, err := again.Load(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("log: %d records %v, want 2", len(recs), err)
	}
}
