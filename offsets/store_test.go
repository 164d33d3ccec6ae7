package offsets

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) *Store {
	t.Helper()
	ch := testenv.StartClickHouse(t)
	db := ch.NewDatabase(t)
	conn := ch.Conn(t, "default")
	if err := clickhouse.EnsureDatabase(t.Context(), conn, db); err != nil {
		t.Fatal(err)
	}
	s := NewStore(conn, db)
	if err := s.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func pos(v uint64) change.Position {
	return change.Position{Version: v, Token: "t" + string(rune('a'+v%26))}
}

// TestCommitNeverRegresses: commits move forward, the same position again is a no-op, a lower one
// is refused; only Reset moves backwards; a fresh Store reads the newest row.
func TestCommitNeverRegresses(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if _, ok, err := s.Load(ctx, "shop"); err != nil || ok {
		t.Fatalf("Load of an unknown source = ok %v, %v", ok, err)
	}
	for _, v := range []uint64{10, 20, 20, 30} {
		if err := s.Commit(ctx, "shop", "postgres", pos(v)); err != nil {
			t.Fatalf("Commit(%d): %v", v, err)
		}
	}
	var reg *ErrRegress
	if err := s.Commit(ctx, "shop", "postgres", pos(25)); !errors.As(err, &reg) || reg.Stored.Version != 30 {
		t.Fatalf("Commit backwards = %v, want *ErrRegress from 30", err)
	}
	fresh := NewStore(s.conn, s.db)
	o, ok, err := fresh.Load(ctx, "shop")
	if err != nil || !ok || o.Position != pos(30) || o.Seq != 3 || o.Kind != "postgres" {
		t.Fatalf("Load = %+v ok %v err %v, want version 30 at seq 3", o, ok, err)
	}
	if _, err := fresh.Reset(ctx, "shop", "postgres", pos(5), "operator reset"); err != nil {
		t.Fatal(err)
	}
	o, _, _ = NewStore(s.conn, s.db).Load(ctx, "shop")
	if o.Position != pos(5) || o.Note != "operator reset" {
		t.Fatalf("after Reset: %+v", o)
	}
	if err := s.Commit(ctx, "other", "mysql", pos(7)); err != nil {
		t.Fatal(err)
	}
	all, err := s.List(ctx)
	if err != nil || len(all) != 2 || all[0].Source != "other" || all[1].Source != "shop" || all[1].Position != pos(5) {
		t.Fatalf("List = %+v, %v", all, err)
	}
}

// TestLeases: a heartbeat makes a lease alive; a release, a dead process on this host, or an old
// heartbeat does not.
func TestLeases(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.CurrentLease(ctx, "shop"); err != nil || ok {
		t.Fatalf("CurrentLease before any = ok %v, %v", ok, err)
	}
	host, _ := os.Hostname()
	// A live process on this host other than the test: the test's parent (go test).
	owner := host + ":" + strconv.Itoa(os.Getppid()) + ":1"
	if err := s.Beat(ctx, "shop", owner, false); err != nil {
		t.Fatal(err)
	}
	l, ok, err := s.CurrentLease(ctx, "shop")
	if err != nil || !ok || l.Owner != owner || l.Released {
		t.Fatalf("CurrentLease = %+v ok %v err %v", l, ok, err)
	}
	l.PID = os.Getppid()
	if !l.Alive() {
		t.Errorf("a fresh heartbeat of a live process is not alive: %+v", l)
	}
	if old := l; func() bool { old.Age = LeaseTTL + time.Second; return old.Alive() }() {
		t.Error("a stale heartbeat is alive")
	}
	dead := l
	dead.PID = 1 << 30 // no such process
	if dead.Alive() {
		t.Error("a lease of a dead process on this host is alive")
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.Beat(ctx, "shop", owner, true); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := s.CurrentLease(ctx, "shop"); !l.Released || l.Alive() {
		t.Errorf("a released lease: %+v", l)
	}
}
