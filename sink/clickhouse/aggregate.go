package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// Aggregate tables hold one row per group of an aggregation (package transform): an opaque
// _group key, the group-by and window columns, the measures, and the group's position (_version,
// _seq) and state (_state), so the aggregation is recovered from ClickHouse after a restart.
// ReplacingMergeTree(_version) ordered by _group keeps the newest row per group; _current views
// show the live groups. A marker row (_group = ”) records the aggregation's definition and the
// horizon its state was built from.
const (
	GroupColumn = "_group"
	SeqColumn   = "_seq"
	StateColumn = "_state"
)

// AggregateTable is the ClickHouse shape of one aggregation's output.
type AggregateTable struct {
	Name    string          // the table: "agg_<name>"
	Columns []change.Column // group-by columns, window_start/window_end, measures
}

// View is the table's current-groups view.
func (t AggregateTable) View() string { return t.Name + "_current" }

// AggregateRow is one group's newest state (or its tombstone, Deleted).
type AggregateRow struct {
	Group   []byte
	Values  []any // aligned with AggregateTable.Columns
	Version uint64
	Seq     uint32
	Deleted bool
	State   []byte
}

// aggTable is what the sink knows of an aggregate table.
type aggTable struct {
	def      AggregateTable
	cols     []ColumnDef // as in ClickHouse
	builders []builder
}

func (s *Sink) aggColumns(t AggregateTable) []ColumnDef {
	cols := []ColumnDef{{Name: GroupColumn, Type: "String"}}
	for _, c := range t.Columns {
		cols = append(cols, ColumnDef{Name: c.Name, Type: ColumnType(c.Type, c.Nullable, s.caps)})
	}
	return append(cols, ColumnDef{Name: VersionColumn, Type: "UInt64"}, ColumnDef{Name: SeqColumn, Type: "UInt32"},
		ColumnDef{Name: DeletedColumn, Type: "UInt8"}, ColumnDef{Name: StateColumn, Type: "String"})
}

// EnsureAggregate creates an aggregation's table and view, or adds and widens columns of an
// existing one as its output changed. A change ClickHouse cannot apply losslessly is an error
// naming the column; the caller rebuilds the aggregation (DropAggregate) instead.
func (s *Sink) EnsureAggregate(ctx context.Context, t AggregateTable) error {
	want := s.aggColumns(t)
	have, err := s.columns(ctx, t.Name)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s (", QuoteIdent(s.db), QuoteIdent(t.Name))
		for i, c := range want {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", QuoteIdent(c.Name), c.Type)
		}
		fmt.Fprintf(&b, ") ENGINE = ReplacingMergeTree(%s) ORDER BY %s", QuoteIdent(VersionColumn), QuoteIdent(GroupColumn))
		if err := s.conn.Exec(ctx, b.String()); err != nil {
			return fmt.Errorf("clickhouse: create aggregate table %s.%s: %w", s.db, t.Name, err)
		}
	} else {
		byName := map[string]string{}
		for _, c := range have {
			byName[c.Name] = c.Type
		}
		if byName[StateColumn] == "" || byName[GroupColumn] == "" {
			return fmt.Errorf("clickhouse: table %s.%s exists but is not a cdcd aggregate table; drop or rename it", s.db, t.Name)
		}
		for i, w := range want {
			ht, ok := byName[w.Name]
			switch {
			case !ok:
				if err := s.conn.Exec(ctx, AddColumnSQL(s.db, t.Name, w, want[i-1].Name)); err != nil {
					return fmt.Errorf("clickhouse: add column %q to %s.%s: %w", w.Name, s.db, t.Name, err)
				}
			case ht == w.Type:
			case Widens(ht, w.Type):
				if err := s.conn.Exec(ctx, ModifyColumnSQL(s.db, t.Name, w)); err != nil {
					return fmt.Errorf("clickhouse: widen column %q of %s.%s: %w", w.Name, s.db, t.Name, err)
				}
			default:
				return fmt.Errorf("clickhouse: column %q of aggregate table %s.%s is %s but the aggregation now needs %s", w.Name, s.db, t.Name, ht, w.Type)
			}
		}
	}
	var names []string
	for _, c := range t.Columns {
		names = append(names, c.Name)
	}
	for _, stmt := range CreateViewSQL(s.db, t.View(), t.Name, names, s.caps) {
		// The view also hides the marker row: its _is_deleted is 1.
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("clickhouse: create view %s.%s: %w", s.db, t.View(), err)
		}
	}
	if s.aggs == nil {
		s.aggs = map[string]*aggTable{}
	}
	s.aggs[t.Name] = &aggTable{def: t, cols: want}
	return nil
}

// WriteAggregate inserts groups' rows (one block). Writing the same rows again is harmless.
func (s *Sink) WriteAggregate(ctx context.Context, name string, rows []AggregateRow) error {
	if len(rows) == 0 {
		return nil
	}
	at := s.aggs[name]
	if at == nil {
		return fmt.Errorf("clickhouse: aggregate table %s: not ensured", name)
	}
	if at.builders == nil {
		for _, c := range at.cols {
			b, err := newBuilder(c.Type)
			if err != nil {
				return fmt.Errorf("clickhouse: column %q of %s.%s: %w", c.Name, s.db, name, err)
			}
			at.builders = append(at.builders, b)
		}
	}
	defer func() {
		for _, b := range at.builders {
			b.reset()
		}
	}()
	nv := len(at.def.Columns)
	for _, r := range rows {
		vals := make([]any, 0, len(at.cols))
		vals = append(vals, string(r.Group))
		for i := 0; i < nv; i++ {
			var v any
			if i < len(r.Values) {
				v = r.Values[i]
			}
			vals = append(vals, v)
		}
		deleted := uint64(0)
		if r.Deleted {
			deleted = 1
		}
		vals = append(vals, r.Version, uint64(r.Seq), deleted, string(r.State))
		for i, b := range at.builders {
			var err error
			if vals[i] == nil && !strings.HasPrefix(at.cols[i].Type, "Nullable(") {
				b.zero()
			} else {
				err = b.add(vals[i])
			}
			if err != nil {
				for _, done := range at.builders[:i] {
					done.pop()
				}
				return change.Terminal(fmt.Errorf("clickhouse: aggregate %s: column %q: %w", name, at.cols[i].Name, err))
			}
		}
	}
	batch, err := s.conn.PrepareBatch(ctx, insertSQL(s.db, name, at.cols))
	if err != nil {
		return fmt.Errorf("clickhouse: insert into %s.%s: %w", s.db, name, err)
	}
	for i, b := range at.builders {
		if err := b.appendTo(batch.Column(i)); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("clickhouse: insert into %s.%s: column %q: %w", s.db, name, at.cols[i].Name, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d groups into %s.%s: %w", len(rows), s.db, name, err)
	}
	return nil
}

// LoadAggregate reads an aggregation's persisted groups back: every live group, and tombstones
// newer than minTombstone (replays above the stored offset must still see them). The marker row
// (empty Group) comes first when it exists. It reads nothing when the table does not exist.
func (s *Sink) LoadAggregate(ctx context.Context, name string, minTombstone uint64, f func(AggregateRow) error) error {
	cols, err := s.columns(ctx, name)
	if err != nil || len(cols) == 0 {
		return err
	}
	q := fmt.Sprintf("SELECT %s, %s, %s, %s, %s FROM %s.%s FINAL WHERE %s = 0 OR %s > %d OR %s = '' ORDER BY %s = '' DESC",
		QuoteIdent(GroupColumn), QuoteIdent(VersionColumn), QuoteIdent(SeqColumn), QuoteIdent(DeletedColumn), QuoteIdent(StateColumn),
		QuoteIdent(s.db), QuoteIdent(name), QuoteIdent(DeletedColumn), QuoteIdent(VersionColumn), minTombstone,
		QuoteIdent(GroupColumn), QuoteIdent(GroupColumn))
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("clickhouse: read aggregate %s.%s: %w", s.db, name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var group, state string
		var version uint64
		var seq uint32
		var deleted uint8
		if err := rows.Scan(&group, &version, &seq, &deleted, &state); err != nil {
			return fmt.Errorf("clickhouse: read aggregate %s.%s: %w", s.db, name, err)
		}
		if err := f(AggregateRow{Group: []byte(group), Version: version, Seq: seq, Deleted: deleted == 1, State: []byte(state)}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DropAggregate drops an aggregation's table and view (to rebuild it).
func (s *Sink) DropAggregate(ctx context.Context, t AggregateTable) error {
	for _, n := range []string{t.View(), t.Name} {
		if err := s.conn.Exec(ctx, "DROP TABLE IF EXISTS "+QuoteIdent(s.db)+"."+QuoteIdent(n)); err != nil {
			return fmt.Errorf("clickhouse: drop %s.%s: %w", s.db, n, err)
		}
	}
	delete(s.aggs, t.Name)
	return nil
}

// NewestVersion returns the newest _version a source table's row table holds, deleted rows
// included: rows are written batch by batch in stream order, so the table reflects its source up
// to there. 0 for an empty table.
func (s *Sink) NewestVersion(ctx context.Context, t *change.Table) (uint64, error) {
	if err := s.EnsureTable(ctx, t); err != nil {
		return 0, err
	}
	rt := s.tables[t.ID]
	var newest uint64
	if err := s.conn.QueryRow(ctx, fmt.Sprintf("SELECT max(%s) FROM %s.%s", QuoteIdent(VersionColumn),
		QuoteIdent(s.db), QuoteIdent(rt.name))).Scan(&newest); err != nil {
		return 0, fmt.Errorf("clickhouse: newest version of %s.%s: %w", s.db, rt.name, err)
	}
	return newest, nil
}

// ScanCurrent reads the current rows of a source table's row table (FINAL, not deleted), as rows
// of schema t. It is how a new aggregation is backfilled (with NewestVersion as its horizon).
func (s *Sink) ScanCurrent(ctx context.Context, t *change.Table, f func(row []any) error) error {
	if err := s.EnsureTable(ctx, t); err != nil {
		return err
	}
	rt := s.tables[t.ID]
	var sel []string
	for _, c := range t.Columns {
		sel = append(sel, QuoteIdent(c.Name))
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s.%s FINAL WHERE %s = 0", strings.Join(sel, ", "),
		QuoteIdent(s.db), QuoteIdent(rt.name), QuoteIdent(DeletedColumn)))
	if err != nil {
		return fmt.Errorf("clickhouse: scan %s.%s: %w", s.db, rt.name, err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("clickhouse: scan %s.%s: %w", s.db, rt.name, err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			v, err := fromClickHouse(reflect.ValueOf(d).Elem(), t.Columns[i].Type)
			if err != nil {
				return fmt.Errorf("clickhouse: scan %s.%s column %q: %w", s.db, rt.name, t.Columns[i].Name, err)
			}
			row[i] = v
		}
		if err := f(row); err != nil {
			return err
		}
	}
	return rows.Err()
}
