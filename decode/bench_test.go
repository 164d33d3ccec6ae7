package decode

import (
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// benchTable is the bench table: bigint key, int, numeric(12,2), text, timestamptz and a
// 100-byte text.
func benchTable() *change.Table {
	return &change.Table{
		ID: change.TableID{Source: "bench", Namespace: "public", Name: "orders"},
		Columns: []change.Column{
			{Name: "id", Type: change.Type{Kind: change.Int64, Source: "int8"}},
			{Name: "qty", Type: change.Type{Kind: change.Int32, Source: "int4"}, Nullable: true},
			{Name: "amount", Type: change.Type{Kind: change.Decimal, Precision: 12, Scale: 2, Source: "numeric(12,2)"}, Nullable: true},
			{Name: "status", Type: change.Type{Kind: change.String, Source: "text"}, Nullable: true},
			{Name: "created_at", Type: change.Type{Kind: change.TimestampTZ, Source: "timestamptz"}, Nullable: true},
			{Name: "note", Type: change.Type{Kind: change.String, Source: "text"}, Nullable: true},
		},
		Key: []int{0},
	}
}

func benchRow(tb testing.TB) (*TableSchema, *change.Event) {
	tab := benchTable()
	s := mustSchema(tb, tab)
	ev := &change.Event{
		Op:    change.Insert,
		Table: tab,
		After: []any{int64(123456789), int64(42), decimal.RequireFromString("1234.56"), "shipped",
			time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC), strings.Repeat("n", 100)},
		Version:    0x16_B374_D848,
		Seq:        7,
		CommitTime: time.Date(2024, 5, 6, 7, 8, 9, 500000000, time.UTC),
	}
	return s, ev
}

// BenchmarkAppendRow6Col converts and encodes the bench table's row into a reused buffer.
func BenchmarkAppendRow6Col(b *testing.B) {
	s, ev := benchRow(b)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.Append(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkGoavroRow6Col encodes the same row through goavro, for comparison: building its native
// map (the conversion) and BinaryFromNative.
func BenchmarkGoavroRow6Col(b *testing.B) {
	s, ev := benchRow(b)
	codec := s.Codec()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		r := ev.After
		native := map[string]any{
			"id":            r[0],
			"qty":           goavro.Union("int", int32(r[1].(int64))),
			"amount":        goavro.Union("bytes.decimal", r[2].(decimal.Decimal).Rat()),
			"status":        goavro.Union("string", r[3]),
			"created_at":    goavro.Union("long.timestamp-micros", r[4]),
			"note":          goavro.Union("string", r[5]),
			FieldOp:         "insert",
			FieldVersion:    int64(ev.Version),
			FieldSeq:        int64(ev.Seq),
			FieldCommitTime: goavro.Union("long.timestamp-micros", ev.CommitTime),
			FieldSnapshot:   ev.Snapshot,
		}
		var err error
		if buf, err = codec.BinaryFromNative(buf[:0], native); err != nil {
			b.Fatal(err)
		}
	}
}
