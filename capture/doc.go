// Package capture holds the source readers: each subpackage turns one kind of database's change
// stream into cdcd's typed change events (package change) with source positions.
//
// A capture package owns the protocol with its database (replication slot, binlog stream), the
// consistent initial snapshot and the mapping of source types to cdcd types. It must never write to
// ClickHouse, never decide what is durable, and never acknowledge a position to its source before
// the pipeline has confirmed it.
package capture
