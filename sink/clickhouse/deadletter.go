package clickhouse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
)

// DeadLettersTable holds rows ClickHouse rejected or cdcd could not complete, with the reason and
// the position, so nothing is lost and they can be replayed after a fix (see ListDeadLetters and
// MarkDeadLetters).
//
// A dead letter is identified by the change it holds: (source, table, version, seq, key). The
// table is a ReplacingMergeTree by status, so writing the same letter again (a batch replayed
// after a crash) keeps one, and a letter handled by the operator (replayed or discarded) stays
// handled. Read it with FINAL.
const DeadLettersTable = "_cdcd_dead_letters"

func createDeadLettersSQL(db string) string {
	return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(db) + "." + QuoteIdent(DeadLettersTable) + ` (
  at DateTime,
  source String,
  table String,
  op String,
  version UInt64,
  seq UInt32,
  key String,
  error String,
  format String,
  record String,
  status UInt8,
  note String
) ENGINE = ReplacingMergeTree(status) ORDER BY (source, table, version, seq, key)`
}

// Dead-letter record formats.
const (
	// FormatAvro is a record in the Confluent wire format: magic byte 0, the 4-byte schema id,
	// then the Avro binary of the row under that schema (see package decode).
	FormatAvro = "avro-confluent"
	// FormatJSON is the row as a JSON object by column name (see JSONRecord): for rows that could
	// not be encoded as Avro.
	FormatJSON = "json"
)

// DeadLetterStatus says whether a dead letter still waits for the operator.
type DeadLetterStatus uint8

const (
	// Dead: the row is not in its table.
	Dead DeadLetterStatus = 0
	// Replayed: the row was written to its table after a fix.
	Replayed DeadLetterStatus = 1
	// Discarded: the operator, or a later TRUNCATE of the table, made the row moot.
	Discarded DeadLetterStatus = 2
)

func (s DeadLetterStatus) String() string {
	switch s {
	case Dead:
		return "dead"
	case Replayed:
		return "replayed"
	case Discarded:
		return "discarded"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// DeadLetterID identifies a dead letter: the change it holds.
type DeadLetterID struct {
	Table   string // schema.table in the source
	Version uint64
	Seq     uint32
	Key     string // the row's key values as a JSON array (see DeadLetterKey)
}

// A DeadLetter is one row of the dead-letter table.
type DeadLetter struct {
	DeadLetterID
	At     time.Time
	Source string
	Op     string // insert, update or delete
	Error  string
	Format string // FormatAvro or FormatJSON
	Record []byte
	Status DeadLetterStatus
	Note   string // why it was discarded
}

type deadLetter struct {
	DeadLetterID
	op     string
	err    string
	format string
	record []byte
}

// DeadLetterKey renders a row's key values (the columns of t.Key) as a JSON array, as dead letters
// record them: exact text for numbers, base64 for bytes.
func DeadLetterKey(t *change.Table, row []any) string {
	key := make([]any, len(t.Key))
	for i, c := range t.Key {
		if c < len(row) {
			key[i] = jsonValue(row[c])
		}
	}
	b, err := json.Marshal(key)
	if err != nil {
		return fmt.Sprint(key)
	}
	return string(b)
}

// newDeadLetter records a row that cannot be written, with its Avro record when it has one (wire
// is copied) and as JSON otherwise.
func (s *Sink) newDeadLetter(r *pendingRow, cause error, wire []byte) deadLetter {
	op := r.ev.Op
	if r.deleted {
		op = change.Delete
	}
	d := deadLetter{
		DeadLetterID: DeadLetterID{Table: r.schema.ID.SourceName(), Version: r.version, Seq: r.ev.Seq,
			Key: DeadLetterKey(r.schema, r.vals)},
		op:  op.String(),
		err: cause.Error(),
	}
	if wire != nil {
		d.format, d.record = FormatAvro, append([]byte(nil), wire...)
	} else {
		_, rec, err := JSONRecord(r.ev, r.vals)
		if err != nil {
			d.err += "; encoding the record as JSON: " + err.Error()
		}
		d.format, d.record = FormatJSON, rec
	}
	return d
}

// JSONRecord encodes a row as a JSON object keyed by column name: bytes as base64, decimals and
// 64-bit integers as exact text, timestamps as RFC 3339 with microseconds, unchanged values as null.
func JSONRecord(ev *change.Event, row []any) (string, []byte, error) {
	m := make(map[string]any, len(row))
	for i, v := range row {
		if i >= len(ev.Table.Columns) {
			break
		}
		m[ev.Table.Columns[i].Name] = jsonValue(v)
	}
	b, err := json.Marshal(m)
	return FormatJSON, b, err
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64) // JSON has no NaN or Infinity: "NaN", "+Inf", "-Inf"
		}
		return x
	case string, bool:
		return x
	case *change.BadValue:
		if !utf8.ValidString(x.Raw) {
			return fmt.Sprintf("\\x%x", x.Raw) // bytes that are not text, in PostgreSQL's hex form
		}
		return x.Raw
	}
	if change.IsUnchanged(v) {
		return nil
	}
	s, err := toString(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return s
}

func (s *Sink) writeDeadLetters(ctx context.Context, dead []deadLetter) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+QuoteIdent(s.db)+"."+QuoteIdent(DeadLettersTable)+
		"(at, source, table, op, version, seq, key, error, format, record, status, note)")
	if err != nil {
		return fmt.Errorf("clickhouse: write dead letters: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, d := range dead {
		if err := batch.Append(now, s.source, d.Table, d.op, d.Version, d.Seq, d.Key, d.err, d.format, string(d.record),
			uint8(Dead), ""); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("clickhouse: write dead letters: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: write %d dead letters: %w", len(dead), err)
	}
	for _, d := range dead {
		s.log.Warn("row sent to the dead-letter table", "table", d.Table, "op", d.op, "version", d.Version, "key", d.Key, "error", d.err)
	}
	return nil
}

// discardTruncated marks the table's dead letters older than a TRUNCATE at version as discarded:
// their rows are gone from the source, so replaying them would bring back deleted rows. It is
// idempotent, like the TRUNCATE it follows.
func (s *Sink) discardTruncated(ctx context.Context, id change.TableID, version uint64) error {
	dl := QuoteIdent(s.db) + "." + QuoteIdent(DeadLettersTable)
	stmt := "INSERT INTO " + dl + " (at, source, table, op, version, seq, key, error, format, record, status, note) " +
		"SELECT at, source, table, op, version, seq, key, error, format, record, " + strconv.Itoa(int(Discarded)) + ", " +
		QuoteString("superseded by a TRUNCATE of the table at version "+strconv.FormatUint(version, 10)) +
		" FROM (SELECT * FROM " + dl + " FINAL WHERE source = " + QuoteString(s.source) + " AND table = " + QuoteString(id.SourceName()) +
		" AND version < " + strconv.FormatUint(version, 10) + ") WHERE status = " + strconv.Itoa(int(Dead))
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("clickhouse: discard the dead letters of %s before its truncate: %w", id, err)
	}
	return nil
}

// DeadLetterFilter selects dead letters.
type DeadLetterFilter struct {
	Source string // "" for all
	Table  string // schema.table; "" for all
	// Version and Key, when set, select the letters of one transaction or one row.
	Version uint64
	Key     string
	// All includes handled (replayed, discarded) letters; otherwise only dead ones.
	All bool
	// Limit stops after this many letters (0: no limit).
	Limit int
	// After, with Source set, starts after this letter (to read a long list in pages).
	After *DeadLetterID
}

// ListDeadLetters calls f for each dead letter in database db that filter selects, in stream order
// (source, table, version, seq).
func ListDeadLetters(ctx context.Context, conn driver.Conn, db string, filter DeadLetterFilter, f func(DeadLetter) error) error {
	// Conditions on the sorting key go inside FINAL; the status, which FINAL decides, outside it
	// (a condition moved to PREWHERE would filter before FINAL picks each letter's latest row).
	const cols = "at, source, table, op, version, seq, key, error, format, record, status, note"
	q := "SELECT " + cols + " FROM " + QuoteIdent(db) + "." + QuoteIdent(DeadLettersTable) + " FINAL WHERE 1"
	if filter.Source != "" {
		q += " AND source = " + QuoteString(filter.Source)
	}
	if filter.Table != "" {
		q += " AND table = " + QuoteString(filter.Table)
	}
	if filter.Version != 0 {
		q += " AND version = " + strconv.FormatUint(filter.Version, 10)
	}
	if filter.Key != "" {
		q += " AND key = " + QuoteString(filter.Key)
	}
	if a := filter.After; a != nil {
		t, v, sq, k := QuoteString(a.Table), strconv.FormatUint(a.Version, 10), strconv.FormatUint(uint64(a.Seq), 10), QuoteString(a.Key)
		q += " AND (table > " + t + " OR table = " + t + " AND (version > " + v + " OR version = " + v +
			" AND (seq > " + sq + " OR seq = " + sq + " AND key > " + k + ")))"
	}
	q = "SELECT " + cols + " FROM (" + q + ")"
	if !filter.All {
		q += " WHERE status = " + strconv.Itoa(int(Dead))
	}
	q += " ORDER BY source, table, version, seq, key"
	if filter.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(filter.Limit)
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("clickhouse: read %s.%s: %w", db, DeadLettersTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var d DeadLetter
		var rec string
		var status uint8
		if err := rows.Scan(&d.At, &d.Source, &d.Table, &d.Op, &d.Version, &d.Seq, &d.Key, &d.Error, &d.Format, &rec,
			&status, &d.Note); err != nil {
			return fmt.Errorf("clickhouse: read %s.%s: %w", db, DeadLettersTable, err)
		}
		d.Record, d.Status = []byte(rec), DeadLetterStatus(status)
		if err := f(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse: read %s.%s: %w", db, DeadLettersTable, err)
	}
	return nil
}

// MarkDeadLetters records letters as handled (status Replayed or Discarded, with note) in database
// db. Marking again is harmless.
func MarkDeadLetters(ctx context.Context, conn driver.Conn, db string, letters []DeadLetter, status DeadLetterStatus, note string) error {
	if len(letters) == 0 {
		return nil
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+QuoteIdent(db)+"."+QuoteIdent(DeadLettersTable)+
		"(at, source, table, op, version, seq, key, error, format, record, status, note)")
	if err != nil {
		return fmt.Errorf("clickhouse: mark dead letters %s: %w", status, err)
	}
	for _, d := range letters {
		if err := batch.Append(d.At, d.Source, d.Table, d.Op, d.Version, d.Seq, d.Key, d.Error, d.Format, string(d.Record),
			uint8(status), note); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("clickhouse: mark dead letters %s: %w", status, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: mark %d dead letters %s: %w", len(letters), status, err)
	}
	return nil
}
