package transform

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// The three typical aggregations of the benchmarks.
var benchSpecs = []struct{ name, yaml string }{
	{"simple", `{name: simple, from: shop.public.orders, group_by: [account_id], measures: {n: count(), revenue: sum(amount)}}`},
	{"revenue", revenueYAML},
	{"per_minute", `{name: per_minute, from: shop.public.orders, group_by: [status], window: {column: created_at, size: 1m},
	  measures: {n: count(), revenue: sum(amount), avg_price: avg(price)}}`},
}

// benchRows returns n order rows over groups accounts, as a decoder would hand them over; with
// distinct > 0, each account sees at most that many amounts and customers.
func benchRows(n, groups int, distinct ...int) [][]any {
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{"paid", "paid", "paid", "new", "refunded"}
	base := ts("10:00:00")
	rows := make([][]any, n)
	for i := range rows {
		r := make([]any, nCols)
		r[cID] = int64(i)
		r[cAccount] = int64(rng.IntN(groups))
		r[cStatus] = statuses[rng.IntN(len(statuses))]
		r[cAmount] = decimal.New(rng.Int64N(1_000_000), -2)
		r[cCustomer] = int64(rng.IntN(groups * 10))
		if len(distinct) > 0 {
			r[cAmount] = decimal.New(100*rng.Int64N(int64(distinct[0])), -2)
			r[cCustomer] = r[cAccount].(int64)*1000 + rng.Int64N(int64(distinct[0]))
		}
		r[cCreated] = base.Add(time.Duration(i) * 10 * time.Millisecond)
		r[cPrice] = float64(rng.IntN(10000)) / 100
		rows[i] = r
	}
	return rows
}

// BenchmarkApply measures Apply per event: inserts over 1000 groups, and updates (a retraction
// and an addition) of those rows, with a Flush every 10000 events as a batch would.
func BenchmarkApply(b *testing.B) {
	tbl := ordersTable()
	rows := benchRows(1<<16, 1000)
	run := func(b *testing.B, specs []string, update bool) {
		runRows(b, tbl, rows, specs, update)
	}
	for _, s := range benchSpecs {
		b.Run("insert/"+s.name, func(b *testing.B) { run(b, []string{s.yaml}, false) })
	}
	all := []string{benchSpecs[0].yaml, benchSpecs[1].yaml, benchSpecs[2].yaml}
	b.Run("insert/all_three", func(b *testing.B) { run(b, all, false) })
	b.Run("update/simple", func(b *testing.B) { run(b, all[:1], true) })
	b.Run("update/all_three", func(b *testing.B) { run(b, all, true) })
	// The same with at most 20 distinct amounts and customers per account (the multisets of
	// min, max and count_distinct stay small).
	small := benchRows(1<<16, 1000, 20)
	b.Run("insert/revenue_20_distinct", func(b *testing.B) { runRows(b, tbl, small, all[1:2], false) })
	b.Run("insert/all_three_20_distinct", func(b *testing.B) { runRows(b, tbl, small, all, false) })
}

// runRows applies rows (inserts, or updates from one row to the next) to new aggregations of
// specs, flushing every 10000 events.
func runRows(b *testing.B, tbl *change.Table, rows [][]any, specs []string, update bool) {
	{
		var aggs []*Aggregation
		for _, y := range specs {
			a := New(mustSpec(b, y))
			if _, err := a.Bind(tbl); err != nil {
				b.Fatal(err)
			}
			aggs = append(aggs, a)
		}
		ev := &change.Event{Op: change.Insert, Table: tbl}
		v := uint64(0)
		if update { // load every row first
			for _, r := range rows {
				v++
				ev.After, ev.Version = r, v
				for _, a := range aggs {
					if err := a.Apply(ev); err != nil {
						b.Fatal(err)
					}
				}
			}
			ev.Op, ev.BeforeFull = change.Update, true
		}
		for _, a := range aggs {
			a.Flush()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			v++
			ev.Version = v
			if update { // move a row to its neighbour's values and back
				j := i % len(rows)
				k := (j + 1) % len(rows)
				if (i/len(rows))%2 == 1 {
					j, k = k, j
				}
				ev.Before, ev.After = rows[j], rows[k]
			} else {
				ev.After = rows[i%len(rows)]
			}
			for _, a := range aggs {
				if err := a.Apply(ev); err != nil {
					b.Fatal(err)
				}
			}
			if i%10000 == 9999 {
				for _, a := range aggs {
					a.Flush()
				}
			}
		}
	}
}

// BenchmarkFlush measures Flush per changed group (rendering and encoding the state).
func BenchmarkFlush(b *testing.B) {
	tbl := ordersTable()
	rows := benchRows(1<<14, 1000)
	a := New(mustSpec(b, revenueYAML))
	if _, err := a.Bind(tbl); err != nil {
		b.Fatal(err)
	}
	ev := &change.Event{Op: change.Insert, Table: tbl}
	b.ReportAllocs()
	groups := 0
	for i := range b.N {
		ev.After, ev.Version = rows[i%len(rows)], uint64(i+1)
		if err := a.Apply(ev); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			groups += len(a.Flush())
		}
	}
	b.ReportMetric(float64(groups)/float64(b.N), "groups/event")
}

// memoryPerGroup builds groups groups of spec (each fed perGroup rows) and returns the measured
// heap bytes per group and the Stats.
func memoryPerGroup(t testing.TB, yaml string, groups, perGroup int) (float64, Stats) {
	tbl := ordersTable()
	a := New(mustSpec(t, yaml))
	if _, err := a.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, groups*perGroup)
	base := ts("10:00:00")
	for i := range rows {
		r := make([]any, nCols)
		r[cID], r[cAccount], r[cStatus] = int64(i), int64(i%groups), "paid"
		r[cAmount] = decimal.New(int64(i), -2)
		r[cCustomer] = int64(i)
		r[cCreated] = base.Add(time.Duration(i%groups) * time.Minute)
		r[cPrice] = float64(i)
		rows[i] = r
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := &change.Event{Op: change.Insert, Table: tbl}
	for i, r := range rows {
		ev.After, ev.Version = r, uint64(i+1)
		if err := a.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	a.Flush()
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := a.Stats()
	runtime.KeepAlive(a)
	runtime.KeepAlive(rows)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(groups), st
}

var memoryCases = []struct {
	name, yaml string
	perGroup   int
}{
	{"count+sum", benchSpecs[0].yaml, 1},
	{"count+sum+avg(float) windowed", `{name: w, from: shop.public.orders, group_by: [account_id], window: {column: created_at, size: 1m},
	  measures: {n: count(), revenue: sum(amount), avg_price: avg(price)}}`, 1},
	{"revenue (min/max/count_distinct), 1 value", revenueYAML, 1},
	{"revenue (min/max/count_distinct), 10 values", revenueYAML, 10},
}

// BenchmarkMemory reports the heap bytes per group, measured and as Stats estimates them.
func BenchmarkMemory(b *testing.B) {
	for _, mc := range memoryCases {
		b.Run(mc.name, func(b *testing.B) {
			var measured float64
			var st Stats
			for range b.N {
				measured, st = memoryPerGroup(b, mc.yaml, 100_000/mc.perGroup, mc.perGroup)
			}
			b.ReportMetric(measured, "bytes/group")
			b.ReportMetric(st.BytesPerGroup, "est-bytes/group")
			b.ReportMetric(float64(st.Groups), "groups")
		})
	}
}

// TestMemoryFigure prints the bytes per group and checks Stats' estimate against the heap.
func TestMemoryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	for _, mc := range memoryCases {
		groups := 50_000 / mc.perGroup
		measured, st := memoryPerGroup(t, mc.yaml, groups, mc.perGroup)
		t.Logf("%-45s %7.0f bytes/group measured, %7.0f estimated (Stats), %d groups held", mc.name, measured, st.BytesPerGroup, st.Groups)
		if st.Groups != groups {
			t.Errorf("%s: %d groups held, want %d", mc.name, st.Groups, groups)
		}
		if r := st.BytesPerGroup / measured; r < 0.6 || r > 1.6 {
			t.Errorf("%s: Stats estimates %.0f bytes per group, the heap grew %.0f", mc.name, st.BytesPerGroup, measured)
		}
	}
}

// TestApplyAllocs: applying an event to existing groups allocates nothing.
func TestApplyAllocs(t *testing.T) {
	tbl := ordersTable()
	rows := benchRows(1000, 10)
	for _, s := range benchSpecs[:1] {
		a := New(mustSpec(t, s.yaml))
		if _, err := a.Bind(tbl); err != nil {
			t.Fatal(err)
		}
		ev := &change.Event{Op: change.Insert, Table: tbl}
		v := uint64(0)
		for _, r := range rows {
			v++
			ev.After, ev.Version = r, v
			apply(t, a, ev)
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			v++
			i++
			ev.After, ev.Version = rows[i%len(rows)], v
			if err := a.Apply(ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 {
			t.Errorf("%s: %.1f allocations per event, want 0", s.name, allocs)
		}
		_ = fmt.Sprint()
	}
}
