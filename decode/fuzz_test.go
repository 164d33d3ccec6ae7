package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// fuzzTable is the fixed schema of FuzzAppendRoundTrip.
func fuzzTable() *change.Table {
	int4 := change.Type{Kind: change.Int32}
	kinds := []change.Type{
		{Kind: change.Int64}, int4, {Kind: change.UInt64}, {Kind: change.UInt8}, {Kind: change.Float32},
		{Kind: change.Float64}, {Kind: change.Decimal, Precision: 12, Scale: 2},
		{Kind: change.Decimal, Precision: 38, Scale: 10}, {Kind: change.Decimal}, {Kind: change.String},
		{Kind: change.Bytes}, {Kind: change.Bool}, {Kind: change.Date}, {Kind: change.TimestampTZ},
		{Kind: change.Timestamp}, {Kind: change.Time}, {Kind: change.UUID}, {Kind: change.Array, Elem: &int4},
		{Kind: change.Enum, Symbols: []string{"happy", "sad"}},
	}
	t := &change.Table{ID: change.TableID{Source: "f", Namespace: "z", Name: "t"}, Key: []int{0}}
	for i, k := range kinds {
		t.Columns = append(t.Columns, change.Column{Name: "c" + string(rune('a'+i)), Type: k, Nullable: i > 0})
	}
	return t
}

// fuzzBytes hands out the fuzzer's bytes; past the end it gives zeros.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) u64() uint64 {
	var tmp [8]byte
	n := copy(tmp[:], f.b)
	f.b = f.b[n:]
	return binary.LittleEndian.Uint64(tmp[:])
}

func (f *fuzzBytes) bytes() []byte {
	n := int(f.u64() % 64)
	n = min(n, len(f.b))
	out := append([]byte{}, f.b[:n]...)
	f.b = f.b[n:]
	return out
}

// value makes a value of type ty that its field can hold.
func (f *fuzzBytes) value(ty change.Type) any {
	u := f.u64()
	neg := u&1 == 1
	sign := func(x int64) int64 {
		if neg {
			return -x
		}
		return x
	}
	switch ty.Kind {
	case change.Int64:
		return int64(u)
	case change.Int32:
		return int64(int32(u))
	case change.UInt64:
		return u
	case change.UInt8:
		return u % 256
	case change.Float32:
		return float64(math.Float32frombits(uint32(u)))
	case change.Float64:
		return math.Float64frombits(u)
	case change.Decimal:
		switch ty.Precision {
		case 12:
			e := int32(u>>1%4) - 2 // -2..1
			return decimal.New(sign(int64(f.u64()%pow10[10-e])), e)
		case 38:
			c := new(big.Int).SetUint64(f.u64() % pow10[10])
			c.Mul(c, new(big.Int).SetUint64(pow10[18]))
			c.Add(c, new(big.Int).SetUint64(f.u64()%pow10[18]))
			if neg {
				c.Neg(c)
			}
			return decimal.NewFromBigInt(c, -int32(u>>1%11))
		}
		if u&2 == 2 {
			c := new(big.Int).SetUint64(f.u64())
			c.Mul(c, new(big.Int).SetUint64(f.u64()))
			return decimal.NewFromBigInt(c, int32(u>>2%81)-40)
		}
		return decimal.New(int64(f.u64()), int32(u>>2%81)-40)
	case change.String:
		return strings.ToValidUTF8(string(f.bytes()), "?")
	case change.Bytes:
		return f.bytes()
	case change.Bool:
		return neg
	case change.Date:
		return time.Unix(int64(int32(u))*86400, 0).UTC()
	case change.TimestampTZ, change.Timestamp:
		return time.UnixMicro(int64(u)).UTC()
	case change.Time:
		return time.Duration(u%(86400*1e6+1)) * time.Microsecond
	case change.UUID:
		var id uuid.UUID
		binary.LittleEndian.PutUint64(id[:8], u)
		binary.LittleEndian.PutUint64(id[8:], f.u64())
		return id
	case change.Array:
		out := []any{}
		for range u % 5 {
			if x := f.u64(); x&1 == 0 {
				out = append(out, int64(int32(x>>1)))
			} else {
				out = append(out, nil)
			}
		}
		return out
	case change.Enum:
		return ty.Symbols[u%uint64(len(ty.Symbols))]
	}
	panic("fuzz: no values for " + ty.String())
}

// FuzzAppendRoundTrip encodes rows made from the fuzzer's bytes and checks that goavro decodes
// exactly them, and that goavro's encoding of the same record is byte-identical.
func FuzzAppendRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 200))
	f.Add(bytes.Repeat([]byte{0x01, 0x80, 0x7f, 0x00, 0x55}, 60))
	f.Add([]byte("the quick brown fox jumps over the lazy dog, 0123456789 times, with ünïcödé"))
	tab := fuzzTable()
	s := mustSchema(f, tab)
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{b: data}
		head := fb.u64()
		row := make([]any, len(tab.Columns))
		for i, c := range tab.Columns {
			if c.Nullable && fb.u64()%4 == 0 {
				continue
			}
			row[i] = fb.value(c.Type)
		}
		ev := &change.Event{Table: tab, Version: fb.u64(), Seq: uint32(fb.u64()), Snapshot: head&4 != 0}
		if head&8 != 0 {
			ev.CommitTime = time.UnixMicro(int64(fb.u64())).UTC()
		}
		switch head % 3 {
		case 0:
			ev.Op, ev.After = change.Insert, row
		case 1:
			ev.Op, ev.After = change.Update, row
		case 2:
			ev.Op, ev.Before = change.Delete, row
		}
		buf, err := s.Append([]byte{0xAA}, ev)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		got, err := s.Native(buf[1:])
		if err != nil {
			t.Fatalf("goavro: %v", err)
		}
		checkRecord(t, s, ev, got)
		theirs, err := s.Codec().BinaryFromNative(nil, goavroNative(s, ev))
		if err != nil {
			t.Fatalf("goavro BinaryFromNative: %v", err)
		}
		if !bytes.Equal(theirs, buf[1:]) {
			t.Fatalf("goavro encodes %x, Append %x", theirs, buf[1:])
		}
	})
}

// FuzzParseWire checks that ParseWire never panics, and that what it accepts it splits exactly.
func FuzzParseWire(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 42, 2, 4, 6})
	f.Add([]byte{1, 0, 0, 0, 42})
	f.Add([]byte{0, 0x80, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := ParseWire(b)
		if err != nil {
			if !errors.Is(err, ErrNotWireFormat) {
				t.Fatalf("error %v does not wrap ErrNotWireFormat", err)
			}
			return
		}
		again, err := AppendWireHeader(nil, id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(again, payload...), b) {
			t.Fatalf("ParseWire(%x) = %d, %x: does not frame back to the input", b, id, payload)
		}
	})
}
