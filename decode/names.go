package decode

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// metaPrefix starts the name of every metadata field; AvroName never returns a name that starts
// with it.
const metaPrefix = "__cdcd_"

// errEmptyName is AvroName's error for "": no SQL database allows an empty identifier.
var errEmptyName = errors.New("empty name")

// AvroName maps a source name (a column, table, schema or source name) to an Avro name, by the
// rule in the package doc. The mapping is injective: OriginalName(AvroName(s)) == s for every s,
// so two different source names never map to the same Avro name. Only "" is refused.
func AvroName(s string) (string, error) {
	if s == "" {
		return "", errEmptyName
	}
	if keepsName(s) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// A byte that is not UTF-8: the lone surrogates U+DC80..U+DCFF never occur in valid
			// UTF-8, so they stand for the bytes 0x80..0xFF unambiguously (as in PEP 383).
			r = 0xDC00 + rune(s[i])
		}
		switch {
		case i == 0 && isDigit(r): // an Avro name cannot start with a digit
			writeEscape(&b, r)
		case isLetter(r) || isDigit(r):
			b.WriteByte(byte(r))
		case r == '_' && !(i == 0 && strings.HasPrefix(s, metaPrefix)) && !startsEscape(s[i:]):
			b.WriteByte('_')
		default:
			writeEscape(&b, r)
		}
		i += size
	}
	return b.String(), nil
}

// keepsName reports whether AvroName returns s unchanged: s is a valid Avro name, holds no "_x"
// followed by four upper-case hex digits, and does not start with the metadata prefix.
func keepsName(s string) bool {
	if !isLetter(rune(s[0])) && s[0] != '_' || strings.HasPrefix(s, metaPrefix) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		if c == '_' && startsEscape(s[i:]) {
			return false
		}
		if !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// startsEscape reports whether s, which starts with '_', continues with 'x' and four upper-case
// hex digits: such an underscore is escaped, so that the output never holds an escape-like
// sequence that AvroName did not write.
func startsEscape(s string) bool {
	if len(s) < 6 || s[1] != 'x' {
		return false
	}
	for i := 2; i < 6; i++ {
		if hexValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789ABCDEF"

// writeEscape writes _xHHHH_ (code points up to U+FFFF) or _xHHHHHH_ (above).
func writeEscape(b *strings.Builder, r rune) {
	n := 4
	if r > 0xFFFF {
		n = 6
	}
	b.WriteString("_x")
	for i := n - 1; i >= 0; i-- {
		b.WriteByte(hexDigits[(r>>(4*i))&0xF])
	}
	b.WriteByte('_')
}

// OriginalName inverts AvroName: it replaces every _xHHHH_ and _xHHHHHH_ escape of name by the
// code point (or, for U+DC80..U+DCFF, the single byte) it stands for. For every name AvroName
// returns, OriginalName gives back the source name exactly. An escape of a code point that
// AvroName never writes (another surrogate, or beyond U+10FFFF) becomes U+FFFD.
func OriginalName(name string) string {
	if !strings.Contains(name, "_x") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		if r, n := escapeAt(name[i:]); n > 0 {
			switch {
			case r >= 0xDC80 && r <= 0xDCFF:
				b.WriteByte(byte(r - 0xDC00))
			case r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF):
				b.WriteRune(utf8.RuneError)
			default:
				b.WriteRune(r)
			}
			i += n
			continue
		}
		b.WriteByte(name[i])
		i++
	}
	return b.String()
}

// escapeAt returns the code point of an escape at the start of s and its length, or n == 0.
func escapeAt(s string) (r rune, n int) {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' {
		return 0, 0
	}
	for _, digits := range [2]int{4, 6} {
		if len(s) < digits+3 || s[digits+2] != '_' {
			continue
		}
		r = 0
		ok := true
		for i := 2; i < digits+2; i++ {
			h := hexValue(s[i])
			if h < 0 {
				ok = false
				break
			}
			r = r<<4 | rune(h)
		}
		if ok {
			return r, digits + 3
		}
	}
	return 0, 0
}

// hexValue is the value of an upper-case hex digit, or -1.
func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isLetter(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }
func isDigit(r rune) bool  { return r >= '0' && r <= '9' }

// isAvroName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isAvroName(s string) bool {
	if s == "" || !isLetter(rune(s[0])) && s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := rune(s[i])
		if !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}
