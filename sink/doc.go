// Package sink holds the destinations cdcd writes to. sink/clickhouse is the only one today.
//
// A sink owns the destination's DDL and writes; it confirms a batch's checkpoint only after the
// destination has the batch's rows, and every write it makes is idempotent under replay.
package sink
