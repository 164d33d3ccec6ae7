package transform

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
)

// The test table shop.public.orders. Column indexes:
const (
	cID = iota
	cAccount
	cStatus
	cAmount
	cCustomer
	cCreated
	cPrice
	cNote
	nCols
)

func ordersTable() *change.Table {
	return &change.Table{
		ID: change.TableID{Source: "shop", Namespace: "public", Name: "orders"},
		Columns: []change.Column{
			{Name: "id", Type: change.Type{Kind: change.Int64}},
			{Name: "account_id", Type: change.Type{Kind: change.Int32}, Nullable: true},
			{Name: "status", Type: change.Type{Kind: change.String}, Nullable: true},
			{Name: "amount", Type: change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, Nullable: true},
			{Name: "customer_id", Type: change.Type{Kind: change.Int64}, Nullable: true},
			{Name: "created_at", Type: change.Type{Kind: change.TimestampTZ}, Nullable: true},
			{Name: "price", Type: change.Type{Kind: change.Float64}, Nullable: true},
			{Name: "note", Type: change.Type{Kind: change.String}, Nullable: true},
		},
		Key:        []int{0},
		Generation: 1,
		BeforeFull: true,
	}
}

// row builds an orders row: id, account, status, amount (decimal text), customer, created
// ("15:04:05" on 2024-01-01, or a full timestamp), price. nil is NULL.
func row(id int64, acct any, status any, amount any, cust any, created any, price any) []any {
	r := make([]any, nCols)
	r[cID] = id
	r[cAccount] = toInt(acct)
	r[cStatus] = status
	if s, ok := amount.(string); ok {
		r[cAmount] = decimal.RequireFromString(s)
	}
	r[cCustomer] = toInt(cust)
	if s, ok := created.(string); ok {
		r[cCreated] = ts(s)
	}
	if price != nil {
		r[cPrice] = toFloat(price)
	}
	return r
}

func toInt(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case nil:
		return nil
	}
	return v
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("price %T", v))
}

func ts(s string) time.Time {
	if len(s) == 8 {
		s = "2024-01-01 " + s
	}
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// stream builds events of one table with increasing versions.
type stream struct {
	t *change.Table
	v uint64
}

func (s *stream) next() uint64 { s.v++; return s.v }

func (s *stream) ins(r []any) *change.Event {
	return &change.Event{Op: change.Insert, Table: s.t, After: r, Version: s.next()}
}

func (s *stream) upd(before, after []any) *change.Event {
	return &change.Event{Op: change.Update, Table: s.t, Before: before, BeforeFull: true, After: after, Version: s.next()}
}

func (s *stream) del(before []any) *change.Event {
	return &change.Event{Op: change.Delete, Table: s.t, Before: before, BeforeFull: true, Version: s.next()}
}

func (s *stream) trunc() *change.Event {
	return &change.Event{Op: change.Truncate, Table: s.t, Version: s.next()}
}

// parseYAML parses an aggregation entry written in YAML.
func parseYAML(t testing.TB, src string) (*Spec, error) {
	t.Helper()
	var a config.Aggregation
	if err := yaml.Unmarshal([]byte(src), &a); err != nil {
		t.Fatal(err)
	}
	return ParseSpec("aggregations[0]", a, func(s string) bool { return s == "shop" })
}

func mustSpec(t testing.TB, src string) *Spec {
	t.Helper()
	s, err := parseYAML(t, src)
	if err != nil {
		t.Fatalf("ParseSpec: %v", err)
	}
	return s
}

// newAgg returns a bound Aggregation of the YAML spec over ordersTable.
func newAgg(t testing.TB, src string) (*Aggregation, *stream) {
	t.Helper()
	tbl := ordersTable()
	a := New(mustSpec(t, src))
	if _, err := a.Bind(tbl); err != nil {
		t.Fatal(err)
	}
	return a, &stream{t: tbl}
}

func apply(t testing.TB, a *Aggregation, evs ...*change.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := a.Apply(ev); err != nil {
			t.Fatalf("Apply(%v at %d): %v", ev.Op, ev.Version, err)
		}
	}
}

// view is the _current view the Flush rows build: group rendering -> measures rendering.
type view map[string]string

// add folds flushed rows into the view, as ReplacingMergeTree and the _current view would.
func (v view) add(a *Aggregation, rows []Row) {
	out := a.bind.out
	nGroup := out.Groups
	if out.Window {
		nGroup += 2
	}
	for _, r := range rows {
		g := renderVals(r.Values[:nGroup])
		if r.Deleted {
			delete(v, g)
			continue
		}
		var ms []string
		for i, c := range out.Columns[nGroup:] {
			ms = append(ms, c.Name+"="+fmtVal(r.Values[nGroup+i]))
		}
		v[g] = strings.Join(ms, " ")
	}
}

func (v view) String() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s] %s\n", k, v[k])
	}
	return b.String()
}

func renderVals(vals []any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmtVal(v)
	}
	return strings.Join(s, ",")
}

func fmtVal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case decimal.Decimal:
		return x.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("15:04:05")
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
		if x == 0 {
			return "0" // -0 too
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// flushView flushes a and returns the view updated with the rows.
func flushInto(v view, a *Aggregation) []Row {
	rows := a.Flush()
	v.add(a, rows)
	return rows
}

// want compares a view with the expected lines ("[group] measures"), order-insensitive.
func want(t testing.TB, what string, v view, lines ...string) {
	t.Helper()
	sort.Strings(lines)
	exp := strings.Join(lines, "\n")
	if len(lines) > 0 {
		exp += "\n"
	}
	if got := v.String(); got != exp {
		t.Errorf("%s:\ngot:\n%swant:\n%s", what, got, exp)
	}
}

func posInf() float64 { return math.Inf(1) }
