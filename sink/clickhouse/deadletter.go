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

// DeadLetterEncoder encodes a rejected row for the dead-letter table: it returns the record's
// format name and bytes. (The Avro stage encodes rows in the Confluent wire format.)
type DeadLetterEncoder func(ev *change.Event, row []any) (format string, record []byte, err error)

type deadLetter struct {
	table   string
	op      string
	version uint64
	err     string
	format  string
	record  []byte
}

func (s *Sink) newDeadLetter(r *pendingRow, cause error) deadLetter {
	d := deadLetter{
		table:   r.schema.ID.SourceName(),
		op:      r.ev.Op.String(),
		version: r.version,
		err:     cause.Error(),
	}
	enc := s.DeadLetter
	if enc == nil {
		enc = JSONRecord
	}
	format, rec, err := enc(r.ev, r.vals)
	if err != nil {
		format, rec, _ = JSONRecord(r.ev, r.vals)
		d.err += "; encoding the record: " + err.Error()
	}
	d.format, d.record = format, rec
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
	return "json", b, err
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
