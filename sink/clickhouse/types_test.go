package clickhouse

import (
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

var (
	caps1816 = CapabilitiesOf(Version{18, 16, 1})
	caps248  = CapabilitiesOf(Version{24, 8, 4})
)

func typ(k change.Kind) change.Type { return change.Type{Kind: k} }

func dec(p, s int) change.Type { return change.Type{Kind: change.Decimal, Precision: p, Scale: s} }

func arr(elem change.Type) change.Type { return change.Type{Kind: change.Array, Elem: &elem} }

func TestColumnType(t *testing.T) {
	cases := []struct {
		t       change.Type
		old     string // 18.16, not nullable
		cur     string // 24.8, not nullable
		oldNull string // 18.16, nullable
		curNull string // 24.8, nullable
	}{
		{typ(change.Int8), "Int8", "Int8", "Nullable(Int8)", "Nullable(Int8)"},
		{typ(change.Int16), "Int16", "Int16", "Nullable(Int16)", "Nullable(Int16)"},
		{typ(change.Int32), "Int32", "Int32", "Nullable(Int32)", "Nullable(Int32)"},
		{typ(change.Int64), "Int64", "Int64", "Nullable(Int64)", "Nullable(Int64)"},
		{typ(change.UInt8), "UInt8", "UInt8", "Nullable(UInt8)", "Nullable(UInt8)"},
		{typ(change.UInt16), "UInt16", "UInt16", "Nullable(UInt16)", "Nullable(UInt16)"},
		{typ(change.UInt32), "UInt32", "UInt32", "Nullable(UInt32)", "Nullable(UInt32)"},
		{typ(change.UInt64), "UInt64", "UInt64", "Nullable(UInt64)", "Nullable(UInt64)"},
		{typ(change.Float32), "Float32", "Float32", "Nullable(Float32)", "Nullable(Float32)"},
		{typ(change.Float64), "Float64", "Float64", "Nullable(Float64)", "Nullable(Float64)"},
		{dec(12, 2), "Decimal(12, 2)", "Decimal(12, 2)", "Nullable(Decimal(12, 2))", "Nullable(Decimal(12, 2))"},
		{dec(1, 0), "Decimal(1, 0)", "Decimal(1, 0)", "Nullable(Decimal(1, 0))", "Nullable(Decimal(1, 0))"},
		{dec(38, 38), "Decimal(38, 38)", "Decimal(38, 38)", "Nullable(Decimal(38, 38))", "Nullable(Decimal(38, 38))"},
		{dec(0, 0), "String", "String", "Nullable(String)", "Nullable(String)"},    // unconstrained numeric
		{dec(39, 2), "String", "String", "Nullable(String)", "Nullable(String)"},   // wider than Decimal128
		{dec(1000, 0), "String", "String", "Nullable(String)", "Nullable(String)"}, // numeric(1000)
		{dec(5, 6), "String", "String", "Nullable(String)", "Nullable(String)"},    // scale > precision
		{dec(5, -1), "String", "String", "Nullable(String)", "Nullable(String)"},   // negative scale
		{typ(change.String), "String", "String", "Nullable(String)", "Nullable(String)"},
		{typ(change.JSON), "String", "String", "Nullable(String)", "Nullable(String)"},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", "b"}}, "String", "String", "Nullable(String)", "Nullable(String)"},
		{typ(change.Bytes), "String", "String", "Nullable(String)", "Nullable(String)"},
		{change.Type{Kind: change.String, Fallback: true, Source: "int4range"}, "String", "String", "Nullable(String)", "Nullable(String)"},
		{typ(change.Bool), "UInt8", "Bool", "Nullable(UInt8)", "Nullable(Bool)"},
		{typ(change.Date), "Date", "Date32", "Nullable(Date)", "Nullable(Date32)"},
		{typ(change.Timestamp), "Int64", "DateTime64(6, 'UTC')", "Nullable(Int64)", "Nullable(DateTime64(6, 'UTC'))"},
		{typ(change.TimestampTZ), "Int64", "DateTime64(6, 'UTC')", "Nullable(Int64)", "Nullable(DateTime64(6, 'UTC'))"},
		{typ(change.Time), "Int64", "Int64", "Nullable(Int64)", "Nullable(Int64)"},
		{typ(change.UUID), "UUID", "UUID", "Nullable(UUID)", "Nullable(UUID)"},
		{typ(change.KindInvalid), "String", "String", "Nullable(String)", "Nullable(String)"},
		// Arrays are never Nullable (a companion column records NULL); their elements always are.
		{arr(typ(change.Int32)), "Array(Nullable(Int32))", "Array(Nullable(Int32))", "Array(Nullable(Int32))", "Array(Nullable(Int32))"},
		{arr(typ(change.String)), "Array(Nullable(String))", "Array(Nullable(String))", "Array(Nullable(String))", "Array(Nullable(String))"},
		{arr(typ(change.Bool)), "Array(Nullable(UInt8))", "Array(Nullable(Bool))", "Array(Nullable(UInt8))", "Array(Nullable(Bool))"},
		{arr(typ(change.Date)), "Array(Nullable(Date))", "Array(Nullable(Date32))", "Array(Nullable(Date))", "Array(Nullable(Date32))"},
		{arr(typ(change.TimestampTZ)), "Array(Nullable(Int64))", "Array(Nullable(DateTime64(6, 'UTC')))", "Array(Nullable(Int64))", "Array(Nullable(DateTime64(6, 'UTC')))"},
		{arr(dec(10, 3)), "Array(Nullable(Decimal(10, 3)))", "Array(Nullable(Decimal(10, 3)))", "Array(Nullable(Decimal(10, 3)))", "Array(Nullable(Decimal(10, 3)))"},
		{arr(dec(0, 0)), "Array(Nullable(String))", "Array(Nullable(String))", "Array(Nullable(String))", "Array(Nullable(String))"},
		{arr(typ(change.UUID)), "Array(Nullable(UUID))", "Array(Nullable(UUID))", "Array(Nullable(UUID))", "Array(Nullable(UUID))"},
		{arr(typ(change.Time)), "Array(Nullable(Int64))", "Array(Nullable(Int64))", "Array(Nullable(Int64))", "Array(Nullable(Int64))"},
		// Nested arrays and arrays of unknown elements are carried as text.
		{arr(arr(typ(change.Int32))), "String", "String", "String", "String"},
		{change.Type{Kind: change.Array}, "String", "String", "String", "String"},
	}
	for _, c := range cases {
		for _, v := range []struct {
			caps     Capabilities
			nullable bool
			want     string
		}{
			{caps1816, false, c.old}, {caps248, false, c.cur}, {caps1816, true, c.oldNull}, {caps248, true, c.curNull},
		} {
			if got := ColumnType(c.t, v.nullable, v.caps); got != v.want {
				t.Errorf("ColumnType(%v, nullable %v, %v) = %s, want %s", c.t, v.nullable, v.caps.Version, got, v.want)
			}
		}
	}
}

// TestColumnTypeEveryKind makes sure the table above misses no Kind: every kind maps to a type
// newBuilder accepts, on both DDL paths, nullable or not.
func TestColumnTypeEveryKind(t *testing.T) {
	for k := change.KindInvalid; k <= change.Array; k++ {
		ct := change.Type{Kind: k}
		switch k {
		case change.Decimal:
			ct = dec(18, 4)
		case change.Array:
			ct = arr(typ(change.Int16))
		}
		for _, caps := range []Capabilities{caps1816, caps248} {
			for _, nullable := range []bool{false, true} {
				chType := ColumnType(ct, nullable, caps)
				if _, err := newBuilder(chType); err != nil {
					t.Errorf("kind %v (%v, nullable %v) maps to %s: newBuilder: %v", k, caps.Version, nullable, chType, err)
				}
			}
		}
	}
}

func TestNullFlagColumn(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tags", "tags_is_null"},
		{"", "_is_null"},
		{"a`b", "a`b_is_null"},
	} {
		if got := NullFlagColumn(c.in); got != c.want {
			t.Errorf("NullFlagColumn(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWidens(t *testing.T) {
	cases := []struct {
		from, to string
		want     bool
	}{
		// Same type.
		{"Int32", "Int32", true},
		{"Nullable(Decimal(12, 2))", "Nullable(Decimal(12, 2))", true},
		// Signed integers.
		{"Int8", "Int16", true},
		{"Int8", "Int64", true},
		{"Int16", "Int32", true},
		{"Int32", "Int64", true},
		{"Int64", "Int32", false},
		{"Int16", "Int8", false},
		// Unsigned integers.
		{"UInt8", "UInt16", true},
		{"UInt32", "UInt64", true},
		{"UInt64", "UInt32", false},
		// Unsigned to signed needs a strictly wider type.
		{"UInt8", "Int16", true},
		{"UInt16", "Int32", true},
		{"UInt32", "Int64", true},
		{"UInt8", "Int8", false},
		{"UInt32", "Int32", false},
		{"UInt64", "Int64", false},
		// Signed to unsigned never.
		{"Int8", "UInt8", false},
		{"Int8", "UInt64", false},
		{"Int32", "UInt64", false},
		// Floats.
		{"Float32", "Float64", true},
		{"Float64", "Float32", false},
		{"Int32", "Float64", false},
		{"Float64", "Decimal(38, 10)", false},
		// Decimals: at least the scale and at least the integer digits.
		{"Decimal(12, 2)", "Decimal(14, 2)", true},
		{"Decimal(12, 2)", "Decimal(14, 4)", true},
		{"Decimal(12, 2)", "Decimal(13, 3)", true},
		{"Decimal(12, 2)", "Decimal(12, 3)", false}, // loses an integer digit
		{"Decimal(12, 2)", "Decimal(12, 1)", false}, // loses a fraction digit
		{"Decimal(12, 2)", "Decimal(11, 2)", false},
		{"Decimal(12, 2)", "Decimal(38, 2)", true},
		{"Decimal(10, 0)", "Decimal(11, 1)", true},
		{"Int32", "Decimal(38, 0)", false},
		// Dates.
		{"Date", "Date32", true},
		{"Date32", "Date", false},
		{"Date", "DateTime64(6, 'UTC')", false},
		// Anything scalar to String, nothing back.
		{"Int64", "String", true},
		{"UInt64", "String", true},
		{"Float64", "String", true},
		{"Decimal(12, 2)", "String", true},
		{"Date", "String", true},
		{"UUID", "String", true},
		{"String", "Int64", false},
		{"String", "UUID", false},
		// Nullable: may be added, never removed.
		{"Int32", "Nullable(Int32)", true},
		{"Int32", "Nullable(Int64)", true},
		{"Nullable(Int32)", "Nullable(Int64)", true},
		{"Nullable(Int32)", "Int64", false},
		{"Nullable(Int32)", "Int32", false},
		{"Nullable(Int64)", "Nullable(Int32)", false},
		{"Nullable(Int64)", "Nullable(String)", true},
		{"Nullable(Int64)", "String", false},
		{"Date", "Nullable(Date32)", true},
		{"Nullable(Decimal(12, 2))", "Nullable(Decimal(14, 4))", true},
		{"Nullable(Decimal(12, 2))", "Nullable(Decimal(12, 4))", false},
		// Arrays widen by element only, and never to or from a scalar.
		{"Array(Nullable(Int32))", "Array(Nullable(Int64))", true},
		{"Array(Nullable(Int64))", "Array(Nullable(Int32))", false},
		{"Array(Nullable(Date))", "Array(Nullable(Date32))", true},
		{"Array(Nullable(Int32))", "Array(Nullable(String))", true},
		{"Array(Nullable(Decimal(5, 2)))", "Array(Nullable(Decimal(7, 3)))", true},
		{"Array(Nullable(Int32))", "String", false},
		{"Array(Nullable(Int32))", "Nullable(String)", false},
		{"Int32", "Array(Nullable(Int32))", false},
		{"String", "Array(Nullable(String))", false},
		// Unrelated types.
		{"Bool", "UInt8", false},
		{"UInt8", "Bool", false},
		{"UUID", "UInt64", false},
	}
	for _, c := range cases {
		if got := Widens(c.from, c.to); got != c.want {
			t.Errorf("Widens(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
