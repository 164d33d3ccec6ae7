package decode

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// errorTable has one column of each type the error cases need; "id" is the key.
func errorTable() *change.Table {
	int4 := change.Type{Kind: change.Int32, Source: "int4"}
	return &change.Table{
		ID: change.TableID{Source: "shop", Namespace: "public", Name: "orders"},
		Columns: []change.Column{
			{Name: "id", Type: change.Type{Kind: change.Int64, Source: "int8"}},
			{Name: "amount", Type: change.Type{Kind: change.Decimal, Precision: 12, Scale: 2, Source: "numeric(12,2)"}, Nullable: true},
			{Name: "big", Type: change.Type{Kind: change.Decimal, Precision: 38, Scale: 10, Source: "numeric(38,10)"}, Nullable: true},
			{Name: "qty", Type: int4, Nullable: true},
			{Name: "small", Type: change.Type{Kind: change.Int8, Source: "tinyint"}, Nullable: true},
			{Name: "u16", Type: change.Type{Kind: change.UInt16, Source: "smallint unsigned"}, Nullable: true},
			{Name: "f4", Type: change.Type{Kind: change.Float32, Source: "float4"}, Nullable: true},
			{Name: "ts", Type: change.Type{Kind: change.TimestampTZ, Source: "timestamptz"}, Nullable: true},
			{Name: "day", Type: change.Type{Kind: change.Date, Source: "date"}, Nullable: true},
			{Name: "tod", Type: change.Type{Kind: change.Time, Source: "time"}, Nullable: true},
			{Name: "note", Type: change.Type{Kind: change.String, Source: "text"}, Nullable: true},
			{Name: "mood", Type: change.Type{Kind: change.Enum, Symbols: []string{"happy", "sad"}, Source: "mood"}, Nullable: true},
			{Name: "nums", Type: change.Type{Kind: change.Array, Elem: &int4, Source: "int4[]"}, Nullable: true},
			{Name: "uid", Type: change.Type{Kind: change.UUID, Source: "uuid"}, Nullable: true},
		},
		Key: []int{0},
	}
}

func TestAppendValueErrors(t *testing.T) {
	tab := errorTable()
	s := mustSchema(t, tab)
	bad := &change.BadValue{Raw: "NaN", Err: errors.New("numeric: value is NaN")}
	cases := []struct {
		column string
		value  any
		want   string // in the error text, after "decode: table shop.public.orders column "<column>" (<type>): "
		is     error
	}{
		{"amount", dec("1.234"), "value 1.234 has more fraction digits than scale 2", nil},
		{"amount", dec("1.2340"), "value 1.2340 has more fraction digits than scale 2", nil},
		{"amount", dec("0.001"), "value 0.001 has more fraction digits than scale 2", nil},
		{"amount", dec("12345678901.00"), "value 12345678901.00 has more digits than precision 12 allows at scale 2", nil},
		{"amount", dec("1e10"), "value 10000000000 has more digits than precision 12 allows at scale 2", nil},
		{"amount", dec("1e100"), "value 1e100 has more digits than precision 12", nil},
		{"amount", decimal.New(math.MaxInt64, 1<<30), "value 9223372036854775807e1073741824 has more digits", nil},
		{"amount", dec("1e-100"), "value 1e-100 has more fraction digits than scale 2", nil},
		{"big", dec("-1234567890123456789012345678901234567890123456789e-60"), "value -1234567890123456789012345678901234567890…(49 digits)e-60 has more fraction digits", nil},
		{"big", dec("12345678901234567890123456789.0"), "value 12345678901234567890123456789.0 has more digits than precision 38 allows at scale 10", nil},
		{"big", dec("1.12345678901234567890123"), "has more fraction digits than scale 10", nil},
		{"big", dec("-99999999999999999999999999999"), "more digits than precision 38", nil},
		{"qty", int64(math.MaxInt32 + 1), "value 2147483648 out of range [-2147483648, 2147483647]", nil},
		{"qty", int64(math.MinInt32 - 1), "value -2147483649 out of range", nil},
		{"small", int64(128), "value 128 out of range [-128, 127]", nil},
		{"u16", uint64(65536), "value 65536 out of range [0, 65535]", nil},
		{"f4", 0.1, "value 0.1 is not exactly a float32", nil},
		{"ts", time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC), "time 2024-01-02T03:04:05.000000001Z has digits below a microsecond", nil},
		{"ts", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), "out of the range of timestamp-micros", nil},
		{"day", time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC), "date 2024-01-02T03:00:00Z is not a UTC midnight", nil},
		{"day", time.Date(6000000, 1, 1, 0, 0, 0, 0, time.UTC), "out of the range of an Avro date", nil},
		{"tod", time.Nanosecond, "time of day 1ns has digits below a microsecond", nil},
		{"note", "a\xffb", "string is not valid UTF-8", nil},
		{"mood", "angry", `value "angry" is not a symbol of the enum`, nil},
		{"nums", []any{int64(1), int64(1 << 40)}, "array element 1: value 1099511627776 out of range", nil},
		{"nums", []any{"1"}, "array element 0: value of Go type string, want int64", nil},
		{"id", nil, "NULL in a key column", ErrNull},
		{"note", change.Unchanged, "value is Unchanged (an unresolved TOAST value)", ErrUnchanged},
		{"amount", bad, `bad value "NaN": numeric: value is NaN`, bad.Err},
		{"qty", 5, "value of Go type int, want int64", nil},
		{"qty", int32(5), "value of Go type int32, want int64", nil},
		{"amount", "1.50", "value of Go type string, want decimal.Decimal", nil},
		{"amount", 1.5, "value of Go type float64, want decimal.Decimal", nil},
		{"u16", int64(5), "value of Go type int64, want uint64", nil},
		{"ts", "2024-01-01", "value of Go type string, want time.Time", nil},
		{"uid", "f47ac10b-58cc-4372-a567-0e02b2c3d479", "value of Go type string, want uuid.UUID", nil},
		{"note", []byte("x"), "value of Go type []uint8, want string", nil},
		{"nums", []int64{1}, "value of Go type []int64, want []any", nil},
	}
	for _, c := range cases {
		i := tab.ColumnIndex(c.column)
		row := make([]any, len(tab.Columns))
		row[0] = int64(1)
		row[i] = c.value
		prefix := []byte("keep")
		buf, err := s.Append(prefix, &change.Event{Op: change.Insert, Table: tab, After: row})
		if err == nil {
			t.Errorf("%s = %#v: no error", c.column, c.value)
			continue
		}
		header := `decode: table shop.public.orders column "` + c.column + `" (` + tab.Columns[i].Type.String() + "): "
		if !strings.HasPrefix(err.Error(), header) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %#v:\n got %v\nwant %s...%s", c.column, c.value, err, header, c.want)
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Column != c.column || ve.Table != "shop.public.orders" {
			t.Errorf("%s: error %#v is not a *ValueError of the column", c.column, err)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v does not wrap %v", c.column, err, c.is)
		}
		if string(buf) != "keep" {
			t.Errorf("%s: buffer after an error is %q, want the original", c.column, buf)
		}
	}

	// A BadValue can be told apart, for the dead-letter table.
	row := make([]any, len(tab.Columns))
	row[0], row[1] = int64(1), bad
	_, err := s.Append(nil, &change.Event{Op: change.Insert, Table: tab, After: row})
	var bv *change.BadValue
	if !errors.As(err, &bv) || bv != bad {
		t.Errorf("errors.As(%v, *change.BadValue) fails", err)
	}
}

func TestAppendEventErrors(t *testing.T) {
	tab := errorTable()
	s := mustSchema(t, tab)
	row := make([]any, len(tab.Columns))
	row[0] = int64(1)
	other := benchTable()
	cases := []struct {
		name string
		ev   *change.Event
		want string
	}{
		{"truncate", &change.Event{Op: change.Truncate, Table: tab}, "decode: table shop.public.orders: a truncate event has no row to encode"},
		{"unknown op", &change.Event{Op: 9, Table: tab, After: row}, "event with unknown op op(9)"},
		{"other table", &change.Event{Op: change.Insert, Table: other, After: row}, "event of another table shape"},
		{"short row", &change.Event{Op: change.Insert, Table: tab, After: row[:3]}, "insert event has a row of 3 values for 14 columns"},
		{"delete without before", &change.Event{Op: change.Delete, Table: tab, After: row}, "delete event has a row of 0 values"},
		{"commit time", &change.Event{Op: change.Insert, Table: tab, After: row, CommitTime: time.Unix(1, 1)},
			"field __cdcd_commit_ts: time 1970-01-01T00:00:01.000000001Z has digits below a microsecond"},
	}
	for _, c := range cases {
		buf, err := s.Append(nil, c.ev)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if len(buf) != 0 {
			t.Errorf("%s: %d bytes written", c.name, len(buf))
		}
	}
	if _, err := s.Append(nil, &change.Event{Op: change.Truncate, Table: tab}); !errors.Is(err, ErrTruncate) {
		t.Errorf("truncate: %v does not wrap ErrTruncate", err)
	}
	// A table of the same shape (a later generation, say) is fine.
	same := *tab
	same.Generation++
	if _, err := s.Append(nil, &change.Event{Op: change.Insert, Table: &same, After: row}); err != nil {
		t.Errorf("same shape: %v", err)
	}
}
