package mysql

import (
	"encoding/binary"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/change"
)

// Hand-built binlog frames (format description, table map, rows events) for decoder tests, and
// encoders of MySQL's binary row values.

// tcol is a column of a test table map.
type tcol struct {
	name     string
	typ      byte   // binlog type as logged (ENUM and SET as STRING, see meta)
	meta     []byte // the metadata bytes as logged
	unsigned bool   // for numeric columns
	numeric  bool
	charset  uint64 // collation id for character columns; 0 for none
	enum     []string
	set      []string
}

func header(typ replication.EventType, body []byte) []byte {
	h := make([]byte, 19, 19+len(body))
	binary.LittleEndian.PutUint32(h[0:], 1700000000)
	h[4] = byte(typ)
	binary.LittleEndian.PutUint32(h[5:], 1)
	binary.LittleEndian.PutUint32(h[9:], uint32(19+len(body)))
	binary.LittleEndian.PutUint32(h[13:], 4242)
	return append(h, body...)
}

// fdeEvent is a format description of a server old enough to have no checksums.
func fdeEvent() []byte {
	b := make([]byte, 2+50+4+1)
	binary.LittleEndian.PutUint16(b, 4)
	copy(b[2:], "5.5.0-test")
	b[56] = 19
	lengths := make([]byte, 40)
	for i := range lengths {
		lengths[i] = 8
	}
	return header(replication.FORMAT_DESCRIPTION_EVENT, append(b, lengths...))
}

func lenenc(n int) []byte { return gomysql.PutLengthEncodedInt(uint64(n)) }

func tlv(t byte, v []byte) []byte { return append(append([]byte{t}, lenenc(len(v))...), v...) }

// tableMapEvent builds a table map with FULL metadata for cols (key: the first column).
func tableMapEvent(tableID uint64, db, table string, cols []tcol, full bool) []byte {
	var b []byte
	id := make([]byte, 8)
	binary.LittleEndian.PutUint64(id, tableID)
	b = append(b, id[:6]...)
	b = append(b, 1, 0)
	b = append(b, byte(len(db)))
	b = append(append(b, db...), 0)
	b = append(b, byte(len(table)))
	b = append(append(b, table...), 0)
	b = append(b, lenenc(len(cols))...)
	var meta []byte
	for _, c := range cols {
		b = append(b, c.typ)
		meta = append(meta, c.meta...)
	}
	b = append(b, gomysql.PutLengthEncodedString(meta)...)
	b = append(b, make([]byte, (len(cols)+7)/8)...) // NULL bitmap: unused by the decoders
	var sign []byte
	var bit int
	var charsets, names, enums, sets []byte
	for _, c := range cols {
		if c.numeric {
			if bit%8 == 0 {
				sign = append(sign, 0)
			}
			if c.unsigned {
				sign[bit/8] |= 0x80 >> (bit % 8)
			}
			bit++
		}
		if c.charset != 0 {
			charsets = append(charsets, lenenc(int(c.charset))...)
		}
		names = append(names, byte(len(c.name)))
		names = append(names, c.name...)
		for _, ls := range []struct {
			labels []string
			into   *[]byte
		}{{c.enum, &enums}, {c.set, &sets}} {
			if ls.labels != nil {
				*ls.into = append(*ls.into, lenenc(len(ls.labels))...)
				for _, l := range ls.labels {
					*ls.into = append(*ls.into, gomysql.PutLengthEncodedString([]byte(l))...)
				}
			}
		}
	}
	if sign != nil {
		b = append(b, tlv(replication.TABLE_MAP_OPT_META_SIGNEDNESS, sign)...)
	}
	if charsets != nil {
		b = append(b, tlv(replication.TABLE_MAP_OPT_META_COLUMN_CHARSET, charsets)...)
	}
	if full {
		b = append(b, tlv(replication.TABLE_MAP_OPT_META_COLUMN_NAME, names)...)
		if sets != nil {
			b = append(b, tlv(replication.TABLE_MAP_OPT_META_SET_STR_VALUE, sets)...)
		}
		if enums != nil {
			b = append(b, tlv(replication.TABLE_MAP_OPT_META_ENUM_STR_VALUE, enums)...)
		}
		b = append(b, tlv(replication.TABLE_MAP_OPT_META_SIMPLE_PRIMARY_KEY, lenenc(0))...)
	}
	return header(replication.TABLE_MAP_EVENT, b)
}

// rowsEvent builds a v2 rows event of images (each: NULL bitmap and values, as imageOf builds).
func rowsEvent(typ replication.EventType, tableID uint64, ncols int, present []byte, images ...[]byte) []byte {
	var b []byte
	id := make([]byte, 8)
	binary.LittleEndian.PutUint64(id, tableID)
	b = append(b, id[:6]...)
	b = append(b, 1, 0) // flags: STMT_END
	b = append(b, 2, 0) // no extra data
	b = append(b, lenenc(ncols)...)
	if present == nil {
		present = make([]byte, (ncols+7)/8)
		for i := 0; i < ncols; i++ {
			present[i/8] |= 1 << (i % 8)
		}
	}
	b = append(b, present...)
	if typ == replication.UPDATE_ROWS_EVENTv2 {
		b = append(b, present...)
	}
	for _, img := range images {
		b = append(b, img...)
	}
	return header(typ, b)
}

// imageOf builds a row image of encoded values; nil is NULL.
func imageOf(vals ...[]byte) []byte {
	nulls := make([]byte, (len(vals)+7)/8)
	var data []byte
	for i, v := range vals {
		if v == nil {
			nulls[i/8] |= 1 << (i % 8)
			continue
		}
		data = append(data, v...)
	}
	return append(nulls, data...)
}

// parseEvents runs frames through go-mysql's parser; with ours, rows events are deferred to
// rowImages as the stream does.
func parseEvents(t testing.TB, ours bool, frames ...[]byte) []*replication.BinlogEvent {
	t.Helper()
	p := replication.NewBinlogParser()
	p.SetFlavor("mysql")
	p.SetUseDecimal(true)
	p.SetTimestampStringLocation(time.UTC)
	if ours {
		p.SetRowsEventDecodeFunc(deferRows)
	}
	var out []*replication.BinlogEvent
	for _, f := range frames {
		ev, err := p.Parse(f)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

// decodeOurs decodes a rows event with capture/mysql's decoder and returns its change events.
func decodeOurs(tm *replication.TableMapEvent, h *replication.EventHeader, re *replication.RowsEvent) ([]change.Event, error) {
	cols, key, err := tmColumns(tm, nil, MySQL, collationCharsets{}.charsetOf)
	if err != nil {
		return nil, err
	}
	sh := &shape{name: TableName{DB: string(tm.Schema), Name: string(tm.Table)}, cols: cols}
	sh.table = (&Source{cfg: Config{Name: "t"}}).buildTable(sh.name, cols, key, nil)
	data, ok := deferredData(re)
	if !ok {
		return nil, errShort
	}
	op, _, _ := rowsKind(h.EventType)
	var evs []change.Event
	err = rowImages(sh, op, data, re.ColumnBitmap1, re.ColumnBitmap2, func(ev change.Event) error { evs = append(evs, ev); return nil })
	return evs, err
}

// Encoders of MySQL's binary row values.

func le(v uint64, n int) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, v)
	return b[:n]
}

func be(v uint64, n int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b[8-n:]
}

func withPrefix(prefix int, s []byte) []byte { return append(le(uint64(len(s)), prefix), s...) }

func encFloat(f float32) []byte  { return le(uint64(math.Float32bits(f)), 4) }
func encDouble(f float64) []byte { return le(math.Float64bits(f), 8) }

func encFrac(us int64, fsp int) []byte {
	switch fsp {
	case 1, 2:
		return []byte{byte(us / 10000)}
	case 3, 4:
		return be(uint64(us/100), 2)
	case 5, 6:
		return be(uint64(us), 3)
	}
	return nil
}

func encDate(y, m, d int) []byte { return le(uint64(d|m<<5|y<<9), 3) }

func encDatetime2(y, mo, d, h, mi, s int, us int64, fsp int) []byte {
	v := uint64((y*13+mo)<<22|d<<17|h<<12|mi<<6|s) + 0x8000000000
	return append(be(v, 5), encFrac(us, fsp)...)
}

func encTimestamp2(sec int64, us int64, fsp int) []byte {
	return append(be(uint64(sec), 4), encFrac(us, fsp)...)
}

// encTime2 encodes a signed TIME(fsp) given as microseconds.
func encTime2(total int64, fsp int) []byte {
	neg := total < 0
	if neg {
		total = -total
	}
	secs, us := total/1e6, total%1e6
	hms := (secs/3600)<<12 | (secs/60%60)<<6 | secs%60
	switch fsp {
	case 5, 6:
		packed := hms<<24 | us
		if neg {
			packed = -packed
		}
		return be(uint64(packed+0x800000000000), 6)
	case 0:
		v := hms
		if neg {
			v = -v
		}
		return be(uint64(v+0x800000), 3)
	}
	// fsp 1-4: the integer part and the fraction separately, a negative fraction reversed.
	unit, size, mod := int64(10000), 1, int64(0x100)
	if fsp > 2 {
		unit, size, mod = 100, 2, 0x10000
	}
	frac := us / unit
	ip := hms
	if neg {
		ip = -ip
		if frac != 0 {
			ip--
			frac = mod - frac
		}
	}
	return append(be(uint64(ip+0x800000), 3), be(uint64(frac), size)...)
}

// encDecimal encodes a decimal text as MySQL's binary DECIMAL(prec, scale).
func encDecimal(s string, prec, scale int) []byte {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	fp += strings.Repeat("0", scale-len(fp))
	intg := prec - scale
	ip = strings.TrimLeft(ip, "0")
	ip = strings.Repeat("0", intg-len(ip)) + ip
	var out []byte
	put := func(digits string) {
		v, _ := new(big.Int).SetString("0"+digits, 10)
		out = append(out, be(v.Uint64(), dig2bytes[len(digits)])...)
	}
	if lead := intg % 9; lead > 0 {
		put(ip[:lead])
	}
	for i := intg % 9; i < intg; i += 9 {
		put(ip[i : i+9])
	}
	for i := 0; i+9 <= scale; i += 9 {
		put(fp[i : i+9])
	}
	if trail := scale % 9; trail > 0 {
		put(fp[scale-trail:])
	}
	out[0] ^= 0x80
	if neg {
		for i := range out {
			out[i] ^= 0xFF
		}
	}
	return out
}
