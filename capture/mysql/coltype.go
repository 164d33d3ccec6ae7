package mysql

import (
	"fmt"
	"strconv"
	"strings"
)

// colSpec is a column's type as a catalog (information_schema.COLUMNS.COLUMN_TYPE) or a DDL
// statement declares it: what schema history knows when the binlog's table-map metadata is not FULL.
type colSpec struct {
	Base     string   // canonical lower-case type: int, bigint, decimal, varchar, text, enum, json, ...
	Unsigned bool     // UNSIGNED or ZEROFILL
	Args     []int    // numeric arguments: (M), (M,D), (fsp)
	Labels   []string // ENUM and SET labels, in definition order
	Charset  string   // CHARACTER SET, lower case; "" when not declared (the table's applies)
	JSON     bool     // a JSON column (MariaDB: LONGTEXT with a json_valid() check)
	Key      bool     // declared PRIMARY KEY inline
	NotNull  bool
	// Default is the DEFAULT clause: the value rows that predate an added column hold.
	Default *defaultValue
}

// defaultValue is a column's DEFAULT: a constant's text, NULL, or an expression cdcd does not
// evaluate (CURRENT_TIMESTAMP, (expr)).
type defaultValue struct {
	Null bool
	Expr bool
	Text string // the constant, unquoted: 5, -1.5, abc
}

// String renders the spec as SQL, for change.Type.Source.
func (s colSpec) String() string {
	var b strings.Builder
	b.WriteString(s.Base)
	if len(s.Labels) > 0 {
		b.WriteByte('(')
		for i, l := range s.Labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quoteString(l))
		}
		b.WriteByte(')')
	} else if len(s.Args) > 0 && s.Base != "json" {
		b.WriteByte('(')
		for i, a := range s.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(a))
		}
		b.WriteByte(')')
	}
	if s.Unsigned {
		b.WriteString(" unsigned")
	}
	if s.Charset == "binary" && isTextBase(s.Base) {
		b.WriteString(" character set binary")
	}
	return b.String()
}

// typeAliases maps the spellings MySQL accepts to one canonical base type.
var typeAliases = map[string]string{
	"integer": "int", "int4": "int", "int1": "tinyint", "int2": "smallint", "int3": "mediumint",
	"middleint": "mediumint", "int8": "bigint", "bool": "tinyint", "boolean": "tinyint",
	"dec": "decimal", "numeric": "decimal", "fixed": "decimal", "real": "double", "float8": "double",
	"float4": "float", "character": "char", "nchar": "char", "nvarchar": "varchar",
	"long": "mediumtext", "serial": "bigint", "geomcollection": "geometrycollection",
}

// knownBases are the base types cdcd maps.
var knownBases = map[string]bool{
	"tinyint": true, "smallint": true, "mediumint": true, "int": true, "bigint": true,
	"float": true, "double": true, "decimal": true, "bit": true, "year": true,
	"date": true, "datetime": true, "timestamp": true, "time": true,
	"char": true, "varchar": true, "binary": true, "varbinary": true,
	"tinytext": true, "text": true, "mediumtext": true, "longtext": true,
	"tinyblob": true, "blob": true, "mediumblob": true, "longblob": true,
	"enum": true, "set": true, "json": true,
	"geometry": true, "point": true, "linestring": true, "polygon": true, "multipoint": true,
	"multilinestring": true, "multipolygon": true, "geometrycollection": true,
}

func isTextBase(b string) bool {
	switch b {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

// parseColumnType parses a column type text such as "bigint(20) unsigned" or "enum('a','b')".
func parseColumnType(text string) (colSpec, error) {
	toks, err := tokenize(text)
	if err != nil {
		return colSpec{}, err
	}
	c := &cursor{toks: toks}
	spec, err := c.columnType()
	if err != nil {
		return spec, err
	}
	c.attributes(&spec, "")
	return spec, nil
}

// columnType reads a data type: its name, arguments and the attributes that follow directly.
func (c *cursor) columnType() (colSpec, error) {
	var s colSpec
	t := c.next()
	if t.kind != tkWord {
		return s, fmt.Errorf("expected a data type, found %q", t.text)
	}
	base := strings.ToLower(t.text)
	switch base {
	case "double":
		c.accept("precision")
	case "national":
		return c.columnType() // NATIONAL CHAR/VARCHAR: utf8
	case "long":
		switch {
		case c.accept("varbinary"):
			base = "mediumblob"
		case c.accept("varchar"), c.accept("varcharacter"):
		}
	case "char", "character", "nchar":
		if c.accept("varying") {
			base = "varchar"
		}
	case "serial":
		s.Unsigned = true
	}
	if a, ok := typeAliases[base]; ok {
		base = a
	}
	s.Base = base
	if c.peek().isPunct('(') {
		c.next()
		for !c.peek().isPunct(')') {
			t := c.next()
			switch t.kind {
			case tkEOF:
				return s, fmt.Errorf("unterminated arguments of type %s", base)
			case tkString, tkDQuote:
				s.Labels = append(s.Labels, t.text)
			case tkWord:
				if n, err := strconv.Atoi(t.text); err == nil {
					s.Args = append(s.Args, n)
				} // a charset introducer (_utf8mb4'x') and the like are skipped
			}
		}
		c.next()
	}
	if base == "float" && len(s.Args) == 1 && s.Args[0] > 24 {
		s.Base, s.Args = "double", nil // FLOAT(p) with p > 24 is a DOUBLE
	}
	if base == "json" {
		s.JSON = true
	}
	return s, nil
}

// attributes reads the attributes after a column's type until the end of its definition (a comma
// or closing parenthesis at depth 0, or the end), noting those that matter to cdcd. col is the
// column's name, for recognising its json_valid() check.
func (c *cursor) attributes(s *colSpec, col string) {
	for {
		t := c.peek()
		switch {
		case t.kind == tkEOF, t.isPunct(','), t.isPunct(')'), t.isPunct(';'):
			return
		case t.is("first"), t.is("after"):
			return // ALTER's position clause, read by the caller
		case t.is("unsigned"), t.is("zerofill"):
			s.Unsigned = true
		case t.is("signed"):
			s.Unsigned = false
		case t.is("charset"):
			c.next()
			s.Charset = c.wordLower()
			continue
		case t.is("character"):
			c.next()
			if c.accept("set") {
				s.Charset = c.wordLower()
			}
			continue
		case t.is("ascii"):
			s.Charset = "latin1"
		case t.is("unicode"):
			s.Charset = "ucs2"
		case t.is("not"):
			c.next()
			if c.accept("null") {
				s.NotNull = true
			}
			continue
		case t.is("default"):
			c.next()
			s.Default = c.defaultValue()
			continue
		case t.is("primary"):
			c.next()
			if c.accept("key") {
				s.Key = true
			}
			continue
		case t.is("unique"):
			c.next()
			c.accept("key")
			continue
		case t.is("key"):
			s.Key = true // a bare KEY attribute is PRIMARY KEY
		case t.is("check"):
			c.next()
			if c.peek().isPunct('(') && c.isJSONValid(col) {
				s.JSON = true
			}
			continue
		case t.isPunct('('):
			c.skipGroup()
			continue
		}
		c.next()
	}
}

// isJSONValid reports whether the parenthesised group at the cursor is (json_valid(col)), and
// skips it.
func (c *cursor) isJSONValid(col string) bool {
	start := c.i
	c.skipGroup()
	g := c.toks[start:c.i]
	if len(g) != 6 || !g[1].is("json_valid") || !g[2].isPunct('(') || !g[4].isPunct(')') {
		return false
	}
	n, ok := g[3].name()
	return ok && (col == "" || n == col)
}

// defaultValue reads a DEFAULT clause's value.
func (c *cursor) defaultValue() *defaultValue {
	t := c.next()
	switch {
	case t.isPunct('('):
		c.i--
		c.skipGroup()
		return &defaultValue{Expr: true}
	case t.is("null"):
		return &defaultValue{Null: true}
	case t.kind == tkString || t.kind == tkDQuote:
		return &defaultValue{Text: c.concatStrings(t.text)}
	case t.isPunct('-') || t.isPunct('+'):
		n := c.next()
		if n.kind != tkWord {
			return &defaultValue{Expr: true}
		}
		text := n.text
		if c.peek().isPunct('.') { // -1.5 is three tokens: 1 . 5
			c.next()
			text += "." + c.next().text
		}
		if t.isPunct('-') {
			text = "-" + text
		}
		return &defaultValue{Text: text}
	case t.kind == tkWord:
		switch {
		case strings.HasPrefix(t.text, "_") || t.is("n"):
			if s := c.peek(); s.kind == tkString { // a charset introducer: _utf8mb4'x', N'x'
				c.next()
				return &defaultValue{Text: c.concatStrings(s.text)}
			}
			return &defaultValue{Expr: true}
		case t.is("true"):
			return &defaultValue{Text: "1"}
		case t.is("false"):
			return &defaultValue{Text: "0"}
		case t.text[0] >= '0' && t.text[0] <= '9' || t.text[0] == '.':
			text := t.text
			if c.peek().isPunct('.') {
				c.next()
				if n := c.peek(); n.kind == tkWord && n.text[0] >= '0' && n.text[0] <= '9' {
					text += "." + c.next().text
				}
			}
			return &defaultValue{Text: text}
		}
		if c.peek().isPunct('(') { // CURRENT_TIMESTAMP(6), NOW()
			c.skipGroup()
		}
		return &defaultValue{Expr: true}
	}
	return &defaultValue{Expr: true}
}

// concatStrings joins adjacent string literals ('a' 'b' is 'ab').
func (c *cursor) concatStrings(s string) string {
	for c.peek().kind == tkString {
		s += c.next().text
	}
	return s
}
