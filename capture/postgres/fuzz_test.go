package postgres

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// FuzzBinaryNumeric checks the binary numeric decoder never panics and, when it succeeds, returns
// the value the digits denote (computed naively) with an exponent of at most -dscale.
func FuzzBinaryNumeric(f *testing.F) {
	for _, s := range []string{"0", "1.50", "-0.0001", "123456789012345678901234567890.123456789", "99999999999999999999"} {
		f.Add(encodeNumeric(s))
	}
	f.Add(numericFrame(0, 0, numericNaN, 0))
	f.Add(numericFrame(2, 0, numericPos, 1, 1, 2345))
	f.Add(numericFrame(1, 32767, numericPos, 0x3FFF, 9999))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeBinaryNumeric(data)
		if err != nil {
			return
		}
		got := v.(decimal.Decimal)
		ndigits := int(int16(binary.BigEndian.Uint16(data)))
		weight := int(int16(binary.BigEndian.Uint16(data[2:])))
		dscale := int(binary.BigEndian.Uint16(data[6:]))
		if got.Exponent() > int32(-dscale) {
			t.Fatalf("exponent %d > -dscale %d", got.Exponent(), -dscale)
		}
		if ndigits > 40 || weight > 100 || weight < -100 {
			return // keep the naive reference cheap
		}
		want := decimal.New(0, 0)
		for i := 0; i < ndigits; i++ {
			d := int64(binary.BigEndian.Uint16(data[8+2*i:]))
			want = want.Add(decimal.New(d, int32((weight-i)*4)))
		}
		if binary.BigEndian.Uint16(data[4:]) == numericNeg {
			want = want.Neg()
		}
		if !got.Equal(want) {
			t.Fatalf("decoded %s, digits denote %s", got, want)
		}
	})
}

// FuzzTextNumeric checks the text numeric decoder (fast path included) agrees with
// decimal.NewFromString on every plain number, scale included.
func FuzzTextNumeric(f *testing.F) {
	for _, s := range []string{"0", "1.50", "-0.000001", "999999999999999999", "1234567890123456789.5", "NaN", "1e5", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeTextNumeric([]byte(s))
		if !plainNumber([]byte(s)) {
			if err == nil {
				t.Fatalf("%q decoded to %v, want an error", s, v)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, err := decimal.NewFromString(s)
		if err != nil {
			return // decimal's parser is stricter on some forms ("+.5")
		}
		if got := v.(decimal.Decimal); !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Fatalf("%q: got %s (exp %d), want %s (exp %d)", s, got, got.Exponent(), want, want.Exponent())
		}
	})
}

// quoteArray writes elements the way array_out does when quoting everything: a round trip
// through decodeTextArray must give them back.
func quoteArray(elems []any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if e == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		for _, c := range []byte(e.(string)) {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// FuzzTextArray checks the text array parser never panics and that what it parses survives a
// round trip through array_out's quoting.
func FuzzTextArray(f *testing.F) {
	for _, s := range []string{`{}`, `{1,2,NULL}`, `{"a b","quo\"te","back\\slash",NULL,""}`, `{a\,b, c }`,
		`[0:1]={a,b}`, `{{1,2},{3,4}}`, `{"a}`, `{a\`, ` { x } `} {
		f.Add([]byte(s))
	}
	ints, _ := NewDecoder(pgtype.Int4ArrayOID, MapType(pgtype.Int4ArrayOID, -1, nil), false)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ints(data)
		v, err := decodeTextArray(data, decodeString)
		if err != nil {
			return
		}
		elems := v.([]any)
		again, err := decodeTextArray(quoteArray(elems), decodeString)
		if err != nil {
			t.Fatalf("%q parsed to %q, whose quoted form %q fails: %v", data, elems, quoteArray(elems), err)
		}
		if !equalValue(again, v) {
			t.Fatalf("%q parsed to %q, round trip gave %q", data, elems, again)
		}
	})
}

// FuzzBinaryArray checks the binary array decoder never panics and round-trips what it decodes.
func FuzzBinaryArray(f *testing.F) {
	f.Add(binArray(pgtype.TextOID, []byte("a"), nil, []byte{}))
	f.Add(binArray(pgtype.Int4OID, be32(1), be32(2)))
	f.Add(cat(be32(0), be32(0), be32(23)))
	f.Add(cat(be32(2), be32(0), be32(23), be32(1), be32(1), be32(1), be32(1), be32(4), be32(1)))
	ints, _ := NewDecoder(pgtype.Int4ArrayOID, MapType(pgtype.Int4ArrayOID, -1, nil), true)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ints(data)
		v, err := decodeBinaryArray(data, decodeString)
		if err != nil {
			return
		}
		var elems [][]byte
		for _, e := range v.([]any) {
			if e == nil {
				elems = append(elems, nil)
			} else {
				elems = append(elems, []byte(e.(string)))
			}
		}
		if len(elems) == 0 {
			return
		}
		again, err := decodeBinaryArray(binArray(25, elems...), decodeString)
		if err != nil || !equalValue(again, v) {
			t.Fatalf("round trip of %s gave %s, %v", describe(v), describe(again), err)
		}
	})
}

// FuzzCopyReader checks the COPY parser never panics and that a stream it reads to the end
// re-encodes to the same tuples.
func FuzzCopyReader(f *testing.F) {
	f.Add(copyStream([][]byte{be32(1), []byte("hello"), nil}, [][]byte{}))
	f.Add(copyStream())
	f.Add(cat([]byte(copySignature), be32(0), be32(3), []byte("abc"), copyTuple(nil), be16(0xFFFF)))
	f.Add(cat([]byte(copySignature), be32(0), be32(0), be16(1), be32(0x7FFFFFFF)))
	f.Add([]byte("PGCOPY\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readAll(NewCopyReader(bytes.NewReader(data)))
		if err != io.EOF {
			return
		}
		again, err := readAll(NewCopyReader(bytes.NewReader(copyStream(rows...))))
		if err != io.EOF || !equalRows(again, rows) {
			t.Fatalf("re-encoded stream: %v, %d tuples, want %d", err, len(again), len(rows))
		}
	})
}

// formatISO writes t the way PostgreSQL does with DateStyle=ISO: at least four year digits, a
// fraction only when non-zero, the offset +00 for timestamptz, " BC" for years before 1.
func formatISO(t time.Time, tz bool) string {
	y, bc := t.Year(), ""
	if y <= 0 {
		y, bc = 1-y, " BC"
	}
	s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
	if us := t.Nanosecond() / 1000; us != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
	}
	if tz {
		s += "+00"
	}
	return s + bc
}

// FuzzTextTimestamp checks the date and time parsers never panic and that a parsed timestamp is
// UTC, microsecond-precise, and formats back to a form that parses to the same instant.
func FuzzTextTimestamp(f *testing.F) {
	for _, s := range []string{"2024-03-10 02:30:00.123456", "2024-03-10 02:30:00.123456+05:30:15",
		"0044-03-15 10:00:00+00 BC", "12345-01-01 00:00:00", "infinity", "2024-02-29", "24:00:00", "0001-02-29 BC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeTextDate([]byte(s))
		_, _ = decodeTextTime([]byte(s))
		for _, tz := range []bool{false, true} {
			v, err := textTimestamp([]byte(s), "timestamp", tz)
			if err != nil {
				continue
			}
			ts := v.(time.Time)
			if ts.Location() != time.UTC || ts.Nanosecond()%1000 != 0 {
				t.Fatalf("%q: %v is not UTC with microseconds", s, ts)
			}
			if ts.Year() > 9999999 || ts.Year() < -9999999 {
				continue
			}
			again, err := textTimestamp([]byte(formatISO(ts, tz)), "timestamp", tz)
			if err != nil || !again.(time.Time).Equal(ts) {
				t.Fatalf("%q: parsed %v, formatted %q, parsed again %v, %v", s, ts, formatISO(ts, tz), again, err)
			}
		}
	})
}

// FuzzTextBytea checks the bytea parser never panics and that hex output round-trips.
func FuzzTextBytea(f *testing.F) {
	for _, s := range []string{`\x00ff`, `\x`, `abc\\def\001`, `\400`, `a\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeTextBytea([]byte(s))
		if err != nil {
			return
		}
		again, err := decodeTextBytea([]byte(`\x` + hex.EncodeToString(v.([]byte))))
		if err != nil || !equalValue(again, v) {
			t.Fatalf("%q: decoded %x, hex round trip %v, %v", s, v, again, err)
		}
	})
}

// fuzzOIDs are the types FuzzDecoders picks from.
var fuzzOIDs = []uint32{
	pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID, pgtype.NumericOID, pgtype.Float4OID,
	pgtype.Float8OID, pgtype.TextOID, pgtype.QCharOID, pgtype.BoolOID, pgtype.DateOID, pgtype.TimestampOID,
	pgtype.TimestamptzOID, pgtype.TimeOID, pgtype.UUIDOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.ByteaOID,
	pgtype.Int4ArrayOID, pgtype.NumericArrayOID, pgtype.TextArrayOID, pgtype.ByteaArrayOID,
	pgtype.TimestamptzArrayOID, pgtype.JSONBArrayOID, pgtype.IntervalOID,
}

// FuzzDecoders runs every decoder, binary and text, over arbitrary bytes: none may panic, and a
// successful decode must not alias its input.
func FuzzDecoders(f *testing.F) {
	f.Add(uint8(0), true, be16(1))
	f.Add(uint8(4), false, []byte("1.50"))
	f.Add(uint8(12), false, []byte("2024-03-10 02:30:00+00"))
	f.Add(uint8(19), true, binArray(pgtype.NumericOID, encodeNumeric("1.5")))
	f.Add(uint8(17), false, []byte(`\x00ff`))
	f.Fuzz(func(t *testing.T, which uint8, bin bool, data []byte) {
		oid := fuzzOIDs[int(which)%len(fuzzOIDs)]
		dec, err := NewDecoder(oid, MapType(oid, -1, nil), bin)
		if err != nil {
			return
		}
		buf := append([]byte(nil), data...)
		v, err := dec(buf)
		if err != nil {
			return
		}
		before := describe(v)
		for i := range buf {
			buf[i] ^= 0xFF
		}
		if after := describe(v); after != before {
			t.Fatalf("oid %d: decoded value changed with its input: %s, then %s", oid, before, after)
		}
	})
}
