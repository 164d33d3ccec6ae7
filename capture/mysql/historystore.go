package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// HistoryStore keeps schema history across restarts, beside the offsets (the daemon's is
// offsets.Store, in ClickHouse). A record is the whole history as it stands after one binlog
// version; records are opaque to the store.
//
// The source saves a record after its snapshot, at each start from a stored offset, and after each
// DDL statement that changes a definition history holds. A start from offset O reads the newest
// record at or below O's version: the schema in force at O, whatever DDL ran since (also while
// cdcd was stopped), which the stream then replays. A record saved for a DDL whose transaction
// is never committed lies above the stored offset and is not read.
type HistoryStore interface {
	// SaveHistory records source's schema history as it stands after version.
	SaveHistory(ctx context.Context, source string, version uint64, record []byte) error
	// LoadHistory returns the newest record of source at or below version; ok is false when there
	// is none.
	LoadHistory(ctx context.Context, source string, version uint64) (record []byte, ok bool, err error)
}

// historyFormat versions the record's JSON.
const historyFormat = 1

type historyRecord struct {
	Format int         `json:"format"`
	Tables []*tableDef `json:"tables"`
}

// defs returns history's definitions, in no order.
func (h *history) defs() []*tableDef {
	defs := make([]*tableDef, 0, len(h.tables))
	for _, d := range h.tables {
		defs = append(defs, d)
	}
	return defs
}

// encodeDefs returns the record of defs, sorted by table.
func encodeDefs(defs []*tableDef) ([]byte, error) {
	defs = slices.Clone(defs)
	slices.SortFunc(defs, func(a, b *tableDef) int {
		if c := strings.Compare(a.Name.DB, b.Name.DB); c != 0 {
			return c
		}
		return strings.Compare(a.Name.Name, b.Name.Name)
	})
	return json.Marshal(historyRecord{Format: historyFormat, Tables: defs})
}

func decodeHistory(record []byte) ([]*tableDef, error) {
	var r historyRecord
	if err := json.Unmarshal(record, &r); err != nil {
		return nil, err
	}
	if r.Format != historyFormat {
		return nil, fmt.Errorf("record format %d, this build reads %d", r.Format, historyFormat)
	}
	for _, d := range r.Tables {
		if d == nil || d.Name.Name == "" {
			return nil, fmt.Errorf("a table definition without a name")
		}
	}
	return r.Tables, nil
}

// saveHistory saves defs as the history in force after version; nothing without a store.
func (s *Source) saveHistory(ctx context.Context, version uint64, defs []*tableDef) error {
	if s.cfg.History == nil {
		return nil
	}
	record, err := encodeDefs(defs)
	if err == nil {
		err = s.cfg.History.SaveHistory(ctx, s.cfg.Name, version, record)
	}
	if err != nil {
		return fmt.Errorf("mysql source %q: save schema history at %s: %w", s.cfg.Name, CoordOf(version), err)
	}
	return nil
}

// resumeHistory returns the definitions schema history starts from when streaming resumes at
// the stored offset from: the stored record at or below it, with today's catalog (defs, read at
// start-up or by a table's own snapshot) for the tables it lacks and for tables snapshotted after
// from (floors), whose older changes are dropped anyway. Without a record (no store, or an offset
// stored before records were kept) it is today's catalog.
func (s *Source) resumeHistory(ctx context.Context, from uint64, defs []*tableDef, floors map[TableName]uint64) ([]*tableDef, error) {
	if s.cfg.History == nil {
		return defs, nil
	}
	record, ok, err := s.cfg.History.LoadHistory(ctx, s.cfg.Name, from)
	if err != nil {
		return nil, fmt.Errorf("mysql source %q: load schema history at %s: %w", s.cfg.Name, CoordOf(from), err)
	}
	if !ok {
		s.log.Info("no schema history stored at or below the offset: it starts from today's catalog", "at", CoordOf(from).String())
		return defs, nil
	}
	stored, err := decodeHistory(record)
	if err != nil {
		return nil, fmt.Errorf("mysql source %q: schema history stored at or below %s: %w", s.cfg.Name, CoordOf(from), err)
	}
	byName := map[TableName]*tableDef{}
	for _, d := range stored {
		byName[d.Name] = d
	}
	for _, d := range defs {
		if _, has := byName[d.Name]; !has || floors[d.Name] != 0 {
			byName[d.Name] = d
		}
	}
	out := make([]*tableDef, 0, len(byName))
	for _, d := range byName {
		out = append(out, d)
	}
	s.log.Info("schema history restored", "at", CoordOf(from).String(), "tables", len(out))
	return out, nil
}
