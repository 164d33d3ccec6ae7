package mysql

import (
	"fmt"
	"strings"
)

// tokKind is the kind of an SQL token.
type tokKind uint8

const (
	tkEOF    tokKind = iota
	tkWord           // a keyword, unquoted identifier or number, as written
	tkIdent          // a `backtick-quoted` identifier, unquoted
	tkString         // a 'single-quoted' string, unescaped
	tkDQuote         // a "double-quoted" string: an identifier under ANSI_QUOTES, a string otherwise
	tkPunct          // one punctuation character: ( ) , . ; = and the rest
)

type token struct {
	kind tokKind
	text string
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tkWord && strings.EqualFold(t.text, kw) }

// isPunct reports whether t is the punctuation c.
func (t token) isPunct(c byte) bool { return t.kind == tkPunct && len(t.text) == 1 && t.text[0] == c }

// name returns t as an identifier, and whether it can be one.
func (t token) name() (string, bool) {
	switch t.kind {
	case tkWord, tkIdent, tkDQuote:
		return t.text, true
	}
	return "", false
}

// tokenize splits MySQL SQL text into tokens. Comments (/* */, -- , #) are dropped, except that the
// body of an executable comment (/*! ... */, /*!50100 ... */, /*M! ... */) is tokenized as SQL, as
// the server runs it.
func tokenize(sql string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#':
			i = skipLine(sql, i)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-' && (i+2 == len(sql) || isSpace(sql[i+2])):
			i = skipLine(sql, i)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", i)
			}
			body := sql[i+2 : i+2+end]
			i += 4 + end
			if rest, ok := executableComment(body); ok {
				inner, err := tokenize(rest)
				if err != nil {
					return nil, err
				}
				toks = append(toks, inner...)
			}
		case c == '*' && i+1 < len(sql) && sql[i+1] == '/':
			i += 2 // the end of an executable comment split by the caller; harmless
		case c == '`':
			s, n, err := quoted(sql[i:], '`', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tkIdent, s})
			i += n
		case c == '\'':
			s, n, err := quoted(sql[i:], '\'', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tkString, s})
			i += n
		case c == '"':
			s, n, err := quoted(sql[i:], '"', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tkDQuote, s})
			i += n
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			toks = append(toks, token{tkWord, sql[i:j]})
			i = j
		default:
			toks = append(toks, token{tkPunct, sql[i : i+1]})
			i++
		}
	}
	return toks, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isWordByte reports whether c can be part of an unquoted identifier, keyword or number: MySQL
// allows [0-9a-zA-Z$_] and any non-ASCII character.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func skipLine(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// executableComment returns the SQL inside an executable comment body ("!50100 PARTITION ..." or
// "M!100301 ..."), and false for an ordinary comment.
func executableComment(body string) (string, bool) {
	switch {
	case strings.HasPrefix(body, "!"):
		body = body[1:]
	case strings.HasPrefix(body, "M!"):
		body = body[2:]
	default:
		return "", false
	}
	j := 0
	for j < len(body) && j < 6 && body[j] >= '0' && body[j] <= '9' {
		j++
	}
	return body[j:], true
}

// quoted reads a quoted token starting at s[0] (the quote), where a doubled quote stands for one
// and, in strings, a backslash escapes the next character. It returns the content and the length read.
func quoted(s string, q byte, backslash bool) (string, int, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i += 2
		case c == q:
			return b.String(), i + 1, nil
		case backslash && c == '\\' && i+1 < len(s):
			b.WriteByte(unescape(s[i+1]))
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("unterminated %c quote", q)
}

func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 26
	}
	return c // \' \" \\ and \% \_ (kept as the character: LIKE escapes do not occur in DDL names)
}

// quoteIdent quotes a MySQL identifier: `name`, with backticks doubled.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString quotes a MySQL string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}
