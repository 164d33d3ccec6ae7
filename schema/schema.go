package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Registry registers and fetches Avro schemas. Implementations are safe for concurrent use.
type Registry interface {
	// Register registers schema (Avro JSON) under subject after the subject's compatibility
	// check and returns its global id and its version in subject. Registering a schema equal to
	// an existing live version of subject returns that version without creating a new one; it
	// is idempotent and may be repeated after any error.
	//
	// An incompatible schema returns *IncompatibleError. A registry that cannot be reached (or
	// cannot persist) returns an error for which IsUnavailable is true: the caller retries. Any
	// other error (an invalid schema, bad credentials) does not go away by retrying as is.
	Register(ctx context.Context, subject, schema string) (id, version int, err error)
	// SchemaByID returns the text of the schema with that global id. Known ids are answered
	// from memory.
	SchemaByID(ctx context.Context, id int) (string, error)
}

// Subject returns the subject cdcd registers a source table's value schema under by default:
// "<source>.<schema>.<table>-value".
func Subject(source, schemaName, table string) string {
	return source + "." + schemaName + "." + table + "-value"
}

// IncompatibleError is returned by Register when the registry refuses a schema because it breaks
// the subject's compatibility level. It is terminal for that subject until someone changes the
// schema or the level.
type IncompatibleError struct {
	Subject string
	// Version is the existing version the new schema conflicts with: the latest live version,
	// or under a _TRANSITIVE level the first that fails. 0 when the registry did not say and
	// it could not be found out.
	Version int
	// Next is the version the refused schema would have taken; 0 when not known.
	Next      int
	Level     Level  // the subject's level, "" when not known
	NewSchema string // the schema that was refused
	Reason    string // the registry's message or the checker's explanation
}

// Error names the subject, the version the new schema would have been, the version and level it
// conflicts with, and the reason.
func (e *IncompatibleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schema registry: subject %q: new schema ", e.Subject)
	if e.Next > 0 {
		fmt.Fprintf(&b, "(would be version %d) ", e.Next)
	}
	b.WriteString("is incompatible with ")
	if e.Version > 0 {
		fmt.Fprintf(&b, "version %d", e.Version)
	} else {
		b.WriteString("an existing version")
	}
	if e.Level != "" {
		fmt.Fprintf(&b, " under %s", e.Level)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// APIError is an error answer in the Confluent Schema Registry's form: an HTTP status and an
// error code such as 40401 (subject not found) or 42201 (invalid schema).
type APIError struct {
	Status  int // HTTP status
	Code    int // Confluent error code
	Message string
}

// Error returns the message and the error code.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (error code %d)", e.Message, e.Code)
}

// Confluent error codes.
const (
	CodeSubjectNotFound       = 40401
	CodeVersionNotFound       = 40402
	CodeSchemaNotFound        = 40403
	CodeSubjectSoftDeleted    = 40404 // soft delete of a subject already soft-deleted
	CodeSubjectNotSoftDeleted = 40405 // permanent delete of a subject not soft-deleted first
	CodeSubjectLevelNotSet    = 40408 // GET /config/{subject} of a subject without its own level
	CodeIncompatible          = 409
	CodeInvalidSchema         = 42201
	CodeInvalidVersion        = 42202
	CodeInvalidCompatibility  = 42203
	CodeStoreError            = 50001
)

// unavailableError marks an error that goes away when the registry (or its store) comes back.
type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return "schema registry unavailable: " + e.op + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() error { return e.err }

// IsUnavailable reports whether err means the registry could not be reached or could not persist
// its decision, so that the same call may succeed later. Whether or not the failed call took
// effect, a retry of Register returns the same answer a first success would have.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// Level is a Confluent compatibility level.
type Level string

// The compatibility levels. BACKWARD: the new schema can read data written with the latest
// version. FORWARD: the latest version can read data written with the new schema. FULL: both.
// The _TRANSITIVE forms check against every live version instead of the latest only.
const (
	LevelNone               Level = "NONE"
	LevelBackward           Level = "BACKWARD"
	LevelBackwardTransitive Level = "BACKWARD_TRANSITIVE"
	LevelForward            Level = "FORWARD"
	LevelForwardTransitive  Level = "FORWARD_TRANSITIVE"
	LevelFull               Level = "FULL"
	LevelFullTransitive     Level = "FULL_TRANSITIVE"
)

// DefaultLevel is cdcd's default compatibility level.
const DefaultLevel = LevelBackward

// ParseLevel parses a compatibility level, ignoring case.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case LevelNone, LevelBackward, LevelBackwardTransitive, LevelForward, LevelForwardTransitive,
		LevelFull, LevelFullTransitive:
		return l, nil
	}
	return "", fmt.Errorf("invalid compatibility level %q: want one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE", s)
}

// backward reports whether the level requires the new schema to read old data.
func (l Level) backward() bool {
	return l == LevelBackward || l == LevelBackwardTransitive || l == LevelFull || l == LevelFullTransitive
}

// forward reports whether the level requires old schemas to read new data.
func (l Level) forward() bool {
	return l == LevelForward || l == LevelForwardTransitive || l == LevelFull || l == LevelFullTransitive
}

// transitive reports whether the level checks every live version rather than the latest.
func (l Level) transitive() bool {
	return l == LevelBackwardTransitive || l == LevelForwardTransitive || l == LevelFullTransitive
}
