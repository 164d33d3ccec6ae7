package decode

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/linkedin/goavro/v2"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// This file holds the helpers of the encoding tests: sample values of every kind, and the checks
// that goavro's decoding of a record equals the row it was encoded from.

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// sampleValues returns non-NULL values of type ty, extremes included.
func sampleValues(ty change.Type) []any {
	if ty.Fallback {
		return []any{"(1,2)", ""}
	}
	switch ty.Kind {
	case change.Int8:
		return ints(math.MinInt8, math.MaxInt8, 0, -1)
	case change.Int16:
		return ints(math.MinInt16, math.MaxInt16, 0, 300)
	case change.Int32:
		return ints(math.MinInt32, math.MaxInt32, 0, -70000)
	case change.Int64:
		return ints(math.MinInt64, math.MaxInt64, 0, -1, 1<<40)
	case change.UInt8:
		return []any{uint64(0), uint64(math.MaxUint8), uint64(128)}
	case change.UInt16:
		return []any{uint64(0), uint64(math.MaxUint16)}
	case change.UInt32:
		return []any{uint64(0), uint64(math.MaxUint32), uint64(1 << 31)}
	case change.UInt64:
		return []any{uint64(0), uint64(math.MaxUint64), uint64(1 << 63), uint64(1<<63 - 1), uint64(255), uint64(128)}
	case change.Float32:
		return []any{0.5, float64(float32(0.1)), -float64(math.MaxFloat32), math.Inf(1), math.NaN(),
			float64(math.SmallestNonzeroFloat32), math.Copysign(0, -1)}
	case change.Float64:
		return []any{0.1, math.MaxFloat64, -math.SmallestNonzeroFloat64, math.Inf(-1), math.NaN(), 1e300}
	case change.Decimal:
		switch {
		case ty.Precision == 0:
			return []any{dec("1.50"), dec("-0.000001"), dec("123456789012345678901234567890.123456789"),
				decimal.New(5, 3), dec("0"), dec("0.00"), dec("-12.3400"), decimal.New(-922337203685477580, -30),
				dec("-9223372036854775808"), decimal.New(7, 40)}
		case ty.Scale < 0:
			return []any{decimal.New(123, 2), decimal.New(99999, 2), dec("-100"), dec("0")}
		case ty.Scale > ty.Precision:
			return []any{dec("0.00012"), dec("-0.00099"), dec("0"), dec("0.00010")}
		case ty.Precision > 18:
			return []any{dec("1234567890123456789012345678.0123456789"), dec("-1234567890123456789012345678.0123456789"),
				dec("-0.0000000001"), dec("9999999999999999999999999999.9999999999"), dec("3.14"), dec("-128"),
				dec("-9999999999999999999999999999.9999999999"), dec("0")}
		}
		return []any{dec("1.50"), dec("1.5"), dec("-0.01"), dec("9999999999.99"), dec("-9999999999.99"), dec("0"),
			dec("100"), decimal.New(12, 3), dec("-128"), dec("1.500"), dec("0.00"), dec("-1.28"), dec("327.67")}
	case change.String:
		return []any{"", "héllo wörld ✓", "日本語", "emoji 😀", "nul \x00 inside", strings.Repeat("long ", 40)}
	case change.JSON:
		return []any{`{"a":[1,2,{"b":null}]}`, `[]`}
	case change.Enum:
		if len(ty.Symbols) > 0 {
			return []any{ty.Symbols[0], ty.Symbols[len(ty.Symbols)-1]}
		}
		return []any{"whatever"}
	case change.Bytes:
		return []any{[]byte{}, []byte{0, 1, 2, 255}, bytes.Repeat([]byte{0xAB}, 300)}
	case change.Bool:
		return []any{true, false}
	case change.Date:
		return []any{date(1970, 1, 1), date(1969, 12, 31), date(1900, 1, 1), date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29)}
	case change.Timestamp, change.TimestampTZ:
		return []any{time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Unix(0, 0).UTC()}
	case change.Time:
		return []any{time.Duration(0), 24 * time.Hour, 12*time.Hour + 34*time.Minute + 56*time.Second + 789012*time.Microsecond,
			24*time.Hour - time.Microsecond}
	case change.UUID:
		return []any{uuid.Nil, uuid.MustParse("f47ac10b-58cc-4372-a567-0e02b2c3d479"), uuid.Max}
	case change.Array:
		elems := sampleValues(*ty.Elem)
		return []any{[]any{}, []any{elems[0], nil, elems[len(elems)-1]}, []any{nil}, append([]any(nil), elems...)}
	}
	panic("no samples for " + ty.String())
}

func ints(vs ...int64) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// sampleRows returns n rows of t: row j holds value j of each column's samples (cycling), and
// NULL in the nullable columns where (column+j)%3 == 0.
func sampleRows(t *change.Table, n int) [][]any {
	rows := make([][]any, n)
	for j := range rows {
		row := make([]any, len(t.Columns))
		for i, c := range t.Columns {
			if c.Nullable && (i+j)%3 == 0 {
				continue
			}
			vs := sampleValues(c.Type)
			row[i] = vs[j%len(vs)]
		}
		rows[j] = row
	}
	return rows
}

// checkRecord checks goavro's decoding of a record against the event it was encoded from.
func checkRecord(t testing.TB, s *TableSchema, ev *change.Event, got map[string]any) {
	t.Helper()
	row := ev.After
	if ev.Op == change.Delete {
		row = ev.Before
	}
	for _, f := range s.Fields {
		c := s.Table.Columns[f.Index]
		checkNative(t, c.Name, c.Type, !s.Table.IsKey(f.Index), row[f.Index], got[f.Name])
	}
	if want := opSymbols[ev.Op-1]; got[FieldOp] != want {
		t.Errorf("%s = %v, want %s", FieldOp, got[FieldOp], want)
	}
	if v, _ := got[FieldVersion].(int64); uint64(v) != ev.Version {
		t.Errorf("%s = %v, want %d", FieldVersion, got[FieldVersion], ev.Version)
	}
	if v, _ := got[FieldSeq].(int64); v != int64(ev.Seq) {
		t.Errorf("%s = %v, want %d", FieldSeq, got[FieldSeq], ev.Seq)
	}
	if ev.CommitTime.IsZero() {
		if got[FieldCommitTime] != nil {
			t.Errorf("%s = %v, want null", FieldCommitTime, got[FieldCommitTime])
		}
	} else if m, _ := got[FieldCommitTime].(map[string]any); m == nil || !m["long.timestamp-micros"].(time.Time).Equal(ev.CommitTime) {
		t.Errorf("%s = %v, want %v", FieldCommitTime, got[FieldCommitTime], ev.CommitTime)
	}
	if got[FieldSnapshot] != ev.Snapshot {
		t.Errorf("%s = %v, want %v", FieldSnapshot, got[FieldSnapshot], ev.Snapshot)
	}
}

// checkNative checks that goavro's native value got is exactly the canonical value want.
func checkNative(t testing.TB, where string, ty change.Type, nullable bool, want, got any) {
	t.Helper()
	if nullable {
		if want == nil {
			if got != nil {
				t.Errorf("%s: got %#v, want null", where, got)
			}
			return
		}
		m, ok := got.(map[string]any)
		if !ok || len(m) != 1 {
			t.Errorf("%s: got %#v, want a union value", where, got)
			return
		}
		for _, v := range m {
			got = v
		}
	}
	bad := func() { t.Errorf("%s (%s): got %#v (%T), want %#v", where, ty, got, got, want) }
	if ty.Fallback {
		if got != want {
			bad()
		}
		return
	}
	switch ty.Kind {
	case change.Int8, change.Int16, change.Int32:
		if g, ok := got.(int32); !ok || int64(g) != want.(int64) {
			bad()
		}
	case change.Int64:
		if got != want {
			bad()
		}
	case change.UInt8, change.UInt16:
		if g, ok := got.(int32); !ok || uint64(g) != want.(uint64) {
			bad()
		}
	case change.UInt32:
		if g, ok := got.(int64); !ok || uint64(g) != want.(uint64) {
			bad()
		}
	case change.UInt64:
		if g, ok := got.(*big.Rat); !ok || g.Cmp(new(big.Rat).SetInt(new(big.Int).SetUint64(want.(uint64)))) != 0 {
			bad()
		}
	case change.Float32:
		if g, ok := got.(float32); !ok || math.Float32bits(g) != math.Float32bits(float32(want.(float64))) {
			bad()
		}
	case change.Float64:
		if g, ok := got.(float64); !ok || math.Float64bits(g) != math.Float64bits(want.(float64)) {
			bad()
		}
	case change.Decimal:
		w := want.(decimal.Decimal)
		if ty.Precision == 0 {
			g, ok := got.(string)
			if !ok || g != decimalText(w) {
				bad()
				return
			}
			if back := dec(g); !back.Equal(w) || back.Exponent() != min(w.Exponent(), 0) {
				t.Errorf("%s: text %q reads back as %s (exponent %d), want %s (exponent %d)", where, g, back, back.Exponent(), w, w.Exponent())
			}
			return
		}
		if g, ok := got.(*big.Rat); !ok || g.Cmp(w.Rat()) != 0 {
			bad()
		}
	case change.String, change.JSON, change.Enum:
		if got != want {
			bad()
		}
	case change.Bytes:
		if g, ok := got.([]byte); !ok || !bytes.Equal(g, want.([]byte)) {
			bad()
		}
	case change.Bool:
		if got != want {
			bad()
		}
	case change.Date, change.TimestampTZ:
		if g, ok := got.(time.Time); !ok || !g.Equal(want.(time.Time)) {
			bad()
		}
	case change.Timestamp: // local-timestamp-micros: goavro gives the long
		if g, ok := got.(int64); !ok || g != want.(time.Time).UnixMicro() {
			bad()
		}
	case change.Time:
		if got != want {
			bad()
		}
	case change.UUID:
		if got != want.(uuid.UUID).String() {
			bad()
		}
	case change.Array:
		g, ok := got.([]any)
		w := want.([]any)
		if !ok || len(g) != len(w) {
			bad()
			return
		}
		for i := range w {
			checkNative(t, where+"["+string(rune('0'+i%10))+"]", *ty.Elem, true, w[i], g[i])
		}
	default:
		t.Errorf("%s: no check for %s", where, ty)
	}
}

// goavroNative builds goavro's native form of a record of s for ev, for BinaryFromNative.
func goavroNative(s *TableSchema, ev *change.Event) map[string]any {
	row := ev.After
	if ev.Op == change.Delete {
		row = ev.Before
	}
	m := make(map[string]any, len(s.Fields)+5)
	for _, f := range s.Fields {
		c := s.Table.Columns[f.Index]
		m[f.Name] = nativeOf(c.Type, !s.Table.IsKey(f.Index), row[f.Index], s.Name, f.Name)
	}
	m[FieldOp] = opSymbols[ev.Op-1]
	m[FieldVersion] = int64(ev.Version)
	m[FieldSeq] = int64(ev.Seq)
	m[FieldCommitTime] = nil
	if !ev.CommitTime.IsZero() {
		m[FieldCommitTime] = goavro.Union("long.timestamp-micros", ev.CommitTime)
	}
	m[FieldSnapshot] = ev.Snapshot
	return m
}

func nativeOf(ty change.Type, nullable bool, v any, ns, name string) any {
	if nullable {
		if v == nil {
			return nil
		}
		return goavro.Union(branchName(ty, ns, name), nativeOf(ty, false, v, ns, name))
	}
	if ty.Fallback {
		return v
	}
	switch ty.Kind {
	case change.Int8, change.Int16, change.Int32:
		return int32(v.(int64))
	case change.UInt8, change.UInt16:
		return int32(v.(uint64))
	case change.UInt32:
		return int64(v.(uint64))
	case change.UInt64:
		return new(big.Rat).SetInt(new(big.Int).SetUint64(v.(uint64)))
	case change.Float32:
		return float32(v.(float64))
	case change.Decimal:
		if ty.Precision == 0 {
			return decimalText(v.(decimal.Decimal))
		}
		return v.(decimal.Decimal).Rat()
	case change.Timestamp:
		return v.(time.Time).UnixMicro()
	case change.UUID:
		return v.(uuid.UUID).String()
	case change.Array:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, nativeOf(*ty.Elem, true, e, ns+"."+name, "element"))
		}
		return out
	}
	return v
}

// branchName is goavro's name of the non-null branch of a nullable field of type ty.
func branchName(ty change.Type, ns, name string) string {
	if ty.Fallback {
		return "string"
	}
	switch ty.Kind {
	case change.Int8, change.Int16, change.Int32, change.UInt8, change.UInt16:
		return "int"
	case change.Int64, change.UInt32, change.Timestamp: // goavro does not know local-timestamp-micros
		return "long"
	case change.UInt64:
		return "bytes.decimal"
	case change.Float32:
		return "float"
	case change.Float64:
		return "double"
	case change.Decimal:
		if ty.Precision == 0 {
			return "string"
		}
		return "bytes.decimal"
	case change.Enum:
		if enumSymbolsOK(ty.Symbols) {
			return ns + "." + name
		}
		return "string"
	case change.Bytes:
		return "bytes"
	case change.Bool:
		return "boolean"
	case change.Date:
		return "int.date"
	case change.TimestampTZ:
		return "long.timestamp-micros"
	case change.Time:
		return "long.time-micros"
	case change.Array:
		return "array"
	}
	return "string"
}
