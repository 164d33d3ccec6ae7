package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cdcd-dev/cdcd/change"
)

// Decoder turns one non-NULL value's bytes into its canonical Go value (see package change). data
// may alias a buffer the caller reuses: the returned value never retains it. A Decoder holds no
// state and may be called concurrently.
type Decoder func(data []byte) (any, error)

// UnsupportedBinaryError is NewDecoder's error for a type that has no binary decoder (a fallback
// type, carried as text). The caller reads such a column in text format instead.
type UnsupportedBinaryError struct {
	OID  uint32
	Type string // PostgreSQL's name of the type
}

func (e *UnsupportedBinaryError) Error() string {
	return "postgres: type " + e.Type + " (oid " + strconv.FormatUint(uint64(e.OID), 10) +
		") has no binary decoder: read it in text format"
}

// NotFiniteError is a decoder's error for a value that has no canonical Go value: a numeric NaN or
// ±Infinity (a decimal.Decimal is exact and finite), or a date or timestamp at ±infinity.
type NotFiniteError struct {
	Type  string // "numeric", "date", "timestamp", "timestamptz"
	Value string // as PostgreSQL spells it: "NaN", "Infinity", "-Infinity", "infinity", "-infinity"
}

func (e *NotFiniteError) Error() string {
	if e.Type == "numeric" {
		return "numeric: value is " + e.Value + ", which cannot be an exact decimal"
	}
	return e.Type + ": value is " + e.Value + ", which cannot be represented as a time"
}

// NewDecoder returns the decoder for a column of PostgreSQL type oid and cdcd type t (as MapType
// returned it), reading binary format (the typsend format of pgoutput's binary mode, binary COPY
// and binary query results) when binary is true and text format otherwise.
//
// Fallback types have text decoders only: with binary=true NewDecoder returns an
// *UnsupportedBinaryError, so the caller can read that column (or stream) in text format.
//
// Text format must come from a session with DateStyle=ISO (timestamps and dates), bytea_output hex
// or escape, and extra_float_digits >= 1 (PostgreSQL 12's default, which prints floats exactly).
func NewDecoder(oid uint32, t change.Type, binary bool) (Decoder, error) {
	if t.Fallback {
		if binary {
			return nil, &UnsupportedBinaryError{OID: oid, Type: typeName(oid, t)}
		}
		return decodeString, nil
	}
	switch t.Kind {
	case change.Int16:
		return choose(binary, decodeBinaryInt2, decodeTextInt2), nil
	case change.Int32:
		return choose(binary, decodeBinaryInt4, decodeTextInt4), nil
	case change.Int64:
		return choose(binary, decodeBinaryInt8, decodeTextInt8), nil
	case change.UInt32:
		return choose(binary, decodeBinaryOID, decodeTextOID), nil
	case change.Float32:
		return choose(binary, decodeBinaryFloat4, decodeTextFloat4), nil
	case change.Float64:
		return choose(binary, decodeBinaryFloat8, decodeTextFloat8), nil
	case change.Decimal:
		return choose(binary, decodeBinaryNumeric, decodeTextNumeric), nil
	case change.String, change.Enum:
		if binary && oid == pgtype.QCharOID {
			return decodeBinaryQChar, nil
		}
		return decodeString, nil
	case change.JSON:
		switch {
		case !binary || oid == pgtype.JSONOID:
			return decodeString, nil
		case oid == pgtype.JSONBOID:
			return decodeBinaryJSONB, nil
		}
		return decodeBinaryJSONAny, nil
	case change.Bytes:
		return choose(binary, decodeBytes, decodeTextBytea), nil
	case change.Bool:
		return choose(binary, decodeBinaryBool, decodeTextBool), nil
	case change.Date:
		return choose(binary, decodeBinaryDate, decodeTextDate), nil
	case change.Timestamp:
		return choose(binary, decodeBinaryTimestamp, decodeTextTimestamp), nil
	case change.TimestampTZ:
		return choose(binary, decodeBinaryTimestamptz, decodeTextTimestamptz), nil
	case change.Time:
		return choose(binary, decodeBinaryTime, decodeTextTime), nil
	case change.UUID:
		return choose(binary, decodeBinaryUUID, decodeTextUUID), nil
	case change.Array:
		return newArrayDecoder(oid, t, binary)
	}
	return nil, fmt.Errorf("postgres: no decoder for type %s (oid %d) as cdcd type %v", typeName(oid, t), oid, t)
}

// HasBinaryDecoder reports whether NewDecoder(oid, t, true) succeeds.
func HasBinaryDecoder(oid uint32, t change.Type) bool {
	_, err := NewDecoder(oid, t, true)
	return err == nil
}

func newArrayDecoder(oid uint32, t change.Type, binary bool) (Decoder, error) {
	if t.Elem == nil || t.Elem.Kind == change.Array {
		return nil, fmt.Errorf("postgres: array type %s (oid %d) needs a scalar element type", typeName(oid, t), oid)
	}
	elemOID, _ := builtinArrayElem(oid) // 0 for arrays of catalog types: no element needs it
	elem, err := NewDecoder(elemOID, *t.Elem, binary)
	if err != nil {
		var ub *UnsupportedBinaryError
		if errors.As(err, &ub) {
			return nil, &UnsupportedBinaryError{OID: oid, Type: typeName(oid, t)}
		}
		return nil, err
	}
	if binary {
		return func(data []byte) (any, error) { return decodeBinaryArray(data, elem) }, nil
	}
	return func(data []byte) (any, error) { return decodeTextArray(data, elem) }, nil
}

func choose(binary bool, bin, text Decoder) Decoder {
	if binary {
		return bin
	}
	return text
}

func typeName(oid uint32, t change.Type) string {
	if t.Source != "" {
		return t.Source
	}
	return "oid " + strconv.FormatUint(uint64(oid), 10)
}

// clip shortens a malformed value for an error message.
func clip(data []byte) string {
	const max = 64
	if len(data) > max {
		return string(data[:max]) + "..."
	}
	return string(data)
}

func lengthError(typ string, got, want int) error {
	return fmt.Errorf("%s: binary value of %d bytes, want %d", typ, got, want)
}

func decodeString(data []byte) (any, error) { return string(data), nil }

func decodeBinaryInt2(data []byte) (any, error) {
	if len(data) != 2 {
		return nil, lengthError("int2", len(data), 2)
	}
	return int64(int16(binary.BigEndian.Uint16(data))), nil
}

func decodeBinaryInt4(data []byte) (any, error) {
	if len(data) != 4 {
		return nil, lengthError("int4", len(data), 4)
	}
	return int64(int32(binary.BigEndian.Uint32(data))), nil
}

func decodeBinaryInt8(data []byte) (any, error) {
	if len(data) != 8 {
		return nil, lengthError("int8", len(data), 8)
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

func decodeBinaryOID(data []byte) (any, error) {
	if len(data) != 4 {
		return nil, lengthError("oid", len(data), 4)
	}
	return uint64(binary.BigEndian.Uint32(data)), nil
}

func decodeTextInt2(data []byte) (any, error) { return textInt(data, "int2", math.MaxInt16) }
func decodeTextInt4(data []byte) (any, error) { return textInt(data, "int4", math.MaxInt32) }
func decodeTextInt8(data []byte) (any, error) { return textInt(data, "int8", math.MaxInt64) }

func decodeTextOID(data []byte) (any, error) {
	neg, u, ok := parseDecimalInt(data)
	if !ok || neg || u > math.MaxUint32 {
		return nil, fmt.Errorf("oid: %q is not an unsigned 32-bit integer", clip(data))
	}
	return u, nil
}

// textInt parses a signed integer in [-max-1, max].
func textInt(data []byte, typ string, max int64) (any, error) {
	neg, u, ok := parseDecimalInt(data)
	if ok {
		if neg && u <= uint64(max)+1 {
			return -int64(u), nil // u = 1<<63 wraps to math.MinInt64, as it should
		}
		if !neg && u <= uint64(max) {
			return int64(u), nil
		}
	}
	return nil, fmt.Errorf("%s: %q is not a valid integer in range", typ, clip(data))
}

// parseDecimalInt parses an optionally signed decimal integer of at most 19 significant digits.
func parseDecimalInt(data []byte) (neg bool, u uint64, ok bool) {
	i := 0
	if len(data) > 0 && (data[0] == '-' || data[0] == '+') {
		neg = data[0] == '-'
		i = 1
	}
	if i == len(data) {
		return false, 0, false
	}
	for i < len(data)-1 && data[i] == '0' {
		i++
	}
	if len(data)-i > 19 {
		return false, 0, false
	}
	for ; i < len(data); i++ {
		c := data[i] - '0'
		if c > 9 {
			return false, 0, false
		}
		u = u*10 + uint64(c)
	}
	return neg, u, true
}

func decodeBinaryFloat4(data []byte) (any, error) {
	if len(data) != 4 {
		return nil, lengthError("float4", len(data), 4)
	}
	return float64(math.Float32frombits(binary.BigEndian.Uint32(data))), nil
}

func decodeBinaryFloat8(data []byte) (any, error) {
	if len(data) != 8 {
		return nil, lengthError("float8", len(data), 8)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(data)), nil
}

// decodeTextFloat4 parses float4's text form (NaN, Infinity and -Infinity included) to the exact
// float32 it denotes.
func decodeTextFloat4(data []byte) (any, error) {
	f, err := strconv.ParseFloat(string(data), 32)
	if err != nil {
		return nil, fmt.Errorf("float4: %q is not a valid float4", clip(data))
	}
	return f, nil
}

func decodeTextFloat8(data []byte) (any, error) {
	f, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return nil, fmt.Errorf("float8: %q is not a valid float8", clip(data))
	}
	return f, nil
}

func decodeBinaryBool(data []byte) (any, error) {
	if len(data) != 1 || data[0] > 1 {
		return nil, fmt.Errorf("bool: binary value %x is not 0 or 1", clip(data))
	}
	return data[0] == 1, nil
}

func decodeTextBool(data []byte) (any, error) {
	switch string(data) {
	case "t", "true":
		return true, nil
	case "f", "false":
		return false, nil
	}
	return nil, fmt.Errorf("bool: %q is not t or f", clip(data))
}

// decodeBinaryQChar decodes the one-byte type "char" to the string its text form shows: bytes with
// the high bit set as \ooo, the zero byte as the empty string.
func decodeBinaryQChar(data []byte) (any, error) {
	if len(data) != 1 {
		return nil, lengthError(`"char"`, len(data), 1)
	}
	c := data[0]
	switch {
	case c == 0:
		return "", nil
	case c >= 0x80:
		return string([]byte{'\\', '0' + c>>6, '0' + (c>>3)&7, '0' + c&7}), nil
	}
	return string(data), nil
}

// decodeBinaryJSONB strips jsonb's binary format version byte (1): what follows is the JSON text.
func decodeBinaryJSONB(data []byte) (any, error) {
	if len(data) == 0 || data[0] != 1 {
		if len(data) == 0 {
			return nil, errors.New("jsonb: empty binary value (no version byte)")
		}
		return nil, fmt.Errorf("jsonb: unsupported binary format version %d", data[0])
	}
	return string(data[1:]), nil
}

// decodeBinaryJSONAny decodes a JSON value of a type that may be json or jsonb (a domain over
// either): JSON text never starts with the byte 1 that starts jsonb's binary format.
func decodeBinaryJSONAny(data []byte) (any, error) {
	if len(data) > 0 && data[0] == 1 {
		data = data[1:]
	}
	return string(data), nil
}

func decodeBytes(data []byte) (any, error) {
	b := make([]byte, len(data))
	copy(b, data)
	return b, nil
}

// decodeTextBytea decodes bytea's text forms: hex (\x0a1b...) and the legacy escape format, where a
// backslash is \\ and other bytes may be written \ooo in octal.
func decodeTextBytea(data []byte) (any, error) {
	if len(data) >= 2 && data[0] == '\\' && data[1] == 'x' {
		h := data[2:]
		if len(h)%2 != 0 {
			return nil, fmt.Errorf("bytea: hex value %q has an odd number of digits", clip(data))
		}
		b := make([]byte, len(h)/2)
		if _, err := hex.Decode(b, h); err != nil {
			return nil, fmt.Errorf("bytea: hex value %q: %w", clip(data), err)
		}
		return b, nil
	}
	n := 0 // the decoded length
	for i := 0; i < len(data); n++ {
		switch {
		case data[i] != '\\':
			i++
		case i+1 < len(data) && data[i+1] == '\\':
			i += 2
		case i+3 < len(data) && isOctal(data[i+1], '3') && isOctal(data[i+2], '7') && isOctal(data[i+3], '7'):
			i += 4
		default:
			return nil, fmt.Errorf("bytea: %q has an invalid escape at byte %d", clip(data), i)
		}
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(data); {
		switch {
		case data[i] != '\\':
			b = append(b, data[i])
			i++
		case data[i+1] == '\\':
			b = append(b, '\\')
			i += 2
		default:
			b = append(b, (data[i+1]-'0')<<6|(data[i+2]-'0')<<3|(data[i+3]-'0'))
			i += 4
		}
	}
	return b, nil
}

func isOctal(c, max byte) bool { return c >= '0' && c <= max }

func decodeBinaryUUID(data []byte) (any, error) {
	if len(data) != 16 {
		return nil, lengthError("uuid", len(data), 16)
	}
	return uuid.UUID(data), nil
}

func decodeTextUUID(data []byte) (any, error) {
	u, err := uuid.ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("uuid: %q: %w", clip(data), err)
	}
	return u, nil
}
