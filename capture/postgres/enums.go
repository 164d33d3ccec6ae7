package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/cdcd-dev/cdcd/change"
)

// ALTER TYPE ... ADD VALUE reaches pgoutput as nothing at all: a table's Relation message is not
// sent again, so a row holding the new label would meet a schema whose enum lacks it (and go to
// the dead-letter table). widenEnums gives the table a new schema version first: the enum's
// symbols become the catalog's labels now, then the ones the column had before that the catalog
// no longer lists (a RENAME VALUE keeps the old name readable), then any label the row holds that
// neither lists (renamed since the row was written). Symbols are only ever added, so the new
// Avro schema stays compatible with the old one.

// enumOf returns the enum type of a column, or of its array's elements; nil for other columns.
func enumOf(t *change.Type) *change.Type {
	for t != nil && t.Kind == change.Array {
		t = t.Elem
	}
	if t == nil || t.Kind != change.Enum {
		return nil
	}
	return t
}

// enumColumns lists the columns of t whose values (or elements) are enum labels.
func enumColumns(t *change.Table) []int {
	var cols []int
	for i := range t.Columns {
		if e := enumOf(&t.Columns[i].Type); e != nil && len(e.Symbols) > 0 {
			cols = append(cols, i)
		}
	}
	return cols
}

// unknownLabels appends to out the labels in v (a string, or nested []any of them) that symbols
// lacks and out does not hold yet.
func unknownLabels(v any, symbols []string, out []string) []string {
	switch v := v.(type) {
	case string:
		if !slices.Contains(symbols, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	case []any:
		for _, e := range v {
			out = unknownLabels(e, symbols, out)
		}
	}
	return out
}

// withSymbols returns t (an enum, or an array of one) with the enum's symbols replaced.
func withSymbols(t change.Type, symbols []string) change.Type {
	if t.Kind == change.Array && t.Elem != nil {
		elem := withSymbols(*t.Elem, symbols)
		t.Elem = &elem
		return t
	}
	t.Symbols = symbols
	return t
}

// widenEnums checks the enum values of rows (nil rows are skipped) against rel's schema and, when
// one is not among its column's symbols, installs and emits a new schema version whose symbols
// include it.
func (st *streamState) widenEnums(ctx context.Context, rel *relation, rows ...[]any) error {
	var missing map[int][]string
	for _, i := range rel.enums {
		symbols := enumOf(&rel.table.Columns[i].Type).Symbols
		var labels []string
		for _, row := range rows {
			if row != nil {
				labels = unknownLabels(row[i], symbols, labels)
			}
		}
		if len(labels) > 0 {
			if missing == nil {
				missing = map[int][]string{}
			}
			missing[i] = labels
		}
	}
	if missing == nil {
		return nil
	}
	prev := rel.table
	t := *prev
	t.Columns = slices.Clone(prev.Columns)
	clear(st.types.cache) // the labels cached at the Relation message are stale
	lookup := st.types.lookup(ctx)
	for i, labels := range missing {
		col := &t.Columns[i]
		var symbols []string
		if fresh := enumOf(ptr(MapType(rel.oids[i], rel.typmods[i], lookup))); fresh != nil {
			symbols = slices.Clone(fresh.Symbols)
		}
		if err := st.types.err; err != nil {
			st.types.err = nil
			return fmt.Errorf("postgres source %q: table %s column %q: read the enum's labels again: %w",
				st.s.cfg.Name, rel.name, col.Name, err)
		}
		for _, s := range append(slices.Clone(enumOf(&col.Type).Symbols), labels...) {
			if !slices.Contains(symbols, s) {
				symbols = append(symbols, s)
			}
		}
		col.Type = withSymbols(col.Type, symbols)
		st.s.log.Info("enum labels added: new schema version", "table", rel.name.String(), "column", col.Name,
			"labels", fmt.Sprint(labels), "symbols", len(symbols))
	}
	t.Generation = prev.Generation + 1
	st.catalog[rel.oid] = &t
	rel.table = &t
	return st.e.Schema(ctx, &t)
}

func ptr[T any](v T) *T { return &v }
