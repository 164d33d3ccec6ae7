package schema

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hamba/avro/v2"
)

// parsed is a valid Avro schema with the form that identifies it.
type parsed struct {
	avro avro.Schema
	// canon is the schema's normalized JSON: parsed and printed again, so spelling (white space,
	// key order, "namespace" versus a full name) does not matter but everything a reader
	// depends on (defaults, aliases, logical types, properties, doc) does. Equal canon, equal
	// schema. This is what Confluent compares (Avro's Schema.toString()), and deliberately not
	// the Parsing Canonical Form, which drops defaults: with it, adding a default to a field
	// would return the old id, and readers would never see the default.
	canon string
}

// parseSchema validates an Avro schema. An invalid schema returns *APIError 42201.
func parseSchema(text string) (p *parsed, err error) {
	invalid := func(cause any) error {
		return &APIError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidSchema,
			Message: fmt.Sprintf("Invalid schema: %v", cause)}
	}
	if strings.TrimSpace(text) == "" {
		return nil, invalid("empty schema")
	}
	defer func() {
		// The parser is third-party code fed with what any HTTP client sends: a panic in it
		// must cost one request, not the daemon.
		if r := recover(); r != nil {
			p, err = nil, invalid(r)
		}
	}()
	// A fresh name cache per parse: avro.Parse would remember named types across calls, so a
	// schema could refer to a type only defined by another subject's schema.
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, invalid(err)
	}
	canon, err := json.Marshal(s)
	if err != nil {
		return nil, invalid(err)
	}
	return &parsed{avro: s, canon: string(canon)}, nil
}

// canReadFrom returns nil when data written with writer can be read with reader, under the Avro
// schema-resolution rules, or the reason it cannot.
func canReadFrom(reader, writer avro.Schema) error {
	// A new checker per check: hamba's checker caches verdicts by the schemas' Parsing
	// Canonical Form fingerprints, which ignore defaults, so a shared one would answer for a
	// field without a default what it found for the same field with one.
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}

// versioned is one live version of a subject, for a compatibility check.
type versioned struct {
	version int
	schema  avro.Schema
}

// checkLevel checks next against the live versions of a subject (oldest first) under level. It
// returns the version that failed and why; failed is 0 when next is compatible. A non-transitive
// level checks against the latest version only; a transitive one against all, newest first.
func checkLevel(level Level, next avro.Schema, live []versioned) (failed int, reason string) {
	if level == LevelNone || len(live) == 0 {
		return 0, ""
	}
	against := live[len(live)-1:]
	if level.transitive() {
		against = live
	}
	for i := len(against) - 1; i >= 0; i-- {
		if r := checkPair(level, next, against[i]); r != "" {
			return against[i].version, r
		}
	}
	return 0, ""
}

// checkPair checks next against one existing version in the directions level requires.
func checkPair(level Level, next avro.Schema, old versioned) string {
	if level.backward() {
		if err := canReadFrom(next, old.schema); err != nil {
			return fmt.Sprintf("the new schema cannot read data written with version %d: %v", old.version, err)
		}
	}
	if level.forward() {
		if err := canReadFrom(old.schema, next); err != nil {
			return fmt.Sprintf("version %d cannot read data written with the new schema: %v", old.version, err)
		}
	}
	return ""
}
