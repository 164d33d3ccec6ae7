package clickhouse

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cdcd-dev/cdcd/change"
)

func recordTable(names ...string) *change.Table {
	t := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}}
	for _, n := range names {
		t.Columns = append(t.Columns, change.Column{Name: n, Type: typ(change.String), Nullable: true})
	}
	t.Key = []int{0}
	return t
}

func TestJSONRecord(t *testing.T) {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	cases := []struct {
		name string
		cols []string
		row  []any
		want string
	}{
		{
			name: "every kind of value",
			cols: []string{"id", "bytes", "dec", "u64", "i64", "ts", "null", "bad", "toast", "s", "b", "f", "uuid", "tm", "arr"},
			row: row(
				int64(-42),
				[]byte{0, 1, 2, 0xfe, 0xff},
				mustDec("1.50"),
				uint64(math.MaxUint64),
				int64(math.MinInt64),
				ts,
				nil,
				&change.BadValue{Raw: "NaN", Err: errors.New("not finite")},
				U,
				"say \"hi\" <&>\n",
				true,
				0.25,
				uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
				time.Hour+2*time.Minute+3*time.Second+4*time.Microsecond,
				[]any{int64(1), nil, []byte("x"), mustDec("-0.10")},
			),
			want: `{"arr":["1",null,"eA==","-0.10"],"b":true,"bad":"NaN","bytes":"AAEC/v8=","dec":"1.50","f":0.25,` +
				`"i64":"-9223372036854775808","id":"-42","null":null,"s":"say \"hi\" \u003c\u0026\u003e\n","tm":"01:02:03.000004",` +
				`"toast":null,"ts":"2024-02-29T13:14:15.123456Z","u64":"18446744073709551615","uuid":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`,
		},
		{
			name: "whole-second time and a date",
			cols: []string{"ts", "d"},
			row:  row(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), date(1999, 12, 31)),
			want: `{"d":"1999-12-31T00:00:00Z","ts":"2024-01-02T03:04:05Z"}`,
		},
		{
			name: "hostile column names",
			cols: []string{"a\"b", "`x`", "ü"},
			row:  row("1", "2", "3"),
			want: `{"` + "`x`" + `":"2","a\"b":"1","ü":"3"}`,
		},
		{
			name: "row longer than the schema",
			cols: []string{"a"},
			row:  row("1", "extra"),
			want: `{"a":"1"}`,
		},
		{
			name: "row shorter than the schema",
			cols: []string{"a", "b"},
			row:  row("1"),
			want: `{"a":"1"}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := &change.Event{Op: change.Insert, Table: recordTable(c.cols...)}
			format, rec, err := JSONRecord(ev, c.row)
			if err != nil {
				t.Fatalf("JSONRecord: %v", err)
			}
			if format != "json" {
				t.Errorf("format = %q, want json", format)
			}
			if string(rec) != c.want {
				t.Errorf("JSONRecord =\n%s\nwant\n%s", rec, c.want)
			}
			if !json.Valid(rec) {
				t.Errorf("JSONRecord is not valid JSON: %s", rec)
			}
		})
	}
}

// TestJSONRecordNonFiniteFloat: a float column may hold NaN or ±Inf (PostgreSQL float8 'NaN' is a
// canonical float64). A row sent to the dead-letter table for another column's sake must still
// keep all its values.
func TestJSONRecordNonFiniteFloat(t *testing.T) {
	ev := &change.Event{Op: change.Insert, Table: recordTable("id", "f", "g", "h")}
	_, rec, err := JSONRecord(ev, row(int64(1), math.NaN(), math.Inf(1), math.Inf(-1)))
	if err != nil {
		t.Fatalf("JSONRecord: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatalf("record %s: %v", rec, err)
	}
	for _, k := range []string{"id", "f", "g", "h"} {
		if m[k] == nil {
			t.Errorf("record %s lost column %s", rec, k)
		}
	}
}

func TestNewDeadLetter(t *testing.T) {
	s := New(nil, "db", "src", caps248, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tab := recordTable("id", "v")
	ev := &change.Event{Op: change.Update, Table: tab, Version: 9}
	r := &pendingRow{schema: tab, vals: row(int64(1), "x"), version: 9, ev: ev}

	ev.Seq = 4
	if d := s.newDeadLetter(r, errors.New("column \"v\": boom"), nil); d.Table != "n.t" || d.op != "update" || d.Version != 9 ||
		d.Seq != 4 || d.Key != `["1"]` || d.err != `column "v": boom` || d.format != FormatJSON || string(d.record) != `{"id":"1","v":"x"}` {
		t.Errorf("newDeadLetter = %+v", d)
	}

	// With the row's Avro record: the record is kept (copied) in the Confluent wire format.
	wire := []byte{0, 0, 0, 0, 7, 2}
	d := s.newDeadLetter(r, errors.New("boom"), wire)
	wire[5] = 9
	if d.format != FormatAvro || string(d.record) != "\x00\x00\x00\x00\x07\x02" || d.err != "boom" {
		t.Errorf("newDeadLetter with a record = %+v", d)
	}

	// The deleted old key of a moved row is a delete.
	r.deleted = true
	if d = s.newDeadLetter(r, errors.New("boom"), nil); d.op != "delete" {
		t.Errorf("dead letter of a deleted row has op %q", d.op)
	}
}
