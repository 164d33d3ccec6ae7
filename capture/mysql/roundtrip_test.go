package mysql

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// rtCol is one column of the round-trip table: its SQL type, the kind it maps to, and per row a
// SQL literal and the canonical value both the snapshot and the stream must give.
type rtCol struct {
	name string
	typ  string
	kind change.Kind
	lits []string
	want []any
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t
}

func rtColumns() []rtCol {
	d := decimal.RequireFromString
	dur := func(s string) time.Duration { v, _ := parseTimeText(s); return v }
	return []rtCol{
		{"ti", "tinyint", change.Int8, []string{"-128", "NULL", "127"}, []any{int64(-128), nil, int64(127)}},
		{"tiu", "tinyint unsigned", change.UInt8, []string{"255", "NULL", "0"}, []any{uint64(255), nil, uint64(0)}},
		{"si", "smallint", change.Int16, []string{"-32768", "NULL", "32767"}, []any{int64(-32768), nil, int64(32767)}},
		{"siu", "smallint unsigned", change.UInt16, []string{"65535", "NULL", "1"}, []any{uint64(65535), nil, uint64(1)}},
		{"mi", "mediumint", change.Int32, []string{"-8388608", "NULL", "8388607"}, []any{int64(-8388608), nil, int64(8388607)}},
		{"miu", "mediumint unsigned", change.UInt32, []string{"16777215", "NULL", "0"}, []any{uint64(16777215), nil, uint64(0)}},
		{"i", "int", change.Int32, []string{"-2147483648", "NULL", "2147483647"}, []any{int64(math.MinInt32), nil, int64(math.MaxInt32)}},
		{"iu", "int unsigned", change.UInt32, []string{"4294967295", "NULL", "0"}, []any{uint64(math.MaxUint32), nil, uint64(0)}},
		{"bi", "bigint", change.Int64, []string{"-9223372036854775808", "NULL", "9223372036854775807"}, []any{int64(math.MinInt64), nil, int64(math.MaxInt64)}},
		{"biu", "bigint unsigned", change.UInt64, []string{"18446744073709551615", "NULL", "9223372036854775808"}, []any{uint64(math.MaxUint64), nil, uint64(1 << 63)}},
		{"d1", "decimal(12,2)", change.Decimal, []string{"-9999999999.99", "NULL", "1.5"}, []any{d("-9999999999.99"), nil, decimal.New(150, -2)}},
		{"d2", "decimal(65,30)", change.Decimal, []string{"'-99999999999999999999999999999999999.999999999999999999999999999999'", "NULL", "'0.000000000000000000000000000001'"},
			[]any{d("-99999999999999999999999999999999999.999999999999999999999999999999"), nil, d("0.000000000000000000000000000001")}},
		{"d3", "decimal(18,0)", change.Decimal, []string{"999999999999999999", "NULL", "0"}, []any{d("999999999999999999"), nil, decimal.New(0, 0)}},
		{"d4", "decimal(20,10) unsigned", change.Decimal, []string{"1234567890.0123456789", "NULL", "0.0000000001"}, []any{d("1234567890.0123456789"), nil, d("0.0000000001")}},
		{"f", "float", change.Float32, []string{"123456.789", "NULL", "-1.17549435e-38"}, []any{float64(float32(123456.789)), nil, float64(float32(-1.17549435e-38))}},
		{"db", "double", change.Float64, []string{"0.1", "NULL", "-1.7976931348623157e308"}, []any{0.1, nil, -math.MaxFloat64}},
		{"c", "char(5)", change.String, []string{"'ab'", "NULL", "''"}, []any{"ab", nil, ""}},
		{"vc", "varchar(300)", change.String, []string{"'h\u00e9llo \u2603 \U0001F600 ''q'' \\\\'", "NULL", "''"}, []any{"h\u00e9llo \u2603 \U0001F600 'q' \\", nil, ""}},
		{"tx", "text", change.String, []string{"REPEAT('x', 70000 DIV 2)", "NULL", "'t'"}, []any{strings.Repeat("x", 35000), nil, "t"}},
		{"lt", "longtext", change.String, []string{"'line\\nbreak\\ttab'", "NULL", "''"}, []any{"line\nbreak\ttab", nil, ""}},
		{"bn", "binary(4)", change.Bytes, []string{"X'0102'", "NULL", "X'00000000'"}, []any{[]byte{1, 2, 0, 0}, nil, []byte{0, 0, 0, 0}}},
		{"vb", "varbinary(10)", change.Bytes, []string{"X'00FF10'", "NULL", "''"}, []any{[]byte{0, 0xff, 0x10}, nil, []byte{}}},
		{"bl", "blob", change.Bytes, []string{"X'DEADBEEF00'", "NULL", "''"}, []any{[]byte{0xde, 0xad, 0xbe, 0xef, 0}, nil, []byte{}}},
		{"dt", "date", change.Date, []string{"'2024-02-29'", "NULL", "'1000-01-01'"}, []any{ts("2024-02-29 00:00:00"), nil, ts("1000-01-01 00:00:00")}},
		{"dtm", "datetime(6)", change.Timestamp, []string{"'2024-03-10 02:30:00.123456'", "NULL", "'9999-12-31 23:59:59.999999'"},
			[]any{ts("2024-03-10 02:30:00.123456"), nil, ts("9999-12-31 23:59:59.999999")}},
		{"dtm0", "datetime", change.Timestamp, []string{"'1970-01-01 00:00:00'", "NULL", "'2038-01-19 03:14:08'"}, []any{ts("1970-01-01 00:00:00"), nil, ts("2038-01-19 03:14:08")}},
		{"dtm3", "datetime(3)", change.Timestamp, []string{"'2024-11-03 01:30:00.5'", "NULL", "'2000-01-01 00:00:00.001'"}, []any{ts("2024-11-03 01:30:00.5"), nil, ts("2000-01-01 00:00:00.001")}},
		{"tsz", "timestamp(6) NULL", change.TimestampTZ, []string{"'2024-03-10 06:59:59.999999'", "NULL", "'1970-01-01 00:00:01'"},
			[]any{ts("2024-03-10 06:59:59.999999"), nil, ts("1970-01-01 00:00:01")}},
		{"tsz0", "timestamp NULL", change.TimestampTZ, []string{"'2038-01-19 03:14:07'", "NULL", "'2001-09-09 01:46:40'"}, []any{ts("2038-01-19 03:14:07"), nil, ts("2001-09-09 01:46:40")}},
		{"tm", "time(6)", change.Time, []string{"'-838:59:59.000000'", "NULL", "'-00:00:00.000001'"}, []any{dur("-838:59:59"), nil, -time.Microsecond}},
		{"tm0", "time", change.Time, []string{"'838:59:59'", "NULL", "'00:00:00'"}, []any{dur("838:59:59"), nil, time.Duration(0)}},
		{"tm2", "time(2)", change.Time, []string{"'-01:00:00.01'", "NULL", "'12:34:56.78'"}, []any{-(time.Hour + 10*time.Millisecond), nil, dur("12:34:56.78")}},
		{"tm4", "time(4)", change.Time, []string{"'-00:00:01.5'", "NULL", "'100:00:00.0001'"}, []any{-1500 * time.Millisecond, nil, dur("100:00:00.0001")}},
		{"y", "year", change.UInt16, []string{"2155", "NULL", "1901"}, []any{uint64(2155), nil, uint64(1901)}},
		{"e", "enum('a','b c','d''q')", change.String, []string{"'d''q'", "NULL", "'a'"}, []any{"d'q", nil, "a"}},
		{"st", "set('x','y','z')", change.String, []string{"'z,x'", "NULL", "''"}, []any{"x,z", nil, ""}},
		{"j", "json", change.JSON, []string{`'{"b": 1,  "a":[1,2.50,"\\u00e9"]}'`, "NULL", "'[]'"}, []any{`{"b": 1,  "a":[1,2.50,"\u00e9"]}`, nil, "[]"}},
		{"b1", "bit(1)", change.UInt64, []string{"b'1'", "NULL", "b'0'"}, []any{uint64(1), nil, uint64(0)}},
		{"b10", "bit(10)", change.UInt64, []string{"b'1010101010'", "NULL", "0"}, []any{uint64(0b1010101010), nil, uint64(0)}},
		{"b64", "bit(64)", change.UInt64, []string{"18446744073709551615", "NULL", "1"}, []any{uint64(math.MaxUint64), nil, uint64(1)}},
		{"l1", "varchar(20) character set latin1", change.String, []string{"'caf\u00e9 \u20ac'", "NULL", "''"}, []any{"caf\u00e9 \u20ac", nil, ""}},
	}
}

// TestMariaDBRoundTrip reads every type through the snapshot and the stream of a real MariaDB
// and checks both give exactly the same canonical values, with each binlog_row_metadata setting
// (FULL: from the table maps; MINIMAL and NO_LOG: names, labels, signedness from schema history).
func TestMariaDBRoundTrip(t *testing.T) {
	for _, md := range []string{"FULL", "MINIMAL", "NO_LOG"} {
		t.Run(md, func(t *testing.T) { testRoundTrip(t, md) })
	}
}

func testRoundTrip(t *testing.T, metadata string) {
	srv := testenv.StartMariaDB(t)
	srv.Exec(t, "", "SET GLOBAL binlog_row_metadata = "+metadata)
	t.Cleanup(func() { srv.Exec(t, "", "SET GLOBAL binlog_row_metadata = FULL") })
	db := srv.NewDatabase(t)
	cols := rtColumns()
	defs := []string{"id int PRIMARY KEY"}
	for _, c := range cols {
		defs = append(defs, quoteIdent(c.name)+" "+c.typ)
	}
	srv.Exec(t, db, "CREATE TABLE types ("+strings.Join(defs, ", ")+")")
	insert := func(offset int) {
		for r := 0; r < 3; r++ {
			vals := []string{fmt.Sprint(r + 1 + offset)}
			for _, c := range cols {
				vals = append(vals, c.lits[r])
			}
			srv.Exec(t, db, "INSERT INTO types VALUES ("+strings.Join(vals, ", ")+")")
		}
	}
	insert(0)
	src := New(Config{Name: "rt", Addr: srv.Addr(), User: srv.User, Password: srv.Pass, ServerID: 9001, Snapshot: true,
		Tables: []TableName{{DB: db, Name: "types"}}})
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, capture.Start{}, rec) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor(t, 30*time.Second, "the snapshot's commit", func() bool { _, _, c := rec.snapshot(); return len(c) > 0 })
	insert(100)
	var evs []change.Event
	waitFor(t, 30*time.Second, "the streamed rows", func() bool {
		_, all, _ := rec.snapshot()
		evs = evs[:0]
		for _, ev := range all {
			if ev.Op == change.Insert {
				evs = append(evs, ev)
			}
		}
		return len(evs) == 6
	})
	schemas, _, _ := rec.snapshot()
	tbl := schemas[0]
	for i, c := range cols {
		col := tbl.Columns[i+1]
		if col.Name != c.name || col.Type.Kind != c.kind {
			t.Errorf("column %d: %s %s, want %s %s", i+1, col.Name, col.Type.Kind, c.name, c.kind)
		}
	}
	for _, ev := range evs {
		if ev.Table != tbl && !ev.Table.SameShape(tbl) {
			t.Errorf("event under schema %p differs from the snapshot's", ev.Table)
		}
		id := ev.After[0].(int64)
		r := int(id-1) % 100
		path := "snapshot"
		if id > 100 {
			path = "stream"
		}
		for i, c := range cols {
			if got := ev.After[i+1]; !sameValue(got, c.want[r]) {
				t.Errorf("%s row %d column %s (%s): got %#v (%T), want %#v", path, id, c.name, c.typ, got, got, c.want[r])
			}
		}
	}
	distinct := map[*change.Table]bool{}
	for _, s := range schemas {
		distinct[s] = true
	}
	if len(distinct) != 1 {
		t.Errorf("%d distinct schemas announced, want 1 (the stream's table maps must match the snapshot's catalog)", len(distinct))
		for _, s := range schemas {
			for i, c := range s.Columns {
				if !c.Type.Equal(tbl.Columns[i].Type) || c.Nullable != tbl.Columns[i].Nullable {
					t.Logf("%p column %s: %+v vs %+v", s, c.Name, c, tbl.Columns[i])
				}
			}
		}
	}
}

// sameValue compares canonical values exactly (decimals by value and exponent).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y) && x.Exponent() == y.Exponent()
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == time.UTC
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return a == b
}
