package clickhouse

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// Meta columns every row table carries.
const (
	VersionColumn = "_version"
	DeletedColumn = "_is_deleted"
)

// TableName is the ClickHouse table of a source table: <source>_<schema>_<table>, verbatim.
func TableName(id change.TableID) string { return id.Source + "_" + id.Namespace + "_" + id.Name }

// ViewName is the current-rows view of a source table's ClickHouse table.
func ViewName(id change.TableID) string { return TableName(id) + "_current" }

// CheckNames reports the first ClickHouse name two source tables (or a table and another's view, or
// a reserved name) would share. extra are further object names in the database (aggregations'
// tables and views), each labelled by what owns it.
func CheckNames(ids []change.TableID, extra map[string]string) error {
	owner := map[string]string{}
	claim := func(name, who string) error {
		if strings.HasPrefix(name, "_cdcd_") {
			return fmt.Errorf("clickhouse: %s would be named %q, which is reserved for cdcd's own tables", who, name)
		}
		if prev, ok := owner[name]; ok {
			return fmt.Errorf("clickhouse: %s and %s would both be named %q in ClickHouse; rename one or capture it under another source name", prev, who, name)
		}
		owner[name] = who
		return nil
	}
	for _, id := range ids {
		if err := claim(TableName(id), "table "+id.String()); err != nil {
			return err
		}
		if err := claim(ViewName(id), "the view of table "+id.String()); err != nil {
			return err
		}
	}
	for name, who := range extra {
		if err := claim(name, who); err != nil {
			return err
		}
	}
	return nil
}

// ColumnDef is one ClickHouse column.
type ColumnDef struct {
	Name, Type string
	// Default is a DEFAULT expression ("" for none): the value of rows that predate the column.
	Default string
}

// DesiredColumns returns the ClickHouse columns that hold t's source columns (with the null-flag
// companions of nullable arrays), without the meta columns. It fails when a source column would
// collide with a meta column or a companion.
func DesiredColumns(t *change.Table, caps Capabilities) ([]ColumnDef, error) {
	cols := make([]ColumnDef, 0, len(t.Columns)+2)
	seen := map[string]bool{VersionColumn: true, DeletedColumn: true}
	for i, c := range t.Columns {
		if seen[c.Name] {
			return nil, fmt.Errorf("table %s: column %q collides with a column cdcd adds (%s, %s, or an array's %s)",
				t.ID, c.Name, VersionColumn, DeletedColumn, NullFlagColumn("<name>"))
		}
		seen[c.Name] = true
		def := ColumnDef{Name: c.Name, Type: ColumnType(c.Type, c.Nullable && !t.IsKey(i), caps)}
		if c.Default != nil {
			lit, err := literal(c.Default, def.Type)
			if err != nil {
				return nil, fmt.Errorf("table %s: default of column %q: %w", t.ID, c.Name, err)
			}
			def.Default = lit
		}
		cols = append(cols, def)
		if needsNullFlag(c) {
			f := NullFlagColumn(c.Name)
			if seen[f] || t.ColumnIndex(f) >= 0 {
				return nil, fmt.Errorf("table %s: column %q collides with the null flag cdcd adds for array column %q", t.ID, f, c.Name)
			}
			seen[f] = true
			cols = append(cols, ColumnDef{Name: f, Type: "UInt8"})
		}
	}
	return cols, nil
}

// CreateTableSQL returns the CREATE TABLE of a row table: the source columns, _version and
// _is_deleted, ReplacingMergeTree ordered by the key. Servers with IsDeleted name _is_deleted in the
// engine, so FINAL itself leaves deleted rows out. Either way merges keep a key's delete row (as
// ClickHouse does unless an operator enables CLEANUP merges), so a replayed older version of the
// row never comes back.
func CreateTableSQL(db, table string, cols []ColumnDef, key []string, caps Capabilities) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s (", QuoteIdent(db), QuoteIdent(table))
	for _, c := range cols {
		fmt.Fprintf(&b, "%s %s%s, ", QuoteIdent(c.Name), c.Type, defaultClause(c))
	}
	fmt.Fprintf(&b, "%s UInt64, %s UInt8) ENGINE = ", QuoteIdent(VersionColumn), QuoteIdent(DeletedColumn))
	if caps.IsDeleted {
		fmt.Fprintf(&b, "ReplacingMergeTree(%s, %s)", QuoteIdent(VersionColumn), QuoteIdent(DeletedColumn))
	} else {
		fmt.Fprintf(&b, "ReplacingMergeTree(%s)", QuoteIdent(VersionColumn))
	}
	b.WriteString(" ORDER BY (")
	for i, k := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(k))
	}
	b.WriteString(")")
	return b.String()
}

// CreateViewSQL returns the statements that (re)create the current-rows view over a row table:
// the named columns of the newest row of each key that is not deleted.
func CreateViewSQL(db, view, table string, cols []string, caps Capabilities) []string {
	var sel strings.Builder
	for i, c := range cols {
		if i > 0 {
			sel.WriteString(", ")
		}
		sel.WriteString(QuoteIdent(c))
	}
	body := fmt.Sprintf("AS SELECT %s FROM %s.%s FINAL WHERE %s = 0", sel.String(), QuoteIdent(db), QuoteIdent(table), QuoteIdent(DeletedColumn))
	v := QuoteIdent(db) + "." + QuoteIdent(view)
	if caps.ReplaceView {
		return []string{"CREATE OR REPLACE VIEW " + v + " " + body}
	}
	return []string{"DROP TABLE IF EXISTS " + v, "CREATE VIEW " + v + " " + body}
}

// AddColumnSQL adds a column (ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: callers check).
func AddColumnSQL(db, table string, c ColumnDef, after string) string {
	s := fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN %s %s%s", QuoteIdent(db), QuoteIdent(table), QuoteIdent(c.Name), c.Type, defaultClause(c))
	if after != "" {
		s += " AFTER " + QuoteIdent(after)
	}
	return s
}

func defaultClause(c ColumnDef) string {
	if c.Default == "" {
		return ""
	}
	return " DEFAULT " + c.Default
}

// ModifyColumnSQL changes a column's type (only ever to a type that Widens it).
func ModifyColumnSQL(db, table string, c ColumnDef) string {
	return fmt.Sprintf("ALTER TABLE %s.%s MODIFY COLUMN %s %s", QuoteIdent(db), QuoteIdent(table), QuoteIdent(c.Name), c.Type)
}
