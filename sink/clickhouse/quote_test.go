package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestQuoteIdent(t *testing.T) {
	cases := []struct {
		name string
		want string
	}{
		{"", "``"},
		{"orders", "`orders`"},
		{"Order_Items2", "`Order_Items2`"},
		{"a`b", "`a\\`b`"},
		{"``", "`\\`\\``"},
		{`a\b`, "`a\\\\b`"},
		{`\`, "`\\\\`"},
		{"\\`", "`\\\\\\``"},
		{`it's`, "`it's`"},
		{`say "hi"`, "`say\\x20\"hi\"`"},
		{"f(x)", "`f\\x28x\\x29`"},
		{"a--b", "`a\\x2d\\x2db`"},
		{"#tag", "`\\x23tag`"},
		{"/*c*/", "`\\x2f\\x2ac\\x2a\\x2f`"},
		{"a.b", "`a.b`"},
		{"x,y", "`x,y`"},
		{"?$1@p", "`?$1@p`"},
		{"\x00", "`\\x00`"},
		{"tab\there", "`tab\\x09here`"},
		{"nl\ncr\r", "`nl\\x0acr\\x0d`"},
		{"\x1f\x7f", "`\\x1f\\x7f`"},
		{"ünïcödé_表", "`ünïcödé_表`"},
		{"\xff\xfe", "`\xff\xfe`"}, // invalid UTF-8 passes through byte for byte
		{"`);DROP_TABLE_x;--", "`\\`\\x29\\x3bDROP_TABLE_x\\x3b\\x2d\\x2d`"},
	}
	for _, c := range cases {
		if got := QuoteIdent(c.name); got != c.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	cases := []struct {
		s    string
		want string
	}{
		{"", "''"},
		{"abc", "'abc'"},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`\'`, `'\\\''`},
		{"''", `'\'\''`},
		{"`(x)`--#/*", "'`(x)`--#/*'"},
		{`"dq"`, `'"dq"'`},
		{"\x00", `'\x00'`},
		{"a\nb\tc\r", `'a\x0ab\x09c\x0d'`},
		{"\x1b[0m\x7f", `'\x1b[0m\x7f'`},
		{"ünï 表", "'ünï 表'"},
		{"\xff", "'\xff'"},
	}
	for _, c := range cases {
		if got := QuoteString(c.s); got != c.want {
			t.Errorf("QuoteString(%q) = %s, want %s", c.s, got, c.want)
		}
	}
}

// unquote decodes a quoted identifier or string literal the way ClickHouse does for the escapes
// QuoteIdent and QuoteString write: \<c> is c, \xHH is the byte HH.
func unquote(t *testing.T, q string, quote byte) string {
	t.Helper()
	if len(q) < 2 || q[0] != quote || q[len(q)-1] != quote {
		t.Fatalf("%q is not enclosed in %c", q, quote)
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == quote:
			t.Fatalf("%q: unescaped %c inside", q, quote)
		case c != '\\':
			b.WriteByte(c)
		case i+1 >= len(body):
			t.Fatalf("%q: trailing backslash", q)
		case body[i+1] == 'x':
			if i+4 > len(body) {
				t.Fatalf("%q: short \\x escape", q)
			}
			n, err := strconv.ParseUint(body[i+2:i+4], 16, 8)
			if err != nil {
				t.Fatalf("%q: bad \\x escape: %v", q, err)
			}
			b.WriteByte(byte(n))
			i += 3
		default:
			b.WriteByte(body[i+1])
			i++
		}
	}
	return b.String()
}

// TestQuoteRoundTrip checks every byte value, alone and in company: the quoted form decodes back
// to the input, and a quoted identifier holds none of the bytes clickhouse-go's INSERT parsing or
// ClickHouse's lexer would act on outside the escapes.
func TestQuoteRoundTrip(t *testing.T) {
	var inputs []string
	for c := 0; c < 256; c++ {
		inputs = append(inputs, string([]byte{byte(c)}), fmt.Sprintf("a%cb", c), string([]byte{'\\', byte(c), '`', '\''}))
	}
	inputs = append(inputs, "x SETTINGS y", "VALUES (1)", "FORMAT Native", "表 (列)", `\x41`)
	for _, in := range inputs {
		qi := QuoteIdent(in)
		if got := unquote(t, qi, '`'); got != in {
			t.Errorf("QuoteIdent(%q) = %s decodes to %q", in, qi, got)
		}
		inner := qi[1 : len(qi)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if strings.IndexByte("()#-/*", c) >= 0 || c < 0x20 || c == 0x7f {
				t.Errorf("QuoteIdent(%q) = %s holds the raw byte %#x", in, qi, c)
			}
		}
		qs := QuoteString(in)
		if got := unquote(t, qs, '\''); got != in {
			t.Errorf("QuoteString(%q) = %s decodes to %q", in, qs, got)
		}
	}
}
