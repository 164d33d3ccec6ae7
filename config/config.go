// Package config owns cdcd's configuration file: its schema, its defaults, the expansion of
// ${VAR} references from the environment, validation, and the redaction of the secrets it holds.
//
// Load reads one YAML file and returns a *Config that is complete (every default filled in,
// password files read) and valid, or an *Error naming the field that is wrong, like
//
//	config cdcd.yml: sources[1].postgres.tables[2]: "a.b.c" is not schema.table: it has 3 parts
//
// Reference returns a commented example of every setting. Unknown keys are errors.
//
// In scalar values (never keys), ${NAME} is replaced by the environment variable NAME, an error
// if it is unset; ${NAME:-default} falls back to default when NAME is unset or empty; $${ is a
// literal ${, and any other $ is literal. Expansion works on the parsed YAML, so a variable's
// value is always text within its one value and cannot add keys or items.
//
// config reads the file and the files it names (password_file, ca_file), and whatever
// pgconn.ParseConfig reads to check a PostgreSQL DSN; it never connects to anything. The DSNs its
// errors quote are redacted. Before a value that may hold a secret reaches a log line, pass it
// through Config.String, Config.Redacted, RedactDSN or a Redactor built from Config.Secrets.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file.
type Config struct {
	// ClickHouse is the destination: where and how rows are written.
	ClickHouse ClickHouse `yaml:"clickhouse"`
	// Registry is the schema registry every Avro schema is checked against.
	Registry Registry `yaml:"registry"`
	// Log sets the daemon's logging.
	Log Log `yaml:"log"`
	// Metrics sets the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
	// MemoryLimit is a soft limit on the daemon's memory (the Go runtime's GOMEMLIMIT, which wins
	// when set in the environment): the garbage collector works harder as the heap nears it,
	// instead of letting it grow to twice the live data. Default 256MiB; 0 means no limit; at
	// least 4 times clickhouse.batch.bytes, since up to three batches are in memory at once.
	MemoryLimit ByteSize `yaml:"memory_limit"`
	// Sources are the databases to capture, at least one; names are unique.
	Sources []Source `yaml:"sources"`
	// Aggregations are the live aggregations to maintain, kept mostly raw for package transform.
	Aggregations []Aggregation `yaml:"aggregations"`

	// origin is where the config was loaded from; nil for a Config built in code.
	origin *origin
}

// origin records where a loaded Config came from, so that errors name the file and the first
// error in file order can be chosen.
type origin struct {
	file  string
	lines map[string]int // field path -> line of its key or item in the file
}

// ClickHouse is the clickhouse section.
type ClickHouse struct {
	// Addr lists the servers' native-protocol addresses as host:port; required. A single string
	// is accepted for a one-element list.
	Addr []string `yaml:"addr"`
	// Database is the database cdcd writes into; default "cdc"; must match ^[A-Za-z0-9_]+$.
	Database string `yaml:"database"`
	// User is the ClickHouse user; default "default".
	User string `yaml:"user"`
	// Password is the user's password; default "". After Load it holds the content of
	// PasswordFile when that is set.
	Password string `yaml:"password"`
	// PasswordFile names a file holding the password, trailing newlines trimmed; an alternative
	// to Password (setting both is an error). A relative path is relative to the config file.
	PasswordFile string `yaml:"password_file"`
	// TLS configures TLS to ClickHouse.
	TLS TLS `yaml:"tls"`
	// DialTimeout bounds connecting to a server; default 5s; must be > 0.
	DialTimeout Duration `yaml:"dial_timeout"`
	// Batch bounds the batches written to ClickHouse.
	Batch Batch `yaml:"batch"`

	passwordFromFile bool // Password was read from PasswordFile by Load
}

// TLS is clickhouse.tls.
type TLS struct {
	// Enabled turns TLS on; default false.
	Enabled bool `yaml:"enabled"`
	// CAFile names a PEM file of CAs to trust instead of the system pool; requires Enabled.
	// A relative path is relative to the config file.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables certificate verification; requires Enabled. For tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Batch is clickhouse.batch. A batch is flushed when any of its limits is reached.
type Batch struct {
	// Rows is the most rows per batch; default 50000; must be > 0.
	Rows int `yaml:"rows"`
	// Bytes is the most bytes per batch; default 32MiB; must be > 0.
	Bytes ByteSize `yaml:"bytes"`
	// Interval is the longest a committed change waits before a flush is started; default 50ms;
	// must be > 0.
	Interval Duration `yaml:"interval"`
}

// Registry is the registry section: the schema registry.
type Registry struct {
	// URL is an external Confluent-compatible registry (http:// or https://, no credentials in
	// it); empty (the default) means cdcd's embedded registry.
	URL string `yaml:"url"`
	// Listen is where the embedded registry serves its API; default "127.0.0.1:8081". "" or "off"
	// disables serving it (Validate turns "off" into ""). Unused when URL is set.
	Listen string `yaml:"listen"`
	// Username is the basic-auth user for the external registry; requires URL.
	Username string `yaml:"username"`
	// Password is the basic-auth password for the external registry; requires URL. After Load it
	// holds the content of PasswordFile when that is set.
	Password string `yaml:"password"`
	// PasswordFile names a file holding Password, trailing newlines trimmed; setting both is an
	// error. A relative path is relative to the config file.
	PasswordFile string `yaml:"password_file"`
	// CAFile names a PEM file of CAs for an https URL. A relative path is relative to the config
	// file.
	CAFile string `yaml:"ca_file"`
	// Compatibility is the compatibility level new subjects get; default BACKWARD; one of
	// NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.
	Compatibility string `yaml:"compatibility"`
	// SubjectTemplate names a table's subject from the placeholders {source}, {schema} and
	// {table}; it must contain {table}. Default "{source}.{schema}.{table}-value".
	SubjectTemplate string `yaml:"subject_template"`
	// HaltRetry is how often the schema of a table halted by an incompatible change is offered to
	// the registry again; once accepted, the source replays from the held position. Default 30s.
	HaltRetry Duration `yaml:"halt_retry"`

	passwordFromFile bool // Password was read from PasswordFile by Load
}

// Log is the log section.
type Log struct {
	// Level is the least severe level logged: debug, info (the default), warn or error.
	Level string `yaml:"level"`
	// Format is text (the default) or json.
	Format string `yaml:"format"`
}

// Metrics is the metrics section.
type Metrics struct {
	// Listen is the host:port serving Prometheus /metrics; empty (the default) means off.
	Listen string `yaml:"listen"`
}

// Source is one database to capture: exactly one of Postgres and MySQL is set.
type Source struct {
	// Name identifies the source in table names, offsets and subjects; required, unique, must
	// match ^[a-z0-9_]+$.
	Name string `yaml:"name"`
	// Postgres is set for a PostgreSQL source.
	Postgres *Postgres `yaml:"postgres,omitempty"`
	// MySQL is set for a MySQL or MariaDB source.
	MySQL *MySQL `yaml:"mysql,omitempty"`
}

// Kind reports the kind of the source: "postgres", "mysql", or "" when neither is set.
func (s Source) Kind() string {
	switch {
	case s.Postgres != nil:
		return "postgres"
	case s.MySQL != nil:
		return "mysql"
	}
	return ""
}

// Postgres is a PostgreSQL source, read through logical replication with pgoutput.
type Postgres struct {
	// DSN is the connection string, URL (postgres://user@host:5432/db) or keyword/value form
	// (host=... dbname=...); required. It must parse with pgconn.ParseConfig.
	DSN string `yaml:"dsn"`
	// Tables are the tables to capture, at least one, no duplicates. Each is written
	// schema.table; a bare table means public.table; unquoted names fold to lower case;
	// double-quoted names ("My Schema"."Odd.Table", "" for a quote) are taken literally.
	Tables []TableName `yaml:"tables"`
	// Slot is the replication slot; default cdcd_<name>; must match ^[a-z0-9_]{1,63}$.
	Slot string `yaml:"slot"`
	// Publication is the publication; default cdcd_<name>; must match ^[a-z0-9_]{1,63}$.
	Publication string `yaml:"publication"`
	// Snapshot is initial (the default: copy the tables' rows first) or never.
	Snapshot string `yaml:"snapshot"`
	// Binary asks pgoutput for binary values where every column type allows; default true.
	Binary bool `yaml:"binary"`
	// StatusInterval is the cadence of standby status updates; default 10s; must be > 0.
	StatusInterval Duration `yaml:"status_interval"`
}

// MySQL is a MySQL or MariaDB source, read from the row-based binlog.
type MySQL struct {
	// DSN is a go-sql-driver/mysql style DSN, user[:password]@tcp(host:port)/[db][?params];
	// required. See ParseMySQLDSN.
	DSN string `yaml:"dsn"`
	// Tables are the tables to capture, at least one, no duplicates, each written
	// database.table; backtick-quoted names (`my db`.`t.1`, `` for a backtick) are taken
	// literally. There is no default database.
	Tables []TableName `yaml:"tables"`
	// ServerID is the replica server id cdcd uses; required, 1..4294967295, unique among the
	// MySQL sources.
	ServerID uint32 `yaml:"server_id"`
	// Flavor is auto (the default: ask the server), mysql or mariadb.
	Flavor string `yaml:"flavor"`
	// Snapshot is initial (the default) or never.
	Snapshot string `yaml:"snapshot"`
}

// TableName is a source table as configured.
type TableName struct {
	// Schema is the PostgreSQL schema or the MySQL database, unquoted. Validate sets it.
	Schema string
	// Name is the table's name, unquoted. Validate sets it.
	Name string
	// Raw is the text as written in the file.
	Raw string
}

// UnmarshalYAML implements yaml.Unmarshaler: it keeps the text, which Validate parses.
func (t *TableName) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a string")
	}
	*t = TableName{Raw: n.Value}
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (t TableName) MarshalYAML() (any, error) { return t.Raw, nil }

// Aggregation is one entry of aggregations. config checks only Name and From; package transform
// decodes and validates the rest from Spec.
type Aggregation struct {
	// Name identifies the aggregation; required, unique, must match ^[a-z0-9_]+$.
	Name string
	// From is source.schema.table, naming a configured source. An entry written as SQL (the sql
	// key) names its table in the SQL instead.
	From string
	// SQL is the aggregation as a SELECT ... GROUP BY statement (package transform parses it);
	// set instead of from, group_by, where, window and measures.
	SQL string
	// Spec is the entry's whole mapping, name and from included, with ${VAR} references already
	// expanded. Decode it with Spec.Decode.
	Spec yaml.Node
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Aggregation) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("must be a mapping")
	}
	*a = Aggregation{Spec: *n}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		var dst *string
		switch key {
		case "name":
			dst = &a.Name
		case "from":
			dst = &a.From
		case "sql":
			dst = &a.SQL
		default:
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return &Error{Field: key, Message: "must be a string"}
		}
		*dst = val.Value
	}
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (a Aggregation) MarshalYAML() (any, error) {
	if a.Spec.Kind != 0 {
		return &a.Spec, nil
	}
	return map[string]string{"name": a.Name, "from": a.From}, nil
}

// File is the path the configuration was loaded from ("" for one built in code).
func (c *Config) File() string {
	if c.origin == nil {
		return ""
	}
	return c.origin.file
}

// Source returns the source called name.
func (c *Config) Source(name string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// Error is what Load and Validate return: a problem with one field of one file.
type Error struct {
	// File is the config file's name; "" for a Config built in code.
	File string
	// Field is the path of the field, like sources[1].postgres.dsn; "" for the whole file.
	Field string
	// Message says what is wrong and what is allowed. It never holds a secret.
	Message string
	// Err is the underlying error, if any.
	Err error
}

// Error renders "config <file>: <field>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads, expands, decodes and validates the config file at path, and reads the files it
// names. Every error it returns is an *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			msg = "cannot " + pe.Op + ": " + pe.Err.Error()
		}
		return nil, &Error{File: path, Message: msg, Err: err}
	}
	return LoadBytes(path, data)
}

// LoadBytes is Load for a file already read: name is used in errors and relative paths in the
// file are relative to its directory.
//
// It decodes data, one YAML document, over the defaults while expanding environment variables,
// then calls Validate, then reads the password files and checks that the CA files exist.
func LoadBytes(name string, data []byte) (*Config, error) {
	c, err := decodeFile(name, data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.readFiles(filepath.Dir(name)); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns a Config holding every default and no sources.
func Default() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	c.ClickHouse = ClickHouse{
		Database:    "cdc",
		User:        "default",
		DialTimeout: Duration(5 * time.Second),
		Batch:       Batch{Rows: 50000, Bytes: 32 * MiB, Interval: Duration(50 * time.Millisecond)},
	}
	c.Registry = Registry{
		Listen:          "127.0.0.1:8081",
		Compatibility:   "BACKWARD",
		SubjectTemplate: "{source}.{schema}.{table}-value",
		HaltRetry:       Duration(30 * time.Second),
	}
	c.Log = Log{Level: "info", Format: "text"}
	c.MemoryLimit = 256 * MiB
}

// setDefaults sets what does not depend on the source's name; Validate derives the rest.
func (p *Postgres) setDefaults() {
	*p = Postgres{Snapshot: "initial", Binary: true, StatusInterval: Duration(10 * time.Second)}
}

func (m *MySQL) setDefaults() {
	*m = MySQL{Flavor: "auto", Snapshot: "initial"}
}

// readFiles resolves the file paths against dir, reads the password files and checks that the
// CA files exist.
func (c *Config) readFiles(dir string) error {
	ch, reg := &c.ClickHouse, &c.Registry
	if err := c.readPassword("clickhouse.password_file", dir, &ch.PasswordFile, &ch.Password, &ch.passwordFromFile); err != nil {
		return err
	}
	if err := c.checkFile("clickhouse.tls.ca_file", dir, &ch.TLS.CAFile); err != nil {
		return err
	}
	if err := c.readPassword("registry.password_file", dir, &reg.PasswordFile, &reg.Password, &reg.passwordFromFile); err != nil {
		return err
	}
	return c.checkFile("registry.ca_file", dir, &reg.CAFile)
}

func (c *Config) readPassword(field, dir string, path, password *string, fromFile *bool) error {
	if *path == "" || *fromFile {
		return nil
	}
	if err := c.checkFile(field, dir, path); err != nil {
		return err
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return c.errorf(field, err, "%v", err)
	}
	*password = strings.TrimRight(string(data), "\r\n")
	*fromFile = true
	return nil
}

func (c *Config) checkFile(field, dir string, path *string) error {
	if *path == "" {
		return nil
	}
	if !filepath.IsAbs(*path) && dir != "" {
		*path = filepath.Join(dir, *path)
	}
	fi, err := os.Stat(*path)
	if err != nil {
		return c.errorf(field, err, "%v", err)
	}
	if fi.IsDir() {
		return c.errorf(field, nil, "%s is a directory", *path)
	}
	return nil
}

// errorf returns an *Error for field of c's file.
func (c *Config) errorf(field string, err error, format string, args ...any) *Error {
	return &Error{File: c.file(), Field: field, Message: fmt.Sprintf(format, args...), Err: err}
}

func (c *Config) file() string {
	if c.origin == nil {
		return ""
	}
	return c.origin.file
}
