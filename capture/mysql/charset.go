package mysql

import "unicode/utf8"

// MySQL's latin1 is Windows-1252 with the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F,
// 0x90, 0x9D) mapped to the C1 controls of the same value: the WHATWG windows-1252 table.
var latin1High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// toUTF8 converts text of charset cs to UTF-8. UTF-8 and ASCII text comes back as is (it shares
// the caller's memory); latin1 is converted.
func toUTF8(cs, s string) string {
	if cs != "latin1" {
		return s
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b = append(b, c)
		case c < 0xA0:
			b = utf8.AppendRune(b, latin1High[c-0x80])
		default:
			b = utf8.AppendRune(b, rune(c))
		}
	}
	return string(b)
}

// builtinCollations maps the collation ids of common character sets to them, for when the server's
// information_schema.COLLATIONS cannot be read.
var builtinCollations = map[uint64]string{
	8: "latin1", 5: "latin1", 15: "latin1", 31: "latin1", 47: "latin1", 48: "latin1", 49: "latin1", 94: "latin1",
	11: "ascii", 65: "ascii", 33: "utf8mb3", 83: "utf8mb3", 192: "utf8mb3", 213: "utf8mb3", 223: "utf8mb3",
	45: "utf8mb4", 46: "utf8mb4", 224: "utf8mb4", 255: "utf8mb4", 63: "binary",
}

// collationCharsets resolves collation ids to character sets.
type collationCharsets map[uint64]string

func (m collationCharsets) charsetOf(id uint64) string {
	if cs, ok := m[id]; ok {
		return cs
	}
	if cs, ok := builtinCollations[id]; ok {
		return cs
	}
	if id >= 224 && id <= 247 || id >= 255 && id <= 323 { // utf8mb4 UCA collations (MySQL 8)
		return "utf8mb4"
	}
	return ""
}
