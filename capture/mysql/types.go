package mysql

import (
	"fmt"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/change"
)

// colInfo is everything cdcd needs to map and decode one column: from a table map's metadata, from
// schema history, or both. Its Type is the binlog's type code, with ENUM and SET (which the binlog
// carries as STRING) as their own codes, and DATE as MYSQL_TYPE_DATE.
type colInfo struct {
	Name     string
	Type     byte
	Meta     uint16 // the table map's metadata for Type, as go-mysql decodes it (0 from history)
	Unsigned bool
	Charset  string // "binary", "utf8mb4", "latin1", ...; "" when unknown (UTF-8 assumed)
	JSON     bool   // a JSON column: MySQL's binary JSON, or MariaDB's LONGTEXT with json_valid()
	Labels   []string
	Prec     int // DECIMAL precision
	Scale    int // DECIMAL scale
	Length   int // CHAR/BINARY maximum bytes; BIT bits
	Source   string
}

// changeType maps the column to cdcd's logical type (the table in the package doc).
func (c colInfo) changeType() change.Type {
	t := change.Type{Source: c.Source}
	signed := func(s, u change.Kind) change.Kind {
		if c.Unsigned {
			return u
		}
		return s
	}
	switch c.Type {
	case gomysql.MYSQL_TYPE_TINY:
		t.Kind = signed(change.Int8, change.UInt8)
	case gomysql.MYSQL_TYPE_SHORT:
		t.Kind = signed(change.Int16, change.UInt16)
	case gomysql.MYSQL_TYPE_INT24, gomysql.MYSQL_TYPE_LONG:
		t.Kind = signed(change.Int32, change.UInt32)
	case gomysql.MYSQL_TYPE_LONGLONG:
		t.Kind = signed(change.Int64, change.UInt64)
	case gomysql.MYSQL_TYPE_YEAR:
		t.Kind = change.UInt16
	case gomysql.MYSQL_TYPE_FLOAT:
		t.Kind = change.Float32
	case gomysql.MYSQL_TYPE_DOUBLE:
		t.Kind = change.Float64
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		t.Kind, t.Precision, t.Scale = change.Decimal, c.Prec, c.Scale
	case gomysql.MYSQL_TYPE_BIT:
		t.Kind = change.UInt64
	case gomysql.MYSQL_TYPE_DATE:
		t.Kind = change.Date
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		t.Kind = change.Timestamp
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		t.Kind = change.TimestampTZ
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		t.Kind = change.Time
	case gomysql.MYSQL_TYPE_ENUM, gomysql.MYSQL_TYPE_SET:
		t.Kind = change.String
	case gomysql.MYSQL_TYPE_JSON:
		t.Kind = change.JSON
	case gomysql.MYSQL_TYPE_GEOMETRY, gomysql.MYSQL_TYPE_VECTOR:
		t.Kind = change.Bytes
	default: // CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB
		switch {
		case c.rawBytes():
			t.Kind = change.Bytes
		case c.JSON:
			t.Kind = change.JSON
		default:
			t.Kind = change.String
		}
	}
	return t
}

// rawBytes reports whether a string column's values are carried as bytes: binary strings, and text
// in a character set cdcd does not convert to UTF-8 (the bytes as the server stores them).
func (c colInfo) rawBytes() bool {
	switch c.Type {
	case gomysql.MYSQL_TYPE_STRING, gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING, gomysql.MYSQL_TYPE_BLOB:
		return c.Charset == "binary" || !textCharset(c.Charset)
	}
	return false
}

// textCharset reports whether cdcd turns text of charset cs into UTF-8 exactly ("" is unknown and
// taken as UTF-8).
func textCharset(cs string) bool {
	switch cs {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii", "latin1":
		return true
	}
	return false
}

// binlogType maps a history type to the binlog type code its values come in.
func binlogType(s colSpec, f Flavor) (byte, error) {
	switch s.Base {
	case "tinyint":
		return gomysql.MYSQL_TYPE_TINY, nil
	case "smallint":
		return gomysql.MYSQL_TYPE_SHORT, nil
	case "mediumint":
		return gomysql.MYSQL_TYPE_INT24, nil
	case "int":
		return gomysql.MYSQL_TYPE_LONG, nil
	case "bigint":
		return gomysql.MYSQL_TYPE_LONGLONG, nil
	case "float":
		return gomysql.MYSQL_TYPE_FLOAT, nil
	case "double":
		return gomysql.MYSQL_TYPE_DOUBLE, nil
	case "decimal":
		return gomysql.MYSQL_TYPE_NEWDECIMAL, nil
	case "bit":
		return gomysql.MYSQL_TYPE_BIT, nil
	case "year":
		return gomysql.MYSQL_TYPE_YEAR, nil
	case "date":
		return gomysql.MYSQL_TYPE_DATE, nil
	case "datetime":
		return gomysql.MYSQL_TYPE_DATETIME2, nil
	case "timestamp":
		return gomysql.MYSQL_TYPE_TIMESTAMP2, nil
	case "time":
		return gomysql.MYSQL_TYPE_TIME2, nil
	case "char", "binary":
		return gomysql.MYSQL_TYPE_STRING, nil
	case "varchar", "varbinary":
		return gomysql.MYSQL_TYPE_VARCHAR, nil
	case "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob":
		return gomysql.MYSQL_TYPE_BLOB, nil
	case "enum":
		return gomysql.MYSQL_TYPE_ENUM, nil
	case "set":
		return gomysql.MYSQL_TYPE_SET, nil
	case "json":
		if f == MariaDB {
			return gomysql.MYSQL_TYPE_BLOB, nil // MariaDB's JSON is LONGTEXT
		}
		return gomysql.MYSQL_TYPE_JSON, nil
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return gomysql.MYSQL_TYPE_GEOMETRY, nil
	}
	return 0, fmt.Errorf("type %s is not supported", s.String())
}

// infoFromSpec builds a column's facts from schema history alone (the snapshot's view).
func infoFromSpec(c colDef, f Flavor) (colInfo, error) {
	s := c.Spec
	typ, err := binlogType(s, f)
	if err != nil {
		return colInfo{}, err
	}
	ci := colInfo{Name: c.Name, Type: typ, Unsigned: s.Unsigned, JSON: s.JSON, Labels: s.Labels, Source: s.String()}
	switch s.Base {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		ci.Charset = "binary"
	case "json":
		ci.Charset = "utf8mb4"
	default:
		ci.Charset = s.Charset
	}
	switch s.Base {
	case "decimal":
		ci.Prec, ci.Scale = 10, 0 // DECIMAL means DECIMAL(10,0)
		if len(s.Args) > 0 {
			ci.Prec = s.Args[0]
		}
		if len(s.Args) > 1 {
			ci.Scale = s.Args[1]
		}
	case "char", "binary":
		ci.Length = 1
		if len(s.Args) > 0 {
			ci.Length = s.Args[0]
		}
	case "bit":
		ci.Length = 1
		if len(s.Args) > 0 {
			ci.Length = s.Args[0]
		}
	}
	return ci, nil
}

// sourceName names a binlog type for change.Type.Source when history has no declaration.
func sourceName(c colInfo) string {
	var s string
	switch c.Type {
	case gomysql.MYSQL_TYPE_TINY:
		s = "tinyint"
	case gomysql.MYSQL_TYPE_SHORT:
		s = "smallint"
	case gomysql.MYSQL_TYPE_INT24:
		s = "mediumint"
	case gomysql.MYSQL_TYPE_LONG:
		s = "int"
	case gomysql.MYSQL_TYPE_LONGLONG:
		s = "bigint"
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		return fmt.Sprintf("decimal(%d,%d)", c.Prec, c.Scale)
	case gomysql.MYSQL_TYPE_FLOAT:
		return "float"
	case gomysql.MYSQL_TYPE_DOUBLE:
		return "double"
	case gomysql.MYSQL_TYPE_BIT:
		return fmt.Sprintf("bit(%d)", c.Length)
	case gomysql.MYSQL_TYPE_YEAR:
		return "year"
	case gomysql.MYSQL_TYPE_DATE:
		return "date"
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		return "datetime"
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		return "timestamp"
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		return "time"
	case gomysql.MYSQL_TYPE_ENUM, gomysql.MYSQL_TYPE_SET:
		s = "enum"
		if c.Type == gomysql.MYSQL_TYPE_SET {
			s = "set"
		}
		q := make([]string, len(c.Labels))
		for i, l := range c.Labels {
			q[i] = quoteString(l)
		}
		return s + "(" + strings.Join(q, ",") + ")"
	case gomysql.MYSQL_TYPE_JSON:
		return "json"
	case gomysql.MYSQL_TYPE_STRING:
		s = "char"
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		s = "varchar"
	case gomysql.MYSQL_TYPE_BLOB:
		s = "text"
	case gomysql.MYSQL_TYPE_GEOMETRY:
		return "geometry"
	default:
		return fmt.Sprintf("type%d", c.Type)
	}
	if c.Unsigned {
		s += " unsigned"
	}
	if c.Charset != "" && c.Type != gomysql.MYSQL_TYPE_LONGLONG && c.Type != gomysql.MYSQL_TYPE_LONG &&
		c.Type != gomysql.MYSQL_TYPE_INT24 && c.Type != gomysql.MYSQL_TYPE_SHORT && c.Type != gomysql.MYSQL_TYPE_TINY {
		s += " character set " + c.Charset
	}
	return s
}
