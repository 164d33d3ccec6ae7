// Package change defines what flows between cdcd's stages: typed change events of source tables,
// the source positions they carry, and the schemas of the tables they belong to.
//
// It is the one package every stage imports and it imports none of them. It holds types and pure
// functions only: no I/O, no goroutines, no configuration.
//
// # Values
//
// A row is a []any aligned with its Table's Columns. Each value is nil (SQL NULL), Unchanged (a
// PostgreSQL TOAST value the source did not resend) or the canonical Go type of its column's Kind:
//
//	Int8, Int16, Int32, Int64          int64
//	UInt8, UInt16, UInt32, UInt64      uint64
//	Float32, Float64                   float64 (a Float32 value is exactly a float32)
//	Decimal                            decimal.Decimal (github.com/shopspring/decimal), exact
//	String, JSON, Enum                 string (UTF-8 as the source holds it)
//	Bytes                              []byte
//	Bool                               bool
//	Date                               time.Time, UTC midnight
//	Timestamp                          time.Time in UTC: the wall clock as the source holds it
//	TimestampTZ                        time.Time in UTC: the instant
//	Time                               time.Duration since midnight
//	UUID                               uuid.UUID (github.com/google/uuid)
//	Array                              []any of the element's canonical type (nil elements are NULL)
//
// Timestamps keep microseconds. Values are immutable once emitted: stages share them.
package change

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Op is what a change event did.
type Op uint8

const (
	// Insert adds After.
	Insert Op = iota + 1
	// Update replaces the row identified by Before's key (or After's, when Before is nil) with After.
	Update
	// Delete removes the row identified by Before's key.
	Delete
	// Truncate removes every row of the table. Before and After are nil.
	Truncate
)

func (o Op) String() string {
	switch o {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Truncate:
		return "truncate"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Position is a point in one source's change stream. Positions of one source are totally ordered
// by Version; Token is what the source resumes from, in the source's own text form.
type Position struct {
	// Version orders positions within a source. An offset at Version v covers every event whose
	// Version is at most v. It is also the _version of the rows written at this position.
	Version uint64
	// Token is the source-specific resume point: a PostgreSQL LSN ("16/B374D848"), a GTID set.
	Token string
}

// IsZero reports whether p is the zero position (nothing delivered yet).
func (p Position) IsZero() bool { return p.Version == 0 && p.Token == "" }

func (p Position) String() string { return p.Token }

// Event is one row change, or a truncate, of a source table.
type Event struct {
	Op    Op
	Table *Table // the schema in force at this point of the stream; shared and immutable
	// Before is the old row for updates and deletes, nil when the source sent none. When BeforeFull
	// is false only the key columns of Before are meaningful (the rest are nil).
	Before     []any
	BeforeFull bool
	// After is the new row for inserts and updates. For updates, a column the source did not resend
	// holds Unchanged.
	After []any
	// Version orders the event within its source: every event of one transaction carries the
	// transaction's version. It becomes the row's _version in ClickHouse.
	Version uint64
	// Seq is the event's index within its transaction, starting at 0.
	Seq uint32
	// CommitTime is the source's commit timestamp of the transaction (zero when unknown).
	CommitTime time.Time
	// Snapshot marks events read by the initial snapshot rather than the change stream.
	Snapshot bool
}

// Key returns the event's row key values: from After for inserts and updates, from Before for
// deletes. (Sources turn an update that changes a row's key into a delete and an insert.)
func (e *Event) Key() []any {
	row := e.After
	if e.Op == Delete {
		row = e.Before
	}
	key := make([]any, len(e.Table.Key))
	for i, c := range e.Table.Key {
		key[i] = row[c]
	}
	return key
}

// unchanged is the type of Unchanged.
type unchanged struct{}

func (unchanged) String() string { return "<unchanged>" }

// Unchanged stands for a value the source did not resend (a PostgreSQL TOAST value untouched by an
// update). It must be resolved from an earlier image of the row and never written as NULL.
var Unchanged any = unchanged{}

// IsUnchanged reports whether v is Unchanged.
func IsUnchanged(v any) bool { _, ok := v.(unchanged); return ok }

// TableID names a source table: source name, namespace (PostgreSQL schema, MySQL database), table.
type TableID struct {
	Source    string
	Namespace string
	Name      string
}

func (id TableID) String() string {
	return id.Source + "." + id.Namespace + "." + id.Name
}

// SourceName is "namespace.name", as configs and operators write it.
func (id TableID) SourceName() string { return id.Namespace + "." + id.Name }

// Table is the schema of a source table at one point of its stream.
type Table struct {
	ID      TableID
	Columns []Column
	// Key holds the indexes in Columns of the primary key (or replica identity) columns, in key order.
	Key []int
	// Generation increases each time the source reports a changed schema for the table.
	Generation int
	// BeforeFull reports that the source sends the whole old row with updates and deletes
	// (PostgreSQL REPLICA IDENTITY FULL, MySQL binlog_row_image=FULL), so changes can be
	// retracted from aggregations exactly.
	BeforeFull bool
}

// Column is one column of a source table.
type Column struct {
	Name     string // verbatim, as the source spells it
	Type     Type
	Nullable bool // key columns are never nullable
	// Default is the value rows that predate the column hold (PostgreSQL's missing value of an
	// ADD COLUMN ... DEFAULT <constant>), canonical; nil means NULL.
	Default any
}

// ColumnIndex returns the index of the column named name, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// IsKey reports whether column i is part of the key.
func (t *Table) IsKey(i int) bool {
	for _, k := range t.Key {
		if k == i {
			return true
		}
	}
	return false
}

// SameShape reports whether t and u have the same columns (names, types, nullability) and key.
func (t *Table) SameShape(u *Table) bool {
	if len(t.Columns) != len(u.Columns) || len(t.Key) != len(u.Key) {
		return false
	}
	for i := range t.Columns {
		if t.Columns[i].Name != u.Columns[i].Name || t.Columns[i].Nullable != u.Columns[i].Nullable ||
			!t.Columns[i].Type.Equal(u.Columns[i].Type) {
			return false
		}
	}
	for i := range t.Key {
		if t.Key[i] != u.Key[i] {
			return false
		}
	}
	return t.BeforeFull == u.BeforeFull
}

// Kind is a cdcd logical type.
type Kind uint8

// The logical types. See the package doc for each one's Go value.
const (
	KindInvalid Kind = iota
	Int8
	Int16
	Int32
	Int64
	UInt8
	UInt16
	UInt32
	UInt64
	Float32
	Float64
	Decimal
	String
	Bytes
	Bool
	Date
	Timestamp
	TimestampTZ
	Time
	UUID
	JSON
	Enum
	Array
)

var kindNames = [...]string{
	KindInvalid: "invalid", Int8: "int8", Int16: "int16", Int32: "int32", Int64: "int64",
	UInt8: "uint8", UInt16: "uint16", UInt32: "uint32", UInt64: "uint64", Float32: "float32",
	Float64: "float64", Decimal: "decimal", String: "string", Bytes: "bytes", Bool: "bool",
	Date: "date", Timestamp: "timestamp", TimestampTZ: "timestamptz", Time: "time", UUID: "uuid",
	JSON: "json", Enum: "enum", Array: "array",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Type is a column's logical type.
type Type struct {
	Kind Kind
	// Precision and Scale of a Decimal; Precision 0 means unconstrained (any precision and scale).
	Precision, Scale int
	// Elem is the element type of an Array.
	Elem *Type
	// Symbols are an Enum's labels, when the source reports them.
	Symbols []string
	// Source is the source's own name for the type, e.g. "numeric(12,2)", "varchar(20)".
	Source string
	// Fallback marks a source type cdcd does not know, carried as its text form in a String.
	Fallback bool
}

// Equal reports whether two types are the same logical type (Source names aside).
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind || t.Precision != u.Precision || t.Scale != u.Scale || t.Fallback != u.Fallback {
		return false
	}
	if (t.Elem == nil) != (u.Elem == nil) || (t.Elem != nil && !t.Elem.Equal(*u.Elem)) {
		return false
	}
	if len(t.Symbols) != len(u.Symbols) {
		return false
	}
	for i := range t.Symbols {
		if t.Symbols[i] != u.Symbols[i] {
			return false
		}
	}
	return true
}

func (t Type) String() string {
	switch t.Kind {
	case Decimal:
		if t.Precision == 0 {
			return "decimal"
		}
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case Array:
		if t.Elem == nil {
			return "array"
		}
		return t.Elem.String() + "[]"
	case Enum:
		if len(t.Symbols) > 0 {
			return "enum(" + strings.Join(t.Symbols, ",") + ")"
		}
	}
	return t.Kind.String()
}

// TerminalError marks an error that retrying cannot fix (a lost replication slot, a schema
// ClickHouse cannot take, a bad setting): the pipeline stops instead of retrying. Every other error
// is retried with backoff.
type TerminalError struct{ Err error }

func (e *TerminalError) Error() string { return e.Err.Error() }
func (e *TerminalError) Unwrap() error { return e.Err }

// Terminal wraps err as a TerminalError (nil stays nil).
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &TerminalError{Err: err}
}

// IsTerminal reports whether err or anything it wraps is a TerminalError.
func IsTerminal(err error) bool {
	var t *TerminalError
	return errors.As(err, &t)
}

// BadValue stands in a row for a source value cdcd cannot convert exactly (a numeric NaN, an
// infinite timestamp, a multi-dimensional array). The row cannot be written as is: the sink sends
// it to the dead-letter table with Err and the source's text of the value.
type BadValue struct {
	Raw string // the value as the source sent it, in text form where possible
	Err error
}

func (b *BadValue) Error() string { return b.Err.Error() }

// ParseKind returns the Kind named s (as Kind.String writes it).
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s && Kind(k) != KindInvalid {
			return Kind(k), true
		}
	}
	return KindInvalid, false
}
