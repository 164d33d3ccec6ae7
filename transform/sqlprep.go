package transform

import (
	"sort"
	"strings"
)

// The SQL form is parsed by the TiDB parser (MySQL dialect, with ANSI_QUOTES and
// NO_BACKSLASH_ESCAPES: 'strings', "identifiers", `identifiers`). prepSQL first applies exactly
// two conveniences, with a lexer that never looks inside string literals, quoted identifiers or
// comments:
//
//  1. A three-part table name after FROM (or JOIN), source.schema.table (any part bare, "double-quoted"
//     or `backticked`), becomes one backticked identifier, which the parser accepts as a table
//     name; the parts are kept aside.
//  2. Inside the arguments of tumble() and hop(), INTERVAL '1 minute', INTERVAL '5' MINUTE and
//     INTERVAL 5 MINUTE become the string literal '1 minute', '5 MINUTE', which ParseSize reads.
//
// Comments are blanked with spaces (so the parser never sees /*! ... */ code). Offsets in the
// output map back to the input through origin.

// sqlTokKind is the kind of an SQL token.
type sqlTokKind uint8

const (
	sWord   sqlTokKind = iota + 1 // keyword or bare identifier
	sQuoted                       // "identifier" or `identifier`
	sString                       // 'string'
	sNumber
	sPunct // any other character
)

type sqlTok struct {
	kind       sqlTokKind
	start, end int    // byte offsets
	val        string // unquoted content of sQuoted and sString; the text otherwise
}

func (t sqlTok) word(w string) bool { return t.kind == sWord && strings.EqualFold(t.val, w) }
func (t sqlTok) punct(c byte) bool  { return t.kind == sPunct && t.val == string(c) }

// lexSQL splits SQL into tokens, skipping whitespace and comments (which it reports as spans).
func lexSQL(src string) (toks []sqlTok, comments [][2]int, err error) {
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#' || c == '-' && strings.HasPrefix(src[i:], "--") &&
			(i+2 == len(src) || src[i+2] <= ' '):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			i += end
			comments = append(comments, [2]int{start, i})
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, nil, syntaxErr(src, start, "unterminated comment", "")
			}
			i += 2 + end + 2
			comments = append(comments, [2]int{start, i})
		case c == '\'' || c == '"' || c == '`':
			val, n, ok := unquote(src[i:], c)
			if !ok {
				what := "unterminated string"
				if c != '\'' {
					what = "unterminated quoted identifier"
				}
				return nil, nil, syntaxErr(src, start, what, "")
			}
			kind := sQuoted
			if c == '\'' {
				kind = sString
			}
			i += n
			toks = append(toks, sqlTok{kind: kind, start: start, end: i, val: val})
		case isWordByte(c):
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			kind := sWord
			if c >= '0' && c <= '9' {
				kind = sNumber
				// A decimal fraction or exponent continues the number.
				for i < len(src) && (src[i] == '.' || isWordByte(src[i])) {
					i++
				}
			}
			toks = append(toks, sqlTok{kind: kind, start: start, end: i, val: src[start:i]})
		default:
			i++
			toks = append(toks, sqlTok{kind: sPunct, start: start, end: i, val: src[start:i]})
		}
	}
	return toks, comments, nil
}

// isWordByte reports whether c continues a word: letters, digits, _, $ and any non-ASCII byte.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// prepped is SQL after prepSQL.
type prepped struct {
	src, out string
	toks     []sqlTok    // tokens of src
	tables   [][3]string // the three-part names rewritten, in order
	edits    []edit
}

// edit replaced src[start:end] with text at out offset outStart.
type edit struct {
	start, end int
	outStart   int
	text       string
}

// origin maps an offset of out to the offset of src it came from (the start of a rewritten span).
func (p *prepped) origin(off int) int {
	i := sort.Search(len(p.edits), func(i int) bool { return p.edits[i].outStart > off }) - 1
	if i < 0 {
		return min(off, len(p.src))
	}
	e := p.edits[i]
	if off < e.outStart+len(e.text) {
		return e.start
	}
	return min(e.end+off-(e.outStart+len(e.text)), len(p.src))
}

// prepSQL applies the two conveniences.
func prepSQL(src string) (*prepped, error) {
	toks, comments, err := lexSQL(src)
	if err != nil {
		return nil, err
	}
	p := &prepped{src: src, toks: toks}
	type repl struct {
		start, end int
		text       string
	}
	var repls []repl
	for _, c := range comments {
		repls = append(repls, repl{c[0], c[1], blank(src[c[0]:c[1]])})
	}
	isName := func(t sqlTok) bool { return t.kind == sWord || t.kind == sQuoted }
	depth, fnDepth := 0, -1 // paren depth; depth inside tumble()/hop(), -1 outside
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.punct('('):
			depth++
		case t.punct(')'):
			if depth--; depth < fnDepth {
				fnDepth = -1
			}
		case (t.word("tumble") || t.word("hop")) && i+1 < len(toks) && toks[i+1].punct('(') && fnDepth < 0:
			fnDepth = depth + 1
		case (t.word("from") || t.word("join")) && i+5 < len(toks) && isName(toks[i+1]) && toks[i+2].punct('.') &&
			isName(toks[i+3]) && toks[i+4].punct('.') && isName(toks[i+5]) &&
			!(i+6 < len(toks) && toks[i+6].punct('.')):
			parts := [3]string{toks[i+1].val, toks[i+3].val, toks[i+5].val}
			p.tables = append(p.tables, parts)
			joined := strings.Join(parts[:], ".")
			repls = append(repls, repl{toks[i+1].start, toks[i+5].end, "`" + strings.ReplaceAll(joined, "`", "``") + "`"})
			i += 5
		case t.word("interval") && fnDepth >= 0 && depth == fnDepth && i+1 < len(toks):
			n := toks[i+1]
			var text string
			var end int
			switch {
			case n.kind == sString && (i+2 >= len(toks) || toks[i+2].kind != sWord):
				text, end = n.val, n.end // INTERVAL '1 minute'
			case (n.kind == sString || n.kind == sNumber) && i+2 < len(toks) && toks[i+2].kind == sWord:
				text, end = n.val+" "+toks[i+2].val, toks[i+2].end // INTERVAL '5' MINUTE, INTERVAL 5 MINUTE
				i++
			default:
				continue
			}
			repls = append(repls, repl{t.start, end, quoteString(text)})
			i++
		}
	}
	sort.Slice(repls, func(i, j int) bool { return repls[i].start < repls[j].start })
	var b strings.Builder
	last := 0
	for _, r := range repls {
		if r.start < last {
			continue // a comment inside a rewritten table name
		}
		b.WriteString(src[last:r.start])
		p.edits = append(p.edits, edit{start: r.start, end: r.end, outStart: b.Len(), text: r.text})
		b.WriteString(r.text)
		last = r.end
	}
	b.WriteString(src[last:])
	p.out = b.String()
	return p, nil
}

// blank replaces every byte of s but newlines with a space.
func blank(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}
