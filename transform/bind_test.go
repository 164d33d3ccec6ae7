package transform

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// TestOutput: the output columns and their exact types.
func TestOutput(t *testing.T) {
	tbl := ordersTable()
	tbl.Columns = append(tbl.Columns,
		change.Column{Name: "qty", Type: change.Type{Kind: change.UInt32}, Nullable: true},
		change.Column{Name: "big", Type: change.Type{Kind: change.Decimal, Precision: 36, Scale: 4}, Nullable: true},
		change.Column{Name: "free", Type: change.Type{Kind: change.Decimal}, Nullable: true},
		change.Column{Name: "wide", Type: change.Type{Kind: change.Decimal, Precision: 50, Scale: 3}, Nullable: true},
		change.Column{Name: "day", Type: change.Type{Kind: change.Date}, Nullable: true},
	)
	a := New(mustSpec(t, `
name: out
from: shop.public.orders
group_by: [account_id, status]
window: {column: day, size: 1d}
measures:
  n: count()
  nn: count(amount)
  d: count_distinct(note)
  s_int: sum(customer_id)
  s_uint: sum(qty)
  s_dec: sum(amount)
  s_float: sum(price)
  s_free: sum(free)
  s_wide: sum(wide)
  a_int: avg(qty)
  a_dec: avg(amount)
  a_big: avg(big)
  a_float: avg(price)
  a_free: avg(free)
  lo: min(amount)
  hi: max(created_at)
`))
	out, err := a.Bind(tbl)
	if err != nil {
		t.Fatal(err)
	}
	dec := func(p, s int) change.Type { return change.Type{Kind: change.Decimal, Precision: p, Scale: s} }
	tstz := change.Type{Kind: change.TimestampTZ}
	want := []change.Column{
		{Name: "account_id", Type: change.Type{Kind: change.Int32}, Nullable: true},
		{Name: "status", Type: change.Type{Kind: change.String}, Nullable: true},
		{Name: "window_start", Type: tstz},
		{Name: "window_end", Type: tstz},
		{Name: "n", Type: change.Type{Kind: change.UInt64}},
		{Name: "nn", Type: change.Type{Kind: change.UInt64}},
		{Name: "d", Type: change.Type{Kind: change.UInt64}},
		{Name: "s_int", Type: dec(38, 0), Nullable: true},
		{Name: "s_uint", Type: dec(38, 0), Nullable: true},
		{Name: "s_dec", Type: dec(38, 2), Nullable: true},
		{Name: "s_float", Type: change.Type{Kind: change.Float64}, Nullable: true},
		{Name: "s_free", Type: change.Type{Kind: change.Decimal}, Nullable: true},
		{Name: "s_wide", Type: change.Type{Kind: change.Decimal}, Nullable: true},
		{Name: "a_int", Type: dec(38, 6), Nullable: true},
		{Name: "a_dec", Type: dec(38, 8), Nullable: true},
		{Name: "a_big", Type: dec(38, 6), Nullable: true}, // 32 integer digits leave 6
		{Name: "a_float", Type: change.Type{Kind: change.Float64}, Nullable: true},
		{Name: "a_free", Type: change.Type{Kind: change.Decimal}, Nullable: true},
		{Name: "lo", Type: dec(12, 2), Nullable: true},
		{Name: "hi", Type: tstz, Nullable: true},
	}
	if !reflect.DeepEqual(out.Columns, want) || out.Table != "agg_out" || out.Groups != 2 || !out.Window {
		t.Errorf("output:\n%+v\nwant\n%+v", out, want)
	}

	// Values: a Date window starts at midnight UTC; unconstrained decimals are normalised;
	// avg over an unconstrained decimal is rounded to 16 places.
	s := &stream{t: tbl}
	r := make([]any, len(tbl.Columns))
	r[cAccount], r[cStatus], r[cAmount], r[cCustomer], r[cPrice] = int64(1), "x", decimal.RequireFromString("2.50"), int64(7), 0.5
	r[8], r[9], r[10], r[11], r[12] = uint64(math.MaxUint64), decimal.RequireFromString("1.0000"), decimal.RequireFromString("1.500"), decimal.RequireFromString("2.000"), time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	r[cCreated] = ts("10:00:00")
	r2 := append([]any(nil), r...)
	r2[11] = decimal.RequireFromString("0.5")
	r2[8] = uint64(1)
	apply(t, a, s.ins(r), s.ins(r2))
	rows := a.Flush()
	got := renderVals(rows[0].Values)
	const exp = "1,x,2024-05-06,2024-05-07,2,2,0,14,18446744073709551616,5,1,3,2.5,9223372036854775808,2.5,1,0.5,1.5,2.5,10:00:00"
	if got != exp {
		t.Errorf("values\n got %s\nwant %s", got, exp)
	}
	if v := rows[0].Values[17].(decimal.Decimal); v.Exponent() != -1 || v.String() != "1.5" {
		t.Errorf("avg(free) = %v (exp %d)", v, v.Exponent())
	}
	if v := rows[0].Values[9].(decimal.Decimal); v.Exponent() != -2 {
		t.Errorf("sum(amount) = %v has exponent %d, want the column's scale", v, v.Exponent())
	}
}

// TestBindErrors: each message, exactly.
func TestBindErrors(t *testing.T) {
	const pre = `aggregation "a": `
	for _, tc := range []struct {
		spec  string
		alter func(*change.Table)
		want  string
	}{
		{"group_by: [account_id]\nmeasures: {n: count()}", func(t *change.Table) { t.BeforeFull = false },
			`aggregation "a": table public.orders of source "shop" does not send whole old rows, so updates and deletes cannot be retracted: ` +
				`run ALTER TABLE public.orders REPLICA IDENTITY FULL (PostgreSQL) or set binlog_row_image=FULL (MySQL), or declare the aggregation insert_only: true`},
		{"group_by: [nope]\nmeasures: {n: count()}", nil, pre + `table public.orders of source "shop" has no column "nope" (used by group_by)`},
		{"measures: {n: sum(nope)}", nil, pre + `table public.orders of source "shop" has no column "nope" (used by a measure)`},
		{"where: \"nope = 1\"\nmeasures: {n: count()}", nil, pre + `table public.orders of source "shop" has no column "nope" (used by where)`},
		{"window: {column: nope, size: 1m}\nmeasures: {n: count()}", nil, pre + `table public.orders of source "shop" has no column "nope" (used by window)`},
		{"measures: {n: sum(STATUS)}", func(t *change.Table) {
			t.Columns = append(t.Columns, change.Column{Name: "Status", Type: change.Type{Kind: change.Int64}})
		}, pre + `table public.orders of source "shop" has columns "status" and "Status"; name one exactly (used by a measure)`},
		{"measures: {n: sum(status)}", nil, pre + `measure n: sum(status): sum and avg take integers, decimals or floats, not string`},
		{"measures: {n: avg(created_at)}", nil, pre + `measure n: avg(created_at): sum and avg take integers, decimals or floats, not timestamptz`},
		{"measures: {n: min(tags)}", nil, pre + `measure n: min(tags): min and max take an orderable type, not int64[]`},
		{"measures: {n: max(doc)}", nil, pre + `measure n: max(doc): min and max take an orderable type, not json`},
		{"measures: {n: count_distinct(tags)}", nil, pre + `measure n: count_distinct(tags): count_distinct takes any type but arrays, not int64[]`},
		{"window: {column: amount, size: 1m}\nmeasures: {n: count()}", nil, pre + `window column "amount" has type decimal(12,2): it must be a date, timestamp or timestamptz`},
		{"where: \"status = 1\"\nmeasures: {n: count()}", nil, pre + `where: column "status": a string column cannot be compared with the number 1`},
	} {
		tbl := ordersTable()
		tbl.Columns = append(tbl.Columns,
			change.Column{Name: "tags", Type: change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Int64}}},
			change.Column{Name: "doc", Type: change.Type{Kind: change.JSON}})
		if tc.alter != nil {
			tc.alter(tbl)
		}
		a := New(mustSpec(t, "name: a\nfrom: shop.public.orders\n"+tc.spec))
		_, err := a.Bind(tbl)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got: %v\nwant: %s", tc.spec, err, tc.want)
		}
	}
	// insert_only needs no old rows.
	tbl := ordersTable()
	tbl.BeforeFull = false
	if _, err := New(mustSpec(t, revenueYAML+"insert_only: true\n")).Bind(tbl); err != nil {
		t.Error(err)
	}
}

// TestRebind: a new schema generation may widen output types, not change them.
func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		measure string
		col     int
		to      change.Type
		want    string // "" for no error
	}{
		{"min(account_id)", cAccount, change.Type{Kind: change.Int64}, ""},
		{"sum(account_id)", cAccount, change.Type{Kind: change.Decimal, Precision: 20, Scale: 0}, ""},
		{"sum(amount)", cAmount, change.Type{Kind: change.Decimal, Precision: 14, Scale: 2}, ""},
		{"min(amount)", cAmount, change.Type{Kind: change.Decimal, Precision: 14, Scale: 3}, ""},
		{"min(amount)", cAmount, change.Type{Kind: change.Decimal}, ""},
		{"min(status)", cStatus, change.Type{Kind: change.Enum, Symbols: []string{"a"}}, ""},
		{"sum(amount)", cAmount, change.Type{Kind: change.Decimal, Precision: 14, Scale: 4},
			`aggregation "a": output column m would change type from decimal(38,2) to decimal(38,4), which cannot hold its values: give the aggregation a new name to rebuild it from the source`},
		{"min(account_id)", cAccount, change.Type{Kind: change.Int16},
			`aggregation "a": output column m would change type from int32 to int16, which cannot hold its values: give the aggregation a new name to rebuild it from the source`},
		{"sum(price)", cPrice, change.Type{Kind: change.Int64},
			`aggregation "a": column "price" is now int64, but the sums held are over floats: give the aggregation a new name to rebuild it`},
		{"max(status)", cStatus, change.Type{Kind: change.Int64},
			`aggregation "a": column "status" is now int64, but the values held are string: give the aggregation a new name to rebuild it`},
		{"count_distinct(status)", cStatus, change.Type{Kind: change.Bytes},
			`aggregation "a": column "status" is now bytes, but the values held are string: give the aggregation a new name to rebuild it`},
	} {
		tbl := ordersTable()
		a := New(mustSpec(t, "{name: a, from: shop.public.orders, group_by: [customer_id], measures: {m: "+tc.measure+"}}"))
		if _, err := a.Bind(tbl); err != nil {
			t.Fatal(err)
		}
		t2 := ordersTable()
		t2.Generation = 2
		t2.Columns[tc.col].Type = tc.to
		_, err := a.Bind(t2)
		if got := fmtErr(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("%s: %s -> %s:\n got: %v\nwant: %s", tc.measure, tbl.Columns[tc.col].Type, tc.to, err, tc.want)
		}
		if err != nil && a.bind.table != tbl {
			t.Errorf("a failed Bind replaced the binding")
		}
	}
	// The group column's class is checked against restored groups too.
	a, s := newAgg(t, revenueYAML)
	apply(t, a, s.ins(row(1, 10, "paid", "1", 1, "10:00:00", 1)))
	rows := a.Flush()
	b := New(mustSpec(t, revenueYAML))
	if err := b.Restore(rows[0]); err != nil {
		t.Fatal(err)
	}
	t2 := ordersTable()
	t2.Columns[cAccount].Type = change.Type{Kind: change.String}
	if _, err := b.Bind(t2); !strings.Contains(fmtErr(err), `group column "account_id" is now string, but the groups held have integer values`) {
		t.Errorf("err = %v", err)
	}
	// Events of a generation that was not bound are refused.
	t3 := ordersTable()
	t3.Generation = 7
	t3.Columns[cNote].Type = change.Type{Kind: change.Int64}
	if err := a.Apply(&change.Event{Op: change.Insert, Table: t3, After: row(5, 1, "", "1", 1, nil, 0), Version: 99}); !strings.Contains(fmtErr(err), "call Bind first") {
		t.Errorf("err = %v", err)
	}
}

// TestRestoreErrors: a state from another spec, or corrupt, is refused.
func TestRestoreErrors(t *testing.T) {
	a, s := newAgg(t, revenueYAML)
	apply(t, a, s.ins(row(1, 10, "paid", "1", 1, "10:00:00", 1)))
	r := a.Flush()[0]
	other := New(mustSpec(t, strings.Replace(revenueYAML, "status = 'paid'", "status = 'new'", 1)))
	if err := other.Restore(r); !errors.Is(err, ErrSpecChanged) {
		t.Errorf("err = %v", err)
	} else if want := `aggregation "revenue_by_account": restore group at version 1: the aggregation's definition changed since its state was written: give the aggregation a new name to rebuild it from the source`; err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
	renamed := New(mustSpec(t, strings.Replace(revenueYAML, "orders: count()", "n_orders: count()", 1)))
	if err := renamed.Restore(r); err != nil {
		t.Errorf("a renamed measure keeps the state: %v", err)
	}
	for i := range r.State {
		for _, cut := range []bool{true, false} {
			bad := r
			if cut {
				bad.State = r.State[:i]
			} else {
				bad.State = bytes.Clone(r.State)
				bad.State[i] ^= 0x5a
			}
			b := New(mustSpec(t, revenueYAML))
			if err := b.Restore(bad); err == nil && cut {
				t.Errorf("state cut at %d restored", i)
			}
		}
	}
	bad := r
	bad.Group = append(bytes.Clone(r.Group), 1)
	if err := New(mustSpec(t, revenueYAML)).Restore(bad); !errors.Is(err, ErrSpecChanged) {
		t.Errorf("bad key: %v", err)
	}
}

// TestGroupKey: equal values encode equally, different ones differently, and decode back.
func TestGroupKey(t *testing.T) {
	enc := func(vals ...any) string {
		var b []byte
		for _, v := range vals {
			var err error
			if b, err = appendValue(b, v); err != nil {
				t.Fatal(err)
			}
		}
		return string(b)
	}
	d := decimal.RequireFromString
	same := [][2]any{
		{d("1.5"), d("1.50")}, {d("100"), decimal.New(1, 2)}, {d("0"), d("0.000")}, {d("-2.10"), d("-2.1")},
		{d("123456789012345678901234567890.10"), d("123456789012345678901234567890.1")},
		{0.0, math.Copysign(0, -1)}, {math.NaN(), -math.NaN()},
		{time.Date(2024, 1, 1, 12, 0, 0, 0, time.FixedZone("x", 3600)), time.Date(2024, 1, 1, 11, 0, 0, 0, time.UTC)},
	}
	for _, p := range same {
		if enc(p[0]) != enc(p[1]) {
			t.Errorf("%v and %v encode differently", p[0], p[1])
		}
	}
	vals := []any{nil, int64(0), int64(-1), uint64(0), 0.0, d("0.1"), d("1"), "", "a", []byte{}, []byte("a"), false, true,
		time.Unix(0, 0).UTC(), time.Duration(0), uuid.UUID{}, []any{}, []any{nil}, []any{int64(1), "x"}, d("1e40"), d("-1e40")}
	seen := map[string]int{}
	for i, v := range vals {
		k := enc(v)
		if j, dup := seen[k]; dup {
			t.Errorf("%#v and %#v encode equally", vals[j], v)
		}
		seen[k] = i
		dec := decoder{b: []byte(k)}
		back := dec.value()
		if dec.err != nil || len(dec.b) != 0 || compareNullable(back, v) != 0 {
			t.Errorf("%#v decodes as %#v (%v)", v, back, dec.err)
		}
	}
	// NULL in a group column is its own group, and groups of several columns do not collide.
	if enc(nil, "a") == enc("a", nil) || enc("ab", "") == enc("a", "b") {
		t.Error("multi-column keys collide")
	}
}
