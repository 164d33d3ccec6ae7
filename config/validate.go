package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	reName     = regexp.MustCompile(`^[a-z0-9_]+$`)
	reDatabase = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	reSlot     = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
)

var compatibilities = []string{
	"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE",
}

// Validate checks c and completes it: it derives the defaults that depend on other fields (a
// postgres source's slot and publication), parses every table name into its Schema and Name,
// and turns registry.listen "off" into "". It returns the first problem as an *Error: first in
// the file when c was loaded, else first in the order of the fields. It does no I/O, and calling
// it again is harmless.
func (c *Config) Validate() error {
	v := &validator{}
	v.clickHouse(&c.ClickHouse)
	v.registry(&c.Registry)
	v.log(c.Log)
	v.metrics(c.Metrics, c.Registry)
	if c.MemoryLimit < 0 || (c.MemoryLimit > 0 && c.MemoryLimit < 4*c.ClickHouse.Batch.Bytes) {
		v.add("memory_limit", "%s is below 4 times clickhouse.batch.bytes (%s): up to three batches are in memory at once; raise it, or 0 for no limit",
			c.MemoryLimit, 4*c.ClickHouse.Batch.Bytes)
	}
	v.sources(c.Sources)
	v.aggregations(c.Aggregations, c)
	if len(v.errs) == 0 {
		return nil
	}
	first := v.errs[0]
	if c.origin != nil {
		for _, e := range v.errs[1:] {
			if c.origin.lineOf(e.Field) < c.origin.lineOf(first.Field) {
				first = e
			}
		}
		first.File = c.origin.file
	}
	return first
}

// lineOf returns the line of field, or of its closest ancestor present in the file, or 0.
func (o *origin) lineOf(field string) int {
	for field != "" {
		if line, ok := o.lines[field]; ok {
			return line
		}
		field = field[:max(strings.LastIndexAny(field, ".["), 0)]
	}
	return 0
}

// validator collects the problems in the order of the fields.
type validator struct{ errs []*Error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &Error{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(field, value string, allowed ...string) {
	if slices.Contains(allowed, value) {
		return
	}
	if len(allowed) == 2 {
		v.add(field, "%q must be %s or %s", value, allowed[0], allowed[1])
		return
	}
	v.add(field, "%q must be one of %s", value, strings.Join(allowed, ", "))
}

func (v *validator) positive(field string, n int64) {
	if n <= 0 {
		v.add(field, "must be > 0")
	}
}

func (v *validator) hostPort(field, value string, needHost bool) {
	if reason := checkHostPort(value, needHost); reason != "" {
		v.add(field, "%q %s", value, reason)
	}
}

// uniqueName checks the name at field, recording it in seen as list[i].
func (v *validator) uniqueName(field, name string, seen map[string]string, at string) {
	switch prev, dup := seen[name]; {
	case name == "":
		v.add(field, "is required")
	case !reName.MatchString(name):
		v.add(field, "%q must match %s", name, reName)
	case dup:
		v.add(field, "%q is used by %s", name, prev)
	default:
		seen[name] = at
	}
}

func (v *validator) clickHouse(ch *ClickHouse) {
	if len(ch.Addr) == 0 {
		v.add("clickhouse.addr", "at least one host:port is required")
	}
	for i, addr := range ch.Addr {
		v.hostPort(fmt.Sprintf("clickhouse.addr[%d]", i), addr, true)
	}
	if !reDatabase.MatchString(ch.Database) {
		v.add("clickhouse.database", "%q must match %s", ch.Database, reDatabase)
	}
	if ch.User == "" {
		v.add("clickhouse.user", "must not be empty")
	}
	if ch.Password != "" && ch.PasswordFile != "" && !ch.passwordFromFile {
		v.add("clickhouse.password_file", "set password or password_file, not both")
	}
	if !ch.TLS.Enabled && ch.TLS.CAFile != "" {
		v.add("clickhouse.tls.ca_file", "requires tls.enabled: true")
	}
	if !ch.TLS.Enabled && ch.TLS.InsecureSkipVerify {
		v.add("clickhouse.tls.insecure_skip_verify", "requires tls.enabled: true")
	}
	v.positive("clickhouse.dial_timeout", int64(ch.DialTimeout))
	v.positive("clickhouse.batch.rows", int64(ch.Batch.Rows))
	v.positive("clickhouse.batch.bytes", int64(ch.Batch.Bytes))
	v.positive("clickhouse.batch.interval", int64(ch.Batch.Interval))
}

func (v *validator) registry(r *Registry) {
	v.positive("registry.halt_retry", int64(r.HaltRetry))
	if r.URL != "" {
		// The URL is not quoted in these messages: it might hold credentials.
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.add("registry.url", "must be an http:// or https:// URL, or empty for the embedded registry")
		case u.User != nil:
			v.add("registry.url", "must not hold credentials; use registry.username and registry.password")
		}
	}
	if r.Listen == "off" {
		r.Listen = ""
	}
	if r.Listen != "" {
		v.hostPort("registry.listen", r.Listen, false)
	}
	external := map[string]string{
		"username": r.Username, "password": r.Password, "password_file": r.PasswordFile, "ca_file": r.CAFile,
	}
	for _, key := range []string{"username", "password", "password_file", "ca_file"} {
		if r.URL == "" && external[key] != "" {
			v.add("registry."+key, "is for an external registry; set registry.url too")
		}
	}
	if r.Password != "" && r.PasswordFile != "" && !r.passwordFromFile {
		v.add("registry.password_file", "set password or password_file, not both")
	}
	if r.CAFile != "" && strings.HasPrefix(r.URL, "http://") {
		v.add("registry.ca_file", "requires an https:// registry.url")
	}
	v.oneOf("registry.compatibility", r.Compatibility, compatibilities...)
	if reason := checkSubjectTemplate(r.SubjectTemplate); reason != "" {
		v.add("registry.subject_template", "%q %s", r.SubjectTemplate, reason)
	}
}

var placeholders = strings.NewReplacer("{source}", "", "{schema}", "", "{table}", "")

func checkSubjectTemplate(t string) string {
	if i := strings.IndexAny(placeholders.Replace(t), "{}"); i >= 0 {
		return "has a { or } that is not one of the placeholders {source}, {schema}, {table}"
	}
	if !strings.Contains(t, "{table}") {
		return "must contain {table}"
	}
	return ""
}

// Subject returns the registry subject of a table: SubjectTemplate with its placeholders
// replaced.
func (r *Registry) Subject(source, schema, table string) string {
	return strings.NewReplacer("{source}", source, "{schema}", schema, "{table}", table).Replace(r.SubjectTemplate)
}

func (v *validator) log(l Log) {
	v.oneOf("log.level", l.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", l.Format, "text", "json")
}

func (v *validator) metrics(m Metrics, r Registry) {
	if m.Listen == "" {
		return
	}
	v.hostPort("metrics.listen", m.Listen, false)
	if r.URL == "" && m.Listen == r.Listen {
		v.add("metrics.listen", "%q is also registry.listen", m.Listen)
	}
}

func (v *validator) sources(sources []Source) {
	if len(sources) == 0 {
		v.add("sources", "at least one source is required")
	}
	names := map[string]string{}
	serverIDs := map[uint32]string{}
	for i := range sources {
		s := &sources[i]
		field := fmt.Sprintf("sources[%d]", i)
		v.uniqueName(field+".name", s.Name, names, field)
		switch {
		case (s.Postgres == nil) == (s.MySQL == nil):
			v.add(field, "exactly one of postgres or mysql is required")
		case s.Postgres != nil:
			v.postgres(field+".postgres", s.Name, s.Postgres)
		default:
			v.mysql(field, s.MySQL, serverIDs)
		}
	}
}

func (v *validator) postgres(field, name string, p *Postgres) {
	if p.DSN == "" {
		v.add(field+".dsn", "is required")
	} else if _, err := pgconn.ParseConfig(p.DSN); err != nil {
		v.add(field+".dsn", "cannot parse %q: %s", RedactDSN(p.DSN), pgconnReason(p.DSN, err))
	}
	v.tables(field+".tables", p.Tables, postgresTables)
	p.Slot = v.pgName(field+".slot", p.Slot, "cdcd_"+name)
	p.Publication = v.pgName(field+".publication", p.Publication, "cdcd_"+name)
	v.oneOf(field+".snapshot", p.Snapshot, "initial", "never")
	v.positive(field+".status_interval", int64(p.StatusInterval))
}

// pgName checks a slot or publication name, which is def when empty, and returns it.
func (v *validator) pgName(field, value, def string) string {
	if value == "" {
		value = def
	}
	if !reSlot.MatchString(value) {
		hint := ""
		if value == def {
			hint = " (it is the default cdcd_<name>; set " + field[strings.LastIndexByte(field, '.')+1:] + " explicitly)"
		}
		v.add(field, "%q must match %s%s", value, reSlot, hint)
	}
	return value
}

// pgconnReason returns the reason in a pgconn.ParseConfig error, without the DSN and secrets.
func pgconnReason(dsn string, err error) string {
	msg := err.Error()
	if _, ok := errors.AsType[*pgconn.ParseConfigError](err); ok {
		// The text is "cannot parse `<dsn, redacted>`: <reason>".
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+len("`: "):]
		}
	}
	return NewRedactor(dsnSecrets(dsn))(msg)
}

func (v *validator) mysql(source string, m *MySQL, serverIDs map[uint32]string) {
	field := source + ".mysql"
	if m.DSN == "" {
		v.add(field+".dsn", "is required")
	} else if _, err := ParseMySQLDSN(m.DSN); err != nil {
		v.add(field+".dsn", "cannot parse %q: %s", RedactDSN(m.DSN), NewRedactor(dsnSecrets(m.DSN))(err.Error()))
	}
	v.tables(field+".tables", m.Tables, mysqlTables)
	switch prev, dup := serverIDs[m.ServerID]; {
	case m.ServerID == 0:
		v.add(field+".server_id", "is required (1..4294967295)")
	case dup:
		v.add(field+".server_id", "%d is used by %s", m.ServerID, prev)
	default:
		serverIDs[m.ServerID] = source
	}
	v.oneOf(field+".flavor", m.Flavor, "auto", "mysql", "mariadb")
	v.oneOf(field+".snapshot", m.Snapshot, "initial", "never")
}

// tables parses each table name in place and checks that there is at least one and no table is
// listed twice. A TableName built in code, with Name set and Raw empty, is taken as it is.
func (v *validator) tables(field string, tables []TableName, d dialect) {
	if len(tables) == 0 {
		v.add(field, "at least one table is required")
		return
	}
	seen := map[[2]string]int{}
	for i := range tables {
		t := &tables[i]
		if t.Raw != "" || t.Name == "" {
			parsed, err := d.parse(t.Raw)
			if err != nil {
				v.add(fmt.Sprintf("%s[%d]", field, i), "%v", err)
				continue
			}
			*t = parsed
		}
		key := [2]string{t.Schema, t.Name}
		if j, dup := seen[key]; dup {
			v.add(fmt.Sprintf("%s[%d]", field, i), "%q is the same table as tables[%d]", t.String(), j)
			continue
		}
		seen[key] = i
	}
}

func (v *validator) aggregations(aggs []Aggregation, c *Config) {
	names := map[string]string{}
	for i, a := range aggs {
		field := fmt.Sprintf("aggregations[%d]", i)
		v.uniqueName(field+".name", a.Name, names, field)
		parts := strings.Split(a.From, ".")
		switch {
		case a.From == "" && a.SQL != "":
			// The SQL names its table; package transform checks it.
		case a.From != "" && a.SQL != "":
			v.add(field+".sql", "set sql or from (with group_by and measures), not both")
		case a.From == "":
			v.add(field+".from", "is required (or write the aggregation as sql)")
		case len(parts) != 3 || slices.Contains(parts, ""):
			v.add(field+".from", "%q must be source.schema.table", a.From)
		default:
			if _, ok := c.Source(parts[0]); !ok {
				v.add(field+".from", "source %q is not configured", parts[0])
			}
		}
	}
}
