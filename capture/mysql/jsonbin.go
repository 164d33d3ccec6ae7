package mysql

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL's binary JSON (sql-common/json_binary.cc), as MySQL 5.7+ writes JSON columns to the
// binlog, turned into the text MySQL itself prints for the value: object members in stored order,
// ", " and ": " separators, strings escaped as MySQL escapes them, DECIMAL and temporal values as
// MySQL renders them. (MariaDB's JSON is LONGTEXT: its text arrives verbatim.)
//
// Doubles are printed with the shortest digits that round-trip, in plain form for exponents -5 to
// 15 and as 1.5e-7 / 1e300 outside, with ".0" added to integral values: the number is exact,
// though MySQL's own formatting of extreme exponents may differ in form.

const (
	jsonSmallObject = 0x00
	jsonLargeObject = 0x01
	jsonSmallArray  = 0x02
	jsonLargeArray  = 0x03
	jsonLiteral     = 0x04
	jsonInt16       = 0x05
	jsonUint16      = 0x06
	jsonInt32       = 0x07
	jsonUint32      = 0x08
	jsonInt64       = 0x09
	jsonUint64      = 0x0a
	jsonDouble      = 0x0b
	jsonString      = 0x0c
	jsonOpaque      = 0x0f
)

var errJSONShort = errors.New("value ends early")

// jsonBinaryText converts a binary JSON document to MySQL's text form.
func jsonBinaryText(doc []byte) (string, error) {
	if len(doc) == 0 {
		return "", errJSONShort
	}
	var b strings.Builder
	if err := jsonValue(&b, doc[0], doc[1:], 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// jsonValue writes the value of type tp whose data starts at data[0].
func jsonValue(b *strings.Builder, tp byte, data []byte, depth int) error {
	if depth > 100 {
		return errors.New("nested too deeply")
	}
	need := func(n int) error {
		if len(data) < n {
			return errJSONShort
		}
		return nil
	}
	switch tp {
	case jsonSmallObject, jsonLargeObject, jsonSmallArray, jsonLargeArray:
		return jsonContainer(b, tp, data, depth)
	case jsonLiteral:
		if err := need(1); err != nil {
			return err
		}
		switch data[0] {
		case 0:
			b.WriteString("null")
		case 1:
			b.WriteString("true")
		case 2:
			b.WriteString("false")
		default:
			return fmt.Errorf("invalid literal %d", data[0])
		}
	case jsonInt16, jsonUint16:
		if err := need(2); err != nil {
			return err
		}
		v := binary.LittleEndian.Uint16(data)
		if tp == jsonInt16 {
			b.WriteString(strconv.FormatInt(int64(int16(v)), 10))
		} else {
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	case jsonInt32, jsonUint32:
		if err := need(4); err != nil {
			return err
		}
		v := binary.LittleEndian.Uint32(data)
		if tp == jsonInt32 {
			b.WriteString(strconv.FormatInt(int64(int32(v)), 10))
		} else {
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	case jsonInt64, jsonUint64:
		if err := need(8); err != nil {
			return err
		}
		v := binary.LittleEndian.Uint64(data)
		if tp == jsonInt64 {
			b.WriteString(strconv.FormatInt(int64(v), 10))
		} else {
			b.WriteString(strconv.FormatUint(v, 10))
		}
	case jsonDouble:
		if err := need(8); err != nil {
			return err
		}
		b.WriteString(jsonDoubleText(math.Float64frombits(binary.LittleEndian.Uint64(data))))
	case jsonString:
		s, err := jsonVarData(data)
		if err != nil {
			return err
		}
		jsonQuote(b, string(s))
	case jsonOpaque:
		if err := need(1); err != nil {
			return err
		}
		s, err := jsonVarData(data[1:])
		if err != nil {
			return err
		}
		return jsonOpaqueText(b, data[0], s)
	default:
		return fmt.Errorf("invalid value type %d", tp)
	}
	return nil
}

// jsonContainer writes an object or array: count, size, key entries, value entries, keys, values;
// offsets are relative to the container's start and 2 (small) or 4 (large) bytes wide.
func jsonContainer(b *strings.Builder, tp byte, data []byte, depth int) error {
	large := tp == jsonLargeObject || tp == jsonLargeArray
	object := tp == jsonSmallObject || tp == jsonLargeObject
	w := 2
	if large {
		w = 4
	}
	word := func(at int) (int, error) {
		if at < 0 || at+w > len(data) {
			return 0, errJSONShort
		}
		if large {
			v := binary.LittleEndian.Uint32(data[at:])
			if v > math.MaxInt32 {
				return 0, errors.New("offset out of range")
			}
			return int(v), nil
		}
		return int(binary.LittleEndian.Uint16(data[at:])), nil
	}
	count, err := word(0)
	if err != nil {
		return err
	}
	size, err := word(w)
	if err != nil {
		return err
	}
	if size > len(data) {
		return errJSONShort
	}
	data = data[:size]
	keyEntry, valueEntry := 0, 1+w
	if object {
		keyEntry = w + 2
	}
	header := 2*w + count*(keyEntry+valueEntry)
	if count < 0 || count > size || header > size {
		return fmt.Errorf("header of %d entries exceeds the container's %d bytes", count, size)
	}
	open, closing := byte('['), byte(']')
	if object {
		open, closing = '{', '}'
	}
	b.WriteByte(open)
	for i := 0; i < count; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if object {
			at := 2*w + i*keyEntry
			off, err := word(at)
			if err != nil {
				return err
			}
			if at+w+2 > len(data) {
				return errJSONShort
			}
			l := int(binary.LittleEndian.Uint16(data[at+w:]))
			if off < header || off+l > len(data) {
				return fmt.Errorf("key %d out of range", i)
			}
			jsonQuote(b, string(data[off:off+l]))
			b.WriteString(": ")
		}
		at := 2*w + count*keyEntry + i*valueEntry
		vt := data[at]
		inline := vt == jsonLiteral || vt == jsonInt16 || vt == jsonUint16 || (large && (vt == jsonInt32 || vt == jsonUint32))
		if inline {
			if err := jsonValue(b, vt, data[at+1:at+valueEntry], depth+1); err != nil {
				return err
			}
			continue
		}
		off, err := word(at + 1)
		if err != nil {
			return err
		}
		if off < header || off >= len(data) {
			return fmt.Errorf("value %d out of range", i)
		}
		if err := jsonValue(b, vt, data[off:], depth+1); err != nil {
			return err
		}
	}
	b.WriteByte(closing)
	return nil
}

// jsonVarData reads data preceded by its length in 7-bit groups, least significant first.
func jsonVarData(data []byte) ([]byte, error) {
	var l uint64
	for i := 0; i < 5 && i < len(data); i++ {
		l |= uint64(data[i]&0x7F) << (7 * i)
		if data[i]&0x80 == 0 {
			if uint64(len(data)-i-1) < l {
				return nil, errJSONShort
			}
			return data[i+1 : i+1+int(l)], nil
		}
	}
	return nil, errors.New("invalid length")
}

// jsonOpaqueText writes an opaque value (a MySQL type MySQL stores in JSON as is).
func jsonOpaqueText(b *strings.Builder, typ byte, data []byte) error {
	switch typ {
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		if len(data) < 2 {
			return errJSONShort
		}
		d, _, err := decodeDecimal(data[2:], int(data[0]), int(data[1]))
		if err != nil {
			return err
		}
		b.WriteString(d.StringFixed(int32(data[1])))
		return nil
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_TIMESTAMP:
		if len(data) < 8 {
			return errJSONShort
		}
		v := int64(binary.LittleEndian.Uint64(data))
		neg := v < 0
		if neg {
			v = -v
		}
		hms, us := v>>24, v&(1<<24-1)
		if typ == gomysql.MYSQL_TYPE_TIME {
			sign := ""
			if neg {
				sign = "-"
			}
			fmt.Fprintf(b, "\"%s%02d:%02d:%02d.%06d\"", sign, hms>>12&1023, hms>>6&63, hms&63, us)
			return nil
		}
		ymd, t := hms>>17, hms&(1<<17-1)
		y, mo, d := ymd>>5/13, ymd>>5%13, ymd&31
		if typ == gomysql.MYSQL_TYPE_DATE {
			fmt.Fprintf(b, "\"%04d-%02d-%02d\"", y, mo, d)
			return nil
		}
		fmt.Fprintf(b, "\"%04d-%02d-%02d %02d:%02d:%02d.%06d\"", y, mo, d, t>>12, t>>6&63, t&63, us)
		return nil
	}
	fmt.Fprintf(b, "\"base64:type%d:%s\"", typ, base64.StdEncoding.EncodeToString(data))
	return nil
}

// jsonQuote writes s as a JSON string the way MySQL does: ", \ and control characters escaped,
// everything else (non-ASCII included) verbatim.
func jsonQuote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// jsonDoubleText formats a JSON double (see the comment at the top of the file).
func jsonDoubleText(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64) // not valid JSON; MySQL never stores these
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX: the shortest digits
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	if exp >= -5 && exp <= 15 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	return mant + "e" + strconv.Itoa(exp)
}
