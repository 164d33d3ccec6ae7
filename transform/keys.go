package transform

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Sort keys: an order-preserving byte encoding of one non-NULL value of a known class, used by
// the multisets of min, max and count_distinct. For two values a and b of one class,
// bytes.Compare(key(a), key(b)) == compareValues(a, b), and equal values have equal keys (1.5 and
// 1.50; 0 and -0; every NaN). A key is a whole value: it is not self-delimiting.
//
//	int64          8 bytes big-endian, sign bit flipped
//	uint64         8 bytes big-endian
//	float64        IEEE bits big-endian; negatives all bits flipped, others the sign bit
//	decimal        0x80 for zero; else 0x81 (positive) or 0x7f (negative), the adjusted
//	               exponent E (value = 0.DIGITS × 10^E) as 4 bytes, sign flipped (negated for
//	               negatives), the digits without trailing zeros as bytes 0-9 (9-d and a final
//	               0xff for negatives)
//	string, bytes  the bytes
//	bool           0 or 1
//	time           Unix seconds as int64, then nanoseconds as 4 bytes
//	time.Duration  as int64
//	uuid           the 16 bytes

// appendKey appends the sort key of v; ok is false for a value that has none (NULL, arrays,
// non-canonical types).
func appendKey(buf []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int64:
		return binary.BigEndian.AppendUint64(buf, uint64(x)^(1<<63)), true
	case uint64:
		return binary.BigEndian.AppendUint64(buf, x), true
	case float64:
		switch {
		case x == 0:
			x = 0
		case math.IsNaN(x):
			x = math.NaN()
		}
		b := math.Float64bits(x)
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(buf, b), true
	case decimal.Decimal:
		return appendDecimalKey(buf, x), true
	case string:
		return append(buf, x...), true
	case []byte:
		return append(buf, x...), true
	case bool:
		if x {
			return append(buf, 1), true
		}
		return append(buf, 0), true
	case time.Time:
		buf = binary.BigEndian.AppendUint64(buf, uint64(x.Unix())^(1<<63))
		return binary.BigEndian.AppendUint32(buf, uint32(x.Nanosecond())), true
	case time.Duration:
		return binary.BigEndian.AppendUint64(buf, uint64(x)^(1<<63)), true
	case uuid.UUID:
		return append(buf, x[:]...), true
	}
	return buf, false
}

func appendDecimalKey(buf []byte, d decimal.Decimal) []byte {
	sign := d.Sign()
	if sign == 0 {
		return append(buf, 0x80)
	}
	start := len(buf) + 5 // digits go after the sign byte and the exponent
	buf = append(buf, 0, 0, 0, 0, 0)
	if d.NumDigits() <= 18 {
		c := d.CoefficientInt64()
		if c < 0 {
			c = -c
		}
		buf = strconv.AppendInt(buf, c, 10)
	} else {
		c := d.Coefficient()
		buf = c.Abs(c).Append(buf, 10)
	}
	end := len(buf)
	for buf[end-1] == '0' {
		end--
	}
	e := int64(d.Exponent()) + int64(len(buf)-start) // digits before the point
	buf = buf[:end]
	ue := uint32(int32(max(min(e, math.MaxInt32), math.MinInt32))) ^ (1 << 31)
	if sign > 0 {
		buf[start-5] = 0x81
	} else {
		buf[start-5] = 0x7f
		ue = ^ue
	}
	binary.BigEndian.PutUint32(buf[start-4:start], ue)
	for i := start; i < end; i++ {
		if sign > 0 {
			buf[i] -= '0'
		} else {
			buf[i] = 9 - (buf[i] - '0')
		}
	}
	if sign < 0 {
		buf = append(buf, 0xff)
	}
	return buf
}

// keyWidth returns the length of every sort key of class cls, 0 when it varies.
func keyWidth(cls class) int {
	switch cls {
	case clsInt, clsUint, clsFloat, clsDur:
		return 8
	case clsBool:
		return 1
	case clsTime:
		return 12
	case clsUUID:
		return 16
	}
	return 0
}

// decodeKey returns the value of class cls whose sort key is k; ok is false when k is not one.
func decodeKey(cls class, k string) (any, bool) {
	be64 := func() (uint64, bool) {
		if len(k) != 8 {
			return 0, false
		}
		return binary.BigEndian.Uint64([]byte(k)), true
	}
	switch cls {
	case clsInt:
		u, ok := be64()
		return int64(u ^ (1 << 63)), ok
	case clsUint:
		u, ok := be64()
		return u, ok
	case clsFloat:
		u, ok := be64()
		if u>>63 == 1 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		return math.Float64frombits(u), ok
	case clsDec:
		return decodeDecimalKey(k)
	case clsString:
		return k, true
	case clsBytes:
		return []byte(k), true
	case clsBool:
		return k == "\x01", k == "\x00" || k == "\x01"
	case clsTime:
		if len(k) != 12 {
			return nil, false
		}
		sec := int64(binary.BigEndian.Uint64([]byte(k[:8])) ^ (1 << 63))
		ns := binary.BigEndian.Uint32([]byte(k[8:]))
		return time.Unix(sec, int64(ns)).UTC(), ns < 1e9
	case clsDur:
		u, ok := be64()
		return time.Duration(u ^ (1 << 63)), ok
	case clsUUID:
		var id uuid.UUID
		return id, copy(id[:], k) == 16 && len(k) == 16
	}
	return nil, false
}

func decodeDecimalKey(k string) (any, bool) {
	if k == "\x80" {
		return decimal.New(0, 0), true
	}
	if len(k) < 6 || k[0] != 0x81 && k[0] != 0x7f {
		return nil, false
	}
	neg := k[0] == 0x7f
	ue := binary.BigEndian.Uint32([]byte(k[1:5]))
	digits := k[5:]
	if neg {
		ue = ^ue
		if digits[len(digits)-1] != 0xff {
			return nil, false
		}
		digits = digits[:len(digits)-1]
	}
	e := int64(int32(ue ^ (1 << 31)))
	if len(digits) == 0 {
		return nil, false
	}
	text := make([]byte, 0, len(digits)+1)
	if neg {
		text = append(text, '-')
	}
	small := int64(0)
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		if neg {
			d = 9 - d
		}
		if d > 9 || i == len(digits)-1 && d == 0 || i == 0 && d == 0 {
			return nil, false
		}
		text = append(text, '0'+d)
		small = small*10 + int64(d)
	}
	exp := e - int64(len(digits))
	if exp < -maxDecimalExp || exp > maxDecimalExp {
		return nil, false
	}
	if len(digits) <= 18 {
		if neg {
			small = -small
		}
		return decimal.New(small, int32(exp)), true
	}
	c, ok := new(big.Int).SetString(string(text), 10)
	return decimal.NewFromBigInt(c, int32(exp)), ok
}
