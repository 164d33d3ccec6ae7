package transform

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// script is a stream of events over orders covering every kind of change.
func script(s *stream) []*change.Event {
	o1 := row(1, 10, "paid", "10.00", 100, "10:00:00", 1.5)
	o2 := row(2, 10, "paid", "30.50", 101, "10:00:30", 2.25)
	o3 := row(3, 20, "paid", "5.25", 100, "10:01:10", 3)
	o4 := row(4, 10, "new", "99.00", 102, "10:02:00", 4)
	o2b := row(2, 20, "paid", "30.50", 101, "10:03:30", 2.25)
	o4b := row(4, 10, "paid", "99.00", 102, "10:02:00", 4)
	return []*change.Event{
		s.ins(o1), s.ins(o2), s.ins(o3), s.ins(o4),
		s.upd(o2, o2b), s.upd(o4, o4b), s.del(o1),
		s.trunc(),
		s.ins(o1), s.ins(o3), s.upd(o3, row(3, 30, "paid", "1.00", 103, "10:00:00", 0.1)),
	}
}

const windowedYAML = `
name: windowed
from: shop.public.orders
group_by: [account_id]
where: "status = 'paid'"
window: {column: created_at, size: 2m, hop: 1m}
measures:
  n: count()
  revenue: sum(amount)
  avg_price: avg(price)
  hi: max(amount)
  buyers: count_distinct(customer_id)
`

// TestReplayIsNoop: applying events again, in the same process or after Restore, changes nothing.
func TestReplayIsNoop(t *testing.T) {
	for _, spec := range []string{revenueYAML, windowedYAML} {
		a, s := newAgg(t, spec)
		evs := script(s)
		apply(t, a, evs...)
		once := view{}
		flushInto(once, a)
		apply(t, a, evs...) // same process: every event is at or below the last applied
		if rows := a.Flush(); rows != nil {
			t.Errorf("replay in process flushed %d rows", len(rows))
		}
		// Same events applied twice before one Flush: same rows as once.
		b, s2 := newAgg(t, spec)
		evs2 := script(s2)
		apply(t, b, evs2...)
		apply(t, b, evs2...)
		twice := view{}
		flushInto(twice, b)
		if once.String() != twice.String() {
			t.Errorf("twice:\n%s\nonce:\n%s", twice, once)
		}
	}
}

// persisted keeps the latest row per group, as the aggregate table does.
type persisted map[string]Row

func (p persisted) add(rows []Row) {
	for _, r := range rows {
		if old, ok := p[string(r.Group)]; !ok || r.Version >= old.Version {
			p[string(r.Group)] = r
		}
	}
}

// restore builds a new Aggregation from p: live groups, and tombstones above offset.
func (p persisted) restore(t testing.TB, spec *Spec, offset uint64) *Aggregation {
	t.Helper()
	a := New(spec)
	for _, r := range p {
		if r.Deleted && r.Version <= offset {
			continue
		}
		if err := a.Restore(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Bind(ordersTable()); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRestoreRoundTrip: crash after every possible event, restore from the persisted rows
// with the offset anywhere at or before the crash point, replay from the offset, continue: the
// result is the uninterrupted run's.
func TestRestoreRoundTrip(t *testing.T) {
	for _, src := range []string{revenueYAML, windowedYAML} {
		spec := mustSpec(t, src)
		ref, s := newAgg(t, src)
		evs := script(s)
		apply(t, ref, evs...)
		want := view{}
		flushInto(want, ref)

		for crash := 0; crash <= len(evs); crash++ {
			for offset := 0; offset <= crash; offset++ {
				a, _ := newAgg(t, src)
				p := persisted{}
				v := view{}
				for i, ev := range evs[:crash] { // flush after every event, persist everything
					apply(t, a, ev)
					rows := a.Flush()
					p.add(rows)
					v.add(a, rows)
					_ = i
				}
				b := p.restore(t, spec, uint64(offset))
				apply(t, b, evs[offset:]...) // replay from the offset, then continue
				v.add(b, b.Flush())
				if v.String() != want.String() {
					t.Fatalf("%s: crash after %d, offset %d:\n%s\nwant:\n%s", spec.Name, crash, offset, v, want)
				}
			}
		}
	}
}

// TestRestoreState: a restored group continues exactly (sums past int64, sets, float
// specials), and events at or below its position are no-ops.
func TestRestoreState(t *testing.T) {
	src := `{name: st, from: shop.public.orders, group_by: [status],
	  measures: {total: sum(amount), m: avg(price), lo: min(note), d: count_distinct(created_at), n: count(customer_id)}}`
	tbl := ordersTable()
	tbl.Columns[cAmount].Type = change.Type{Kind: change.Decimal} // unconstrained
	a := New(mustSpec(t, src))
	if _, err := a.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	s := &stream{t: tbl}
	r1 := row(1, 1, "x", "92233720368547758.07", 5, "10:00:00", 1e300)
	r1[cNote] = "zeta"
	r2 := row(2, 1, "x", "92233720368547758.07", nil, "10:00:00", -1e-300)
	r2[cNote] = "alpha"
	r3 := row(3, 1, "x", "0.000001", 6, "11:00:00", 0)
	r3[cPrice] = posInf()
	apply(t, a, s.ins(r1), s.ins(r2), s.ins(r3))
	rows := a.Flush()

	b := New(mustSpec(t, src))
	if err := b.Restore(rows[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	// At or below the group's position: no-op.
	apply(t, b, &change.Event{Op: change.Insert, Table: tbl, After: r1, Version: 3})
	if got := b.Flush(); got != nil {
		t.Fatalf("replayed event changed the restored group: %v", got)
	}
	// Continue both identically.
	r4 := row(4, 1, "x", "-0.000001", 7, "11:00:00", 1)
	for _, x := range []*Aggregation{a, b} {
		apply(t, x, &change.Event{Op: change.Delete, Table: tbl, Before: r3, BeforeFull: true, Version: 4},
			&change.Event{Op: change.Insert, Table: tbl, After: r4, Version: 5},
			&change.Event{Op: change.Delete, Table: tbl, Before: r1, BeforeFull: true, Version: 6})
	}
	ra, rb := a.Flush(), b.Flush()
	if !reflect.DeepEqual(ra, rb) {
		t.Fatalf("restored run differs:\n%+v\n%+v", ra, rb)
	}
	vals := ra[0].Values
	if got := vals[1].(decimal.Decimal).String(); got != "92233720368547758.069999" {
		t.Errorf("sum = %s", got)
	}
	if vals[3] != "alpha" || vals[4] != uint64(2) || vals[5] != uint64(1) {
		t.Errorf("values = %v", vals)
	}
	if !strings.HasPrefix(fmtVal(vals[2]), "0.5") {
		t.Errorf("avg(price) = %v, want (-1e-300 + 1) / 2", vals[2])
	}
}

// TestSetHorizon: after a backfill at version 10, stream events up to 10 are no-ops.
func TestSetHorizon(t *testing.T) {
	tbl := ordersTable()
	a := New(mustSpec(t, revenueYAML))
	if _, err := a.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	o1 := row(1, 10, "paid", "10.00", 100, "10:00:00", 1)
	o2 := row(2, 10, "paid", "20.00", 101, "10:00:00", 1)
	// The backfill: current rows at version 10, Seq 0, 1, ...
	apply(t, a, &change.Event{Op: change.Insert, Table: tbl, After: o1, Version: 10, Seq: 0, Snapshot: true},
		&change.Event{Op: change.Insert, Table: tbl, After: o2, Version: 10, Seq: 1, Snapshot: true})
	a.SetHorizon(10)
	v := view{}
	flushInto(v, a)
	// The stream from before the snapshot: already reflected.
	apply(t, a, &change.Event{Op: change.Insert, Table: tbl, After: o2, Version: 9},
		&change.Event{Op: change.Insert, Table: tbl, After: o2, Version: 10, Seq: 5})
	if rows := a.Flush(); rows != nil {
		t.Errorf("events at or below the horizon flushed %d rows", len(rows))
	}
	apply(t, a, &change.Event{Op: change.Delete, Table: tbl, Before: o1, BeforeFull: true, Version: 11})
	flushInto(v, a)
	want(t, "after the horizon", v, "[10] orders=1 revenue=20 avg_order=20 biggest=20 smallest=20 buyers=1")
}

// TestTombstones: a restored Deleted row keeps replays of the events before it no-ops.
func TestTombstones(t *testing.T) {
	spec := mustSpec(t, revenueYAML)
	a, s := newAgg(t, revenueYAML)
	o := row(1, 10, "paid", "10.00", 100, "10:00:00", 1)
	ins, del := s.ins(o), s.del(o)
	apply(t, a, ins, del)
	rows := a.Flush()
	if len(rows) != 1 || !rows[0].Deleted {
		t.Fatalf("rows = %v", rows)
	}
	p := persisted{}
	p.add(rows)
	b := p.restore(t, spec, 0) // the offset never got written
	if st := b.Stats(); st.Groups != 0 || st.Tombstones != 1 {
		t.Fatalf("stats = %+v", st)
	}
	apply(t, b, ins, del)
	if rows := b.Flush(); rows != nil {
		t.Fatalf("replay before the tombstone flushed %v", rows)
	}
	apply(t, b, s.ins(o)) // later: a new group; the tombstones are gone
	if rows := b.Flush(); len(rows) != 1 || rows[0].Deleted || b.Stats().Tombstones != 0 {
		t.Fatalf("rows = %v, stats %+v", rows, b.Stats())
	}
}

// TestApplyErrors: events that cannot be applied leave the state unchanged.
func TestApplyErrors(t *testing.T) {
	o := row(1, 10, "paid", "10.00", 100, "10:00:00", 1)
	t.Run("no old row", func(t *testing.T) {
		a, s := newAgg(t, revenueYAML)
		apply(t, a, s.ins(o))
		ev := s.upd(o, o)
		ev.BeforeFull = false
		err := a.Apply(ev)
		var re *RetractError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
		const msg = `aggregation "revenue_by_account": update at version 2 of table public.orders has no whole old row, so it cannot be retracted: ` +
			`run ALTER TABLE public.orders REPLICA IDENTITY FULL (PostgreSQL) or set binlog_row_image=FULL (MySQL)`
		if err.Error() != msg {
			t.Errorf("err =\n%v\nwant\n%s", err, msg)
		}
	})
	t.Run("insert only", func(t *testing.T) {
		tbl := ordersTable()
		tbl.BeforeFull = false
		a := New(mustSpec(t, revenueYAML+"insert_only: true\n"))
		if _, err := a.Bind(tbl); err != nil {
			t.Fatal(err)
		}
		s := &stream{t: tbl}
		apply(t, a, s.ins(o))
		ev := s.del(o)
		ev.BeforeFull = false
		if err := a.Apply(ev); !strings.Contains(fmtErr(err), `delete at version 2 of table public.orders has no whole old row`) {
			t.Errorf("err = %v", err)
		}
		ev = s.del(o) // a delete that does come with the whole row is applied
		apply(t, a, ev)
		if rows := a.Flush(); len(rows) != 1 || !rows[0].Deleted {
			t.Errorf("rows = %v", rows)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		a, s := newAgg(t, revenueYAML)
		apply(t, a, s.ins(o))
		a.Flush()
		bad := row(2, 10, "paid", nil, 100, "10:00:00", 1)
		bv := &change.BadValue{Raw: "NaN", Err: errors.New("numeric NaN has no exact value")}
		bad[cAmount] = bv
		err := a.Apply(s.ins(bad))
		var be *BadValueError
		if !errors.As(err, &be) || be.Column != "amount" || !errors.Is(err, bv) {
			t.Fatalf("err = %v", err)
		}
		const msg = `aggregation "revenue_by_account": event at version 2 of table public.orders: column "amount" holds a value cdcd cannot convert ("NaN": numeric NaN has no exact value)`
		if err.Error() != msg {
			t.Errorf("err =\n%v\nwant\n%s", err, msg)
		}
		unused := row(3, 10, "paid", "1.00", 100, "10:00:00", 1)
		unused[cNote] = bv // a column the aggregation does not read
		apply(t, a, s.ins(unused))
		if rows := a.Flush(); len(rows) != 1 || rows[0].Values[1] != uint64(2) {
			t.Errorf("rows = %v", rows)
		}
	})
	t.Run("unchanged values", func(t *testing.T) {
		a, s := newAgg(t, revenueYAML)
		apply(t, a, s.ins(o))
		after := row(1, 10, "paid", nil, 100, "10:00:00", 1)
		after[cAmount] = change.Unchanged
		after[cCustomer] = int64(200)
		apply(t, a, s.upd(o, after))
		v := view{}
		flushInto(v, a)
		want(t, "unchanged amount kept", v, "[10] orders=1 revenue=10 avg_order=10 biggest=10 smallest=10 buyers=1")
		before := row(1, 10, "paid", nil, 200, "10:00:00", 1)
		before[cAmount] = change.Unchanged
		err := a.Apply(s.upd(before, o))
		if want := `has no old value of column "amount"`; !strings.Contains(fmtErr(err), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
	t.Run("max groups", func(t *testing.T) {
		a, s := newAgg(t, revenueYAML+"max_groups: 2\n")
		apply(t, a, s.ins(o), s.ins(row(2, 20, "paid", "1", 1, "10:00:00", 1)))
		err := a.Apply(s.ins(row(3, 30, "paid", "1", 1, "10:00:00", 1)))
		var ge *GroupLimitError
		if !errors.As(err, &ge) {
			t.Fatalf("err = %v", err)
		}
		if want := `aggregation "revenue_by_account": more than max_groups 2 groups`; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v", err)
		}
		apply(t, a, s.ins(row(4, 20, "paid", "1", 1, "10:00:00", 1))) // existing groups still grow
		if st := a.Stats(); st.Groups != 2 || st.BytesPerGroup <= 0 {
			t.Errorf("stats = %+v", st)
		}
	})
	t.Run("inconsistent retraction", func(t *testing.T) {
		a, s := newAgg(t, revenueYAML)
		err := a.Apply(s.del(o))
		if want := "retracts a row from a group that holds none"; !strings.Contains(fmtErr(err), want) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not bound", func(t *testing.T) {
		a := New(mustSpec(t, revenueYAML))
		s := &stream{t: ordersTable()}
		if err := a.Apply(s.ins(o)); !strings.Contains(fmtErr(err), "call Bind first") {
			t.Errorf("err = %v", err)
		}
		other := ordersTable()
		other.ID.Name = "other"
		if err := a.Apply(&change.Event{Op: change.Insert, Table: other, After: o, Version: 1}); err != nil {
			t.Errorf("event of another table: %v", err)
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestTransactionReplay: events of one transaction share a Version and are ordered by Seq; a
// restored group counts as having applied its whole transaction.
func TestTransactionReplay(t *testing.T) {
	tbl := ordersTable()
	spec := mustSpec(t, revenueYAML)
	a := New(spec)
	if _, err := a.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	o1 := row(1, 10, "paid", "1.00", 1, "10:00:00", 1)
	o2 := row(2, 10, "paid", "2.00", 2, "10:00:00", 1)
	o3 := row(3, 20, "paid", "4.00", 3, "10:00:00", 1)
	tx := []*change.Event{
		{Op: change.Insert, Table: tbl, After: o1, Version: 7, Seq: 0},
		{Op: change.Insert, Table: tbl, After: o3, Version: 7, Seq: 1},
		{Op: change.Insert, Table: tbl, After: o2, Version: 7, Seq: 2},
		{Op: change.Delete, Table: tbl, Before: o1, BeforeFull: true, Version: 7, Seq: 3},
	}
	apply(t, a, tx...)
	v := view{}
	rows := flushInto(v, a)
	want(t, "the transaction", v,
		"[10] orders=1 revenue=2 avg_order=2 biggest=2 smallest=2 buyers=1",
		"[20] orders=1 revenue=4 avg_order=4 biggest=4 smallest=4 buyers=1")
	for _, r := range rows {
		if r.Version != 7 {
			t.Errorf("row version %d", r.Version)
		}
	}
	if rows[0].Seq != 3 || rows[1].Seq != 1 {
		t.Errorf("seqs %d, %d; want the last event of each group", rows[0].Seq, rows[1].Seq)
	}
	// Restored from rows whose Seq was not kept, the transaction replays as a no-op.
	p := persisted{}
	for _, r := range rows {
		r.Seq = 0
		p.add([]Row{r})
	}
	b := p.restore(t, spec, 6)
	apply(t, b, tx...)
	if got := b.Flush(); got != nil {
		t.Errorf("replayed transaction flushed %v", got)
	}
}
