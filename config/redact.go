package config

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// mask replaces every secret.
const mask = "xxxxx"

var (
	reURLScheme  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	reKeyword    = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*\s*=`)
	reQueryParam = regexp.MustCompile(`(?i)[?&](ssl)?password=`)
)

// RedactDSN returns dsn with its passwords replaced by xxxxx. It knows three forms:
//
//	postgres://user:secret@host/db?sslpassword=secret   URL: the userinfo and query passwords
//	host=h user=u password='se cret'                    keyword/value: password and sslpassword
//	user:secret@tcp(host:3306)/db                       go-sql-driver/mysql
//
// It errs towards hiding too much: in a malformed URL whose password holds an unescaped '/',
// '?' or '@', everything up to the last '@' that ends the user information is hidden.
func RedactDSN(dsn string) string {
	spans := passwordSpans(dsn)
	for i := len(spans) - 1; i >= 0; i-- {
		s := spans[i]
		dsn = dsn[:s.start] + mask + dsn[s.end:]
	}
	return dsn
}

// span is where a password is in a DSN, and how to unescape it.
type span struct {
	start, end int
	unescape   func(string) (string, error)
}

// passwordSpans returns the non-empty passwords in dsn, in order.
func passwordSpans(dsn string) []span {
	var spans []span
	add := func(start, end int, unescape func(string) (string, error)) {
		if end > start {
			spans = append(spans, span{start, end, unescape})
		}
	}
	switch {
	case reURLScheme.MatchString(dsn):
		rest := strings.Index(dsn, "://") + len("://")
		// The user information ends at the last '@' before the query, or failing that at the
		// last '@' of all: a password's unescaped '?' must not hide it.
		query := strings.IndexByte(dsn[rest:], '?')
		if query < 0 {
			query = len(dsn) - rest
		}
		at := strings.LastIndexByte(dsn[rest:rest+query], '@')
		if at < 0 {
			at = strings.LastIndexByte(dsn[rest:], '@')
		}
		tail := rest
		if at >= 0 {
			if colon := strings.IndexByte(dsn[rest:rest+at], ':'); colon >= 0 {
				add(rest+colon+1, rest+at, url.PathUnescape)
			}
			tail = rest + at + 1
		}
		for _, m := range reQueryParam.FindAllStringIndex(dsn[tail:], -1) {
			start := tail + m[1]
			end := strings.IndexAny(dsn[start:], "&#")
			if end < 0 {
				end = len(dsn) - start
			}
			add(start, start+end, url.QueryUnescape)
		}
	case reKeyword.MatchString(dsn):
		keywordValueSpans(dsn, add)
	default:
		// go-sql-driver: the database follows the last '/', the user information ends at the
		// last '@' before it, the password starts at the first ':'.
		head := dsn
		if slash := strings.LastIndexByte(dsn, '/'); slash >= 0 {
			head = dsn[:slash]
		}
		if at := strings.LastIndexByte(head, '@'); at >= 0 {
			if colon := strings.IndexByte(head[:at], ':'); colon >= 0 {
				add(colon+1, at, nil)
			}
		}
	}
	return spans
}

// keywordValueSpans finds the password and sslpassword values of a keyword/value DSN, read as
// pgconn reads it: keyword = value, the value bare up to a space or in single quotes, with
// backslash escapes in both.
func keywordValueSpans(dsn string, add func(start, end int, unescape func(string) (string, error))) {
	const space = " \t\n\r\v\f"
	i := 0
	for {
		for i < len(dsn) && strings.IndexByte(space, dsn[i]) >= 0 {
			i++
		}
		eq := strings.IndexByte(dsn[i:], '=')
		if eq < 0 {
			return
		}
		key := strings.ToLower(strings.TrimSpace(dsn[i : i+eq]))
		i += eq + 1
		for i < len(dsn) && strings.IndexByte(space, dsn[i]) >= 0 {
			i++
		}
		quoted := i < len(dsn) && dsn[i] == '\''
		if quoted {
			i++
		}
		start := i
		for i < len(dsn) {
			c := dsn[i]
			if c == '\\' {
				i += 2
				continue
			}
			if quoted && c == '\'' || !quoted && strings.IndexByte(space, c) >= 0 {
				break
			}
			i++
		}
		end := min(i, len(dsn))
		if key == "password" || key == "sslpassword" {
			add(start, end, unescapeBackslashes)
		}
		if quoted {
			i++ // the closing quote
		}
		if i >= len(dsn) {
			return
		}
	}
}

func unescapeBackslashes(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// dsnSecrets returns the passwords in dsn both as written and unescaped.
func dsnSecrets(dsn string) []string {
	var secrets []string
	for _, s := range passwordSpans(dsn) {
		raw := dsn[s.start:s.end]
		secrets = append(secrets, raw)
		if s.unescape != nil {
			if plain, err := s.unescape(raw); err == nil && plain != raw {
				secrets = append(secrets, plain)
			}
		}
	}
	return secrets
}

// Secrets returns every secret in c: the ClickHouse and registry passwords (read from their
// files by Load) and the passwords in the sources' DSNs, as written and unescaped. A logger
// scrubs them from every message with NewRedactor.
func (c *Config) Secrets() []string {
	secrets := []string{c.ClickHouse.Password, c.Registry.Password}
	for _, s := range c.Sources {
		if s.Postgres != nil {
			secrets = append(secrets, dsnSecrets(s.Postgres.DSN)...)
		}
		if s.MySQL != nil {
			secrets = append(secrets, dsnSecrets(s.MySQL.DSN)...)
		}
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
	slices.Sort(secrets)
	return slices.Compact(secrets)
}

// A Redactor returns its argument with secrets replaced by xxxxx.
type Redactor func(string) string

// NewRedactor returns a Redactor for secrets. Empty secrets are ignored; where secrets overlap,
// the longer is replaced, so none leaks in part.
func NewRedactor(secrets []string) Redactor {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return s == "" })
	if len(secrets) == 0 {
		return func(s string) string { return s }
	}
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, mask)
	}
	return strings.NewReplacer(pairs...).Replace
}

// Redacted returns a copy of c that is safe to print: passwords are xxxxx and DSNs are
// redacted. Changing the copy's fields, lists and sources does not change c; the aggregations'
// Spec nodes are shared.
func (c *Config) Redacted() *Config {
	r := *c
	r.ClickHouse.Addr = slices.Clone(c.ClickHouse.Addr)
	r.ClickHouse.Password = redactValue(c.ClickHouse.Password)
	r.Registry.Password = redactValue(c.Registry.Password)
	r.Sources = slices.Clone(c.Sources)
	for i := range r.Sources {
		s := &r.Sources[i]
		if s.Postgres != nil {
			p := *s.Postgres
			p.DSN, p.Tables = RedactDSN(p.DSN), slices.Clone(p.Tables)
			s.Postgres = &p
		}
		if s.MySQL != nil {
			m := *s.MySQL
			m.DSN, m.Tables = RedactDSN(m.DSN), slices.Clone(m.Tables)
			s.MySQL = &m
		}
	}
	r.Aggregations = slices.Clone(c.Aggregations)
	return &r
}

func redactValue(s string) string {
	if s == "" {
		return ""
	}
	return mask
}

// String renders c as YAML with every secret redacted.
func (c *Config) String() string {
	out, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return NewRedactor(c.Secrets())(string(out))
}

// GoString is String, so that %#v does not print secrets either.
func (c *Config) GoString() string { return c.String() }
