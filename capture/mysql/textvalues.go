package mysql

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// Values the snapshot reads through the binary protocol of a prepared SELECT (with the session's
// time zone at UTC and its character set utf8mb4), and column defaults written as text, converted
// to the same canonical values the binlog decoder gives.

// fromField converts one snapshot value of column c (kind k) to its canonical Go value.
func fromField(c *colInfo, k change.Kind, f *gomysql.FieldValue) any {
	if f.Type == gomysql.FieldValueTypeNull {
		return nil
	}
	switch f.Type {
	case gomysql.FieldValueTypeSigned, gomysql.FieldValueTypeUnsigned:
		var v any
		var err error
		if f.Type == gomysql.FieldValueTypeSigned {
			v, err = intValue(k, f.AsInt64(), 0, false)
		} else {
			v, err = intValue(k, 0, f.AsUint64(), true)
		}
		if err != nil {
			return bad(f.String(), fmt.Errorf("column %q: %w", c.Name, err))
		}
		return v
	case gomysql.FieldValueTypeFloat:
		if k == change.Float32 || k == change.Float64 {
			return f.AsFloat64()
		}
		return bad(f.String(), fmt.Errorf("column %q: a float for a %s column", c.Name, k))
	}
	raw := f.AsString()
	switch k {
	case change.Bytes:
		return bytes.Clone(raw)
	case change.UInt64:
		if c.Type == gomysql.MYSQL_TYPE_BIT {
			if len(raw) > 8 {
				return bad(fmt.Sprintf("%x", raw), fmt.Errorf("column %q: BIT value of %d bytes", c.Name, len(raw)))
			}
			var v uint64
			for _, x := range raw {
				v = v<<8 | uint64(x)
			}
			return v
		}
	}
	v, err := fromText(c, k, string(raw))
	if err != nil {
		return bad(string(raw), fmt.Errorf("column %q: %w", c.Name, err))
	}
	return v
}

// intValue converts an integer to kind k, checking its range.
func intValue(k change.Kind, i int64, u uint64, unsigned bool) (any, error) {
	switch k {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		if unsigned {
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("%d out of range for %s", u, k)
			}
			return int64(u), nil
		}
		return i, nil
	case change.UInt8, change.UInt16, change.UInt32, change.UInt64:
		if !unsigned {
			if i < 0 {
				return nil, fmt.Errorf("%d out of range for %s", i, k)
			}
			return uint64(i), nil
		}
		return u, nil
	case change.Float32, change.Float64:
		if unsigned {
			return float64(u), nil
		}
		return float64(i), nil
	}
	return nil, fmt.Errorf("an integer for a %s column", k)
}

// fromText converts a value's text (a default, or a snapshot value the protocol sends as text) to
// column c's canonical value of kind k.
func fromText(c *colInfo, k change.Kind, s string) (any, error) {
	switch k {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		return strconv.ParseInt(s, 10, 64)
	case change.UInt8, change.UInt16, change.UInt32, change.UInt64:
		if c.Type == gomysql.MYSQL_TYPE_BIT {
			return strconv.ParseUint(s, 0, 64)
		}
		return strconv.ParseUint(s, 10, 64)
	case change.Float32:
		f, err := strconv.ParseFloat(s, 32)
		return float64(float32(f)), err
	case change.Float64:
		return strconv.ParseFloat(s, 64)
	case change.Decimal:
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, err
		}
		if d.Exponent() > int32(-c.Scale) {
			d = d.Round(int32(c.Scale)) // more places, nothing rounded: 1.5 in DECIMAL(12,2) is 1.50
		}
		return d, nil
	case change.String:
		if c.Type == gomysql.MYSQL_TYPE_ENUM && s != "" && !slices.Contains(c.Labels, s) {
			return nil, fmt.Errorf("%q is not one of the ENUM labels", s)
		}
		return s, nil
	case change.JSON:
		return s, nil
	case change.Bytes:
		b := []byte(s)
		if c.Type == gomysql.MYSQL_TYPE_STRING && len(b) < c.Length {
			b = append(b, make([]byte, c.Length-len(b))...)
		}
		return b, nil
	case change.Date:
		if len(s) != 10 {
			return nil, fmt.Errorf("%q is not a date", s)
		}
		return parseDateTimeText(s)
	case change.Timestamp, change.TimestampTZ:
		return parseDateTimeText(s)
	case change.Time:
		return parseTimeText(s)
	}
	return nil, fmt.Errorf("no text form for %s", k)
}

// columnDefault returns the value rows that predate column c hold when it is added (change.Column
// .Default): its constant DEFAULT, or for a NOT NULL column without one MySQL's implicit default.
// nil (NULL) when the default is NULL, an expression, or not a point cdcd can represent.
func columnDefault(c *colInfo, k change.Kind, spec *colSpec) any {
	if spec == nil {
		return nil
	}
	if d := spec.Default; d != nil {
		if d.Null || d.Expr {
			return nil
		}
		text := d.Text
		if c.Type == gomysql.MYSQL_TYPE_BIT && !strings.HasPrefix(text, "0x") {
			text = strings.TrimLeft(text, "0")
			if text == "" {
				text = "0"
			}
		}
		v, err := fromText(c, k, text)
		if err != nil {
			return nil
		}
		return v
	}
	if !spec.NotNull {
		return nil
	}
	switch k {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		return int64(0)
	case change.UInt8, change.UInt16, change.UInt32, change.UInt64:
		return uint64(0)
	case change.Float32, change.Float64:
		return float64(0)
	case change.Decimal:
		return decimal.New(0, int32(-c.Scale))
	case change.String:
		if c.Type == gomysql.MYSQL_TYPE_ENUM && len(c.Labels) > 0 {
			return c.Labels[0]
		}
		return ""
	case change.Bytes:
		if c.Type == gomysql.MYSQL_TYPE_STRING {
			return make([]byte, c.Length)
		}
		return []byte{}
	case change.Time:
		return fromTextMust(c, k, "00:00:00")
	}
	return nil // zero dates and JSON have no canonical value
}

func fromTextMust(c *colInfo, k change.Kind, s string) any {
	v, _ := fromText(c, k, s)
	return v
}
