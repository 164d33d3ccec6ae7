package transform

import (
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

const revenueYAML = `
name: revenue_by_account
from: shop.public.orders
group_by: [account_id]
where: "status = 'paid'"
measures:
  orders: count()
  revenue: sum(amount)
  avg_order: avg(amount)
  biggest: max(amount)
  smallest: min(amount)
  buyers: count_distinct(customer_id)
`

// TestAlgebra runs event scripts and checks the _current view after each step.
func TestAlgebra(t *testing.T) {
	type step struct {
		events func(s *stream) []*change.Event
		want   []string
	}
	o1 := row(1, 10, "paid", "10.00", 100, "10:00:00", 1)
	o2 := row(2, 10, "paid", "30.50", 101, "10:00:30", 2)
	o3 := row(3, 20, "paid", "5.25", 100, "10:01:10", 3)
	o4 := row(4, 10, "new", "99.00", 102, "10:02:00", 4)
	for _, tc := range []struct {
		name  string
		spec  string
		steps []step
	}{{
		name: "inserts, update in place, delete",
		spec: revenueYAML,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o2), s.ins(o3), s.ins(o4)} }, []string{
				"[10] orders=2 revenue=40.5 avg_order=20.25 biggest=30.5 smallest=10 buyers=2",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(o2, row(2, 10, "paid", "20.00", 101, "10:00:30", 2))}
			}, []string{
				"[10] orders=2 revenue=30 avg_order=15 biggest=20 smallest=10 buyers=2",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
			{func(s *stream) []*change.Event { return []*change.Event{s.del(o1)} }, []string{
				"[10] orders=1 revenue=20 avg_order=20 biggest=20 smallest=20 buyers=1",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
		},
	}, {
		name: "update moves a row to another group and back",
		spec: revenueYAML,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o3)} }, []string{
				"[10] orders=1 revenue=10 avg_order=10 biggest=10 smallest=10 buyers=1",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(o1, row(1, 20, "paid", "10.00", 100, "10:00:00", 1))}
			}, []string{
				"[20] orders=2 revenue=15.25 avg_order=7.625 biggest=10 smallest=5.25 buyers=1",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(row(1, 20, "paid", "10.00", 100, "10:00:00", 1), o1)}
			}, []string{
				"[10] orders=1 revenue=10 avg_order=10 biggest=10 smallest=10 buyers=1",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
		},
	}, {
		name: "update moves a row in and out of the filter",
		spec: revenueYAML,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o4)} }, []string{
				"[10] orders=1 revenue=10 avg_order=10 biggest=10 smallest=10 buyers=1",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(o4, row(4, 10, "paid", "99.00", 102, "10:02:00", 4))}
			}, []string{
				"[10] orders=2 revenue=109 avg_order=54.5 biggest=99 smallest=10 buyers=2",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(o1, row(1, 10, "refunded", "10.00", 100, "10:00:00", 1))}
			}, []string{
				"[10] orders=1 revenue=99 avg_order=99 biggest=99 smallest=99 buyers=1",
			}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(row(4, 10, "paid", "99.00", 102, "10:02:00", 4), o4)}
			}, nil},
		},
	}, {
		name: "tumbling window: late event and update moving windows",
		spec: `
name: per_minute
from: shop.public.orders
group_by: [account_id]
window: {column: created_at, size: 1m}
measures: {n: count(), revenue: sum(amount)}
`,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o2), s.ins(o3)} }, []string{
				"[10,10:00:00,10:01:00] n=2 revenue=40.5",
				"[20,10:01:00,10:02:00] n=1 revenue=5.25",
			}},
			{func(s *stream) []*change.Event { // a late event for 09:59
				return []*change.Event{s.ins(row(9, 10, "paid", "1.00", 1, "09:59:59", 0))}
			}, []string{
				"[10,09:59:00,10:00:00] n=1 revenue=1",
				"[10,10:00:00,10:01:00] n=2 revenue=40.5",
				"[20,10:01:00,10:02:00] n=1 revenue=5.25",
			}},
			{func(s *stream) []*change.Event { // o2 moves to 10:01 and o3's window loses its last row
				return []*change.Event{
					s.upd(o2, row(2, 10, "paid", "30.50", 101, "10:01:00", 2)),
					s.del(o3),
				}
			}, []string{
				"[10,09:59:00,10:00:00] n=1 revenue=1",
				"[10,10:00:00,10:01:00] n=1 revenue=10",
				"[10,10:01:00,10:02:00] n=1 revenue=30.5",
			}},
			{func(s *stream) []*change.Event { // NULL event time: in no window
				return []*change.Event{s.ins(row(8, 10, "paid", "1.00", 1, nil, 0))}
			}, []string{
				"[10,09:59:00,10:00:00] n=1 revenue=1",
				"[10,10:00:00,10:01:00] n=1 revenue=10",
				"[10,10:01:00,10:02:00] n=1 revenue=30.5",
			}},
		},
	}, {
		name: "hopping window",
		spec: `
name: hopping
from: shop.public.orders
window: {column: created_at, size: 3m, hop: 1m}
measures: {n: count()}
`,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o3)} }, []string{
				"[09:58:00,10:01:00] n=1",
				"[09:59:00,10:02:00] n=2",
				"[10:00:00,10:03:00] n=2",
				"[10:01:00,10:04:00] n=1",
			}},
			{func(s *stream) []*change.Event { return []*change.Event{s.del(o1)} }, []string{
				"[09:59:00,10:02:00] n=1",
				"[10:00:00,10:03:00] n=1",
				"[10:01:00,10:04:00] n=1",
			}},
		},
	}, {
		name: "min and max after deleting the extreme and the last value",
		spec: `
name: extremes
from: shop.public.orders
group_by: [account_id]
measures: {lo: min(amount), hi: max(amount), first: min(created_at), who: max(status)}
`,
		steps: []step{
			{func(s *stream) []*change.Event {
				return []*change.Event{s.ins(row(1, 1, "b", "5.00", 0, "10:00:00", 0)), s.ins(row(2, 1, "c", "7.00", 0, "11:00:00", 0)),
					s.ins(row(3, 1, "a", "7.00", 0, "09:00:00", 0)), s.ins(row(4, 1, nil, "1.00", 0, "12:00:00", 0))}
			}, []string{"[1] lo=1 hi=7 first=09:00:00 who=c"}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.del(row(4, 1, nil, "1.00", 0, "12:00:00", 0)), s.del(row(2, 1, "c", "7.00", 0, "11:00:00", 0))}
			}, []string{"[1] lo=5 hi=7 first=09:00:00 who=b"}}, // 7.00 is still held once
			{func(s *stream) []*change.Event {
				return []*change.Event{s.del(row(3, 1, "a", "7.00", 0, "09:00:00", 0))}
			}, []string{"[1] lo=5 hi=5 first=10:00:00 who=b"}},
			{func(s *stream) []*change.Event {
				return []*change.Event{s.upd(row(1, 1, "b", "5.00", 0, "10:00:00", 0), row(1, 1, nil, nil, 0, nil, 0))}
			}, []string{"[1] lo=NULL hi=NULL first=NULL who=NULL"}},
		},
	}, {
		name: "count_distinct with duplicates and deletes",
		spec: `
name: buyers
from: shop.public.orders
group_by: [account_id]
measures: {buyers: count_distinct(customer_id), with_customer: count(customer_id), n: count(*)}
`,
		steps: []step{
			{func(s *stream) []*change.Event {
				return []*change.Event{s.ins(row(1, 1, "", "1", 7, nil, 0)), s.ins(row(2, 1, "", "1", 7, nil, 0)),
					s.ins(row(3, 1, "", "1", 8, nil, 0)), s.ins(row(4, 1, "", "1", nil, nil, 0))}
			}, []string{"[1] buyers=2 with_customer=3 n=4"}},
			{func(s *stream) []*change.Event { return []*change.Event{s.del(row(1, 1, "", "1", 7, nil, 0))} },
				[]string{"[1] buyers=2 with_customer=2 n=3"}},
			{func(s *stream) []*change.Event { return []*change.Event{s.del(row(2, 1, "", "1", 7, nil, 0))} },
				[]string{"[1] buyers=1 with_customer=1 n=2"}},
		},
	}, {
		name: "exact decimal sums",
		spec: `
name: sums
from: shop.public.orders
group_by: [status]
measures: {total: sum(amount), mean: avg(amount)}
`,
		steps: []step{
			{func(s *stream) []*change.Event {
				return []*change.Event{s.ins(row(1, 1, "a", "0.10", 0, nil, 0)), s.ins(row(2, 1, "a", "0.20", 0, nil, 0)),
					s.ins(row(3, 1, "b", "1.5", 0, nil, 0)), s.ins(row(4, 1, "b", "1.25", 0, nil, 0)),
					s.ins(row(5, 1, "c", "9999999999.99", 0, nil, 0)), s.ins(row(6, 1, "c", "9999999999.99", 0, nil, 0)),
					s.ins(row(7, 1, "d", "1.00", 0, nil, 0)), s.ins(row(8, 1, "d", "1.00", 0, nil, 0)), s.ins(row(9, 1, "d", "2.00", 0, nil, 0))}
			}, []string{
				"[a] total=0.3 mean=0.15",
				"[b] total=2.75 mean=1.375",
				"[c] total=19999999999.98 mean=9999999999.99",
				"[d] total=4 mean=1.33333333", // 4/3 at scale 2+6, half-even
			}},
			{func(s *stream) []*change.Event { return []*change.Event{s.del(row(1, 1, "a", "0.10", 0, nil, 0))} }, []string{
				"[a] total=0.2 mean=0.2",
				"[b] total=2.75 mean=1.375",
				"[c] total=19999999999.98 mean=9999999999.99",
				"[d] total=4 mean=1.33333333",
			}},
		},
	}, {
		name: "NULL semantics",
		spec: `
name: nulls
from: shop.public.orders
group_by: [account_id]
where: "note IS NULL AND NOT status = 'x'"
measures: {n: count(), total: sum(amount), mean: avg(price), lo: min(amount), nn: count(amount)}
`,
		steps: []step{
			{func(s *stream) []*change.Event {
				return []*change.Event{s.ins(row(1, nil, "a", nil, 0, nil, nil)), s.ins(row(2, 1, nil, "1", 0, nil, 2)),
					s.ins(row(3, 1, "a", "2", 0, nil, nil)), s.ins(row(4, 2, "x", "1", 0, nil, 1))}
			}, []string{
				// row 2: status NULL -> NOT (NULL = 'x') is unknown -> filtered out
				"[NULL] n=1 total=NULL mean=NULL lo=NULL nn=0",
				"[1] n=1 total=2 mean=NULL lo=2 nn=1",
			}},
		},
	}, {
		name: "truncate, then the group reappears",
		spec: revenueYAML,
		steps: []step{
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o1), s.ins(o3)} }, []string{
				"[10] orders=1 revenue=10 avg_order=10 biggest=10 smallest=10 buyers=1",
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
			{func(s *stream) []*change.Event { return []*change.Event{s.trunc()} }, nil},
			{func(s *stream) []*change.Event { return []*change.Event{s.ins(o3)} }, []string{
				"[20] orders=1 revenue=5.25 avg_order=5.25 biggest=5.25 smallest=5.25 buyers=1",
			}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a, s := newAgg(t, tc.spec)
			v := view{}
			for i, st := range tc.steps {
				apply(t, a, st.events(s)...)
				flushInto(v, a)
				want(t, "step "+string(rune('1'+i)), v, st.want...)
			}
		})
	}
}

// TestDeletedRow: a group whose count reaches 0 is flushed Deleted with its group values and
// its position, dropped from memory, and comes back as a new group.
func TestDeletedRow(t *testing.T) {
	a, s := newAgg(t, revenueYAML)
	o := row(1, 10, "paid", "10.00", 100, "10:00:00", 1)
	apply(t, a, s.ins(o))
	a.Flush()
	apply(t, a, s.del(o))
	rows := a.Flush()
	if len(rows) != 1 || !rows[0].Deleted || rows[0].Version != 2 || rows[0].Values[0] != int64(10) {
		t.Fatalf("rows = %+v", rows)
	}
	if rows[0].Values[1] != uint64(0) || rows[0].Values[2] != nil || rows[0].Values[6] != uint64(0) {
		t.Errorf("deleted row measures = %v; want counts 0, the rest NULL", rows[0].Values[1:])
	}
	if st := a.Stats(); st.Groups != 0 {
		t.Errorf("groups held after the delete: %d", st.Groups)
	}
	apply(t, a, s.ins(o))
	rows = a.Flush()
	if len(rows) != 1 || rows[0].Deleted || rows[0].Version != 3 || rows[0].Values[1] != uint64(1) {
		t.Fatalf("reappeared rows = %+v", rows)
	}
	// Added and deleted within one flush: one Deleted row.
	o2 := row(2, 30, "paid", "1.00", 1, "10:00:00", 1)
	apply(t, a, s.ins(o2), s.del(o2))
	rows = a.Flush()
	if len(rows) != 1 || !rows[0].Deleted || rows[0].Values[0] != int64(30) {
		t.Fatalf("rows = %+v", rows)
	}
	if a.Flush() != nil {
		t.Error("a second Flush returned rows")
	}
}

// TestAvgRounding: avg is the exact sum over the count, rounded half to even once.
func TestAvgRounding(t *testing.T) {
	tbl := ordersTable()
	tbl.Columns[cAmount].Type = change.Type{Kind: change.Decimal, Precision: 38, Scale: 0} // avg scale min(0+6, 38-38) = 0
	for _, tc := range []struct {
		vals []string
		want string
	}{
		{[]string{"1", "2"}, "2"},           // 1.5 -> 2
		{[]string{"2", "3"}, "2"},           // 2.5 -> 2
		{[]string{"-1", "-2"}, "-2"},        // -1.5 -> -2
		{[]string{"-2", "-3"}, "-2"},        // -2.5 -> -2
		{[]string{"1", "2", "2"}, "2"},      // 1.67 -> 2
		{[]string{"1", "1", "2"}, "1"},      // 1.33 -> 1
		{[]string{"3", "4", "4"}, "4"},      // 3.67
		{[]string{"5", "6", "6", "6"}, "6"}, // 5.75
	} {
		a := New(mustSpec(t, "{name: r, from: shop.public.orders, measures: {m: avg(amount)}}"))
		out, err := a.Bind(tbl)
		if err != nil {
			t.Fatal(err)
		}
		if ty := out.Columns[0].Type; ty.Precision != 38 || ty.Scale != 0 {
			t.Fatalf("avg type %v", ty)
		}
		s := &stream{t: tbl}
		for i, v := range tc.vals {
			apply(t, a, s.ins(row(int64(i), 1, "", v, 0, nil, 0)))
		}
		rows := a.Flush()
		if got := fmtVal(rows[0].Values[0]); got != tc.want {
			t.Errorf("avg%v = %s, want %s", tc.vals, got, tc.want)
		}
	}
}

// TestFloatSumsExact: float sums are exact under add and retract, rounded once at output.
func TestFloatSumsExact(t *testing.T) {
	a, s := newAgg(t, "{name: f, from: shop.public.orders, measures: {total: sum(price), mean: avg(price)}}")
	big := row(1, 1, "", "0", 0, nil, 1e16)
	apply(t, a, s.ins(big), s.ins(row(2, 1, "", "0", 0, nil, 1)), s.ins(row(3, 1, "", "0", 0, nil, 1)))
	rows := a.Flush()
	if got := rows[0].Values[0]; got != 1e16+2 {
		t.Errorf("sum = %v, want 1e16+2 (naive float addition gives 1e16)", got)
	}
	apply(t, a, s.del(big))
	if rows = a.Flush(); rows[0].Values[0] != 2.0 || rows[0].Values[1] != 1.0 {
		t.Errorf("after retracting 1e16: sum, avg = %v, want 2, 1", rows[0].Values)
	}
	// 0.1 added 1000 times, with 0.3 added and retracted in between, is the float nearest
	// to the exact sum of those 1000 float64(0.1) values.
	for i := range 1000 {
		apply(t, a, s.ins(row(int64(100+i), 1, "", "0", 0, nil, 0.1)))
		x := row(int64(5000+i), 1, "", "0", 0, nil, 0.3)
		apply(t, a, s.ins(x), s.del(x))
	}
	apply(t, a, s.del(row(2, 1, "", "0", 0, nil, 1)), s.del(row(3, 1, "", "0", 0, nil, 1)))
	rows = a.Flush()
	// The exact sum is 100.0000000000000055511151231257827, whose nearest float64 is 100;
	// summing in float64 gives 99.9999999999986.
	if got, want := rows[0].Values[0], 100.0; got != want {
		t.Errorf("sum of 1000 x 0.1 = %v, want %v", got, want)
	}
	for i := range 1000 {
		apply(t, a, s.del(row(int64(100+i), 1, "", "0", 0, nil, 0.1)))
	}
	apply(t, a, s.ins(row(7, 1, "", "0", 0, nil, 0.5)))
	if rows = a.Flush(); rows[0].Values[0] != 0.5 {
		t.Errorf("after retracting everything else: %v, want 0.5", rows[0].Values[0])
	}
}

// TestNoGroupColumns: without group columns or window there is one group, whose key is not
// empty.
func TestNoGroupColumns(t *testing.T) {
	a, s := newAgg(t, "{name: total, from: shop.public.orders, measures: {n: count(), s: sum(amount)}}")
	o := row(1, 1, "", "2.50", 0, nil, 0)
	apply(t, a, s.ins(o), s.ins(row(2, 2, "", "1", 0, nil, 0)))
	rows := a.Flush()
	if len(rows) != 1 || len(rows[0].Group) == 0 || fmtVal(rows[0].Values[1]) != "3.5" {
		t.Fatalf("rows = %+v", rows)
	}
	apply(t, a, s.trunc())
	if rows = a.Flush(); len(rows) != 1 || !rows[0].Deleted || len(rows[0].Group) == 0 {
		t.Fatalf("after truncate: %+v", rows)
	}
}
