package clickhouse

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// A builder accumulates one ClickHouse column of a block from canonical change values (see package
// change) and hands it to clickhouse-go in one column-wise Append.
type builder interface {
	// add appends v (canonical, or nil for NULL). On error nothing is appended.
	add(v any) error
	// appendTo hands the accumulated values to the batch column.
	appendTo(c driver.BatchColumn) error
	// zero appends the column's default: NULL when nullable.
	zero()
	// pop removes the last value appended.
	pop()
	// reset empties the builder, keeping its capacity for the next block.
	reset()
}

// scalar builds a column of Go type T, optionally Nullable.
type scalar[T any] struct {
	vals     []T
	nulls    []bool
	nullable bool
	conv     func(any) (T, error)
}

func (s *scalar[T]) add(v any) error {
	if v == nil {
		if !s.nullable {
			return fmt.Errorf("NULL in a non-nullable column")
		}
		s.zero()
		return nil
	}
	x, err := s.conv(v)
	if err != nil {
		return err
	}
	s.vals = append(s.vals, x)
	if s.nullable {
		s.nulls = append(s.nulls, false)
	}
	return nil
}

func (s *scalar[T]) zero() {
	var z T
	s.vals = append(s.vals, z)
	if s.nullable {
		s.nulls = append(s.nulls, true)
	}
}

func (s *scalar[T]) appendTo(c driver.BatchColumn) error {
	if !s.nullable {
		return c.Append(s.vals)
	}
	ptrs := make([]*T, len(s.vals))
	for i := range s.vals {
		if !s.nulls[i] {
			ptrs[i] = &s.vals[i]
		}
	}
	return c.Append(ptrs)
}

func (s *scalar[T]) reset() {
	clear(s.vals) // drop references (strings, decimals) held by the last block
	s.vals, s.nulls = s.vals[:0], s.nulls[:0]
}

func (s *scalar[T]) pop() {
	s.vals = s.vals[:len(s.vals)-1]
	if s.nullable {
		s.nulls = s.nulls[:len(s.nulls)-1]
	}
}

// array builds an Array(Nullable(T)) column; a NULL array is written as [] (its companion null-flag
// column says it was NULL).
type array[T any] struct {
	rows [][]*T
	conv func(any) (T, error)
}

func (a *array[T]) add(v any) error {
	if v == nil {
		a.zero()
		return nil
	}
	elems, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%T is not an array", v)
	}
	row := make([]*T, len(elems))
	vals := make([]T, len(elems))
	for i, e := range elems {
		if e == nil {
			continue
		}
		x, err := a.conv(e)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		vals[i] = x
		row[i] = &vals[i]
	}
	a.rows = append(a.rows, row)
	return nil
}

func (a *array[T]) zero() { a.rows = append(a.rows, []*T{}) }

func (a *array[T]) appendTo(c driver.BatchColumn) error {
	for _, r := range a.rows {
		if err := c.AppendRow(r); err != nil {
			return err
		}
	}
	return nil
}

func (a *array[T]) pop() { a.rows = a.rows[:len(a.rows)-1] }

func (a *array[T]) reset() {
	clear(a.rows)
	a.rows = a.rows[:0]
}

// newBuilder returns a builder for ClickHouse type chType (as system.columns spells it).
func newBuilder(chType string) (builder, error) {
	if inner, ok := unwrap2(chType, "Array("); ok {
		elem, ok := unwrap2(inner, "Nullable(")
		if !ok {
			elem = inner
		}
		return arrayBuilder(elem)
	}
	inner, nullable := unwrap(chType, "Nullable(")
	return scalarBuilder(inner, nullable)
}

func arrayBuilder(elem string) (builder, error) {
	switch elem {
	case "Int8":
		return &array[int8]{conv: toInt[int8](math.MinInt8, math.MaxInt8)}, nil
	case "Int16":
		return &array[int16]{conv: toInt[int16](math.MinInt16, math.MaxInt16)}, nil
	case "Int32":
		return &array[int32]{conv: toInt[int32](math.MinInt32, math.MaxInt32)}, nil
	case "Int64":
		return &array[int64]{conv: toInt64}, nil
	case "UInt8":
		return &array[uint8]{conv: toUint[uint8](math.MaxUint8)}, nil
	case "UInt16":
		return &array[uint16]{conv: toUint[uint16](math.MaxUint16)}, nil
	case "UInt32":
		return &array[uint32]{conv: toUint[uint32](math.MaxUint32)}, nil
	case "UInt64":
		return &array[uint64]{conv: toUint[uint64](math.MaxUint64)}, nil
	case "Float32":
		return &array[float32]{conv: toFloat32}, nil
	case "Float64":
		return &array[float64]{conv: toFloat64}, nil
	case "String":
		return &array[string]{conv: toString}, nil
	case "UUID":
		return &array[string]{conv: toUUIDString}, nil
	case "Bool":
		return &array[bool]{conv: toBool}, nil
	case "Date":
		return &array[time.Time]{conv: toDate(dateMin, dateMax)}, nil
	case "Date32":
		return &array[time.Time]{conv: toDate(date32Min, date32Max)}, nil
	case "DateTime64(6, 'UTC')":
		return &array[time.Time]{conv: toDateTime64}, nil
	}
	if p, s, ok := parseDecimal(elem); ok {
		return &array[decimal.Decimal]{conv: toDecimal(p, s)}, nil
	}
	return nil, fmt.Errorf("unsupported ClickHouse array element type %s", elem)
}

func scalarBuilder(t string, nullable bool) (builder, error) {
	switch t {
	case "Int8":
		return &scalar[int8]{nullable: nullable, conv: toInt[int8](math.MinInt8, math.MaxInt8)}, nil
	case "Int16":
		return &scalar[int16]{nullable: nullable, conv: toInt[int16](math.MinInt16, math.MaxInt16)}, nil
	case "Int32":
		return &scalar[int32]{nullable: nullable, conv: toInt[int32](math.MinInt32, math.MaxInt32)}, nil
	case "Int64":
		return &scalar[int64]{nullable: nullable, conv: toInt64}, nil
	case "UInt8":
		return &scalar[uint8]{nullable: nullable, conv: toUint[uint8](math.MaxUint8)}, nil
	case "UInt16":
		return &scalar[uint16]{nullable: nullable, conv: toUint[uint16](math.MaxUint16)}, nil
	case "UInt32":
		return &scalar[uint32]{nullable: nullable, conv: toUint[uint32](math.MaxUint32)}, nil
	case "UInt64":
		return &scalar[uint64]{nullable: nullable, conv: toUint[uint64](math.MaxUint64)}, nil
	case "Float32":
		return &scalar[float32]{nullable: nullable, conv: toFloat32}, nil
	case "Float64":
		return &scalar[float64]{nullable: nullable, conv: toFloat64}, nil
	case "String":
		return &scalar[string]{nullable: nullable, conv: toString}, nil
	case "UUID":
		return &scalar[string]{nullable: nullable, conv: toUUIDString}, nil
	case "Bool":
		return &scalar[bool]{nullable: nullable, conv: toBool}, nil
	case "Date":
		return &scalar[time.Time]{nullable: nullable, conv: toDate(dateMin, dateMax)}, nil
	case "Date32":
		return &scalar[time.Time]{nullable: nullable, conv: toDate(date32Min, date32Max)}, nil
	case "DateTime64(6, 'UTC')":
		return &scalar[time.Time]{nullable: nullable, conv: toDateTime64}, nil
	}
	if p, s, ok := parseDecimal(t); ok {
		return &scalar[decimal.Decimal]{nullable: nullable, conv: toDecimal(p, s)}, nil
	}
	return nil, fmt.Errorf("unsupported ClickHouse column type %s", t)
}

// parseDecimal parses "Decimal(P, S)" (also Decimal32/64/128(S) as system.columns may show them).
func parseDecimal(t string) (p, s int, ok bool) {
	if n, _ := fmt.Sscanf(t, "Decimal(%d, %d)", &p, &s); n == 2 {
		return p, s, true
	}
	for prefix, prec := range map[string]int{"Decimal32(": 9, "Decimal64(": 18, "Decimal128(": 38} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			s, err := strconv.Atoi(strings.TrimSuffix(rest, ")"))
			return prec, s, err == nil
		}
	}
	return 0, 0, false
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}
type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

func toInt[T integer](lo, hi int64) func(any) (T, error) {
	return func(v any) (T, error) {
		n, err := toInt64(v)
		if err != nil {
			return 0, err
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("%d out of range [%d, %d]", n, lo, hi)
		}
		return T(n), nil
	}
}

// toInt64 takes integers, booleans, and the microsecond forms of timestamps and times.
func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d out of Int64 range", x)
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case time.Time:
		return x.UnixMicro(), nil
	case time.Duration:
		return x.Microseconds(), nil
	}
	return 0, fmt.Errorf("cannot store %T as an integer", v)
}

func toUint[T unsigned](hi uint64) func(any) (T, error) {
	return func(v any) (T, error) {
		var n uint64
		switch x := v.(type) {
		case uint64:
			n = x
		case int64:
			if x < 0 {
				return 0, fmt.Errorf("%d out of unsigned range", x)
			}
			n = uint64(x)
		case bool:
			if x {
				n = 1
			}
		default:
			return 0, fmt.Errorf("cannot store %T as an unsigned integer", v)
		}
		if n > hi {
			return 0, fmt.Errorf("%d out of range [0, %d]", n, hi)
		}
		return T(n), nil
	}
}

func toFloat32(v any) (float32, error) {
	f, err := toFloat64(v)
	return float32(f), err
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("cannot store %T as a float", v)
}

func toBool(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("cannot store %T as a Bool", v)
}

// toString stores text verbatim, bytes as they are, and exact decimals as their full text.
func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case decimal.Decimal:
		return DecimalText(x), nil
	case uuid.UUID:
		return x.String(), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.999999Z"), nil
	case time.Duration:
		return formatTimeOfDay(x), nil
	}
	return "", fmt.Errorf("cannot store %T as a String", v)
}

// DecimalText renders d exactly, keeping its scale (1.50 stays "1.50").
func DecimalText(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	return d.String()
}

func formatTimeOfDay(d time.Duration) string {
	us := d.Microseconds()
	h, us := us/3_600_000_000, us%3_600_000_000
	m, us := us/60_000_000, us%60_000_000
	s, us := us/1_000_000, us%1_000_000
	return fmt.Sprintf("%02d:%02d:%02d.%06d", h, m, s, us)
}

func toUUIDString(v any) (string, error) {
	switch x := v.(type) {
	case uuid.UUID:
		return x.String(), nil
	case string:
		u, err := uuid.Parse(x)
		if err != nil {
			return "", err
		}
		return u.String(), nil
	}
	return "", fmt.Errorf("cannot store %T as a UUID", v)
}

var (
	dateMin   = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	dateMax   = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	date32Min = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	date32Max = time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)
	dt64Max   = time.Date(2299, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

func toDate(lo, hi time.Time) func(any) (time.Time, error) {
	return func(v any) (time.Time, error) {
		t, ok := v.(time.Time)
		if !ok {
			return time.Time{}, fmt.Errorf("cannot store %T as a date", v)
		}
		if t.Before(lo) || t.After(hi) {
			return time.Time{}, fmt.Errorf("date %s outside the range ClickHouse stores (%s..%s)",
				t.Format("2006-01-02"), lo.Format("2006-01-02"), hi.Format("2006-01-02"))
		}
		return t, nil
	}
}

func toDateTime64(v any) (time.Time, error) {
	t, ok := v.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("cannot store %T as a timestamp", v)
	}
	if t.Before(date32Min) || t.After(dt64Max) {
		return time.Time{}, fmt.Errorf("timestamp %s outside DateTime64's range (1900..2299)", t.Format(time.RFC3339Nano))
	}
	return t, nil
}

// toDecimal checks that a value fits Decimal(p, s) exactly: no digit may be lost to the scale and
// the integer part must fit p-s digits. clickhouse-go would otherwise truncate extra fraction digits.
func toDecimal(p, s int) func(any) (decimal.Decimal, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	return func(v any) (decimal.Decimal, error) {
		d, ok := v.(decimal.Decimal)
		if !ok {
			if n, isInt := v.(int64); isInt {
				d = decimal.NewFromInt(n)
			} else {
				return decimal.Decimal{}, fmt.Errorf("cannot store %T as a Decimal", v)
			}
		}
		if d.Exponent() < int32(-s) {
			// More fraction digits than the column holds: only trailing zeros may go.
			r := d.Truncate(int32(s))
			if !r.Equal(d) {
				return decimal.Decimal{}, fmt.Errorf("%s has more than %d fraction digits", DecimalText(d), s)
			}
			d = r
		}
		// |coefficient| at scale s must be < 10^p.
		c := d.Coefficient()
		for e := d.Exponent(); e > int32(-s); e-- {
			c.Mul(c, big.NewInt(10))
		}
		if c.CmpAbs(limit) >= 0 {
			return decimal.Decimal{}, fmt.Errorf("%s does not fit Decimal(%d, %d)", DecimalText(d), p, s)
		}
		return d, nil
	}
}
