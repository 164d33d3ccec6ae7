// Package mysql captures a MySQL or MariaDB server's changes from its row-based binlog (through
// go-mysql's BinlogSyncer, resuming from GTID sets), after a consistent initial snapshot taken
// without any external dump program.
//
// It owns the binlog protocol session (one replica connection under mysql.server_id), the start-up
// checks that make misconfiguration clear (binlog_format=ROW, binlog_row_image=FULL, log_bin, GTIDs,
// privileges, tables and primary keys), schema history, the mapping of MySQL types to cdcd's
// (types.go) and the decoding of row images straight to canonical values (rows.go, values.go). It
// must never write to ClickHouse, decide what is durable, drop a change no snapshot holds (see
// Table snapshots), or skip a change it cannot decode: a value it cannot convert exactly becomes a
// change.BadValue (its row goes to the dead-letter table), and a binlog it cannot read stops the
// source. MySQL needs no acknowledgement: Ack only records the confirmed position.
//
// # Positions
//
// A position's Token is the GTID set after a transaction, in the flavor's own text: MariaDB's
// domain-server-sequence position with one GTID per domain ("0-1-42,1-2-7"), MySQL's executed set
// ("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100"). Streaming resumes from it (taken from the commit
// event's GTID set: go-mysql mutates a GTID event's own set in place).
//
// Its Version is a binlog coordinate, file sequence number << 32 | byte position, which grows along
// one server's binlog:
//
//   - a transaction's events carry the coordinate where its GTID event ends, known before its rows,
//     so a huge transaction can be written in parts;
//   - its commit checkpoint carries the coordinate where its XID (or COMMIT, or the DDL statement
//     itself) ends: at or above its events', strictly below the next transaction's;
//   - a snapshot's rows and its closing commit carry the coordinate of the snapshot's binlog
//     position (MariaDB's binlog_snapshot_file/position, MySQL's SHOW BINARY LOG STATUS under a
//     brief FLUSH TABLES WITH READ LOCK), below every transaction streamed after it;
//   - an operator's reset to an explicit GTID set has Version 0: the set alone says where streaming
//     resumes, and Version 0 skips no event of its own accord (rows ClickHouse holds at newer
//     versions stay, as any replay converges); only the table snapshots below still drop what they
//     hold. A reset to "latest" has the binlog end's coordinate.
//
// # Table snapshots
//
// Every snapshot reports its tables, with its version, once their last row is emitted
// (capture.Emitter.Snapshotted), and a later Run finds them in capture.Start.Tables. With a stored
// offset and snapshots configured, a captured table missing there (one added to the configuration
// of a running source) is snapshotted on its own before streaming resumes: a new consistent
// snapshot of just those tables (the same code as the first one, lock included on MySQL), whose
// schema, truncate and rows carry its own binlog coordinate, ends with a commit at the stored
// offset, which therefore does not move; the other tables then stream from the offset as before.
// (If nothing was committed since the offset, the snapshot sits at the offset's very coordinate and
// is versioned one past it, still below every later transaction, so that its rows are not taken
// for ones already delivered.) The binlog carries every table, so the new table's changes between
// the offset and its snapshot arrive in the stream too: a table's changes (rows, TRUNCATE, the
// CREATE TABLE that made it) at or below its snapshot's version are dropped, as are its table maps
// there (no schema from before the snapshot is announced again), so nothing is applied twice and
// aggregations stay exact. Schema history knows the new table from the start, from the catalog as
// its snapshot read it, and replays the DDL streamed before the snapshot onto it. An offset stored
// before these records existed (Start.Tables nil) counts every captured table as snapshotted, and
// reports them so, at version 0. With snapshot: never none of this happens: a table added to the
// configuration streams from the offset without the rows it held before.
//
// Coordinates are per server. A failover to another server (or RESET MASTER) makes them
// meaningless even where the GTIDs carry on, so it needs a re-snapshot: cdcd refuses to resume when
// the stored coordinate, or the version of a table snapshot newer than it, is past the server's
// binlog end, or when its GTID set is not served.
//
// # Types
//
// Values are decoded from the binlog's binary row images with the column facts of each table map
// (binlog_row_metadata=FULL: names, signedness, character sets, ENUM/SET labels, primary key), and
// read by the snapshot through the binary protocol with the session in UTC and utf8mb4; both give
// the same canonical values:
//
//	TINYINT/SMALLINT/MEDIUMINT/INT/BIGINT  Int8/Int16/Int32/Int32/Int64, UNSIGNED: UInt8..UInt64
//	                                      (int64 / uint64; BIGINT UNSIGNED max stays exact)
//	DECIMAL(p,s)                          Decimal(p,s), exact, exponent -s (1.50 keeps its places)
//	FLOAT, DOUBLE                         Float32 (the exact float32), Float64
//	BIT(n)                                UInt64 (the bits, big-endian)
//	YEAR                                  UInt16 (1901..2155; 0 for year 0000)
//	DATE                                  Date
//	DATETIME(fsp)                         Timestamp: the wall clock as stored, microseconds
//	TIMESTAMP(fsp)                        TimestampTZ: the UTC instant (the binlog holds seconds
//	                                      since the epoch; the snapshot reads in time_zone +00:00)
//	TIME(fsp)                             Time: a time.Duration, exact over MySQL's whole range
//	                                      -838:59:59.999999..838:59:59.999999 (negative and over
//	                                      24 hours included: MySQL's TIME is an interval)
//	ENUM, SET                             String: the label; SET members comma-separated in
//	                                      definition order ('' for none and for ENUM's error value)
//	CHAR/VARCHAR/TEXT                     String, UTF-8: utf8mb3/utf8mb4/ascii as is, latin1
//	                                      (MySQL's cp1252) converted; other character sets as Bytes
//	                                      of the stored encoding
//	BINARY(n)/VARBINARY/BLOB              Bytes (BINARY(n) padded back to n bytes with 0x00: the
//	                                      binlog drops trailing zeros)
//	JSON                                  JSON: MySQL's binary JSON rendered as MySQL prints it;
//	                                      MariaDB's JSON (LONGTEXT with a json_valid check, known
//	                                      from schema history) verbatim
//	GEOMETRY                              Bytes (MySQL's internal SRID + WKB)
//
// Zero dates ('0000-00-00'), dates with a zero month or day, the zero TIMESTAMP and values whose
// bytes MySQL would never write are BadValues. Key columns are not nullable; every other column is,
// whatever the source declares. A column's Default (the value rows that predate an added column
// hold) comes from its constant DEFAULT, or MySQL's implicit default of a NOT NULL column.
//
// # Schema history and DDL
//
// The schema of each row event is the one in force at that point of the binlog, never today's
// catalog applied to old events: with binlog_row_metadata=FULL, each table map carries it. Schema
// history (the catalog as the snapshot reads it, moved forward by the DDL statements of the stream:
// ALTER TABLE ADD/DROP/MODIFY/CHANGE/RENAME COLUMN, ADD/DROP PRIMARY KEY, RENAME, CREATE, DROP)
// supplies what the table maps lack: MariaDB's JSON columns, defaults, and with MINIMAL or NO_LOG
// metadata the names, ENUM/SET labels, signedness and keys, matched by position and checked against
// the table map's types. With a HistoryStore (the daemon's keeps it in ClickHouse) history is saved
// after the snapshot, at each start and after each DDL statement that changes it, and a start from
// a stored offset reads the record in force there (see HistoryStore); without one, or with no
// record at or below the offset (one stored by an older cdcd), a restart rebuilds history from
// today's catalog, and with MINIMAL metadata a DDL made while cdcd was stopped may be misapplied.
//
// A new schema reaches the pipeline at the first table map after the change. TRUNCATE TABLE of a
// captured table emits a Truncate, and so does CREATE TABLE of a captured name (a new table is
// empty). A captured table renamed away stops streaming (its ClickHouse table keeps its rows); a
// table renamed onto a captured name streams into that name's ClickHouse table from then on, without
// the rows it brought (re-snapshot to copy them). DROP TABLE keeps the ClickHouse table as it was.
//
// # Errors
//
// Misconfiguration, a missing privilege, table or primary key, a GTID set the server no longer
// serves (purged binlog, error 1236) and another replica using the same server_id are
// change.Terminal, each naming the setting or object and the fix; for a lost position the fix is
// `cdcd offsets reset --config <file> --source <name> --to snapshot`. A lost connection is a plain
// error: the pipeline restarts Run from the stored offset.
//
// Not supported: MySQL's tagged GTIDs, partial JSON updates (binlog_row_value_options), compressed
// transaction payloads (binlog_transaction_compression), XA transactions, MariaDB's UUID/INET types.
package mysql
