package transform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// class is the canonical Go representation of a Kind's values (see package change). Values of
// one class compare with each other; the class number doubles as the tag of the value encoding.
type class uint8

const (
	clsNull   class = iota // nil: SQL NULL (a tag only, never a column's class)
	clsInt                 // int64
	clsUint                // uint64
	clsFloat               // float64
	clsDec                 // decimal.Decimal
	clsString              // string
	clsBytes               // []byte
	clsBool                // bool
	clsTime                // time.Time
	clsDur                 // time.Duration
	clsUUID                // uuid.UUID
	clsArray               // []any
	clsNone                // not a class: unknown, or a Kind cdcd does not have
)

var classNames = [...]string{
	clsNull: "null", clsInt: "integer", clsUint: "unsigned integer", clsFloat: "float",
	clsDec: "decimal", clsString: "string", clsBytes: "bytes", clsBool: "bool", clsTime: "timestamp",
	clsDur: "time", clsUUID: "uuid", clsArray: "array", clsNone: "unknown",
}

func (c class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// classOf returns the class of a Kind's canonical values.
func classOf(k change.Kind) class {
	switch k {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		return clsInt
	case change.UInt8, change.UInt16, change.UInt32, change.UInt64:
		return clsUint
	case change.Float32, change.Float64:
		return clsFloat
	case change.Decimal:
		return clsDec
	case change.String, change.JSON, change.Enum:
		return clsString
	case change.Bytes:
		return clsBytes
	case change.Bool:
		return clsBool
	case change.Date, change.Timestamp, change.TimestampTZ:
		return clsTime
	case change.Time:
		return clsDur
	case change.UUID:
		return clsUUID
	case change.Array:
		return clsArray
	}
	return clsNone
}

// classOfValue returns the class of a canonical value; clsNone for anything else.
func classOfValue(v any) class {
	switch v.(type) {
	case nil:
		return clsNull
	case int64:
		return clsInt
	case uint64:
		return clsUint
	case float64:
		return clsFloat
	case decimal.Decimal:
		return clsDec
	case string:
		return clsString
	case []byte:
		return clsBytes
	case bool:
		return clsBool
	case time.Time:
		return clsTime
	case time.Duration:
		return clsDur
	case uuid.UUID:
		return clsUUID
	case []any:
		return clsArray
	}
	return clsNone
}

func cmpOrdered[T int | int64 | uint64 | time.Duration | class](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// cmpFloat orders floats with NaN above +Inf and equal to itself, as PostgreSQL does.
func cmpFloat(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an || bn:
		return cmpBool(an, bn)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendValue appends the encoding of a canonical value (or nil) to buf: a class tag, then the
// value. Equal values (compareValues == 0) encode to equal bytes: decimals are normalised (no
// trailing zeros in the coefficient), floats have one NaN and one zero, times are instants.
// The encoding is self-describing: decodeValue reads it back without knowing the type.
func appendValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, byte(clsNull)), nil
	case int64:
		return binary.AppendVarint(append(buf, byte(clsInt)), x), nil
	case uint64:
		return binary.AppendUvarint(append(buf, byte(clsUint)), x), nil
	case float64:
		switch {
		case x == 0:
			x = 0 // -0 encodes as 0
		case math.IsNaN(x):
			x = math.NaN()
		}
		return binary.BigEndian.AppendUint64(append(buf, byte(clsFloat)), math.Float64bits(x)), nil
	case decimal.Decimal:
		return appendDecimal(append(buf, byte(clsDec)), x), nil
	case string:
		buf = binary.AppendUvarint(append(buf, byte(clsString)), uint64(len(x)))
		return append(buf, x...), nil
	case []byte:
		buf = binary.AppendUvarint(append(buf, byte(clsBytes)), uint64(len(x)))
		return append(buf, x...), nil
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		return append(buf, byte(clsBool), b), nil
	case time.Time:
		buf = binary.AppendVarint(append(buf, byte(clsTime)), x.Unix())
		return binary.AppendUvarint(buf, uint64(x.Nanosecond())), nil
	case time.Duration:
		return binary.AppendVarint(append(buf, byte(clsDur)), int64(x)), nil
	case uuid.UUID:
		return append(append(buf, byte(clsUUID)), x[:]...), nil
	case []any:
		buf = binary.AppendUvarint(append(buf, byte(clsArray)), uint64(len(x)))
		var err error
		for _, e := range x {
			if buf, err = appendValue(buf, e); err != nil {
				return buf, err
			}
		}
		return buf, nil
	}
	return buf, fmt.Errorf("value of Go type %T is not a canonical cdcd value", v)
}

// appendDecimal appends a decimal as varint exponent, then 0 and a varint coefficient, or 1, a
// sign byte and the big-endian magnitude, with trailing zeros moved from the coefficient into the
// exponent (zero is 0e0).
func appendDecimal(buf []byte, d decimal.Decimal) []byte {
	e := int64(d.Exponent())
	if d.NumDigits() <= 18 {
		c := d.CoefficientInt64()
		if c == 0 {
			e = 0
		}
		for c != 0 && c%10 == 0 {
			c /= 10
			e++
		}
		return binary.AppendVarint(append(binary.AppendVarint(buf, e), 0), c)
	}
	c := d.Coefficient()
	q, r, ten := new(big.Int), new(big.Int), big.NewInt(10)
	for {
		q.QuoRem(c, ten, r)
		if r.Sign() != 0 {
			break
		}
		c, q = q, c
		e++
	}
	if c.IsInt64() {
		return binary.AppendVarint(append(binary.AppendVarint(buf, e), 0), c.Int64())
	}
	buf = append(binary.AppendVarint(buf, e), 1, byte(c.Sign()+1))
	mag := c.Bytes()
	return append(binary.AppendUvarint(buf, uint64(len(mag))), mag...)
}

var errCorrupt = errors.New("corrupt encoding")

// decoder reads what appendValue and friends wrote; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.fail()
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// value reads one appendValue encoding; the value it returns shares no memory with the input.
func (d *decoder) value() any {
	switch class(d.byte()) {
	case clsNull:
		return nil
	case clsInt:
		return d.varint()
	case clsUint:
		return d.uvarint()
	case clsFloat:
		if b := d.bytes(8); len(b) == 8 {
			return math.Float64frombits(binary.BigEndian.Uint64(b))
		}
		return nil
	case clsDec:
		return d.decimal()
	case clsString:
		return string(d.bytes(d.uvarint()))
	case clsBytes:
		return bytes.Clone(d.bytes(d.uvarint()))
	case clsBool:
		return d.byte() == 1
	case clsTime:
		sec := d.varint()
		return time.Unix(sec, int64(d.uvarint()%1e9)).UTC()
	case clsDur:
		return time.Duration(d.varint())
	case clsUUID:
		var u uuid.UUID
		copy(u[:], d.bytes(16))
		return u
	case clsArray:
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			d.fail()
			return nil
		}
		arr := make([]any, n)
		for i := range arr {
			arr[i] = d.value()
		}
		return arr
	}
	d.fail()
	return nil
}

// maxDecimalExp bounds the exponents of decimals read back: PostgreSQL's numeric has at most
// 131072 digits before the point and 16383 after, so anything far outside is corrupt (and would
// make arithmetic on it endless).
const maxDecimalExp = 1 << 18

func (d *decoder) decimal() decimal.Decimal {
	e := d.varint()
	if e < -maxDecimalExp || e > maxDecimalExp {
		d.fail()
		return decimal.Decimal{}
	}
	switch d.byte() {
	case 0:
		return decimal.New(d.varint(), int32(e))
	case 1:
		sign := int(d.byte()) - 1
		c := new(big.Int).SetBytes(d.bytes(d.uvarint()))
		if sign < 0 {
			c.Neg(c)
		}
		return decimal.NewFromBigInt(c, int32(e))
	}
	d.fail()
	return decimal.Decimal{}
}
