// Package decode turns change events into Avro records: it maps a source table's columns to an
// Avro record schema, registers that schema through package schema, and encodes every row under the
// schema in force at its point of the stream.
//
// decode owns the type mapping to Avro and the encoding; it must never coerce a value the schema
// cannot hold (that is an error naming table, column and value kind), and never talk to a database.
package decode
