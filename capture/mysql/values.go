package mysql

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/change"
)

// errShort means a row image ended inside a value: the event is malformed (or its table map does
// not describe it), so nothing after it can be read.
var errShort = errors.New("row image ends inside a value")

func errMalformed(format string, args ...any) error {
	return fmt.Errorf("malformed "+format, args...)
}

// bad is a value cdcd cannot convert exactly: its row goes to the dead-letter table.
func bad(raw string, err error) *change.BadValue { return &change.BadValue{Raw: raw, Err: err} }

// decodeValue decodes one non-NULL value of column c from a row image and returns it as c's
// canonical Go value (see the package doc), and the bytes it took. Values that cannot be converted
// exactly come back as *change.BadValue; an error means the image cannot be read any further.
//
// Strings and byte slices share the event's buffer, which go-mysql allocates per packet and never
// reuses: values are immutable once emitted.
func decodeValue(c *colInfo, b []byte) (any, int, error) {
	switch c.Type {
	case gomysql.MYSQL_TYPE_TINY:
		if len(b) < 1 {
			return nil, 0, errShort
		}
		if c.Unsigned {
			return uint64(b[0]), 1, nil
		}
		return int64(int8(b[0])), 1, nil
	case gomysql.MYSQL_TYPE_SHORT:
		if len(b) < 2 {
			return nil, 0, errShort
		}
		v := binary.LittleEndian.Uint16(b)
		if c.Unsigned {
			return uint64(v), 2, nil
		}
		return int64(int16(v)), 2, nil
	case gomysql.MYSQL_TYPE_INT24:
		if len(b) < 3 {
			return nil, 0, errShort
		}
		v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		if c.Unsigned {
			return uint64(v), 3, nil
		}
		return int64(int32(v<<8) >> 8), 3, nil
	case gomysql.MYSQL_TYPE_LONG:
		if len(b) < 4 {
			return nil, 0, errShort
		}
		v := binary.LittleEndian.Uint32(b)
		if c.Unsigned {
			return uint64(v), 4, nil
		}
		return int64(int32(v)), 4, nil
	case gomysql.MYSQL_TYPE_LONGLONG:
		if len(b) < 8 {
			return nil, 0, errShort
		}
		v := binary.LittleEndian.Uint64(b)
		if c.Unsigned {
			return v, 8, nil
		}
		return int64(v), 8, nil
	case gomysql.MYSQL_TYPE_YEAR:
		if len(b) < 1 {
			return nil, 0, errShort
		}
		if b[0] == 0 {
			return uint64(0), 1, nil
		}
		return uint64(b[0]) + 1900, 1, nil
	case gomysql.MYSQL_TYPE_FLOAT:
		if len(b) < 4 {
			return nil, 0, errShort
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 4, nil
	case gomysql.MYSQL_TYPE_DOUBLE:
		if len(b) < 8 {
			return nil, 0, errShort
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		d, n, err := decodeDecimal(b, c.Prec, c.Scale)
		if err == errShort || n == 0 {
			return nil, 0, err
		}
		if err != nil {
			return bad(hex.EncodeToString(b[:n]), err), n, nil
		}
		return d, n, nil
	case gomysql.MYSQL_TYPE_BIT:
		n := (c.Length + 7) / 8
		if n > 8 || c.Length <= 0 {
			return nil, 0, errMalformed("BIT(%d) metadata", c.Length)
		}
		if len(b) < n {
			return nil, 0, errShort
		}
		var v uint64
		for _, x := range b[:n] {
			v = v<<8 | uint64(x)
		}
		return v, n, nil
	case gomysql.MYSQL_TYPE_DATE:
		return decodeDate(b)
	case gomysql.MYSQL_TYPE_DATETIME2:
		return decodeDatetime2(b, c.Meta)
	case gomysql.MYSQL_TYPE_DATETIME:
		return decodeDatetime(b)
	case gomysql.MYSQL_TYPE_TIMESTAMP2:
		return decodeTimestamp2(b, c.Meta)
	case gomysql.MYSQL_TYPE_TIMESTAMP:
		return decodeTimestamp(b)
	case gomysql.MYSQL_TYPE_TIME2:
		return decodeTime2(b, c.Meta)
	case gomysql.MYSQL_TYPE_TIME:
		return decodeTime(b)
	case gomysql.MYSQL_TYPE_ENUM:
		return decodeEnum(c, b)
	case gomysql.MYSQL_TYPE_SET:
		return decodeSet(c, b)
	case gomysql.MYSQL_TYPE_STRING:
		prefix := 1
		if c.Length > 255 {
			prefix = 2
		}
		s, n, err := lengthPrefixed(b, prefix)
		if err != nil {
			return nil, 0, err
		}
		if c.Charset == "binary" && len(s) < c.Length {
			// The binlog drops BINARY(n)'s trailing zero bytes; the column holds all n.
			p := make([]byte, c.Length)
			copy(p, s)
			return p, n, nil
		}
		return c.text(s), n, nil
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		prefix := 1
		if c.Meta > 255 {
			prefix = 2
		}
		s, n, err := lengthPrefixed(b, prefix)
		if err != nil {
			return nil, 0, err
		}
		return c.text(s), n, nil
	case gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_GEOMETRY, gomysql.MYSQL_TYPE_VECTOR:
		s, n, err := lengthPrefixed(b, int(c.Meta))
		if err != nil {
			return nil, 0, err
		}
		if c.Type != gomysql.MYSQL_TYPE_BLOB {
			return s, n, nil
		}
		return c.text(s), n, nil
	case gomysql.MYSQL_TYPE_JSON:
		s, n, err := lengthPrefixed(b, int(c.Meta))
		if err != nil {
			return nil, 0, err
		}
		if len(s) == 0 { // MySQL writes an empty value for a JSON column set to '' under non-strict modes
			return "null", n, nil
		}
		text, err := jsonBinaryText(s)
		if err != nil {
			return bad(hex.EncodeToString(s), fmt.Errorf("binary JSON: %w", err)), n, nil
		}
		return text, n, nil
	}
	return nil, 0, fmt.Errorf("column %q: binlog type %d is not supported", c.Name, c.Type)
}

// lengthPrefixed reads a value preceded by its little-endian length in prefix bytes (1 to 4).
func lengthPrefixed(b []byte, prefix int) ([]byte, int, error) {
	if prefix < 1 || prefix > 4 {
		return nil, 0, errMalformed("length prefix of %d bytes", prefix)
	}
	if len(b) < prefix {
		return nil, 0, errShort
	}
	var l uint64
	for i := prefix - 1; i >= 0; i-- {
		l = l<<8 | uint64(b[i])
	}
	if uint64(len(b)-prefix) < l {
		return nil, 0, errShort
	}
	end := prefix + int(l)
	return b[prefix:end:end], end, nil
}

// text returns a string column's value: bytes for binary strings and charsets cdcd does not
// convert, otherwise the text in UTF-8.
func (c *colInfo) text(s []byte) any {
	if c.rawBytes() {
		return s
	}
	if len(s) == 0 {
		return ""
	}
	return toUTF8(c.Charset, unsafe.String(&s[0], len(s)))
}

func decodeEnum(c *colInfo, b []byte) (any, int, error) {
	n := c.Length
	if n != 1 && n != 2 {
		return nil, 0, errMalformed("ENUM of %d bytes", n)
	}
	if len(b) < n {
		return nil, 0, errShort
	}
	i := int(b[0])
	if n == 2 {
		i = int(binary.LittleEndian.Uint16(b))
	}
	switch {
	case i == 0:
		return "", n, nil // the empty string MySQL stores for an invalid value
	case i > len(c.Labels):
		return bad(fmt.Sprintf("enum index %d", i), fmt.Errorf("column %q has %d ENUM labels", c.Name, len(c.Labels))), n, nil
	}
	return c.Labels[i-1], n, nil
}

func decodeSet(c *colInfo, b []byte) (any, int, error) {
	n := c.Length
	if n < 1 || n > 8 {
		return nil, 0, errMalformed("SET of %d bytes", n)
	}
	if len(b) < n {
		return nil, 0, errShort
	}
	var bits uint64
	for i := n - 1; i >= 0; i-- {
		bits = bits<<8 | uint64(b[i])
	}
	if bits == 0 {
		return "", n, nil
	}
	if len(c.Labels) < 64 && bits>>len(c.Labels) != 0 {
		return bad(fmt.Sprintf("set bits %#x", bits), fmt.Errorf("column %q has %d SET labels", c.Name, len(c.Labels))), n, nil
	}
	var sb strings.Builder
	for i, l := range c.Labels {
		if bits&(1<<i) != 0 {
			if sb.Len() > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(l)
		}
	}
	return sb.String(), n, nil
}
