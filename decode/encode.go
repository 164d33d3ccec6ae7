package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// Errors of Append. Each comes wrapped, naming the table (and, for a value, the column).
var (
	// ErrTruncate: a truncate event has no row, so it has no record. The caller handles
	// truncates itself.
	ErrTruncate = errors.New("a truncate event has no row to encode")
	// ErrUnchanged: the row holds change.Unchanged. Append needs rows whose unchanged TOAST values
	// the caller has resolved from an earlier image; it never writes one as NULL.
	ErrUnchanged = errors.New("value is Unchanged (an unresolved TOAST value)")
	// ErrNull: a key column, whose field is not optional, holds NULL.
	ErrNull = errors.New("NULL in a key column")
)

// ValueError is Append's error for a value its field cannot hold. Its text names the table, the
// column, the column's type and what is wrong with the value.
type ValueError struct {
	Table  string      // the table's ID, e.g. "shop.public.orders"
	Column string      // the source column name
	Type   change.Type // the column's type
	Err    error       // what is wrong: ErrUnchanged, ErrNull, a *change.BadValue's error, ...
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("decode: table %s column %q (%s): %v", e.Table, e.Column, e.Type, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// badValueError carries a *change.BadValue: errors.As finds the BadValue, errors.Is its Err.
type badValueError struct{ bv *change.BadValue }

func (e *badValueError) Error() string {
	return fmt.Sprintf("bad value %q: %v", e.bv.Raw, e.bv.Err)
}

func (e *badValueError) Unwrap() []error { return []error{e.bv, e.bv.Err} }

// encOp is how a field's values are encoded.
type encOp uint8

const (
	opInt           encOp = iota + 1 // int64 in [min, max] → int or long
	opUint                           // uint64 up to umax → int or long
	opUint64Decimal                  // uint64 → bytes decimal(20,0)
	opFloat32                        // float64 that is exactly a float32 → float
	opFloat64                        // float64 → double
	opDecimal                        // decimal.Decimal → bytes decimal(prec, scale)
	opDecimalText                    // decimal.Decimal → string
	opString                         // string → string
	opBytes                          // []byte → bytes
	opBool                           // bool → boolean
	opDate                           // time.Time, UTC midnight → int date
	opTimestamp                      // time.Time → long (local-)timestamp-micros
	opTime                           // time.Duration → long time-micros
	opUUID                           // uuid.UUID → string uuid
	opEnum                           // string → enum index
	opArray                          // []any → array of ["null", elem]
)

// fieldEnc encodes the values of one field (or of an array's elements).
type fieldEnc struct {
	op        encOp
	nullable  bool // the type is ["null", T]
	col       int  // the column's index in the row
	min, max  int64
	umax      uint64
	prec      int32
	scale     int32
	precLimit *big.Int // 10^prec
	symbols   map[string]int32
	elem      *fieldEnc
}

// Append appends the Avro binary encoding of ev's record under s to buf and returns the extended
// buffer. The record holds ev.After for inserts and updates and ev.Before for deletes (without a
// full before image, the non-key columns are null), then the metadata fields.
//
// Each value is converted once, straight from its canonical Go value (see package change) into
// Avro binary. A value the field cannot hold is a *ValueError; a truncate is ErrTruncate; an event
// of another table, or a row of the wrong length, is an error too. On error Append returns buf as
// it was. Append allocates nothing beyond buf's growth, except for decimals of more than 18 digits.
//
// The row must have its Unchanged values resolved (see ErrUnchanged). ev.Table should be s.Table:
// another table of the same shape is accepted, at the cost of comparing the two on every row.
// Append may be called concurrently.
func (s *TableSchema) Append(buf []byte, ev *change.Event) ([]byte, error) {
	start := len(buf)
	var row []any
	var op int64
	switch ev.Op {
	case change.Insert:
		row, op = ev.After, 0
	case change.Update:
		row, op = ev.After, 1
	case change.Delete:
		row, op = ev.Before, 2
	case change.Truncate:
		return buf, fmt.Errorf("decode: table %s: %w", s.where, ErrTruncate)
	default:
		return buf, fmt.Errorf("decode: table %s: event with unknown op %s", s.where, ev.Op)
	}
	if ev.Table != s.Table && (ev.Table == nil || !ev.Table.SameShape(s.Table)) {
		return buf, fmt.Errorf("decode: table %s: event of another table shape encoded under the schema of generation %d",
			s.where, s.Table.Generation)
	}
	if len(row) != len(s.cols) {
		return buf, fmt.Errorf("decode: table %s: %s event has a row of %d values for %d columns",
			s.where, ev.Op, len(row), len(s.cols))
	}
	var err error
	for i := range s.cols {
		f := &s.cols[i]
		if buf, err = f.append(buf, row[f.col]); err != nil {
			c := s.Table.Columns[f.col]
			return buf[:start], &ValueError{Table: s.where, Column: c.Name, Type: c.Type, Err: err}
		}
	}
	buf = appendLong(buf, op)
	buf = appendLong(buf, int64(ev.Version))
	buf = appendLong(buf, int64(ev.Seq))
	if ev.CommitTime.IsZero() {
		buf = append(buf, 0)
	} else {
		us, err := timeMicros(ev.CommitTime)
		if err != nil {
			return buf[:start], fmt.Errorf("decode: table %s: field %s: %w", s.where, FieldCommitTime, err)
		}
		buf = appendLong(append(buf, 2), us)
	}
	return appendBool(buf, ev.Snapshot), nil
}

// AppendWire appends ev's record in the Confluent wire format: AppendWireHeader with the schema
// id the registry gave s, then Append.
func (s *TableSchema) AppendWire(buf []byte, id int, ev *change.Event) ([]byte, error) {
	start := len(buf)
	buf, err := AppendWireHeader(buf, id)
	if err != nil {
		return buf, err
	}
	if buf, err = s.Append(buf, ev); err != nil {
		return buf[:start], err
	}
	return buf, nil
}

// append encodes v, which may be NULL.
func (f *fieldEnc) append(buf []byte, v any) ([]byte, error) {
	if v == nil {
		if f.nullable {
			return append(buf, 0), nil // union branch 0: null
		}
		return buf, ErrNull
	}
	if f.nullable {
		buf = append(buf, 2) // union branch 1: the value
	}
	return f.appendValue(buf, v)
}

// appendValue encodes a non-NULL value.
func (f *fieldEnc) appendValue(buf []byte, v any) ([]byte, error) {
	switch f.op {
	case opInt:
		x, ok := v.(int64)
		if !ok {
			return buf, wrongType(v, "int64")
		}
		if x < f.min || x > f.max {
			return buf, fmt.Errorf("value %d out of range [%d, %d]", x, f.min, f.max)
		}
		return appendLong(buf, x), nil
	case opUint:
		x, ok := v.(uint64)
		if !ok {
			return buf, wrongType(v, "uint64")
		}
		if x > f.umax {
			return buf, fmt.Errorf("value %d out of range [0, %d]", x, f.umax)
		}
		return appendLong(buf, int64(x)), nil
	case opUint64Decimal:
		x, ok := v.(uint64)
		if !ok {
			return buf, wrongType(v, "uint64")
		}
		return appendUint64Decimal(buf, x), nil
	case opFloat32:
		x, ok := v.(float64)
		if !ok {
			return buf, wrongType(v, "float64")
		}
		if float64(float32(x)) != x && x == x { // NaN is a float32 too
			return buf, fmt.Errorf("value %v is not exactly a float32", x)
		}
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(x))), nil
	case opFloat64:
		x, ok := v.(float64)
		if !ok {
			return buf, wrongType(v, "float64")
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(x)), nil
	case opDecimal:
		x, ok := v.(decimal.Decimal)
		if !ok {
			return buf, wrongType(v, "decimal.Decimal")
		}
		return appendDecimal(buf, x, f)
	case opDecimalText:
		x, ok := v.(decimal.Decimal)
		if !ok {
			return buf, wrongType(v, "decimal.Decimal")
		}
		return appendDecimalText(buf, x), nil
	case opString:
		x, ok := v.(string)
		if !ok {
			return buf, wrongType(v, "string")
		}
		if !utf8.ValidString(x) {
			return buf, errors.New("string is not valid UTF-8")
		}
		return append(appendLong(buf, int64(len(x))), x...), nil
	case opBytes:
		x, ok := v.([]byte)
		if !ok {
			return buf, wrongType(v, "[]byte")
		}
		return append(appendLong(buf, int64(len(x))), x...), nil
	case opBool:
		x, ok := v.(bool)
		if !ok {
			return buf, wrongType(v, "bool")
		}
		return appendBool(buf, x), nil
	case opDate:
		x, ok := v.(time.Time)
		if !ok {
			return buf, wrongType(v, "time.Time")
		}
		sec := x.Unix()
		if sec%86400 != 0 || x.Nanosecond() != 0 {
			return buf, fmt.Errorf("date %s is not a UTC midnight", x.UTC().Format(time.RFC3339Nano))
		}
		if days := sec / 86400; days >= math.MinInt32 && days <= math.MaxInt32 {
			return appendLong(buf, days), nil
		}
		return buf, fmt.Errorf("date %s out of the range of an Avro date", x.UTC().Format(time.DateOnly))
	case opTimestamp:
		x, ok := v.(time.Time)
		if !ok {
			return buf, wrongType(v, "time.Time")
		}
		us, err := timeMicros(x)
		if err != nil {
			return buf, err
		}
		return appendLong(buf, us), nil
	case opTime:
		x, ok := v.(time.Duration)
		if !ok {
			return buf, wrongType(v, "time.Duration")
		}
		// PostgreSQL's time is within [0, 24h]; MySQL's TIME is an interval of ±838:59:59. Both
		// are written as they are: time-micros is a long, and no value is changed.
		if x%time.Microsecond != 0 {
			return buf, fmt.Errorf("time of day %v has digits below a microsecond", x)
		}
		return appendLong(buf, int64(x/time.Microsecond)), nil
	case opUUID:
		x, ok := v.(uuid.UUID)
		if !ok {
			return buf, wrongType(v, "uuid.UUID")
		}
		return appendUUID(buf, x), nil
	case opEnum:
		x, ok := v.(string)
		if !ok {
			return buf, wrongType(v, "string")
		}
		i, ok := f.symbols[x]
		if !ok {
			return buf, fmt.Errorf("value %q is not a symbol of the enum", x)
		}
		return appendLong(buf, int64(i)), nil
	case opArray:
		x, ok := v.([]any)
		if !ok {
			return buf, wrongType(v, "[]any")
		}
		if len(x) > 0 {
			buf = appendLong(buf, int64(len(x)))
			var err error
			for i, e := range x {
				if buf, err = f.elem.append(buf, e); err != nil {
					return buf, fmt.Errorf("array element %d: %w", i, err)
				}
			}
		}
		return append(buf, 0), nil // the end of the blocks
	}
	return buf, fmt.Errorf("internal error: field encoder op %d", f.op)
}

// wrongType is the error for a value that is not its field's canonical Go type.
func wrongType(v any, want string) error {
	if change.IsUnchanged(v) {
		return ErrUnchanged
	}
	if bv, ok := v.(*change.BadValue); ok {
		return &badValueError{bv}
	}
	return fmt.Errorf("value of Go type %T, want %s", v, want)
}

// timeMicros converts an instant to microseconds since the Unix epoch, exactly.
func timeMicros(t time.Time) (int64, error) {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	if ns%1000 != 0 {
		return 0, fmt.Errorf("time %s has digits below a microsecond", t.UTC().Format(time.RFC3339Nano))
	}
	const limit = math.MaxInt64/1_000_000 - 1 // |sec| up to limit cannot overflow
	if sec >= -limit && sec <= limit {
		return sec*1e6 + ns/1000, nil
	}
	us := new(big.Int).Mul(big.NewInt(sec), big.NewInt(1e6))
	us.Add(us, big.NewInt(ns/1000))
	if !us.IsInt64() {
		return 0, fmt.Errorf("time %s out of the range of timestamp-micros", t.UTC().Format(time.RFC3339Nano))
	}
	return us.Int64(), nil
}

// appendLong appends an Avro int or long: zig-zag, then a base-128 varint.
func appendLong(buf []byte, v int64) []byte {
	return binary.AppendUvarint(buf, uint64(v<<1)^uint64(v>>63))
}

func appendBool(buf []byte, v bool) []byte {
	if v {
		return append(buf, 1)
	}
	return append(buf, 0)
}

// appendUUID appends u as an Avro string in the canonical lower-case 36-character form.
func appendUUID(buf []byte, u uuid.UUID) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, 36<<1)
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hex[b>>4], hex[b&0xF])
	}
	return buf
}
