// Package decode turns change events into Avro records: it maps a source table's columns to an
// Avro record schema (Schema) and encodes every row under the schema that was in force at its
// point of the stream (TableSchema.Append), in the Confluent wire format where a record leaves
// the process (AppendWireHeader, ParseWire). It also renders records as JSON for people
// (DecodeToJSON, for `cdcd tail`).
//
// decode owns the type mapping to Avro and the encoding. It must never coerce a value the schema
// cannot hold (that is an error naming table, column and value kind), never write an unresolved
// TOAST value as NULL, and never talk to a database or a registry: the caller registers
// TableSchema.JSON through package schema and frames records with the id it gets back.
//
// # Names
//
// Avro names must match [A-Za-z_][A-Za-z0-9_]*. Every source name (column, table, PostgreSQL
// schema or MySQL database, source) maps to an Avro name by one rule, AvroName:
//
//   - ASCII letters, digits and "_" are kept, so order_id stays order_id;
//   - every other character becomes _xHHHH_, its Unicode code point in four upper-case hex digits
//     (_xHHHHHH_, six digits, above U+FFFF): "Ta`b le" → Ta_x0060_b_x0020_le, "Größe" →
//     Gr_x00F6__x00DF_e, "😀" → _x01F600_;
//   - a byte that is not UTF-8 becomes the escape of U+DC00 plus the byte (0xFF → _xDCFF_); these
//     lone surrogates never occur in UTF-8, so they cannot be confused with a character;
//   - a leading digit is escaped too ("1st" → _x0031_st);
//   - an "_" that is followed by "x" and four upper-case hex digits is escaped as _x005F_, so that
//     a name that already looks escaped stays distinct ("a_x0020_b" → a_x005F_x0020_b, while
//     "a b" → a_x0020_b);
//   - the first "_" of a name starting with "__cdcd_" is escaped ("__cdcd_op" → _x005F__cdcd_op):
//     that prefix belongs to the metadata fields;
//   - the empty name is an error (no supported database allows one).
//
// The mapping is injective: OriginalName undoes it (every _xHHHH_ or _xHHHHHH_ in a mapped name
// is an escape the rule wrote, because a kept "_" is never followed by "x" and four hex digits,
// and an escape starts with "_", which is not a hex digit), so no two source names share an Avro
// name. Schema still checks every table for a duplicate and fails rather than merge two columns.
// Names are kept byte for byte: "é" and "e" + U+0301 map to different names.
//
// Nothing is lost: the record carries "cdcd.source", "cdcd.schema" and "cdcd.table" with the
// original names and "cdcd.key" with the key columns' original names, in key order; every column
// field carries "cdcd.column" (the original name), "cdcd.type" (the source's type, such as
// "numeric(12,2)") and "cdcd.kind" (cdcd's kind, such as "json"), and "cdcd.fallback": true when
// the source type has no mapping of its own.
//
// The record of table shop.public.orders is named "orders" in namespace "shop.public"
// (Options.Namespace, when set, goes first). Named types inside the record (enums) live in the
// namespace of the record's full name: the enum of column "status" is shop.public.orders.status,
// the enum of an array column's elements shop.public.orders.<column>.element.
//
// # Types
//
//	cdcd kind            Avro type                                             Go value
//	int8, int16, int32   int (values outside the kind's range are errors)      int64
//	int64                long                                                  int64
//	uint8, uint16        int                                                   uint64
//	uint32               long                                                  uint64
//	uint64               bytes, decimal(20,0)                                  uint64
//	float32              float (the value must be exactly a float32)          float64
//	float64              double                                                float64
//	decimal(p,s)         bytes, decimal(P,S), see below                        decimal.Decimal
//	decimal              string: the exact decimal text, see below             decimal.Decimal
//	string               string (UTF-8; other bytes are an error)              string
//	json                 string, the JSON text as the source holds it          string
//	enum                 enum of the source's labels; string, see below        string
//	bytes                bytes                                                 []byte
//	bool                 boolean                                               bool
//	date                 int, date (days since 1970-01-01)                     time.Time
//	timestamp            long, local-timestamp-micros (the wall clock)         time.Time
//	timestamptz          long, timestamp-micros (the instant, UTC)             time.Time
//	time                 long, time-micros (24:00:00 is 86400000000; MySQL's   time.Duration
//	                     TIME may be negative or past 24h and is kept as is)
//	uuid                 string, uuid (lower-case, 36 characters)              uuid.UUID
//	array of T           array of ["null", T] (SQL arrays can hold NULLs)      []any
//	fallback types       string, the source's text of the value                string
//
// A decimal(p,s) maps to Avro decimal(P,S) with S = max(s,0) and P = max(p-s,0) + S, which is
// (p,s) for the usual 0 <= s <= p and holds every value of PostgreSQL 15's s > p (numeric(2,5)
// → (5,5)) and s < 0 (numeric(5,-2) → (7,0)). The bytes are the big-endian two's complement of
// the unscaled value, in as few bytes as hold it (zero is one byte 00), as Java's
// BigInteger.toByteArray writes them. A value is rescaled exactly: 1.5 is written at scale 2 as
// 150, and 1.500 as 150 too; a value with more fraction digits than the scale (1.234 at scale 2)
// or more digits than the precision is an error, never rounded.
//
// An unconstrained decimal (PostgreSQL numeric without a typmod) has no fixed scale, so it is a
// string: the value's exact text with the scale it carries ("1.50" stays "1.50"), without
// exponent notation ("5E+3" is "5000"), with "-" for negatives.
//
// A uint64 column is a decimal(20,0), which holds 0..2^64-1 exactly; Avro's long would not.
//
// An enum is an Avro enum of the source's labels, in the source's order, when there is at least
// one label and every label is a valid Avro name, no two alike; otherwise (a label like "so so",
// or labels the source did not report) it is a string. A value that is not one of an Avro enum's
// symbols is an error: the table's schema must be rebuilt when the source adds a label.
//
// Timestamps and times must be whole microseconds and dates UTC midnights; anything finer is an
// error, as is an instant outside the range of a long of microseconds (about ±292,000 years).
//
// # Record layout
//
// A record is flat: the table's columns in table order, then five metadata fields.
//
//	field               Avro type                            holds
//	<columns>           as above; see Nullability
//	__cdcd_op           enum {insert, update, delete}        the change
//	__cdcd_version      long                                 the event's Version, the position of
//	                                                         its transaction: an unsigned 64-bit
//	                                                         number in a long's bits
//	__cdcd_seq          long                                 the event's index in its transaction
//	__cdcd_commit_ts    ["null", timestamp-micros long]      the source's commit time, null when
//	                                                         unknown
//	__cdcd_snapshot     boolean                              read by the initial snapshot
//
// Inserts and updates carry the row after the change, deletes the row before it. A delete without
// a full before image (PostgreSQL without REPLICA IDENTITY FULL) carries the key and null in every
// other column. An update's before image is not in the record. Truncates have no row and no record
// (Append returns ErrTruncate): the caller handles them.
//
// Nullability: key columns are required (a NULL is an error). Every other column is
// ["null", T] with default null, whatever the source's NOT NULL says: a delete without a full
// before image has no values for them, and a source adding or dropping NOT NULL must not change the
// record's schema.
//
// # Encoding
//
// Append converts each value once, from its canonical Go value (see package change) straight into
// Avro binary, with no goavro, reflection or fmt on the way and no allocation beyond the output
// buffer's growth (decimals of more than 18 digits allocate a little). Rows must have their
// unchanged TOAST values resolved first: change.Unchanged is an error (ErrUnchanged), never a NULL;
// a *change.BadValue is an error that wraps it and its Err. Every value error is a *ValueError,
// whose text names the table, the column, the column's type and what is wrong:
//
//	decode: table shop.public.orders column "amount" (decimal(12,2)): value 1.234 has more fraction digits than scale 2
//
// The Confluent wire format is the byte 0, the schema id as 4 big-endian bytes, then the Avro
// binary record: AppendWireHeader writes it, ParseWire splits it.
package decode
