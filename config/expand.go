package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment expansion happens on the parsed node tree (see decode.go), one scalar value at a
// time, so a variable's value is always text inside that one value: it cannot add keys, lists or
// documents, whatever YAML syntax it holds. Keys are never expanded.
//
// The syntax, in any scalar value:
//
//	${NAME}            the variable's value; an error if it is not set (set but empty is fine)
//	${NAME:-default}   the variable's value, or default when it is unset or empty
//	$${                a literal ${
//	$                  any other $ is literal
//
// NAME matches [A-Za-z_][A-Za-z0-9_]*. A default is literal text up to the first }: it is not
// expanded again and cannot contain }.

// lookupEnv is the environment expansion reads; tests use t.Setenv.
var lookupEnv = os.LookupEnv

// unsetError is the error for a variable that is not set.
type unsetError struct{ name string }

func (e *unsetError) Error() string {
	return fmt.Sprintf("environment variable %s is not set", e.name)
}

// expandEnv expands the references in s using lookup.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", errors.New("${ without a closing }; write $${ for a literal ${")
			}
			ref := s[2:end]
			name, def, hasDefault := strings.Cut(ref, ":-")
			if !isVarName(name) {
				return "", fmt.Errorf("%q is not a variable reference; use ${NAME} or ${NAME:-default}, and $${ for a literal ${", s[:end+1])
			}
			val, ok := lookup(name)
			switch {
			case hasDefault && val == "":
				val = def
			case !ok:
				return "", &unsetError{name: name}
			}
			b.WriteString(val)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
