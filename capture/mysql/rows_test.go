package mysql

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// typeCase is one column of the decoder table: its table-map entry, the values it is given (binlog
// encoded) and the canonical values cdcd must decode.
type typeCase struct {
	col  tcol
	kind change.Kind
	enc  [][]byte
	want []any
}

func typeCases() []typeCase {
	d := decimal.RequireFromString
	dt := func(s string) time.Time {
		v, err := parseDateTimeText(s)
		if err != nil {
			panic(err)
		}
		return v
	}
	us := func(s string) time.Duration {
		v, err := parseTimeText(s)
		if err != nil {
			panic(err)
		}
		return v
	}
	num := func(name string, typ byte, unsigned bool, meta ...byte) tcol {
		return tcol{name: name, typ: typ, meta: meta, unsigned: unsigned, numeric: true}
	}
	str := func(name string, typ byte, charset uint64, meta ...byte) tcol {
		return tcol{name: name, typ: typ, meta: meta, charset: charset}
	}
	return []typeCase{
		{num("ti", gomysql.MYSQL_TYPE_TINY, false), change.Int8, [][]byte{{0x80}, {0x7f}}, []any{int64(-128), int64(127)}},
		{num("tiu", gomysql.MYSQL_TYPE_TINY, true), change.UInt8, [][]byte{{0xff}, {0}}, []any{uint64(255), uint64(0)}},
		{num("si", gomysql.MYSQL_TYPE_SHORT, false), change.Int16, [][]byte{le(0x8000, 2), le(1, 2)}, []any{int64(-32768), int64(1)}},
		{num("mi", gomysql.MYSQL_TYPE_INT24, false), change.Int32, [][]byte{le(0x800000, 3), le(0x7fffff, 3)}, []any{int64(-8388608), int64(8388607)}},
		{num("miu", gomysql.MYSQL_TYPE_INT24, true), change.UInt32, [][]byte{le(0xffffff, 3), le(5, 3)}, []any{uint64(16777215), uint64(5)}},
		{num("i", gomysql.MYSQL_TYPE_LONG, false), change.Int32, [][]byte{le(0x80000000, 4), le(0x7fffffff, 4)}, []any{int64(math.MinInt32), int64(math.MaxInt32)}},
		{num("iu", gomysql.MYSQL_TYPE_LONG, true), change.UInt32, [][]byte{le(math.MaxUint32, 4), le(0, 4)}, []any{uint64(math.MaxUint32), uint64(0)}},
		{num("bi", gomysql.MYSQL_TYPE_LONGLONG, false), change.Int64, [][]byte{le(1<<63, 8), le(math.MaxInt64, 8)}, []any{int64(math.MinInt64), int64(math.MaxInt64)}},
		{num("biu", gomysql.MYSQL_TYPE_LONGLONG, true), change.UInt64, [][]byte{le(math.MaxUint64, 8), le(1<<63, 8)}, []any{uint64(math.MaxUint64), uint64(1 << 63)}},
		{num("d1", gomysql.MYSQL_TYPE_NEWDECIMAL, false, 12, 2), change.Decimal, [][]byte{encDecimal("-9999999999.99", 12, 2), encDecimal("1.50", 12, 2)},
			[]any{d("-9999999999.99"), decimal.New(150, -2)}},
		{num("d2", gomysql.MYSQL_TYPE_NEWDECIMAL, false, 65, 30), change.Decimal,
			[][]byte{encDecimal("-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30), encDecimal("0.000000000000000000000000000001", 65, 30)},
			[]any{d("-99999999999999999999999999999999999.999999999999999999999999999999"), d("0.000000000000000000000000000001")}},
		{num("d3", gomysql.MYSQL_TYPE_NEWDECIMAL, false, 18, 0), change.Decimal, [][]byte{encDecimal("999999999999999999", 18, 0), encDecimal("-0", 18, 0)},
			[]any{d("999999999999999999"), decimal.New(0, 0)}},
		{num("d4", gomysql.MYSQL_TYPE_NEWDECIMAL, false, 19, 9), change.Decimal, [][]byte{encDecimal("-1234567890.123456789", 19, 9), encDecimal("0.000000001", 19, 9)},
			[]any{d("-1234567890.123456789"), d("0.000000001")}},
		{num("f", gomysql.MYSQL_TYPE_FLOAT, false, 4), change.Float32, [][]byte{encFloat(123456.79), encFloat(-1.5)}, []any{float64(float32(123456.79)), -1.5}},
		{num("db", gomysql.MYSQL_TYPE_DOUBLE, false, 8), change.Float64, [][]byte{encDouble(0.1), encDouble(-math.MaxFloat64)}, []any{0.1, -math.MaxFloat64}},
		{tcol{name: "b1", typ: gomysql.MYSQL_TYPE_BIT, meta: []byte{1, 0}}, change.UInt64, [][]byte{{1}, {0}}, []any{uint64(1), uint64(0)}},
		{tcol{name: "b10", typ: gomysql.MYSQL_TYPE_BIT, meta: []byte{2, 1}}, change.UInt64, [][]byte{be(0x2aa, 2), be(1, 2)}, []any{uint64(0x2aa), uint64(1)}},
		{tcol{name: "b64", typ: gomysql.MYSQL_TYPE_BIT, meta: []byte{0, 8}}, change.UInt64, [][]byte{be(math.MaxUint64, 8), be(2, 8)}, []any{uint64(math.MaxUint64), uint64(2)}},
		{tcol{name: "y", typ: gomysql.MYSQL_TYPE_YEAR}, change.UInt16, [][]byte{{255}, {0}}, []any{uint64(2155), uint64(0)}},
		{tcol{name: "dt", typ: gomysql.MYSQL_TYPE_DATE}, change.Date, [][]byte{encDate(2024, 2, 29), encDate(1000, 1, 1)}, []any{dt("2024-02-29"), dt("1000-01-01")}},
		{tcol{name: "dtm6", typ: gomysql.MYSQL_TYPE_DATETIME2, meta: []byte{6}}, change.Timestamp,
			[][]byte{encDatetime2(2024, 3, 10, 2, 30, 0, 123456, 6), encDatetime2(9999, 12, 31, 23, 59, 59, 999999, 6)},
			[]any{dt("2024-03-10 02:30:00.123456"), dt("9999-12-31 23:59:59.999999")}},
		{tcol{name: "dtm2", typ: gomysql.MYSQL_TYPE_DATETIME2, meta: []byte{2}}, change.Timestamp,
			[][]byte{encDatetime2(2000, 1, 1, 0, 0, 0, 990000, 2), encDatetime2(1970, 1, 1, 0, 0, 0, 0, 2)},
			[]any{dt("2000-01-01 00:00:00.99"), dt("1970-01-01 00:00:00")}},
		{tcol{name: "dtm3", typ: gomysql.MYSQL_TYPE_DATETIME2, meta: []byte{3}}, change.Timestamp,
			[][]byte{encDatetime2(2024, 11, 3, 1, 30, 0, 500000, 3), encDatetime2(1001, 6, 15, 12, 0, 0, 1000, 3)},
			[]any{dt("2024-11-03 01:30:00.5"), dt("1001-06-15 12:00:00.001")}},
		{tcol{name: "ts6", typ: gomysql.MYSQL_TYPE_TIMESTAMP2, meta: []byte{6}}, change.TimestampTZ,
			[][]byte{encTimestamp2(1710053999, 999999, 6), encTimestamp2(1, 0, 6)},
			[]any{time.Unix(1710053999, 999999000).UTC(), time.Unix(1, 0).UTC()}},
		{tcol{name: "ts0", typ: gomysql.MYSQL_TYPE_TIMESTAMP2, meta: []byte{0}}, change.TimestampTZ,
			[][]byte{encTimestamp2(2147483647, 0, 0), encTimestamp2(1000000000, 0, 0)},
			[]any{time.Unix(2147483647, 0).UTC(), time.Unix(1000000000, 0).UTC()}},
		{tcol{name: "tm6", typ: gomysql.MYSQL_TYPE_TIME2, meta: []byte{6}}, change.Time,
			[][]byte{encTime2(-(838*3600+59*60+59)*1e6, 6), encTime2(-1, 6)}, []any{us("-838:59:59"), -time.Microsecond}},
		{tcol{name: "tm0", typ: gomysql.MYSQL_TYPE_TIME2, meta: []byte{0}}, change.Time,
			[][]byte{encTime2(838*3600e6+59*60e6+59e6, 0), encTime2(-3600e6, 0)}, []any{us("838:59:59"), -time.Hour}},
		{tcol{name: "tm2", typ: gomysql.MYSQL_TYPE_TIME2, meta: []byte{2}}, change.Time,
			[][]byte{encTime2(-(3600e6 + 10000), 2), encTime2(45296780000, 2)}, []any{-(time.Hour + 10*time.Millisecond), us("12:34:56.78")}},
		{tcol{name: "tm4", typ: gomysql.MYSQL_TYPE_TIME2, meta: []byte{4}}, change.Time,
			[][]byte{encTime2(-1500000, 4), encTime2(-100, 4)}, []any{-1500 * time.Millisecond, -100 * time.Microsecond}},
		{str("c", gomysql.MYSQL_TYPE_STRING, 224, gomysql.MYSQL_TYPE_STRING, 20), change.String, [][]byte{withPrefix(1, []byte("ab")), withPrefix(1, nil)}, []any{"ab", ""}},
		{str("bn", gomysql.MYSQL_TYPE_STRING, 63, gomysql.MYSQL_TYPE_STRING, 4), change.Bytes, [][]byte{withPrefix(1, []byte{1, 2}), withPrefix(1, []byte{1, 2, 3, 4})},
			[]any{[]byte{1, 2, 0, 0}, []byte{1, 2, 3, 4}}},
		{str("cl", gomysql.MYSQL_TYPE_STRING, 224, 0xee, 0x00), change.String, [][]byte{withPrefix(2, []byte("long char")), withPrefix(2, nil)}, []any{"long char", ""}}, // CHAR(200) utf8mb4: 800 bytes
		{str("vc", gomysql.MYSQL_TYPE_VARCHAR, 224, 0x2c, 0x01), change.String, [][]byte{withPrefix(2, []byte("h\u00e9llo \U0001F600")), withPrefix(2, nil)},
			[]any{"h\u00e9llo \U0001F600", ""}},
		{str("vs", gomysql.MYSQL_TYPE_VARCHAR, 45, 10, 0), change.String, [][]byte{withPrefix(1, []byte("short")), withPrefix(1, []byte("x"))}, []any{"short", "x"}},
		{str("vb", gomysql.MYSQL_TYPE_VARCHAR, 63, 10, 0), change.Bytes, [][]byte{withPrefix(1, []byte{0, 0xff}), withPrefix(1, nil)}, []any{[]byte{0, 0xff}, []byte{}}},
		{str("l1", gomysql.MYSQL_TYPE_VARCHAR, 8, 20, 0), change.String, [][]byte{withPrefix(1, []byte("caf\xe9 \x80")), withPrefix(1, []byte("plain"))}, []any{"caf\u00e9 \u20ac", "plain"}},
		{str("tx", gomysql.MYSQL_TYPE_BLOB, 224, 2), change.String, [][]byte{withPrefix(2, []byte("text")), withPrefix(2, nil)}, []any{"text", ""}},
		{str("lb", gomysql.MYSQL_TYPE_BLOB, 63, 4), change.Bytes, [][]byte{withPrefix(4, []byte{0xde, 0xad}), withPrefix(4, nil)}, []any{[]byte{0xde, 0xad}, []byte{}}},
		{tcol{name: "e", typ: gomysql.MYSQL_TYPE_STRING, meta: []byte{gomysql.MYSQL_TYPE_ENUM, 1}, enum: []string{"a", "b c", "d'q"}}, change.String,
			[][]byte{{3}, {0}}, []any{"d'q", ""}},
		{tcol{name: "st", typ: gomysql.MYSQL_TYPE_STRING, meta: []byte{gomysql.MYSQL_TYPE_SET, 1}, set: []string{"x", "y", "z"}}, change.String,
			[][]byte{{5}, {0}}, []any{"x,z", ""}},
		{tcol{name: "j", typ: gomysql.MYSQL_TYPE_JSON, meta: []byte{4}}, change.JSON,
			[][]byte{withPrefix(4, jsonDoc()), withPrefix(4, []byte{jsonLiteral, 0})},
			[]any{`{"a": [1, -2, 3.5, "x\"y", true, null], "bb": {"k": 18446744073709551615}}`, "null"}},
	}
}

// jsonDoc is {"a": [1, -2, 3.5, "x\"y", true, null], "bb": {"k": 18446744073709551615}} in MySQL's
// binary JSON (small object and array).
func jsonDoc() []byte {
	arr := []byte{6, 0} // count 6
	// header: count(2) size(2) + 6 value entries of 3 bytes = 22; then the double and the string
	entries := []byte{
		jsonInt16, 1, 0,
		jsonInt16, 0xfe, 0xff,
		jsonDouble, 22, 0,
		jsonString, 30, 0,
		jsonLiteral, 1, 0,
		jsonLiteral, 0, 0,
	}
	body := append(encDouble(3.5), append([]byte{3}, `x"y`...)...)
	size := 4 + len(entries) + len(body)
	arr = append(arr, byte(size), 0)
	arr = append(append(arr, entries...), body...)

	inner := []byte{1, 0, 0, 0}                   // object of one: count, size (filled below)
	inner = append(inner, 4+4+3, 0, 1, 0)         // key entry: offset 11, length 1
	inner = append(inner, jsonUint64, 4+4+3+1, 0) // value entry: offset 12
	inner = append(inner, 'k')
	inner = append(inner, le(math.MaxUint64, 8)...)
	inner[2] = byte(len(inner))

	// outer object: count 2, size, key entries (4 bytes each), value entries (3 each), keys, values
	hdr := 4 + 2*4 + 2*3
	keyA, keyBB := hdr, hdr+1
	valArr := hdr + 3
	valObj := valArr + len(arr)
	outer := []byte{2, 0, 0, 0}
	outer = append(outer, byte(keyA), 0, 1, 0, byte(keyBB), 0, 2, 0)
	outer = append(outer, jsonSmallArray, byte(valArr), 0, jsonSmallObject, byte(valObj), 0)
	outer = append(outer, "abb"...)
	outer = append(append(outer, arr...), inner...)
	outer[2] = byte(len(outer))
	return append([]byte{jsonSmallObject}, outer...)
}

// TestDecodeRowImages decodes a hand-built insert of every type (and one of NULLs) with cdcd's
// decoder, then checks go-mysql's own decoder reads the same bytes to the same values.
func TestDecodeRowImages(t *testing.T) {
	cases := typeCases()
	cols := make([]tcol, 0, len(cases)+1)
	cols = append(cols, tcol{name: "id", typ: gomysql.MYSQL_TYPE_LONG, numeric: true})
	for _, c := range cases {
		cols = append(cols, c.col)
	}
	var images [][]byte
	for r := 0; r < 2; r++ {
		vals := [][]byte{le(uint64(r+1), 4)}
		for _, c := range cases {
			vals = append(vals, c.enc[r])
		}
		images = append(images, imageOf(vals...))
	}
	nulls := [][]byte{le(3, 4)}
	for range cases {
		nulls = append(nulls, nil)
	}
	images = append(images, imageOf(nulls...))
	frames := [][]byte{fdeEvent(), tableMapEvent(77, "shop", "types", cols, true), rowsEvent(replication.WRITE_ROWS_EVENTv2, 77, len(cols), nil, images...)}

	ours := parseEvents(t, true, frames...)
	tm := ours[1].Event.(*replication.TableMapEvent)
	evs, err := decodeOurs(tm, ours[2].Header, ours[2].Event.(*replication.RowsEvent))
	mustNil(t, err)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	theirs := parseEvents(t, false, frames...)[2].Event.(*replication.RowsEvent)
	for i, c := range cases {
		col := evs[0].Table.Columns[i+1]
		if col.Name != c.col.name || col.Type.Kind != c.kind {
			t.Errorf("column %s: %s %s, want %s %s", c.col.name, col.Name, col.Type.Kind, c.col.name, c.kind)
		}
		for r := 0; r < 3; r++ {
			got := evs[r].After[i+1]
			var want any
			if r < 2 {
				want = c.want[r]
			}
			if !sameValue(got, want) {
				t.Errorf("row %d column %s: got %#v (%T), want %#v", r+1, c.col.name, got, got, want)
			}
			g := goMySQLCanonical(t, &evs[r].Table.Columns[i+1], c.col, theirs.Rows[r][i+1])
			if gs, ok := g.(string); ok && c.kind == change.JSON && want != nil && jsonEqual(gs, want.(string)) {
				continue // go-mysql prints JSON compactly, with keys sorted: the same document
			}
			if !sameValue(g, want) {
				t.Errorf("row %d column %s: go-mysql reads %#v (canonical %#v), cdcd %#v", r+1, c.col.name, theirs.Rows[r][i+1], g, got)
			}
		}
	}
}

// goMySQLCanonical converts a value go-mysql decoded (its own Go types: int8, strings for
// temporals, enum indexes, ...) to cdcd's canonical form, for the differential check.
func goMySQLCanonical(t *testing.T, col *change.Column, c tcol, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	switch x := v.(type) {
	case int8, int16, int32, int64:
		i := reflect.ValueOf(x).Int()
		if c.typ == gomysql.MYSQL_TYPE_STRING { // ENUM index or SET bits
			if c.enum != nil {
				if i == 0 {
					return ""
				}
				return c.enum[i-1]
			}
			var parts []string
			for j, l := range c.set {
				if i&(1<<j) != 0 {
					parts = append(parts, l)
				}
			}
			return strings.Join(parts, ",")
		}
		if c.typ == gomysql.MYSQL_TYPE_BIT {
			return uint64(i)
		}
		if c.unsigned {
			bits := map[byte]uint{gomysql.MYSQL_TYPE_TINY: 8, gomysql.MYSQL_TYPE_SHORT: 16, gomysql.MYSQL_TYPE_INT24: 24, gomysql.MYSQL_TYPE_LONG: 32, gomysql.MYSQL_TYPE_LONGLONG: 64}[c.typ]
			return uint64(i) & (1<<bits - 1) // go-mysql reads every integer as signed
		}
		return i
	case int: // YEAR
		return uint64(x)
	case float32:
		return float64(x)
	case decimal.Decimal:
		return x
	case []byte:
		if col.Type.Kind == change.Bytes {
			if len(x) < 4 && c.charset == 63 && c.typ == gomysql.MYSQL_TYPE_STRING { // go-mysql keeps BINARY(n) stripped
				return append(append([]byte{}, x...), make([]byte, 4-len(x))...)
			}
			return x
		}
		return string(x)
	case string:
		switch col.Type.Kind {
		case change.Date, change.Timestamp:
			v, _ := parseDateTimeText(x)
			return v
		case change.TimestampTZ:
			v, _ := parseDateTimeText(x)
			return v
		case change.Time:
			v, _ := parseTimeText(x)
			return v
		case change.Bytes:
			b := []byte(x)
			if len(b) < 4 && c.charset == 63 && c.typ == gomysql.MYSQL_TYPE_STRING { // go-mysql keeps BINARY(n) stripped
				b = append(b, make([]byte, 4-len(b))...)
			}
			return b
		case change.JSON:
			return x // compared semantically by the caller
		}
		if c.charset == 8 {
			return toUTF8("latin1", x)
		}
		return x
	}
	return v
}

// TestDecodeImagesAbsentColumns: columns missing from an image (a session not logging FULL rows)
// are Unchanged in an update's new row, NULL in its old row (BeforeFull false), and a BadValue in
// an insert.
func TestDecodeImagesAbsentColumns(t *testing.T) {
	cols := []tcol{{name: "id", typ: gomysql.MYSQL_TYPE_LONG, numeric: true}, {name: "a", typ: gomysql.MYSQL_TYPE_LONG, numeric: true},
		{name: "b", typ: gomysql.MYSQL_TYPE_VARCHAR, meta: []byte{10, 0}, charset: 224}}
	present := []byte{0b011} // id and a
	upd := rowsEvent(replication.UPDATE_ROWS_EVENTv2, 5, 3, present, imageOf(le(1, 4), le(2, 4)), imageOf(le(1, 4), le(3, 4)))
	evs := decodeFrames(t, cols, upd)
	ev := evs[0]
	if ev.Op != change.Update || ev.BeforeFull || ev.Before[2] != nil || !change.IsUnchanged(ev.After[2]) || ev.After[1] != int64(3) {
		t.Errorf("update: %+v", ev)
	}
	ins := decodeFrames(t, cols, rowsEvent(replication.WRITE_ROWS_EVENTv2, 5, 3, present, imageOf(le(1, 4), le(2, 4))))[0]
	if b, ok := ins.After[2].(*change.BadValue); !ok || !strings.Contains(b.Err.Error(), "binlog_row_image") {
		t.Errorf("insert: %#v", ins.After[2])
	}
	del := decodeFrames(t, cols, rowsEvent(replication.DELETE_ROWS_EVENTv2, 5, 3, nil, imageOf(le(1, 4), nil, withPrefix(1, []byte("x")))))[0]
	if del.Op != change.Delete || !del.BeforeFull || del.Before[1] != nil || del.Before[2] != "x" {
		t.Errorf("delete: %+v", del)
	}
}

func decodeFrames(t *testing.T, cols []tcol, rows ...[]byte) []change.Event {
	t.Helper()
	frames := append([][]byte{fdeEvent(), tableMapEvent(5, "db", "t", cols, true)}, rows...)
	evs := parseEvents(t, true, frames...)
	tm := evs[1].Event.(*replication.TableMapEvent)
	var out []change.Event
	for _, ev := range evs[2:] {
		e, err := decodeOurs(tm, ev.Header, ev.Event.(*replication.RowsEvent))
		mustNil(t, err)
		out = append(out, e...)
	}
	return out
}

// TestBadValues: values MySQL stores but that are not exact points or labels become BadValues; the
// rest of the row still decodes.
func TestBadValues(t *testing.T) {
	for _, c := range []struct {
		col  colInfo
		data []byte
		want string
	}{
		{colInfo{Type: gomysql.MYSQL_TYPE_DATE}, encDate(0, 0, 0), "not a valid date"},
		{colInfo{Type: gomysql.MYSQL_TYPE_DATE}, encDate(2024, 2, 30), "not a valid date"},
		{colInfo{Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 0}, encDatetime2(0, 0, 0, 0, 0, 0, 0, 0), "not a valid date"},
		{colInfo{Type: gomysql.MYSQL_TYPE_TIMESTAMP2, Meta: 6}, encTimestamp2(0, 0, 6), "zero TIMESTAMP"},
		{colInfo{Type: gomysql.MYSQL_TYPE_ENUM, Length: 1, Labels: []string{"a"}}, []byte{2}, "has 1 ENUM labels"},
		{colInfo{Type: gomysql.MYSQL_TYPE_SET, Length: 1, Labels: []string{"a", "b"}}, []byte{4}, "has 2 SET labels"},
		{colInfo{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Prec: 10, Scale: 0}, []byte{0x80 | 0x3b, 0x9a, 0xca, 0x00, 0x00}, "out of range"},
		{colInfo{Type: gomysql.MYSQL_TYPE_JSON, Meta: 4}, withPrefix(4, []byte{0x42}), "binary JSON"},
	} {
		v, n, err := decodeValue(&c.col, c.data)
		b, ok := v.(*change.BadValue)
		if err != nil || !ok || n != len(c.data) || !strings.Contains(b.Err.Error(), c.want) {
			t.Errorf("%s % x: %#v, %d, %v; want a BadValue with %q and %d bytes read", sourceName(c.col), c.data, v, n, err, c.want, len(c.data))
		}
	}
	// Truncated values are errors (nothing after them can be read).
	for _, c := range []colInfo{{Type: gomysql.MYSQL_TYPE_LONGLONG}, {Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 300}, {Type: gomysql.MYSQL_TYPE_BLOB, Meta: 4},
		{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Prec: 30, Scale: 10}, {Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 6}} {
		if _, _, err := decodeValue(&c, []byte{5, 0, 0}); err == nil {
			t.Errorf("%s: a truncated value decoded", sourceName(c))
		}
	}
}

func TestDecimalDecoding(t *testing.T) {
	for _, c := range []struct {
		s           string
		prec, scale int
	}{
		{"0", 1, 0}, {"-1", 1, 0}, {"123456789", 9, 0}, {"-123456789.987654321", 18, 9}, {"0.5", 2, 1},
		{"99999999999999999999999999999999999999999999999999999999999999999", 65, 0},
		{"-0.000000000000000000000000000001", 31, 30}, {"12345678901234567.89", 19, 2}, {"9223372036.854775807", 19, 9},
		{"-9223372036.854775808", 19, 9}, {"1.000000000", 10, 9},
	} {
		data := encDecimal(c.s, c.prec, c.scale)
		if n := decimalSize(c.prec, c.scale); n != len(data) {
			t.Errorf("decimalSize(%d,%d) = %d, encoded %d", c.prec, c.scale, n, len(data))
		}
		got, n, err := decodeDecimal(data, c.prec, c.scale)
		want := decimal.RequireFromString(c.s)
		if err != nil || n != len(data) || !got.Equal(want) || got.Exponent() != int32(-c.scale) {
			t.Errorf("decodeDecimal(%s, %d, %d) = %s (exp %d), %d, %v", c.s, c.prec, c.scale, got, got.Exponent(), n, err)
		}
	}
	if _, _, err := decodeDecimal([]byte{0x80}, 66, 0); err == nil {
		t.Error("DECIMAL(66,0) accepted")
	}
}

func TestJSONBinaryText(t *testing.T) {
	got, err := jsonBinaryText(jsonDoc())
	mustNil(t, err)
	if want := `{"a": [1, -2, 3.5, "x\"y", true, null], "bb": {"k": 18446744073709551615}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for f, want := range map[float64]string{1: "1.0", 0.1: "0.1", -2.5e-7: "-2.5e-7", 1e300: "1e300", 123456789012345: "123456789012345.0", 1e16: "1e16"} {
		if got := jsonDoubleText(f); got != want {
			t.Errorf("jsonDoubleText(%g) = %s, want %s", f, got, want)
		}
	}
	var b strings.Builder
	jsonQuote(&b, "a\x01\n\t\\é")
	if b.String() != `"a\u0001\n\t\\é"` {
		t.Errorf("jsonQuote = %s", b.String())
	}
	dec := encDecimal("-12.50", 5, 2)
	b.Reset()
	mustNil(t, jsonOpaqueText(&b, gomysql.MYSQL_TYPE_NEWDECIMAL, append([]byte{5, 2}, dec...)))
	if b.String() != "-12.50" {
		t.Errorf("decimal opaque = %s", b.String())
	}
	// A DATETIME opaque: packed (ymd << 17 | hms) << 24 | microseconds.
	packed := ((int64((2024*13+3)<<5|10) << 17) | 2<<12 | 30<<6 | 5) << 24
	b.Reset()
	mustNil(t, jsonOpaqueText(&b, gomysql.MYSQL_TYPE_DATETIME, le(uint64(packed|123), 8)))
	if b.String() != `"2024-03-10 02:30:05.000123"` {
		t.Errorf("datetime opaque = %s", b.String())
	}
}

// jsonEqual compares JSON texts semantically (numbers by value).
func jsonEqual(a, b string) bool {
	norm := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return s
		}
		return normNumbers(v)
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func normNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, ok := new(big.Int).SetString(x.String(), 10); ok {
			return i.String()
		}
		f, _ := x.Float64()
		return fmt.Sprint(f)
	case []any:
		for i := range x {
			x[i] = normNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normNumbers(x[k])
		}
	}
	return v
}
