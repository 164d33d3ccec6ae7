// Package schema owns the schema registry: the Registry interface the pipeline registers its Avro
// schemas through, External (a client of any Confluent-compatible registry, over
// github.com/riferrei/srclient) and Embedded (cdcd's own registry, the default, which serves the
// Confluent Schema Registry REST API so any Confluent client can read it).
//
// Compatibility is judged by the Avro schema-resolution rules under the Confluent levels (NONE,
// BACKWARD, FORWARD, FULL and their _TRANSITIVE forms). The embedded registry keeps an append-only
// log of its decisions in a Store (a local file or a ClickHouse table) and replays it at start, so
// ids and versions are stable across restarts.
//
// The reader must know two Confluent terms: a subject is a named sequence of schema versions
// (cdcd names them "<source>.<schema>.<table>-value", see Subject), and a schema id is global: equal
// schemas share one id in every subject.
//
// schema must never hand out an id or version that is not durably recorded, never let a record be
// written under a schema the registry has not accepted, and never decide itself whether an error is
// worth retrying beyond classifying it (IsUnavailable, *IncompatibleError): the pipeline decides.
// It knows nothing of sources, rows or ClickHouse tables other than its own log table.
package schema
