// Package deadletters is the operator's side of ClickHouse's dead-letter table
// (_cdcd_dead_letters): it shows each dead letter with its record decoded through the schema
// registry, replays letters into their row tables once the operator has fixed what rejected them,
// and discards letters the operator has dealt with by hand.
//
// Replaying is as safe as the daemon's own writes: a letter's row goes in at its original
// _version, so a newer change of the row in ClickHouse (an update, a delete) still wins, and a
// letter older than a TRUNCATE of its table has already been discarded by the sink. A letter whose
// row is rejected again stays dead, with the new reason. Only letters held in the Avro wire format
// can be replayed: letters held as JSON carry a value Avro itself could not hold (a zero date, a
// timestamp of infinity), which no fix in ClickHouse can take; the operator writes such rows by
// hand and discards them.
//
// It owns no state: the dead-letter table's status column records what was replayed or
// discarded.
package deadletters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/decode"
	"github.com/cdcd-dev/cdcd/schema"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

// page is how many letters are read, decoded and written at a time.
const page = 1000

// Store is a ClickHouse database's dead-letter table, with the registry its records' schemas
// are in.
type Store struct {
	Conn     driver.Conn
	Database string
	Registry schema.Registry
	Log      *slog.Logger

	schemas   map[int]string
	renderers map[int]*decode.Renderer
	tables    map[int]*change.Table
}

func (s *Store) schemaText(ctx context.Context, id int) (string, error) {
	if t, ok := s.schemas[id]; ok {
		return t, nil
	}
	t, err := s.Registry.SchemaByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("schema %d from the registry: %w", id, err)
	}
	if s.schemas == nil {
		s.schemas = map[int]string{}
	}
	s.schemas[id] = t
	return t, nil
}

// Shown is a dead letter as the operator sees it.
type Shown struct {
	At       string          `json:"at"`
	Source   string          `json:"source"`
	Table    string          `json:"table"`
	Op       string          `json:"op"`
	Version  uint64          `json:"version"`
	Seq      uint32          `json:"seq"`
	Key      json.RawMessage `json:"key"`
	Status   string          `json:"status"`
	Note     string          `json:"note,omitempty"`
	Error    string          `json:"error"`
	Format   string          `json:"format"`
	SchemaID int             `json:"schema_id,omitempty"`
	// Record is the row: decoded through the registry for Avro letters, as stored for JSON ones.
	Record json.RawMessage `json:"record,omitempty"`
	// RecordError says why the record could not be decoded (the raw bytes are then in Raw).
	RecordError string `json:"record_error,omitempty"`
	Raw         []byte `json:"raw,omitempty"`
}

// List calls f with each letter filter selects, its record decoded.
func (s *Store) List(ctx context.Context, filter clickhouse.DeadLetterFilter, f func(Shown) error) error {
	return clickhouse.ListDeadLetters(ctx, s.Conn, s.Database, filter, func(d clickhouse.DeadLetter) error {
		return f(s.show(ctx, d))
	})
}

func (s *Store) show(ctx context.Context, d clickhouse.DeadLetter) Shown {
	out := Shown{At: d.At.UTC().Format("2006-01-02T15:04:05Z"), Source: d.Source, Table: d.Table, Op: d.Op,
		Version: d.Version, Seq: d.Seq, Key: json.RawMessage(d.Key), Status: d.Status.String(), Note: d.Note,
		Error: d.Error, Format: d.Format}
	if !json.Valid(out.Key) {
		out.Key, _ = json.Marshal(d.Key)
	}
	switch d.Format {
	case clickhouse.FormatJSON:
		if json.Valid(d.Record) {
			out.Record = json.RawMessage(d.Record)
			return out
		}
		out.RecordError = "the stored JSON record is not valid JSON"
	case clickhouse.FormatAvro:
		id, payload, err := decode.ParseWire(d.Record)
		if err == nil {
			out.SchemaID = id
			var js []byte
			if js, err = s.render(ctx, id, payload); err == nil {
				out.Record = js
				return out
			}
		}
		out.RecordError = err.Error()
	default:
		out.RecordError = fmt.Sprintf("unknown record format %q", d.Format)
	}
	out.Raw = d.Record
	return out
}

func (s *Store) render(ctx context.Context, id int, payload []byte) ([]byte, error) {
	r, ok := s.renderers[id]
	if !ok {
		text, err := s.schemaText(ctx, id)
		if err != nil {
			return nil, err
		}
		if r, err = decode.NewRenderer(text); err != nil {
			return nil, err
		}
		if s.renderers == nil {
			s.renderers = map[int]*decode.Renderer{}
		}
		s.renderers[id] = r
	}
	return r.Render(payload)
}

// Report is what a replay did.
type Report struct {
	Replayed int // letters whose rows are now in their tables
	// Again are the letters whose rows were rejected again; they stay dead with the new reason.
	Again []clickhouse.DeadLetterID
	// Skipped are letters that cannot be replayed, with why: JSON records, undecodable records.
	Skipped []Skip
}

// Skip is a letter replay left alone, and why.
type Skip struct {
	clickhouse.DeadLetterID
	Reason string
}

// Replay writes source's dead letters (of table, schema.table, when not "") into their row
// tables, in stream order, and marks those written as replayed. With dryRun it decodes them and
// reports what it would do, writing nothing.
func (s *Store) Replay(ctx context.Context, source, table string, caps clickhouse.Capabilities, dryRun bool) (Report, error) {
	var rep Report
	if source == "" {
		return rep, errors.New("deadletters: replay needs a source")
	}
	sk := clickhouse.New(s.Conn, s.Database, source, caps, s.Log)
	var after *clickhouse.DeadLetterID
	for {
		var letters []clickhouse.DeadLetter
		err := clickhouse.ListDeadLetters(ctx, s.Conn, s.Database,
			clickhouse.DeadLetterFilter{Source: source, Table: table, Limit: page, After: after},
			func(d clickhouse.DeadLetter) error {
				letters = append(letters, d)
				return nil
			})
		if err != nil {
			return rep, err
		}
		if len(letters) == 0 {
			return rep, nil
		}
		after = &letters[len(letters)-1].DeadLetterID
		if err := s.replayPage(ctx, sk, letters, dryRun, &rep); err != nil {
			return rep, err
		}
		if len(letters) < page {
			return rep, nil
		}
	}
}

// wireKey finds a letter's record from the event the sink encodes: one change of one table.
type wireKey struct {
	table   string
	version uint64
	seq     uint32
	op      change.Op
}

func (s *Store) replayPage(ctx context.Context, sk *clickhouse.Sink, letters []clickhouse.DeadLetter, dryRun bool, rep *Report) error {
	events := make([]change.Event, 0, len(letters))
	var replay []clickhouse.DeadLetter
	wire := map[wireKey][]byte{}
	for _, d := range letters {
		ev, err := s.event(ctx, d)
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{DeadLetterID: d.DeadLetterID, Reason: err.Error()})
			continue
		}
		events = append(events, ev)
		replay = append(replay, d)
		wire[wireKey{d.Table, ev.Version, ev.Seq, ev.Op}] = d.Record
	}
	if len(events) == 0 {
		return nil
	}
	if dryRun {
		rep.Replayed += len(events)
		return nil
	}
	// A row rejected again is written back to the dead-letter table with its original record.
	sk.Encode = func(buf []byte, ev *change.Event, row []any) ([]byte, int, error) {
		rec, ok := wire[wireKey{ev.Table.ID.SourceName(), ev.Version, ev.Seq, ev.Op}]
		if !ok {
			return buf, 0, fmt.Errorf("deadletters: no record for %s at version %d seq %d", ev.Table.ID, ev.Version, ev.Seq)
		}
		id, _, err := decode.ParseWire(rec)
		return append(buf, rec...), id, err
	}
	st, err := sk.Write(ctx, events)
	if err != nil {
		return fmt.Errorf("deadletters: replay into ClickHouse: %w", err)
	}
	again := make(map[clickhouse.DeadLetterID]bool, len(st.Dead))
	for _, id := range st.Dead {
		again[id] = true
	}
	var done []clickhouse.DeadLetter
	for _, d := range replay {
		if again[d.DeadLetterID] {
			rep.Again = append(rep.Again, d.DeadLetterID)
			continue
		}
		done = append(done, d)
	}
	// Rows the sink rejected under an identity no letter has (it cannot happen unless a key
	// renders differently) are new dead letters: reported, never lost.
	for _, id := range st.Dead {
		if !containsID(replay, id) {
			rep.Again = append(rep.Again, id)
		}
	}
	if err := clickhouse.MarkDeadLetters(ctx, s.Conn, s.Database, done, clickhouse.Replayed, ""); err != nil {
		return err
	}
	rep.Replayed += len(done)
	return nil
}

func containsID(ds []clickhouse.DeadLetter, id clickhouse.DeadLetterID) bool {
	for _, d := range ds {
		if d.DeadLetterID == id {
			return true
		}
	}
	return false
}

// event decodes a letter's record into the change it holds.
func (s *Store) event(ctx context.Context, d clickhouse.DeadLetter) (change.Event, error) {
	if d.Format != clickhouse.FormatAvro {
		return change.Event{}, fmt.Errorf("held as %s: a value Avro cannot hold (%s); write the row by hand and discard the letter", d.Format, d.Error)
	}
	id, payload, err := decode.ParseWire(d.Record)
	if err != nil {
		return change.Event{}, fmt.Errorf("the record: %w", err)
	}
	text, err := s.schemaText(ctx, id)
	if err != nil {
		return change.Event{}, err
	}
	t, ev, err := decode.Decode(text, payload)
	if err != nil {
		return change.Event{}, err
	}
	if got := t.ID.SourceName(); got != d.Table || t.ID.Source != d.Source {
		return change.Event{}, fmt.Errorf("the record's schema %d is of %s.%s, not of the letter's %s.%s", id, t.ID.Source, got, d.Source, d.Table)
	}
	// One table per schema id: the sink keeps a layout per schema it sees.
	if s.tables == nil {
		s.tables = map[int]*change.Table{}
	}
	if known, ok := s.tables[id]; ok {
		t = known
	} else {
		s.tables[id] = t
	}
	ev.Table = t
	return ev, nil
}

// Discard marks the dead letters filter selects (its Source is required) as discarded by the
// operator, with note, and returns how many. With dryRun it only counts them.
func (s *Store) Discard(ctx context.Context, filter clickhouse.DeadLetterFilter, note string, dryRun bool) (int, error) {
	if filter.Source == "" {
		return 0, errors.New("deadletters: discard needs a source")
	}
	filter.All, filter.Limit = false, page
	n := 0
	for {
		var letters []clickhouse.DeadLetter
		err := clickhouse.ListDeadLetters(ctx, s.Conn, s.Database, filter, func(d clickhouse.DeadLetter) error {
			letters = append(letters, d)
			return nil
		})
		if err != nil || len(letters) == 0 {
			return n, err
		}
		if !dryRun {
			if err := clickhouse.MarkDeadLetters(ctx, s.Conn, s.Database, letters, clickhouse.Discarded, note); err != nil {
				return n, err
			}
		}
		n += len(letters)
		if len(letters) < page {
			return n, nil
		}
		filter.After = &letters[len(letters)-1].DeadLetterID
	}
}
