package transform

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a token of the where language and of measure expressions.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword
	tQIdent         // "double-quoted identifier"
	tString         // 'string literal'
	tNumber         // 12, 1.50, .5 (unsigned)
	tOp             // = != <> < <= > >=
	tLParen
	tRParen
	tComma
	tStar
	tMinus
)

type token struct {
	kind tokKind
	raw  string // the token as written
	val  string // identifier or string content, unquoted; the number's text
	pos  int    // byte offset in the source
}

// describe renders a token for "unexpected ..." messages.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of input"
	}
	raw := t.raw
	if utf8.RuneCountInString(raw) > 30 {
		raw = string([]rune(raw)[:30]) + "..."
	}
	return fmt.Sprintf("%q", raw)
}

// keyword reports whether t is the bare keyword kw (case-insensitive).
func (t token) keyword(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.raw, kw) }

// keywords of the where language: a column with one of these names must be double-quoted.
var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "IN": true, "IS": true,
	"NULL": true, "TRUE": true, "FALSE": true, "DISTINCT": true}

func isKeyword(s string) bool { return keywords[strings.ToUpper(s)] }

// SyntaxError is an error in a where predicate, a measure expression or an aggregation's SQL.
type SyntaxError struct {
	What   string // what is wrong: `unexpected "AND"`
	Detail string // what was expected, or a hint; may be empty
	Pos    int    // byte offset in Text
	Text   string // the text that was parsed
}

// Error renders `unexpected "AND" at 14: expected a value`. The position is 1-based in
// characters; in a text of several lines it is "line L column C".
func (e *SyntaxError) Error() string {
	s := e.What + " at " + textPos(e.Text, e.Pos)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// textPos renders a byte offset of text as a 1-based character position.
func textPos(text string, off int) string {
	off = min(max(off, 0), len(text))
	before := text[:off]
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	if !strings.Contains(text, "\n") {
		return fmt.Sprint(col)
	}
	return fmt.Sprintf("line %d column %d", strings.Count(before, "\n")+1, col)
}

func syntaxErr(text string, pos int, what, detail string) *SyntaxError {
	return &SyntaxError{What: what, Detail: detail, Pos: pos, Text: text}
}

// lex splits the where language (and measure expressions) into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\'' || c == '"':
			val, n, ok := unquote(src[i:], c)
			if !ok {
				what := "unterminated string"
				if c == '"' {
					what = "unterminated quoted identifier"
				}
				return nil, syntaxErr(src, start, what, "")
			}
			kind := tString
			if c == '"' {
				kind = tQIdent
				if val == "" {
					return nil, syntaxErr(src, start, "empty quoted identifier", "")
				}
			}
			i += n
			toks = append(toks, token{kind: kind, raw: src[start:i], val: val, pos: start})
			continue
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			toks = append(toks, token{kind: tNumber, raw: src[start:i], val: src[start:i], pos: start})
			continue
		case c == '(':
			toks = append(toks, token{kind: tLParen, raw: "(", pos: i})
		case c == ')':
			toks = append(toks, token{kind: tRParen, raw: ")", pos: i})
		case c == ',':
			toks = append(toks, token{kind: tComma, raw: ",", pos: i})
		case c == '*':
			toks = append(toks, token{kind: tStar, raw: "*", pos: i})
		case c == '-':
			toks = append(toks, token{kind: tMinus, raw: "-", pos: i})
		case c == '=':
			toks = append(toks, token{kind: tOp, raw: "=", val: "=", pos: i})
		case c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(src) && (src[i+1] == '=' || c == '<' && src[i+1] == '>') {
				op = src[i : i+2]
			}
			if op == "!" {
				return nil, syntaxErr(src, i, `unexpected "!"`, `write != or NOT`)
			}
			toks = append(toks, token{kind: tOp, raw: op, val: op, pos: i})
			i += len(op)
			continue
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r != '_' && !unicode.IsLetter(r) {
				return nil, syntaxErr(src, i, fmt.Sprintf("unexpected %q", string(r)), "")
			}
			i += size
			for i < len(src) {
				r, size := utf8.DecodeRuneInString(src[i:])
				if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				i += size
			}
			toks = append(toks, token{kind: tIdent, raw: src[start:i], val: src[start:i], pos: start})
			continue
		}
		i++
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// unquote reads a literal quoted with q at the start of s, where a doubled q stands for one. It
// returns the content and the length of the literal.
func unquote(s string, q byte) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return "", 0, false
}

// quoteIdent renders a column name for the where language: bare when it lexes as one
// identifier and is no keyword, else double-quoted.
func quoteIdent(name string) string {
	bare := name != "" && !isKeyword(name)
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && (r == '$' || unicode.IsDigit(r))) {
			bare = false
			break
		}
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteString renders a string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
