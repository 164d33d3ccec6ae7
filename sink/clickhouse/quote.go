package clickhouse

import "strings"

const hexDigits = "0123456789abcdef"

// QuoteIdent quotes a ClickHouse identifier so any name survives both ClickHouse's parser and
// clickhouse-go's INSERT parsing: backticks, with \ and ` escaped by a backslash, and parentheses,
// comment starters, spaces, semicolons and control bytes written as \xHH (ClickHouse decodes them;
// the driver's regular expressions, which look for a column list and a SETTINGS clause even inside
// quotes, never see them). UTF-8 passes through.
func QuoteIdent(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' || c == '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '(' || c == ')' || c == '#' || c == '-' || c == '/' || c == '*' || c == ' ' || c == ';' || c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
	return b.String()
}

// QuoteString quotes a ClickHouse string literal.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
