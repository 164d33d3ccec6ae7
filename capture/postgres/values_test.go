package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// decodeCase is one value through one decoder: want is the canonical value, or wantErr a substring
// of the error.
type decodeCase struct {
	name    string
	oid     uint32
	binary  bool
	data    []byte
	want    any
	wantErr string
}

// runDecodeCases decodes each case with the decoder for its OID's builtin mapping.
func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		format := "text"
		if tc.binary {
			format = "binary"
		}
		t.Run(format+"/"+tc.name, func(t *testing.T) {
			typ := MapType(tc.oid, -1, nil)
			dec, err := NewDecoder(tc.oid, typ, tc.binary)
			if err != nil {
				t.Fatalf("NewDecoder(%d, %v, %v): %v", tc.oid, typ, tc.binary, err)
			}
			checkDecode(t, dec, tc.data, tc.want, tc.wantErr)
		})
	}
}

// checkDecode runs dec over a copy of data, checks the result, then overwrites the copy to check
// the result does not alias it.
func checkDecode(t *testing.T, dec Decoder, data []byte, want any, wantErr string) {
	t.Helper()
	buf := append([]byte(nil), data...)
	got, err := dec(buf)
	if wantErr != "" {
		if err == nil {
			t.Fatalf("decode %q = %s, want error containing %q", data, describe(got), wantErr)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("decode %q: error %q, want it to contain %q", data, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	for i := range buf {
		buf[i] = 0xAA
	}
	if !equalValue(got, want) {
		t.Fatalf("decode %q = %s, want %s", data, describe(got), describe(want))
	}
}

// equalValue compares canonical values strictly: decimals by value and exponent, times by instant
// and UTC location, floats bit for bit (NaN equals NaN), arrays element by element.
func equalValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case decimal.Decimal:
		g, ok := got.(decimal.Decimal)
		return ok && g.Equal(w) && g.Exponent() == w.Exponent()
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	case float64:
		g, ok := got.(float64)
		return ok && (math.Float64bits(g) == math.Float64bits(w) || math.IsNaN(g) && math.IsNaN(w))
	case []byte:
		g, ok := got.([]byte)
		return ok && g != nil && bytes.Equal(g, w)
	case []any:
		g, ok := got.([]any)
		if !ok || g == nil || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equalValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return got == want
}

func describe(v any) string {
	switch v := v.(type) {
	case decimal.Decimal:
		return fmt.Sprintf("decimal(%s, exp %d)", v.String(), v.Exponent())
	case time.Time:
		return fmt.Sprintf("time(%s)", v.Format("2006-01-02 15:04:05.999999999 Z07:00 MST"))
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = describe(e)
		}
		return fmt.Sprintf("[]any{%s}", strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%T(%#v)", v, v)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeIntegers(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "int2 -1", oid: pgtype.Int2OID, binary: true, data: be16(0xFFFF), want: int64(-1)},
		{name: "int2 max", oid: pgtype.Int2OID, binary: true, data: be16(0x7FFF), want: int64(32767)},
		{name: "int2 short", oid: pgtype.Int2OID, binary: true, data: []byte{1}, wantErr: "int2: binary value of 1 bytes"},
		{name: "int4 min", oid: pgtype.Int4OID, binary: true, data: be32(0x80000000), want: int64(math.MinInt32)},
		{name: "int4 42", oid: pgtype.Int4OID, binary: true, data: be32(42), want: int64(42)},
		{name: "int4 long", oid: pgtype.Int4OID, binary: true, data: be64(42), wantErr: "int4: binary value of 8 bytes, want 4"},
		{name: "int8 max", oid: pgtype.Int8OID, binary: true, data: be64(math.MaxInt64), want: int64(math.MaxInt64)},
		{name: "int8 min", oid: pgtype.Int8OID, binary: true, data: be64(1 << 63), want: int64(math.MinInt64)},
		{name: "oid max", oid: pgtype.OIDOID, binary: true, data: be32(math.MaxUint32), want: uint64(math.MaxUint32)},
		{name: "oid short", oid: pgtype.OIDOID, binary: true, data: nil, wantErr: "oid: binary value of 0 bytes"},

		{name: "int2 min", oid: pgtype.Int2OID, data: []byte("-32768"), want: int64(-32768)},
		{name: "int2 overflow", oid: pgtype.Int2OID, data: []byte("32768"), wantErr: `int2: "32768" is not a valid integer`},
		{name: "int4 plus", oid: pgtype.Int4OID, data: []byte("+17"), want: int64(17)},
		{name: "int4 zero", oid: pgtype.Int4OID, data: []byte("0"), want: int64(0)},
		{name: "int4 leading zeros", oid: pgtype.Int4OID, data: []byte("-0000000000000000000000012"), want: int64(-12)},
		{name: "int4 overflow", oid: pgtype.Int4OID, data: []byte("2147483648"), wantErr: "int4:"},
		{name: "int8 min", oid: pgtype.Int8OID, data: []byte("-9223372036854775808"), want: int64(math.MinInt64)},
		{name: "int8 max", oid: pgtype.Int8OID, data: []byte("9223372036854775807"), want: int64(math.MaxInt64)},
		{name: "int8 overflow", oid: pgtype.Int8OID, data: []byte("9223372036854775808"), wantErr: "int8:"},
		{name: "int8 20 digits", oid: pgtype.Int8OID, data: []byte("99999999999999999999"), wantErr: "int8:"},
		{name: "int8 empty", oid: pgtype.Int8OID, data: []byte(""), wantErr: "int8:"},
		{name: "int8 sign only", oid: pgtype.Int8OID, data: []byte("-"), wantErr: "int8:"},
		{name: "int8 junk", oid: pgtype.Int8OID, data: []byte("12a"), wantErr: `int8: "12a"`},
		{name: "int8 space", oid: pgtype.Int8OID, data: []byte(" 12"), wantErr: "int8:"},
		{name: "oid max", oid: pgtype.OIDOID, data: []byte("4294967295"), want: uint64(math.MaxUint32)},
		{name: "oid overflow", oid: pgtype.OIDOID, data: []byte("4294967296"), wantErr: "oid:"},
		{name: "oid negative", oid: pgtype.OIDOID, data: []byte("-1"), wantErr: "oid:"},
	})
}

func TestDecodeFloats(t *testing.T) {
	f32 := func(f float32) []byte { return be32(math.Float32bits(f)) }
	f64 := func(f float64) []byte { return be64(math.Float64bits(f)) }
	runDecodeCases(t, []decodeCase{
		{name: "float4 3.14", oid: pgtype.Float4OID, binary: true, data: f32(3.14), want: float64(float32(3.14))},
		{name: "float4 denormal", oid: pgtype.Float4OID, binary: true, data: be32(1), want: float64(math.SmallestNonzeroFloat32)},
		{name: "float4 NaN", oid: pgtype.Float4OID, binary: true, data: be32(0x7FC00000), want: math.NaN()},
		{name: "float4 -Inf", oid: pgtype.Float4OID, binary: true, data: f32(float32(math.Inf(-1))), want: math.Inf(-1)},
		{name: "float4 -0", oid: pgtype.Float4OID, binary: true, data: be32(0x80000000), want: math.Copysign(0, -1)},
		{name: "float4 short", oid: pgtype.Float4OID, binary: true, data: []byte{1, 2}, wantErr: "float4: binary value of 2 bytes"},
		{name: "float8 0.1", oid: pgtype.Float8OID, binary: true, data: f64(0.1), want: 0.1},
		{name: "float8 max", oid: pgtype.Float8OID, binary: true, data: f64(math.MaxFloat64), want: math.MaxFloat64},
		{name: "float8 +Inf", oid: pgtype.Float8OID, binary: true, data: f64(math.Inf(1)), want: math.Inf(1)},

		{name: "float4 3.14", oid: pgtype.Float4OID, data: []byte("3.14"), want: float64(float32(3.14))},
		{name: "float4 max", oid: pgtype.Float4OID, data: []byte("3.4028235e+38"), want: float64(math.MaxFloat32)},
		{name: "float4 denormal", oid: pgtype.Float4OID, data: []byte("1e-45"), want: float64(math.SmallestNonzeroFloat32)},
		{name: "float4 NaN", oid: pgtype.Float4OID, data: []byte("NaN"), want: math.NaN()},
		{name: "float4 Infinity", oid: pgtype.Float4OID, data: []byte("Infinity"), want: math.Inf(1)},
		{name: "float4 -Infinity", oid: pgtype.Float4OID, data: []byte("-Infinity"), want: math.Inf(-1)},
		{name: "float4 overflow", oid: pgtype.Float4OID, data: []byte("1e39"), wantErr: `float4: "1e39"`},
		{name: "float4 junk", oid: pgtype.Float4OID, data: []byte("x"), wantErr: "float4:"},
		{name: "float8 0.1", oid: pgtype.Float8OID, data: []byte("0.1"), want: 0.1},
		{name: "float8 max", oid: pgtype.Float8OID, data: []byte("1.7976931348623157e+308"), want: math.MaxFloat64},
		{name: "float8 min", oid: pgtype.Float8OID, data: []byte("5e-324"), want: math.SmallestNonzeroFloat64},
		{name: "float8 -0", oid: pgtype.Float8OID, data: []byte("-0"), want: math.Copysign(0, -1)},
		{name: "float8 -Infinity", oid: pgtype.Float8OID, data: []byte("-Infinity"), want: math.Inf(-1)},
		{name: "float8 NaN", oid: pgtype.Float8OID, data: []byte("NaN"), want: math.NaN()},
		{name: "float8 empty", oid: pgtype.Float8OID, data: []byte(""), wantErr: "float8:"},
	})
}

func TestDecodeStringsAndBytes(t *testing.T) {
	u := uuid.MustParse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
	runDecodeCases(t, []decodeCase{
		{name: "text", oid: pgtype.TextOID, binary: true, data: []byte("ünï ☃"), want: "ünï ☃"},
		{name: "text empty", oid: pgtype.TextOID, binary: true, data: []byte{}, want: ""},
		{name: "varchar", oid: pgtype.VarcharOID, binary: true, data: []byte("abc"), want: "abc"},
		{name: "bpchar", oid: pgtype.BPCharOID, binary: true, data: []byte("ab   "), want: "ab   "},
		{name: "name", oid: pgtype.NameOID, binary: true, data: []byte("pg_class"), want: "pg_class"},
		{name: `"char" a`, oid: pgtype.QCharOID, binary: true, data: []byte("a"), want: "a"},
		{name: `"char" zero`, oid: pgtype.QCharOID, binary: true, data: []byte{0}, want: ""},
		{name: `"char" high`, oid: pgtype.QCharOID, binary: true, data: []byte{0xE9}, want: `\351`},
		{name: `"char" long`, oid: pgtype.QCharOID, binary: true, data: []byte("ab"), wantErr: `"char": binary value of 2 bytes`},
		{name: "json", oid: pgtype.JSONOID, binary: true, data: []byte(`{"a": 1}`), want: `{"a": 1}`},
		{name: "jsonb", oid: pgtype.JSONBOID, binary: true, data: []byte("\x01{\"a\": 1}"), want: `{"a": 1}`},
		{name: "jsonb version 2", oid: pgtype.JSONBOID, binary: true, data: []byte("\x02{}"), wantErr: "jsonb: unsupported binary format version 2"},
		{name: "jsonb empty", oid: pgtype.JSONBOID, binary: true, data: []byte{}, wantErr: "jsonb: empty"},
		{name: "bytea", oid: pgtype.ByteaOID, binary: true, data: []byte{0, 0xFF, '\\'}, want: []byte{0, 0xFF, '\\'}},
		{name: "bytea empty", oid: pgtype.ByteaOID, binary: true, data: []byte{}, want: []byte{}},
		{name: "bool true", oid: pgtype.BoolOID, binary: true, data: []byte{1}, want: true},
		{name: "bool false", oid: pgtype.BoolOID, binary: true, data: []byte{0}, want: false},
		{name: "bool 2", oid: pgtype.BoolOID, binary: true, data: []byte{2}, wantErr: "bool: binary value 02"},
		{name: "uuid", oid: pgtype.UUIDOID, binary: true, data: u[:], want: u},
		{name: "uuid short", oid: pgtype.UUIDOID, binary: true, data: u[:15], wantErr: "uuid: binary value of 15 bytes"},

		{name: "text", oid: pgtype.TextOID, data: []byte(`a "b" \c`), want: `a "b" \c`},
		{name: `"char" high`, oid: pgtype.QCharOID, data: []byte(`\351`), want: `\351`},
		{name: "jsonb", oid: pgtype.JSONBOID, data: []byte(`{"a": 1}`), want: `{"a": 1}`},
		{name: "bytea hex", oid: pgtype.ByteaOID, data: []byte(`\x00ff5C`), want: []byte{0, 0xFF, '\\'}},
		{name: "bytea hex empty", oid: pgtype.ByteaOID, data: []byte(`\x`), want: []byte{}},
		{name: "bytea hex odd", oid: pgtype.ByteaOID, data: []byte(`\x0`), wantErr: "bytea: hex value"},
		{name: "bytea hex junk", oid: pgtype.ByteaOID, data: []byte(`\xzz`), wantErr: "bytea: hex value"},
		{name: "bytea escape", oid: pgtype.ByteaOID, data: []byte(`abc\\def\001\377 `), want: []byte("abc\\def\x01\xff ")},
		{name: "bytea escape empty", oid: pgtype.ByteaOID, data: []byte{}, want: []byte{}},
		{name: "bytea escape bad", oid: pgtype.ByteaOID, data: []byte(`a\9`), wantErr: "bytea:"},
		{name: "bytea escape 400", oid: pgtype.ByteaOID, data: []byte(`\400`), wantErr: "bytea:"},
		{name: "bytea escape trailing", oid: pgtype.ByteaOID, data: []byte(`a\`), wantErr: "bytea:"},
		{name: "bytea escape short octal", oid: pgtype.ByteaOID, data: []byte(`\01`), wantErr: "bytea:"},
		{name: "bool t", oid: pgtype.BoolOID, data: []byte("t"), want: true},
		{name: "bool f", oid: pgtype.BoolOID, data: []byte("f"), want: false},
		{name: "bool x", oid: pgtype.BoolOID, data: []byte("x"), wantErr: `bool: "x"`},
		{name: "uuid", oid: pgtype.UUIDOID, data: []byte(u.String()), want: u},
		{name: "uuid bad", oid: pgtype.UUIDOID, data: []byte("a0eebc99"), wantErr: `uuid: "a0eebc99"`},
	})
}

func TestDecodeCatalogTypes(t *testing.T) {
	lookup := fakeCatalog()
	cases := []struct {
		oid     uint32
		binary  bool
		data    []byte
		want    any
		wantErr string
	}{
		{oid: 90001, binary: true, data: []byte("happy"), want: "happy"},                           // enum
		{oid: 90001, data: []byte("happy"), want: "happy"},                                         // enum
		{oid: 90003, binary: true, data: cat(be32(5)), want: int64(5)},                             // domain over int4
		{oid: 90006, binary: true, data: []byte("\x01[1]"), want: "[1]"},                           // domain over jsonb
		{oid: 90006, binary: true, data: []byte("[1]"), want: "[1]"},                               // a json domain sends text
		{oid: 90002, binary: true, data: binArray(0, []byte("sad"), nil), want: []any{"sad", nil}}, // mood[]
		{oid: 90002, data: []byte("{sad,NULL}"), want: []any{"sad", nil}},
	}
	for _, tc := range cases {
		typ := MapType(tc.oid, -1, lookup)
		dec, err := NewDecoder(tc.oid, typ, tc.binary)
		if err != nil {
			t.Fatalf("NewDecoder(%d, %v): %v", tc.oid, typ, err)
		}
		checkDecode(t, dec, tc.data, tc.want, tc.wantErr)
	}
}

func TestFallbackDecoders(t *testing.T) {
	for _, oid := range []uint32{pgtype.IntervalOID, pgtype.InetOID, pgtype.IntervalArrayOID, 424242} {
		typ := MapType(oid, -1, nil)
		if !typ.Fallback {
			t.Fatalf("MapType(%d) = %+v, want a fallback", oid, typ)
		}
		_, err := NewDecoder(oid, typ, true)
		var ub *UnsupportedBinaryError
		if !errors.As(err, &ub) || ub.OID != oid || ub.Type != typ.Source {
			t.Fatalf("NewDecoder(%d, binary) error = %v, want *UnsupportedBinaryError for %s", oid, err, typ.Source)
		}
		if !strings.Contains(err.Error(), typ.Source) {
			t.Errorf("error %q does not name the type %s", err, typ.Source)
		}
		if HasBinaryDecoder(oid, typ) {
			t.Errorf("HasBinaryDecoder(%d) = true", oid)
		}
		dec, err := NewDecoder(oid, typ, false)
		if err != nil {
			t.Fatalf("NewDecoder(%d, text): %v", oid, err)
		}
		checkDecode(t, dec, []byte("1 day 02:00:00"), "1 day 02:00:00", "")
	}
	// An array whose element type has no binary decoder is reported as the array type.
	arr := change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.String, Fallback: true, Source: "interval"}, Source: "interval[]"}
	var ub *UnsupportedBinaryError
	if _, err := NewDecoder(pgtype.IntervalArrayOID, arr, true); !errors.As(err, &ub) || ub.Type != "interval[]" {
		t.Fatalf("array of fallback: error %v, want *UnsupportedBinaryError for interval[]", err)
	}
	for _, oid := range []uint32{pgtype.Int4OID, pgtype.NumericArrayOID, pgtype.JSONBOID, pgtype.TimestamptzOID} {
		if !HasBinaryDecoder(oid, MapType(oid, -1, nil)) {
			t.Errorf("HasBinaryDecoder(%d) = false", oid)
		}
	}
	if _, err := NewDecoder(0, change.Type{Kind: change.Int8}, true); err == nil {
		t.Errorf("NewDecoder for cdcd kind int8 succeeded; no PostgreSQL type maps to it")
	}
	if _, err := NewDecoder(0, change.Type{Kind: change.Array}, false); err == nil {
		t.Errorf("NewDecoder for an array without element type succeeded")
	}
}

func TestNotFiniteError(t *testing.T) {
	dec, _ := NewDecoder(pgtype.NumericOID, MapType(pgtype.NumericOID, -1, nil), false)
	_, err := dec([]byte("NaN"))
	var nf *NotFiniteError
	if !errors.As(err, &nf) || nf.Type != "numeric" || nf.Value != "NaN" {
		t.Fatalf("numeric NaN: error %v, want *NotFiniteError", err)
	}
	if got := err.Error(); got != "numeric: value is NaN, which cannot be an exact decimal" {
		t.Errorf("error text %q", got)
	}
	dec, _ = NewDecoder(pgtype.TimestampOID, MapType(pgtype.TimestampOID, -1, nil), true)
	_, err = dec(be64(math.MaxInt64))
	if !errors.As(err, &nf) || err.Error() != "timestamp: value is infinity, which cannot be represented as a time" {
		t.Fatalf("timestamp infinity: error %v", err)
	}
}

// TestDecoderAllocations checks the hot-path decoders allocate only their result.
func TestDecoderAllocations(t *testing.T) {
	cases := []struct {
		oid    uint32
		binary bool
		data   []byte
		max    float64
	}{
		{pgtype.Int8OID, true, be64(123456789), 1},
		{pgtype.Int8OID, false, []byte("123456789"), 1},
		{pgtype.Float8OID, false, []byte("3.141592653589793"), 1},
		{pgtype.TimestamptzOID, true, be64(1234567890123), 1},
		{pgtype.TimestamptzOID, false, []byte("2024-03-10 02:30:00.123456+00"), 1},
		{pgtype.DateOID, false, []byte("2024-03-10"), 1},
		{pgtype.TextOID, true, []byte("hello world"), 2},
		{pgtype.UUIDOID, true, bytes.Repeat([]byte{7}, 16), 1},
		// decimal.New allocates a big.Int and its word slice; boxing the Decimal is the third.
		{pgtype.NumericOID, true, encodeNumeric("-12345.6789"), 3},
		{pgtype.NumericOID, false, []byte("-12345.6789"), 3},
	}
	for _, tc := range cases {
		dec, err := NewDecoder(tc.oid, MapType(tc.oid, -1, nil), tc.binary)
		if err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(200, func() {
			if _, err := dec(tc.data); err != nil {
				t.Fatal(err)
			}
		})
		if n > tc.max {
			t.Errorf("decoder for oid %d (binary %v) on %q: %v allocations, want at most %v", tc.oid, tc.binary, tc.data, n, tc.max)
		}
	}
}

func BenchmarkDecoders(b *testing.B) {
	cases := []struct {
		name   string
		oid    uint32
		binary bool
		data   []byte
	}{
		{"int8/binary", pgtype.Int8OID, true, be64(123456789)},
		{"int8/text", pgtype.Int8OID, false, []byte("123456789")},
		{"numeric/binary", pgtype.NumericOID, true, encodeNumeric("-12345.6789")},
		{"numeric/text", pgtype.NumericOID, false, []byte("-12345.6789")},
		{"numeric-big/binary", pgtype.NumericOID, true, encodeNumeric("123456789012345678901234567890.123456789")},
		{"timestamptz/binary", pgtype.TimestamptzOID, true, be64(1234567890123)},
		{"timestamptz/text", pgtype.TimestamptzOID, false, []byte("2024-03-10 02:30:00.123456+00")},
		{"float8/text", pgtype.Float8OID, false, []byte("3.141592653589793")},
		{"text/binary", pgtype.TextOID, true, []byte("hello world")},
		{"int4[]/text", pgtype.Int4ArrayOID, false, []byte("{1,2,3,NULL,5}")},
	}
	for _, tc := range cases {
		dec, err := NewDecoder(tc.oid, MapType(tc.oid, -1, nil), tc.binary)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec(tc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
