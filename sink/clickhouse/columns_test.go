package clickhouse

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fakeColumn records what a builder hands to clickhouse-go.
type fakeColumn struct {
	appended []any // Append arguments
	rows     []any // AppendRow arguments
}

func (f *fakeColumn) Append(v any) error    { f.appended = append(f.appended, v); return nil }
func (f *fakeColumn) AppendRow(v any) error { f.rows = append(f.rows, v); return nil }

// scalarState returns the values a scalar builder hands to clickhouse-go (nil for NULL) and
// whether it hands them as pointers (a Nullable column).
func scalarState(t *testing.T, b builder) (vals []any, pointers bool) {
	t.Helper()
	var f fakeColumn
	if err := b.appendTo(&f); err != nil {
		t.Fatalf("appendTo: %v", err)
	}
	if len(f.appended) != 1 || len(f.rows) != 0 {
		t.Fatalf("appendTo made %d Append and %d AppendRow calls, want one Append", len(f.appended), len(f.rows))
	}
	s := reflect.ValueOf(f.appended[0])
	if s.Kind() != reflect.Slice {
		t.Fatalf("appendTo appended a %T, want a slice", f.appended[0])
	}
	pointers = s.Type().Elem().Kind() == reflect.Pointer
	vals = make([]any, s.Len())
	for i := range vals {
		e := s.Index(i)
		if pointers {
			if e.IsNil() {
				continue
			}
			e = e.Elem()
		}
		vals[i] = e.Interface()
	}
	return vals, pointers
}

// TestBuilderConvert feeds canonical values to the builder of each ClickHouse type cdcd produces
// and checks the Go value that would go to clickhouse-go, or that the value is refused.
func TestBuilderConvert(t *testing.T) {
	id := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	cases := []struct {
		chType string
		in     any
		want   any // the converted value; nil when the value must be refused
	}{
		// Signed integers: ranges, and the other integer forms.
		{"Int8", int64(-128), int8(-128)},
		{"Int8", int64(127), int8(127)},
		{"Int8", int64(128), nil},
		{"Int8", int64(-129), nil},
		{"Int8", uint64(127), int8(127)},
		{"Int8", uint64(200), nil},
		{"Int16", int64(-32768), int16(-32768)},
		{"Int16", int64(32767), int16(32767)},
		{"Int16", int64(32768), nil},
		{"Int16", int64(-32769), nil},
		{"Int32", int64(math.MinInt32), int32(math.MinInt32)},
		{"Int32", int64(math.MaxInt32), int32(math.MaxInt32)},
		{"Int32", int64(math.MaxInt32) + 1, nil},
		{"Int32", int64(math.MinInt32) - 1, nil},
		{"Int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"Int64", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"Int64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"Int64", uint64(math.MaxInt64) + 1, nil},
		{"Int64", uint64(math.MaxUint64), nil},
		{"Int64", "12", nil},
		{"Int64", 1.5, nil},
		{"Int32", int32(5), nil}, // only canonical int64 is taken
		// Unsigned integers.
		{"UInt8", uint64(0), uint8(0)},
		{"UInt8", uint64(255), uint8(255)},
		{"UInt8", uint64(256), nil},
		{"UInt8", int64(255), uint8(255)},
		{"UInt8", int64(-1), nil},
		{"UInt16", uint64(65535), uint16(65535)},
		{"UInt16", uint64(65536), nil},
		{"UInt32", uint64(math.MaxUint32), uint32(math.MaxUint32)},
		{"UInt32", uint64(math.MaxUint32) + 1, nil},
		{"UInt64", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"UInt64", int64(math.MaxInt64), uint64(math.MaxInt64)},
		{"UInt64", int64(math.MinInt64), nil},
		{"UInt64", "1", nil},
		// Bool as UInt8 (18.16) and as Bool.
		{"UInt8", true, uint8(1)},
		{"UInt8", false, uint8(0)},
		{"Bool", true, true},
		{"Bool", false, false},
		{"Bool", int64(1), nil},
		{"Bool", "true", nil},
		// Floats: a Float32 value is exactly a float32.
		{"Float32", float64(float32(0.1)), float32(0.1)},
		{"Float32", float64(float32(-3.4e38)), float32(-3.4e38)},
		{"Float32", int64(3), float32(3)},
		{"Float64", 0.1, 0.1},
		{"Float64", math.Inf(-1), math.Inf(-1)},
		{"Float64", int64(-7), float64(-7)},
		{"Float64", "0.1", nil},
		{"Float64", uint64(1), nil},
		// Decimal(12, 2): up to 10 integer digits and 2 fraction digits, nothing rounded.
		{"Decimal(12, 2)", mustDec("1.5"), mustDec("1.5")},
		{"Decimal(12, 2)", mustDec("1.50"), mustDec("1.50")},
		{"Decimal(12, 2)", mustDec("1.500"), mustDec("1.50")}, // trailing zeros may go
		{"Decimal(12, 2)", mustDec("1.505"), nil},
		{"Decimal(12, 2)", mustDec("0.001"), nil},
		{"Decimal(12, 2)", mustDec("-9999999999.99"), mustDec("-9999999999.99")},
		{"Decimal(12, 2)", mustDec("9999999999.99"), mustDec("9999999999.99")},
		{"Decimal(12, 2)", mustDec("10000000000"), nil}, // 10^10: 11 integer digits
		{"Decimal(12, 2)", decimal.New(1, 10), nil},
		{"Decimal(12, 2)", mustDec("-10000000000.00"), nil},
		{"Decimal(12, 2)", decimal.New(5, 3), decimal.New(5, 3)},
		{"Decimal(12, 2)", int64(42), decimal.NewFromInt(42)},
		{"Decimal(12, 2)", int64(10_000_000_000), nil},
		{"Decimal(12, 2)", 1.5, nil},
		{"Decimal(12, 2)", "1.5", nil},
		{"Decimal(1, 0)", mustDec("9"), mustDec("9")},
		{"Decimal(1, 0)", mustDec("10"), nil},
		{"Decimal(1, 0)", mustDec("0.5"), nil},
		{"Decimal(38, 38)", mustDec("0.12345678901234567890123456789012345678"), mustDec("0.12345678901234567890123456789012345678")},
		{"Decimal(38, 38)", mustDec("1"), nil},
		{"Decimal(38, 0)", mustDec("99999999999999999999999999999999999999"), mustDec("99999999999999999999999999999999999999")},
		{"Decimal(38, 0)", mustDec("100000000000000000000000000000000000000"), nil},
		{"Decimal64(4)", mustDec("12345678901234.5678"), mustDec("12345678901234.5678")},
		{"Decimal64(4)", mustDec("123456789012345.5678"), nil},
		{"Decimal32(2)", mustDec("9999999.99"), mustDec("9999999.99")},
		{"Decimal32(2)", mustDec("10000000"), nil},
		// String: text, bytes, and the exact text of other canonical values.
		{"String", "", ""},
		{"String", "it's \\ `x` \x00 ü", "it's \\ `x` \x00 ü"},
		{"String", []byte{0, 0xff, 'a'}, "\x00\xffa"},
		{"String", mustDec("1.50"), "1.50"},
		{"String", mustDec("-0.000100"), "-0.000100"},
		{"String", mustDec("123456789012345678901234567890.123456789"), "123456789012345678901234567890.123456789"},
		{"String", decimal.New(12, 3), "12000"},
		{"String", int64(-5), "-5"},
		{"String", uint64(math.MaxUint64), "18446744073709551615"},
		{"String", true, "true"},
		{"String", 0.1, "0.1"},
		{"String", id, "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"String", ts, "2024-02-29T13:14:15.123456Z"},
		{"String", 13*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Microsecond, "13:04:05.000006"},
		{"String", []any{"a"}, nil},
		// UUID.
		{"UUID", id, "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"UUID", "0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"UUID", "not-a-uuid", nil},
		{"UUID", id[:], nil},
		// Date: 1970-01-01..2105-12-31.
		{"Date", date(1970, 1, 1), date(1970, 1, 1)},
		{"Date", date(2105, 12, 31), date(2105, 12, 31)},
		{"Date", date(1969, 12, 31), nil},
		{"Date", date(2106, 1, 1), nil},
		{"Date", "2020-01-01", nil},
		// Date32: 1900-01-01..2299-12-31.
		{"Date32", date(1900, 1, 1), date(1900, 1, 1)},
		{"Date32", date(2299, 12, 31), date(2299, 12, 31)},
		{"Date32", date(1969, 12, 31), date(1969, 12, 31)},
		{"Date32", date(1899, 12, 31), nil},
		{"Date32", date(2300, 1, 1), nil},
		// DateTime64(6, 'UTC'): 1900-01-01 00:00:00 .. 2299-12-31 23:59:59.999999.
		{"DateTime64(6, 'UTC')", ts, ts},
		{"DateTime64(6, 'UTC')", date(1900, 1, 1), date(1900, 1, 1)},
		{"DateTime64(6, 'UTC')", time.Date(2299, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(2299, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"DateTime64(6, 'UTC')", time.Date(1899, 12, 31, 23, 59, 59, 999999000, time.UTC), nil},
		{"DateTime64(6, 'UTC')", date(2300, 1, 1), nil},
		{"DateTime64(6, 'UTC')", int64(0), nil},
		// Timestamps and times as Int64 microseconds (18.16).
		{"Int64", ts, ts.UnixMicro()},
		{"Int64", time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), int64(-1)},
		{"Int64", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), int64(-62135596800000000)},
		{"Int64", time.Hour + 2*time.Minute + 3*time.Second + 4*time.Microsecond, int64(3723000004)},
		{"Int64", 24 * time.Hour, int64(86_400_000_000)},
		{"Int64", time.Duration(0), int64(0)},
		// Meta columns.
		{"UInt64", uint64(1 << 40), uint64(1 << 40)},
	}
	for _, c := range cases {
		for _, nullable := range []bool{false, true} {
			chType := c.chType
			if nullable {
				chType = "Nullable(" + chType + ")"
			}
			b, err := newBuilder(chType)
			if err != nil {
				t.Fatalf("newBuilder(%s): %v", chType, err)
			}
			err = b.add(c.in)
			vals, pointers := scalarState(t, b)
			if pointers != nullable {
				t.Errorf("%s: hands pointers %v, want %v", chType, pointers, nullable)
			}
			if c.want == nil {
				if err == nil {
					t.Errorf("%s: add(%T %v) stored %v, want an error", chType, c.in, c.in, vals)
				}
				if len(vals) != 0 {
					t.Errorf("%s: add(%T %v) failed but appended %v", chType, c.in, c.in, vals)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: add(%T %v): %v", chType, c.in, c.in, err)
				continue
			}
			if len(vals) != 1 || vals[0] == nil {
				t.Errorf("%s: add(%T %v) stored %v, want one value", chType, c.in, c.in, vals)
				continue
			}
			if !sameValue(vals[0], c.want) {
				t.Errorf("%s: add(%T %v) stored %T %v, want %T %v", chType, c.in, c.in, vals[0], vals[0], c.want, c.want)
			}
		}
	}
}

// sameValue compares converted values: decimals by value and exponent (1.50 is not 1.5 here),
// times by instant and location, floats by bits, everything else with ==.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case decimal.Decimal:
		g, ok := got.(decimal.Decimal)
		return ok && g.Equal(w) && g.Exponent() == w.Exponent()
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == w.Location()
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case float32:
		g, ok := got.(float32)
		return ok && math.Float32bits(g) == math.Float32bits(w)
	}
	return got == want
}

func TestNewBuilderTypes(t *testing.T) {
	ok := []string{
		"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
		"String", "UUID", "Bool", "Date", "Date32", "DateTime64(6, 'UTC')", "Decimal(12, 2)", "Decimal(38, 38)",
		"Decimal32(2)", "Decimal64(4)", "Decimal128(10)",
		"Nullable(Int64)", "Nullable(Decimal(12, 2))", "Nullable(DateTime64(6, 'UTC'))",
		"Array(Nullable(Int8))", "Array(Nullable(Int16))", "Array(Nullable(Int32))", "Array(Nullable(Int64))",
		"Array(Nullable(UInt8))", "Array(Nullable(UInt16))", "Array(Nullable(UInt32))", "Array(Nullable(UInt64))",
		"Array(Nullable(Float32))", "Array(Nullable(Float64))", "Array(Nullable(String))", "Array(Nullable(UUID))",
		"Array(Nullable(Bool))", "Array(Nullable(Date))", "Array(Nullable(Date32))",
		"Array(Nullable(DateTime64(6, 'UTC')))", "Array(Nullable(Decimal(10, 3)))", "Array(Int32)",
	}
	for _, ct := range ok {
		if _, err := newBuilder(ct); err != nil {
			t.Errorf("newBuilder(%s): %v", ct, err)
		}
	}
	bad := []string{"", "DateTime", "DateTime64(3)", "LowCardinality(String)", "Map(String, String)",
		"Array(Array(Int32))", "Nullable(Array(Int32))", "Tuple(Int32)", "Enum8('a' = 1)", "FixedString(3)", "Int128"}
	for _, ct := range bad {
		if _, err := newBuilder(ct); err == nil {
			t.Errorf("newBuilder(%s) succeeded, want an error", ct)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in   string
		p, s int
		ok   bool
	}{
		{"Decimal(12, 2)", 12, 2, true},
		{"Decimal(38, 0)", 38, 0, true},
		{"Decimal32(3)", 9, 3, true},
		{"Decimal64(4)", 18, 4, true},
		{"Decimal128(10)", 38, 10, true},
		{"Decimal32(x)", 0, 0, false},
		{"String", 0, 0, false},
	}
	for _, c := range cases {
		p, s, ok := parseDecimal(c.in)
		if ok != c.ok || (ok && (p != c.p || s != c.s)) {
			t.Errorf("parseDecimal(%q) = %d, %d, %v; want %d, %d, %v", c.in, p, s, ok, c.p, c.s, c.ok)
		}
	}
}

func TestBuilderNulls(t *testing.T) {
	for _, ct := range []string{"Int8", "Int64", "UInt64", "Float32", "Decimal(12, 2)", "String", "UUID", "Bool", "Date", "Date32", "DateTime64(6, 'UTC')"} {
		b, err := newBuilder(ct)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.add(nil); err == nil || !strings.Contains(err.Error(), "NULL") {
			t.Errorf("%s: add(nil) = %v, want a NULL error", ct, err)
		}
		if vals, _ := scalarState(t, b); len(vals) != 0 {
			t.Errorf("%s: refused NULL but appended %v", ct, vals)
		}

		nb, err := newBuilder("Nullable(" + ct + ")")
		if err != nil {
			t.Fatal(err)
		}
		if err := nb.add(nil); err != nil {
			t.Errorf("Nullable(%s): add(nil): %v", ct, err)
		}
		nb.zero()
		if vals, pointers := scalarState(t, nb); !pointers || !reflect.DeepEqual(vals, []any{nil, nil}) {
			t.Errorf("Nullable(%s): after add(nil), zero(): %v, want [<nil> <nil>]", ct, vals)
		}

		// zero on a non-nullable column appends the type's default.
		b.zero()
		if vals, _ := scalarState(t, b); len(vals) != 1 || !reflect.ValueOf(vals[0]).IsZero() {
			t.Errorf("%s: zero() left %v; want one zero value", ct, vals)
		}
	}
}

func TestBuilderPop(t *testing.T) {
	b, err := newBuilder("Nullable(Int32)")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{int64(1), nil, int64(3)} {
		if err := b.add(v); err != nil {
			t.Fatal(err)
		}
	}
	b.pop()
	if vals, _ := scalarState(t, b); !reflect.DeepEqual(vals, []any{int32(1), nil}) {
		t.Errorf("after pop: %v, want [1 <nil>]", vals)
	}
	b.pop()
	if vals, _ := scalarState(t, b); !reflect.DeepEqual(vals, []any{int32(1)}) {
		t.Errorf("after second pop: %v, want [1]", vals)
	}
	if err := b.add(int64(7)); err != nil {
		t.Fatal(err)
	}
	if vals, _ := scalarState(t, b); !reflect.DeepEqual(vals, []any{int32(1), int32(7)}) {
		t.Errorf("after pop and add: %v, want [1 7]", vals)
	}

	nb, _ := newBuilder("String")
	_ = nb.add("a")
	_ = nb.add("b")
	nb.pop()
	if vals, _ := scalarState(t, nb); !reflect.DeepEqual(vals, []any{"a"}) {
		t.Errorf("String after pop: %v, want [a]", vals)
	}

	ab, _ := newBuilder("Array(Nullable(Int64))")
	_ = ab.add([]any{int64(1)})
	_ = ab.add([]any{int64(2), int64(3)})
	ab.pop()
	if got := arrayState(t, ab); !reflect.DeepEqual(got, [][]any{{int64(1)}}) {
		t.Errorf("array after pop: %v, want [[1]]", got)
	}
}

// arrayState returns the rows an array builder hands to clickhouse-go, nil for NULL elements.
func arrayState(t *testing.T, b builder) [][]any {
	t.Helper()
	var f fakeColumn
	if err := b.appendTo(&f); err != nil {
		t.Fatalf("appendTo: %v", err)
	}
	if len(f.appended) != 0 {
		t.Fatalf("array appendTo made %d Append calls, want AppendRow only", len(f.appended))
	}
	out := make([][]any, len(f.rows))
	for i, row := range f.rows {
		r := reflect.ValueOf(row)
		if r.Kind() != reflect.Slice || r.Type().Elem().Kind() != reflect.Pointer {
			t.Fatalf("row %d is a %T, want a slice of pointers", i, row)
		}
		out[i] = make([]any, r.Len())
		for j := range out[i] {
			if p := r.Index(j); !p.IsNil() {
				out[i][j] = p.Elem().Interface()
			}
		}
	}
	return out
}

func TestArrayBuilder(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	cases := []struct {
		chType string
		in     any
		want   []any // nil: refused
	}{
		{"Array(Nullable(Int32))", []any{int64(1), nil, int64(-3)}, []any{int32(1), nil, int32(-3)}},
		{"Array(Nullable(Int32))", []any{}, []any{}},
		{"Array(Nullable(Int32))", nil, []any{}}, // NULL is [] (the null flag says NULL)
		{"Array(Nullable(Int8))", []any{int64(128)}, nil},
		{"Array(Nullable(Int32))", []any{int64(1), "x"}, nil},
		{"Array(Nullable(Int32))", "not an array", nil},
		{"Array(Nullable(Int32))", []int64{1}, nil},
		{"Array(Nullable(UInt64))", []any{uint64(math.MaxUint64)}, []any{uint64(math.MaxUint64)}},
		{"Array(Nullable(UInt8))", []any{true, false, nil}, []any{uint8(1), uint8(0), nil}},
		{"Array(Nullable(Bool))", []any{true, nil}, []any{true, nil}},
		{"Array(Nullable(Float32))", []any{float64(float32(1.25))}, []any{float32(1.25)}},
		{"Array(Nullable(String))", []any{"a", []byte("b"), mustDec("2.50"), nil}, []any{"a", "b", "2.50", nil}},
		{"Array(Nullable(UUID))", []any{id}, []any{id.String()}},
		{"Array(Nullable(Decimal(5, 2)))", []any{mustDec("1.5"), mustDec("999.99")}, []any{mustDec("1.5"), mustDec("999.99")}},
		{"Array(Nullable(Decimal(5, 2)))", []any{mustDec("1.555")}, nil},
		{"Array(Nullable(Decimal(5, 2)))", []any{mustDec("1000")}, nil},
		{"Array(Nullable(Date))", []any{date(2000, 1, 1)}, []any{date(2000, 1, 1)}},
		{"Array(Nullable(Date))", []any{date(1969, 12, 31)}, nil},
		{"Array(Nullable(Date32))", []any{date(1900, 1, 1)}, []any{date(1900, 1, 1)}},
		{"Array(Nullable(DateTime64(6, 'UTC')))", []any{date(2300, 1, 1)}, nil},
		{"Array(Nullable(Int64))", []any{time.Duration(1500) * time.Microsecond, date(1970, 1, 2)}, []any{int64(1500), int64(86_400_000_000)}},
	}
	for _, c := range cases {
		b, err := newBuilder(c.chType)
		if err != nil {
			t.Fatalf("newBuilder(%s): %v", c.chType, err)
		}
		err = b.add(c.in)
		got := arrayState(t, b)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: add(%v) = %v, want an error", c.chType, c.in, got)
			}
			if len(got) != 0 {
				t.Errorf("%s: add(%v) failed but appended a row", c.chType, c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: add(%v): %v", c.chType, c.in, err)
			continue
		}
		if len(got) != 1 || len(got[0]) != len(c.want) {
			t.Errorf("%s: add(%v) stored %v, want [%v]", c.chType, c.in, got, c.want)
			continue
		}
		for i := range c.want {
			if (c.want[i] == nil) != (got[0][i] == nil) || (c.want[i] != nil && !sameValue(got[0][i], c.want[i])) {
				t.Errorf("%s: add(%v) element %d = %T %v, want %T %v", c.chType, c.in, i, got[0][i], got[0][i], c.want[i], c.want[i])
			}
		}
	}
}

func TestDecimalText(t *testing.T) {
	cases := []struct {
		in   decimal.Decimal
		want string
	}{
		{mustDec("1.50"), "1.50"},
		{mustDec("1.5"), "1.5"},
		{mustDec("-0.010"), "-0.010"},
		{mustDec("0"), "0"},
		{mustDec("0.000"), "0.000"},
		{decimal.New(15, 2), "1500"},
		{decimal.New(-7, 0), "-7"},
		{mustDec("12345678901234567890.12345678901234567890"), "12345678901234567890.12345678901234567890"},
	}
	for _, c := range cases {
		if got := DecimalText(c.in); got != c.want {
			t.Errorf("DecimalText(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLiteral(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	cases := []struct {
		v      any
		chType string
		want   string // "" means an error
	}{
		{int64(-5), "Int32", "-5"},
		{uint64(math.MaxUint64), "UInt64", "18446744073709551615"},
		{true, "UInt8", "1"},
		{true, "Bool", "true"},
		{"it's\\", "String", `'it\'s\\'`},
		{[]byte("a\nb"), "String", `'a\x0ab'`},
		{id, "UUID", "toUUID('6ba7b810-9dad-11d1-80b4-00c04fd430c8')"},
		{date(2024, 1, 2), "Date", "toDate('2024-01-02')"},
		{date(1950, 1, 2), "Date32", "toDate32('1950-01-02')"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "DateTime64(6, 'UTC')", "toDateTime64('2024-01-02 03:04:05.000006', 6, 'UTC')"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "Int64", "1704164645000006"},
		{mustDec("1.5"), "Decimal(12, 2)", "CAST('1.5' AS Decimal(12, 2))"},
		{mustDec("1.505"), "Decimal(12, 2)", ""},
		{"x", "Int64", ""},
		{"x", "Array(Nullable(String))", ""},
	}
	for _, c := range cases {
		got, err := literal(c.v, c.chType)
		if c.want == "" {
			if err == nil {
				t.Errorf("literal(%v, %s) = %s, want an error", c.v, c.chType, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("literal(%v, %s) = %s, %v; want %s", c.v, c.chType, got, err, c.want)
		}
	}
}
