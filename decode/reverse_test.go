package decode

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// TestDecodeRoundTrip: a record encoded by Append reads back through Decode to the same table
// (names, kinds, key) and the same canonical values, for every kind, NULLs and extremes
// (including MySQL's TIME beyond a day and below zero).
func TestDecodeRoundTrip(t *testing.T) {
	dec := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	elem := change.Type{Kind: change.Int32}
	tab := &change.Table{
		ID: change.TableID{Source: "shop", Namespace: "My Schema", Name: "Ta`b le"},
		Columns: []change.Column{
			{Name: "id", Type: change.Type{Kind: change.Int64}},
			{Name: "i8", Type: change.Type{Kind: change.Int8}, Nullable: true},
			{Name: "u64", Type: change.Type{Kind: change.UInt64}, Nullable: true},
			{Name: "u16", Type: change.Type{Kind: change.UInt16}, Nullable: true},
			{Name: "f32", Type: change.Type{Kind: change.Float32}, Nullable: true},
			{Name: "f64", Type: change.Type{Kind: change.Float64}, Nullable: true},
			{Name: "amount", Type: change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, Nullable: true},
			{Name: "free", Type: change.Type{Kind: change.Decimal}, Nullable: true},
			{Name: "s ü", Type: change.Type{Kind: change.String}, Nullable: true},
			{Name: "j", Type: change.Type{Kind: change.JSON}, Nullable: true},
			{Name: "e", Type: change.Type{Kind: change.Enum, Symbols: []string{"sad", "ok"}}, Nullable: true},
			{Name: "b", Type: change.Type{Kind: change.Bytes}, Nullable: true},
			{Name: "ok", Type: change.Type{Kind: change.Bool}, Nullable: true},
			{Name: "day", Type: change.Type{Kind: change.Date}, Nullable: true},
			{Name: "ts", Type: change.Type{Kind: change.Timestamp}, Nullable: true},
			{Name: "tz", Type: change.Type{Kind: change.TimestampTZ}, Nullable: true},
			{Name: "tm", Type: change.Type{Kind: change.Time}, Nullable: true},
			{Name: "u", Type: change.Type{Kind: change.UUID}, Nullable: true},
			{Name: "arr", Type: change.Type{Kind: change.Array, Elem: &elem}, Nullable: true},
			{Name: "odd", Type: change.Type{Kind: change.String, Fallback: true, Source: "interval"}, Nullable: true},
		},
		Key: []int{0},
	}
	ts, err := Schema(tab, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 7, 30, 0, 123456000, time.UTC)
	rows := [][]any{
		{int64(1), int64(-128), uint64(math.MaxUint64), uint64(65535), float64(float32(0.1)), -2.5, dec("9999999999.99"),
			dec("123456789012345678901234567890.1230"), "h\u00e9llo", `{"a":[1,2]}`, "ok", []byte{0, 255}, true,
			time.Date(1960, 5, 17, 0, 0, 0, 0, time.UTC), at, at, 838*time.Hour + 59*time.Minute + 59*time.Second,
			uuid.MustParse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), []any{int64(1), nil, int64(3)}, "1 day"},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, -time.Second, nil, []any{}, nil},
	}
	for i, row := range rows {
		for _, op := range []change.Op{change.Insert, change.Update, change.Delete} {
			ev := change.Event{Op: op, Table: tab, Version: 1<<63 + uint64(i), Seq: 7, CommitTime: at, Snapshot: i == 1}
			if op == change.Delete {
				ev.Before = row
			} else {
				ev.After = row
			}
			bin, err := ts.Append(nil, &ev)
			if err != nil {
				t.Fatalf("row %d %s: %v", i, op, err)
			}
			gt, got, err := Decode(ts.JSON, bin)
			if err != nil {
				t.Fatalf("row %d %s: Decode: %v", i, op, err)
			}
			if gt.ID != tab.ID || len(gt.Columns) != len(tab.Columns) || fmt.Sprint(gt.Key) != "[0]" {
				t.Fatalf("table read back as %+v", gt)
			}
			for j, c := range tab.Columns {
				if g := gt.Columns[j]; g.Name != c.Name || (!g.Type.Equal(c.Type) && c.Type.Kind != change.Array) {
					t.Errorf("column %d read back as %+v, want %+v", j, g, c)
				}
			}
			if got.Op != op || got.Version != ev.Version || got.Seq != 7 || !got.CommitTime.Equal(at) || got.Snapshot != ev.Snapshot {
				t.Errorf("metadata read back as %+v", got)
			}
			back := got.After
			if op == change.Delete {
				back = got.Before
			}
			for j := range row {
				if !same(row[j], back[j]) {
					t.Errorf("row %d %s column %q: %#v read back as %#v", i, op, tab.Columns[j].Name, row[j], back[j])
				}
			}
		}
	}
}

func same(a, b any) bool {
	if da, ok := a.(decimal.Decimal); ok {
		db, ok := b.(decimal.Decimal)
		return ok && da.Equal(db)
	}
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}
