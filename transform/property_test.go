package transform

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// A propCase is a spec and the brute-force model of what it computes.
type propCase struct {
	yaml    string
	filter  func(r []any) bool // the where predicate, in three-valued logic, by hand
	groupBy []int
	window  *[2]time.Duration // size, hop
	winCol  int
	// measures renders the measures of a group's rows, as view.add renders Flush rows.
	measures func(rows [][]any) string
}

var propCases = []propCase{{
	yaml: `
name: plain
from: shop.public.orders
group_by: [account_id]
where: "status = 'paid' OR amount >= 50"
measures:
  n: count()
  total: sum(amount)
  mean: avg(amount)
  lo: min(amount)
  hi: max(amount)
  buyers: count_distinct(customer_id)
  fsum: sum(price)
  favg: avg(price)
  first_status: min(status)
  notes: count(note)
`,
	filter: func(r []any) bool {
		paid := tUnknown
		if r[cStatus] != nil {
			paid = map[bool]tri{true: tTrue, false: tFalse}[r[cStatus] == "paid"]
		}
		big := tUnknown
		if r[cAmount] != nil {
			big = map[bool]tri{true: tTrue, false: tFalse}[r[cAmount].(decimal.Decimal).GreaterThanOrEqual(decimal.NewFromInt(50))]
		}
		return paid == tTrue || big == tTrue
	},
	groupBy: []int{cAccount},
	measures: func(rows [][]any) string {
		return strings.Join([]string{
			"n=" + fmt.Sprint(len(rows)),
			"total=" + modelSum(rows, cAmount),
			"mean=" + modelAvg(rows, cAmount, 8),
			"lo=" + modelExtreme(rows, cAmount, -1),
			"hi=" + modelExtreme(rows, cAmount, 1),
			"buyers=" + modelDistinct(rows, cCustomer),
			"fsum=" + modelFloat(rows, false),
			"favg=" + modelFloat(rows, true),
			"first_status=" + modelExtreme(rows, cStatus, -1),
			"notes=" + modelNonNull(rows, cNote),
		}, " ")
	},
}, {
	yaml: `
name: windowed
from: shop.public.orders
group_by: [status]
where: "customer_id IN (1, 2, 3) OR customer_id IS NULL"
window: {column: created_at, size: 1m, hop: 30s}
measures:
  n: count()
  total: sum(amount)
  last: max(created_at)
  accounts: count_distinct(account_id)
`,
	filter: func(r []any) bool {
		c := r[cCustomer]
		return c == nil || c.(int64) >= 1 && c.(int64) <= 3
	},
	groupBy: []int{cStatus},
	window:  &[2]time.Duration{time.Minute, 30 * time.Second},
	winCol:  cCreated,
	measures: func(rows [][]any) string {
		return strings.Join([]string{
			"n=" + fmt.Sprint(len(rows)),
			"total=" + modelSum(rows, cAmount),
			"last=" + modelExtreme(rows, cCreated, 1),
			"accounts=" + modelDistinct(rows, cAccount),
		}, " ")
	},
}, {
	yaml: `
name: global
from: shop.public.orders
window: {column: created_at, size: 2m}
measures: {n: count(), fsum: sum(price), lo: min(price)}
`,
	filter: func(r []any) bool { return true },
	window: &[2]time.Duration{2 * time.Minute, 2 * time.Minute},
	winCol: cCreated,
	measures: func(rows [][]any) string {
		return "n=" + fmt.Sprint(len(rows)) + " fsum=" + modelFloat(rows, false) + " lo=" + modelExtreme(rows, cPrice, -1)
	},
}}

// expected is the brute-force GROUP BY over the model table.
func (pc *propCase) expected(table map[int64][]any) view {
	groups := map[string][][]any{}
	for _, r := range table {
		if !pc.filter(r) {
			continue
		}
		var g []any
		for _, c := range pc.groupBy {
			g = append(g, r[c])
		}
		if pc.window == nil {
			k := renderVals(g)
			groups[k] = append(groups[k], r)
			continue
		}
		tv, ok := r[pc.winCol].(time.Time)
		if !ok {
			continue
		}
		size, hop := pc.window[0], pc.window[1]
		// Every start on a hop boundary with start <= t < start+size.
		first := tv.Add(-size).Truncate(hop)
		for s := first; !s.After(tv); s = s.Add(hop) {
			if !tv.Before(s) && tv.Before(s.Add(size)) {
				k := renderVals(append(slices.Clone(g), s, s.Add(size)))
				groups[k] = append(groups[k], r)
			}
		}
	}
	v := view{}
	for k, rows := range groups {
		v[k] = pc.measures(rows)
	}
	return v
}

func modelSum(rows [][]any, c int) string {
	sum, n := decimal.Zero, 0
	for _, r := range rows {
		if r[c] != nil {
			sum, n = sum.Add(r[c].(decimal.Decimal)), n+1
		}
	}
	if n == 0 {
		return "NULL"
	}
	return sum.String()
}

func modelAvg(rows [][]any, c int, scale int) string {
	sum, n := new(big.Rat), 0
	for _, r := range rows {
		if r[c] != nil {
			sum.Add(sum, r[c].(decimal.Decimal).Rat())
			n++
		}
	}
	if n == 0 {
		return "NULL"
	}
	q := sum.Quo(sum, big.NewRat(int64(n), 1))
	// Round half to even at scale: x = q * 10^scale; compare the fraction with 1/2.
	x := new(big.Rat).Mul(q, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	fl := new(big.Int).Div(x.Num(), x.Denom()) // Euclidean: floor for a positive denominator
	frac := new(big.Rat).Sub(x, new(big.Rat).SetInt(fl))
	if c := frac.Cmp(big.NewRat(1, 2)); c > 0 || c == 0 && fl.Bit(0) == 1 {
		fl.Add(fl, big.NewInt(1))
	}
	return decimal.NewFromBigInt(fl, int32(-scale)).String()
}

func modelExtreme(rows [][]any, c int, dir int) string {
	var best any
	for _, r := range rows {
		if v := r[c]; v != nil && (best == nil || compareValues(v, best)*dir > 0) {
			best = v
		}
	}
	return fmtVal(best)
}

func modelDistinct(rows [][]any, c int) string {
	seen := map[any]bool{}
	for _, r := range rows {
		if r[c] != nil {
			seen[r[c]] = true
		}
	}
	return fmt.Sprint(len(seen))
}

func modelNonNull(rows [][]any, c int) string {
	n := 0
	for _, r := range rows {
		if r[c] != nil {
			n++
		}
	}
	return fmt.Sprint(n)
}

func modelFloat(rows [][]any, avg bool) string {
	sum, n := new(big.Rat), 0
	for _, r := range rows {
		if r[cPrice] != nil {
			sum.Add(sum, new(big.Rat).SetFloat64(r[cPrice].(float64)))
			n++
		}
	}
	if n == 0 {
		return "NULL"
	}
	if avg {
		sum.Quo(sum, big.NewRat(int64(n), 1))
	}
	f, _ := sum.Float64()
	return fmtVal(f)
}

// randomRow draws a row from small domains, so that groups, windows and filters collide.
func randomRow(rng *rand.Rand, id int64) []any {
	pick := func(vals ...any) any { return vals[rng.IntN(len(vals))] }
	r := make([]any, nCols)
	r[cID] = id
	randomize(rng, r, pick, cAccount, cStatus, cAmount, cCustomer, cCreated, cPrice, cNote)
	return r
}

func randomize(rng *rand.Rand, r []any, pick func(...any) any, cols ...int) {
	for _, c := range cols {
		switch c {
		case cAccount:
			r[c] = pick(nil, int64(1), int64(2), int64(3))
		case cStatus:
			r[c] = pick(nil, "paid", "paid", "new", "x")
		case cAmount:
			if rng.IntN(8) == 0 {
				r[c] = nil
			} else {
				r[c] = decimal.New(rng.Int64N(20000)-5000, -int32(rng.IntN(3))) // scales 0, 1, 2
			}
		case cCustomer:
			r[c] = pick(nil, int64(1), int64(2), int64(3), int64(4))
		case cCreated:
			if rng.IntN(8) == 0 {
				r[c] = nil
			} else {
				r[c] = ts("10:00:00").Add(time.Duration(rng.IntN(300)) * time.Second)
			}
		case cPrice:
			r[c] = pick(nil, 0.1, 0.2, 0.3, 1e16, -1e16, 2.5, 1e-300, -7.0)
		case cNote:
			r[c] = pick(nil, "a")
		}
	}
}

// TestProperty applies random streams of inserts, updates, deletes and truncates, flushes at
// random, crashes and restores at random (replaying from a random earlier offset), delivers
// events twice, and compares the _current view with a brute-force GROUP BY of the model table.
func TestProperty(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 5
	}
	for ci := range propCases {
		pc := &propCases[ci]
		spec := mustSpec(t, pc.yaml)
		for seed := range seeds {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(ci)))
			if err := runProperty(t, pc, spec, rng, 300); err != nil {
				t.Fatalf("%s seed %d: %v", spec.Name, seed, err)
			}
		}
	}
}

func runProperty(t *testing.T, pc *propCase, spec *Spec, rng *rand.Rand, steps int) error {
	tbl := ordersTable()
	s := &stream{t: tbl}
	newAgg := func() *Aggregation {
		a := New(spec)
		if _, err := a.Bind(tbl); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newAgg()
	model := map[int64][]any{}
	var log []*change.Event
	p := persisted{}
	v := view{}
	offsets := []uint64{0} // versions at which an offset could have been written (flushes)
	nextID := int64(1)
	ids := func() []int64 {
		var out []int64
		for id := range model {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	flush := func() error {
		rows := a.Flush()
		p.add(rows)
		v.add(a, rows)
		offsets = append(offsets, s.v)
		if want := pc.expected(model); v.String() != want.String() {
			return fmt.Errorf("after version %d:\ngot:\n%swant:\n%s", s.v, v, want)
		}
		return nil
	}
	for range steps {
		var ev *change.Event
		switch k := rng.IntN(100); {
		case k < 40 || len(model) == 0:
			r := randomRow(rng, nextID)
			nextID++
			model[r[cID].(int64)] = r
			ev = s.ins(r)
		case k < 75:
			all := ids()
			id := all[rng.IntN(len(all))]
			old := model[id]
			nw := slices.Clone(old)
			pick := func(vals ...any) any { return vals[rng.IntN(len(vals))] }
			for range 1 + rng.IntN(3) {
				randomize(rng, nw, pick, 1+rng.IntN(nCols-1))
			}
			model[id] = nw
			after := nw
			if rng.IntN(5) == 0 { // a TOAST-style unchanged value
				after = slices.Clone(nw)
				after[cNote], nw[cNote] = change.Unchanged, old[cNote]
			}
			ev = s.upd(old, after)
		case k < 97:
			all := ids()
			id := all[rng.IntN(len(all))]
			ev = s.del(model[id])
			delete(model, id)
		default:
			clear(model)
			ev = s.trunc()
		}
		log = append(log, ev)
		if err := a.Apply(ev); err != nil {
			return err
		}
		if rng.IntN(10) == 0 && len(log) > 1 { // delivered again: a no-op
			if err := a.Apply(log[rng.IntN(len(log))]); err != nil {
				return err
			}
		}
		if rng.IntN(3) == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		if rng.IntN(25) == 0 { // crash, losing what was not flushed; restore; replay from an offset
			offset := offsets[rng.IntN(len(offsets))]
			a = p.restore(t, spec, offset)
			for _, ev := range log {
				if ev.Version > offset {
					if err := a.Apply(ev); err != nil {
						return err
					}
				}
			}
			if err := flush(); err != nil {
				return fmt.Errorf("after restore at offset %d: %w", offset, err)
			}
		}
	}
	return flush()
}
