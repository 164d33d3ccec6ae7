package mysql

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// buildTable makes the change.Table of a table's columns and key. Key columns are not nullable;
// every other column is, whatever the source declares (the binlog does not reliably carry NOT NULL,
// and a later ALTER must not break the schema). Defaults come from schema history.
func (s *Source) buildTable(name TableName, cols []colInfo, key []int, def *tableDef) *change.Table {
	t := &change.Table{
		ID:         s.tableID(name),
		Columns:    make([]change.Column, len(cols)),
		Key:        key,
		BeforeFull: true, // binlog_row_image=FULL, checked at start
	}
	for i := range cols {
		c := &cols[i]
		ty := c.changeType()
		col := change.Column{Name: c.Name, Type: ty, Nullable: true}
		if def != nil {
			if j := def.column(c.Name); j >= 0 {
				col.Default = columnDefault(c, ty.Kind, &def.Columns[j].Spec)
			}
		}
		t.Columns[i] = col
	}
	for _, k := range key {
		t.Columns[k].Nullable = false
		t.Columns[k].Default = nil
	}
	return t
}

// defShape is a table's shape as schema history alone describes it: what the snapshot reads, and
// what the stream announces at start.
func (s *Source) defShape(def *tableDef, f Flavor) (*shape, error) {
	cols := make([]colInfo, len(def.Columns))
	for i, c := range def.Columns {
		ci, err := infoFromSpec(c, f)
		if err != nil {
			return nil, change.Terminal(fmt.Errorf("mysql source %q: table %s column %q: %w", s.cfg.Name, def.Name, c.Name, err))
		}
		cols[i] = ci
	}
	var key []int
	for _, k := range def.Key {
		i := def.column(k)
		if i < 0 {
			return nil, change.Terminal(fmt.Errorf("mysql source %q: table %s: key column %q is not among its columns", s.cfg.Name, def.Name, k))
		}
		key = append(key, i)
	}
	if len(key) == 0 {
		return nil, change.Terminal(fmt.Errorf("mysql source %q: table %s has no primary key; cdcd needs one to key its rows in ClickHouse", s.cfg.Name, def.Name))
	}
	return &shape{name: def.Name, cols: cols, table: s.buildTable(def.Name, cols, key, def)}, nil
}

// selectList is the snapshot's column list for a shape: each column as is, except text in a
// character set cdcd keeps as bytes, read as its stored bytes.
func selectList(cols []colInfo) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.rawBytes() && c.Charset != "binary" && c.Charset != "" {
			b.WriteString("CAST(" + quoteIdent(c.Name) + " AS BINARY)")
			continue
		}
		b.WriteString(quoteIdent(c.Name))
	}
	return b.String()
}
