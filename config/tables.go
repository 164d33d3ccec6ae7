package config

import (
	"errors"
	"fmt"
	"strings"
)

// dialect is how a kind of database writes a qualified table name.
type dialect struct {
	form          string // what the name must look like, for errors
	quote         byte   // the identifier quote; doubled inside a quoted name for itself
	defaultSchema string // the schema of a bare name; "" makes a bare name an error
	missing       string // the error for a bare name
	fold          bool   // unquoted names fold to lower case
	digitFirst    bool   // an unquoted name may start with a digit
	maxLen        int    // the longest name, in bytes
}

var (
	postgresTables = dialect{
		form: "schema.table", quote: '"', defaultSchema: "public",
		fold: true, maxLen: 63,
	}
	mysqlTables = dialect{
		form: "database.table", quote: '`', missing: "the database is missing; there is no default database",
		digitFirst: true, maxLen: 64,
	}
)

// parse parses raw, a table name as written in the file.
func (d dialect) parse(raw string) (TableName, error) {
	parts, err := d.split(raw)
	switch {
	case err != nil:
	case len(parts) == 2:
		return TableName{Schema: parts[0], Name: parts[1], Raw: raw}, nil
	case len(parts) == 1 && d.defaultSchema != "":
		return TableName{Schema: d.defaultSchema, Name: parts[0], Raw: raw}, nil
	case len(parts) == 1:
		err = errors.New(d.missing)
	default:
		err = fmt.Errorf("it has %d parts", len(parts))
	}
	return TableName{}, fmt.Errorf("%q is not %s: %w", raw, d.form, err)
}

// split splits s at the dots outside quotes and unquotes each part.
func (d dialect) split(s string) ([]string, error) {
	var parts []string
	for {
		var part string
		if s != "" && s[0] == d.quote {
			var err error
			if part, s, err = d.unquote(s); err != nil {
				return nil, err
			}
		} else {
			end := strings.IndexByte(s, '.')
			if end < 0 {
				end = len(s)
			}
			part, s = s[:end], s[end:]
			if err := d.checkUnquoted(part); err != nil {
				return nil, err
			}
			if d.fold {
				part = strings.ToLower(part)
			}
		}
		if part == "" {
			return nil, errors.New("a name is empty")
		}
		if len(part) > d.maxLen {
			return nil, fmt.Errorf("%q is longer than %d bytes", part, d.maxLen)
		}
		parts = append(parts, part)
		if s == "" {
			return parts, nil
		}
		s = s[1:] // the dot
	}
}

// unquote reads the quoted name at the start of s and returns it and what follows it.
func (d dialect) unquote(s string) (name, rest string, err error) {
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(s[i:], d.quote)
		if j < 0 {
			return "", "", fmt.Errorf("the quoted name %s is not closed", s)
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == d.quote { // a doubled quote is a quote
			b.WriteByte(d.quote)
			i++
			continue
		}
		break
	}
	if rest = s[i:]; rest != "" && rest[0] != '.' {
		return "", "", fmt.Errorf("%s follows the quoted name %s; expected a dot", rest, s[:i])
	}
	return b.String(), rest, nil
}

// checkUnquoted checks the characters of an unquoted name.
func (d dialect) checkUnquoted(name string) error {
	for i, c := range name {
		ok := c < 0x80 && isLetter(byte(c)) || c == '_' || i > 0 && c == '$' || (i > 0 || d.digitFirst) && '0' <= c && c <= '9'
		if !ok {
			return fmt.Errorf("%q has %q, which only a quoted name (%c...%c) may have", name, c, d.quote, d.quote)
		}
	}
	return nil
}

// String renders t as written in the file, or as schema.table when built in code.
func (t TableName) String() string {
	if t.Raw != "" {
		return t.Raw
	}
	return t.Schema + "." + t.Name
}
