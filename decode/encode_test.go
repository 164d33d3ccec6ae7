package decode

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

func mustSchema(t testing.TB, tab *change.Table) *TableSchema {
	t.Helper()
	s, err := Schema(tab, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sampleEvents returns events over sampleRows(t): inserts, updates and deletes (with and without
// a full before image), with and without commit times, snapshot or not.
func sampleEvents(tab *change.Table, n int) []*change.Event {
	var evs []*change.Event
	for j, row := range sampleRows(tab, n) {
		ev := &change.Event{Table: tab, Version: uint64(j) * 0x1234_5678_9abc, Seq: uint32(j), Snapshot: j%4 == 0}
		if j%2 == 1 {
			ev.CommitTime = time.Date(2024, 5, 6, 7, 8, 9, j*1000, time.UTC)
		}
		switch j % 4 {
		case 0, 1:
			ev.Op, ev.After = change.Insert, row
		case 2:
			ev.Op, ev.After = change.Update, row
		case 3:
			ev.Op, ev.Before, ev.BeforeFull = change.Delete, row, true
		}
		evs = append(evs, ev)
	}
	// A delete with only the key: the other columns are null.
	key := make([]any, len(tab.Columns))
	for _, k := range tab.Key {
		key[k] = sampleValues(tab.Columns[k].Type)[0]
	}
	evs = append(evs, &change.Event{Op: change.Delete, Table: tab, Before: key, Version: math.MaxUint64, Seq: math.MaxUint32})
	return evs
}

// TestAppendRoundTrip encodes rows of every kind, NULLs and extremes with Append and checks that
// goavro decodes every value back exactly, that goavro's own encoding of the same record is
// byte-identical, and that hamba/avro reads the record to the same values.
func TestAppendRoundTrip(t *testing.T) {
	tab := allKindsTable()
	s := mustSchema(t, tab)
	hs, err := avro.ParseWithCache(s.JSON, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i, ev := range sampleEvents(tab, 16) {
		buf, err = s.Append(buf[:0], ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		got, err := s.Native(buf)
		if err != nil {
			t.Fatalf("event %d: goavro: %v\n%s", i, err, hex.Dump(buf))
		}
		checkRecord(t, s, ev, got)

		theirs, err := s.Codec().BinaryFromNative(nil, goavroNative(s, ev))
		if err != nil {
			t.Fatalf("event %d: goavro BinaryFromNative: %v", i, err)
		}
		if !bytes.Equal(theirs, buf) {
			t.Errorf("event %d: goavro encodes\n%s\nAppend encodes\n%s", i, hex.Dump(theirs), hex.Dump(buf))
		}

		var generic any
		if err := avro.Unmarshal(hs, buf, &generic); err != nil {
			t.Fatalf("event %d: hamba/avro: %v", i, err)
		}
		again, err := avro.Marshal(hs, generic)
		if err != nil {
			t.Fatalf("event %d: hamba/avro re-encode: %v", i, err)
		}
		// hamba writes arrays as blocks with byte sizes, so compare what its bytes hold.
		viaHamba, err := s.Native(again)
		if err != nil {
			t.Fatalf("event %d: goavro decoding hamba/avro's encoding: %v", i, err)
		}
		checkRecord(t, s, ev, viaHamba)
	}
}

// TestAppendBytes pins the exact encoding of single values.
func TestAppendBytes(t *testing.T) {
	d := func(p, s int) change.Type { return change.Type{Kind: change.Decimal, Precision: p, Scale: s} }
	cases := []struct {
		typ  change.Type
		v    any
		want string // hex
	}{
		{change.Type{Kind: change.Int64}, int64(0), "00"},
		{change.Type{Kind: change.Int64}, int64(-1), "01"},
		{change.Type{Kind: change.Int64}, int64(1), "02"},
		{change.Type{Kind: change.Int64}, int64(-64), "7f"},
		{change.Type{Kind: change.Int64}, int64(64), "8001"},
		{change.Type{Kind: change.Int64}, int64(math.MaxInt64), "feffffffffffffffff01"},
		{change.Type{Kind: change.Int64}, int64(math.MinInt64), "ffffffffffffffffff01"},
		{change.Type{Kind: change.UInt32}, uint64(math.MaxUint32), "feffffff1f"},
		{change.Type{Kind: change.UInt64}, uint64(math.MaxUint64), "1200ffffffffffffffff"},
		{change.Type{Kind: change.UInt64}, uint64(128), "040080"},
		{change.Type{Kind: change.UInt64}, uint64(0), "0200"},
		{d(12, 2), dec("1.50"), "040096"},  // 150 = 0x96 needs a sign byte: 00 96
		{d(12, 2), dec("1.5"), "040096"},   // the same value at the schema scale
		{d(12, 2), dec("-1.28"), "0280"},   // -128
		{d(12, 2), dec("-1.29"), "04ff7f"}, // -129
		{d(12, 2), dec("0"), "0200"},
		{d(12, 2), dec("327.67"), "047fff"},
		{d(5, -2), decimal.New(123, 2), "04300c"}, // 12300
		{change.Type{Kind: change.Decimal}, dec("1.50"), "08312e3530"},
		{change.Type{Kind: change.Decimal}, dec("-0.05"), "0a2d302e3035"},
		{change.Type{Kind: change.Decimal}, decimal.New(5, 2), "06353030"},
		{change.Type{Kind: change.Float32}, 1.5, "0000c03f"},
		{change.Type{Kind: change.Float64}, 1.5, "000000000000f83f"},
		{change.Type{Kind: change.Bool}, true, "01"},
		{change.Type{Kind: change.Date}, date(1969, 12, 31), "01"},
		{change.Type{Kind: change.Date}, date(1970, 1, 2), "02"},
		{change.Type{Kind: change.Time}, 24 * time.Hour, "8080bbdd8305"}, // 86400000000
		{change.Type{Kind: change.TimestampTZ}, time.Unix(0, 1000).UTC(), "02"},
		{change.Type{Kind: change.TimestampTZ}, time.Unix(-1, 999999000).UTC(), "01"},
		{change.Type{Kind: change.String}, "é", "04c3a9"},
		{change.Type{Kind: change.Bytes}, []byte{}, "00"},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", "b"}}, "b", "02"},
		{change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Int32}}, []any{}, "00"},
		{change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Int32}}, []any{int64(1), nil}, "040202" + "00" + "00"},
	}
	for _, c := range cases {
		tab := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"},
			Columns: []change.Column{{Name: "v", Type: c.typ}}, Key: []int{0}}
		s := mustSchema(t, tab)
		ev := &change.Event{Op: change.Insert, Table: tab, After: []any{c.v}}
		got, err := s.Append(nil, ev)
		if err != nil {
			t.Errorf("%s %v: %v", c.typ, c.v, err)
			continue
		}
		const meta = "00" + "00" + "00" + "00" + "00" // insert, version 0, seq 0, commit time null, not snapshot
		if h := hex.EncodeToString(got); h != c.want+meta {
			t.Errorf("%s %v: got %s, want %s", c.typ, c.v, h, c.want+meta)
		}
		if _, err := s.Native(got); err != nil {
			t.Errorf("%s %v: goavro: %v", c.typ, c.v, err)
		}
	}
}

// TestAppendReusesBuffer checks that Append appends (keeping what buf holds) and allocates
// nothing once the buffer is large enough.
func TestAppendReusesBuffer(t *testing.T) {
	s, ev := benchRow(t)
	buf, err := s.Append([]byte("prefix"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:6]) != "prefix" {
		t.Fatalf("Append overwrote the buffer's contents")
	}
	if _, err := s.Native(buf[6:]); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf, err = s.Append(buf[:0], ev)
	})
	if err != nil || allocs != 0 {
		t.Errorf("Append: %v allocations per row (err %v), want 0", allocs, err)
	}
}

// TestDecimalText checks the allocation-free text of unconstrained decimals against decimalText.
func TestDecimalText(t *testing.T) {
	vals := []decimal.Decimal{dec("0"), dec("0.00"), dec("-0.5"), dec("12.340"), decimal.New(1, 5), decimal.New(-1, -7),
		decimal.New(math.MaxInt64/10, -3), decimal.New(-999999999999999999, 4), dec("123456789012345678901.5")}
	for _, v := range vals {
		b := appendDecimalText(nil, v)
		want := decimalText(v)
		if string(b[1:]) != want && string(b[2:]) != want {
			t.Errorf("%s: appendDecimalText = %q, want %q", v, b, want)
		}
	}
}

// TestAppendWire checks the Confluent framing around a record.
func TestAppendWire(t *testing.T) {
	s, ev := benchRow(t)
	b, err := s.AppendWire(nil, 42, ev)
	if err != nil {
		t.Fatal(err)
	}
	id, payload, err := ParseWire(b)
	if err != nil || id != 42 {
		t.Fatalf("ParseWire: id %d, err %v", id, err)
	}
	if hex.EncodeToString(b[:5]) != "000000002a" {
		t.Errorf("header %x", b[:5])
	}
	if _, err := s.Native(payload); err != nil {
		t.Error(err)
	}
	if _, err := s.AppendWire(nil, -1, ev); err == nil {
		t.Error("AppendWire with id -1: no error")
	}
}
