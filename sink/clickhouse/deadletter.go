package clickhouse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cdcd-dev/cdcd/change"
)

// DeadLettersTable holds rows ClickHouse rejected or cdcd could not complete, with the reason and
// the position, so nothing is lost and they can be replayed after a fix.
const DeadLettersTable = "_cdcd_dead_letters"

func createDeadLettersSQL(db string) string {
	return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(db) + "." + QuoteIdent(DeadLettersTable) + ` (
  at DateTime,
  source String,
  table String,
  op String,
  version UInt64,
  error String,
  format String,
  record String
) ENGINE = MergeTree ORDER BY (source, table, version)`
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

type deadLetter struct {
	table   string
	op      string
	version uint64
	err     string
	format  string
	record  []byte
}

// newDeadLetter records a row that cannot be written, with its Avro record when it has one (wire
// is copied) and as JSON otherwise.
func (s *Sink) newDeadLetter(r *pendingRow, cause error, wire []byte) deadLetter {
	op := r.ev.Op
	if r.deleted {
		op = change.Delete
	}
	d := deadLetter{
		table:   r.schema.ID.SourceName(),
		op:      op.String(),
		version: r.version,
		err:     cause.Error(),
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
	s.log.Warn("row sent to the dead-letter table", "table", d.table, "op", d.op, "version", d.version, "error", d.err)
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
		"(at, source, table, op, version, error, format, record)")
	if err != nil {
		return fmt.Errorf("clickhouse: write dead letters: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, d := range dead {
		if err := batch.Append(now, s.source, d.table, d.op, d.version, d.err, d.format, string(d.record)); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("clickhouse: write dead letters: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: write %d dead letters: %w", len(dead), err)
	}
	return nil
}
