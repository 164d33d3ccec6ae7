package mysql

import (
	"slices"
	"strings"
)

// tableDef is what schema history knows of a table at the current point of the stream.
type tableDef struct {
	Name    TableName
	Columns []colDef
	Key     []string // primary key columns, in key order
	Charset string   // the table's default character set, for columns that declare none
	// Gen changes whenever the definition does, so shapes built from it are rebuilt.
	Gen int
	// Unreliable is set when a DDL statement on the table could not be followed: the definition
	// may be wrong, so it must not stand in for missing table-map metadata.
	Unreliable string
}

func (d *tableDef) column(name string) int {
	for i, c := range d.Columns {
		if strings.EqualFold(c.Name, name) { // MySQL column names are case-insensitive
			return i
		}
	}
	return -1
}

// history is cdcd's schema history: the definitions of tables as of the point of the binlog being
// read, seeded from the catalog when the stream starts (at the snapshot, or at start-up) and moved
// forward by the DDL statements in the stream. It is only read for what a table map lacks.
type history struct {
	tables map[TableName]*tableDef
	gen    int
}

func newHistory(defs []*tableDef) *history {
	h := &history{tables: map[TableName]*tableDef{}}
	for _, d := range defs {
		h.gen++
		d.Gen = h.gen
		h.tables[d.Name] = d
	}
	return h
}

func (h *history) get(t TableName) *tableDef { return h.tables[t] }

// apply moves history past a DDL statement and returns the tables whose definition it changed
// (for RENAME, both names).
func (h *history) apply(st ddlStmt) []TableName {
	switch st.Kind {
	case ddlAlter:
		return h.alter(st)
	case ddlRename:
		var touched []TableName
		for _, r := range st.Renames {
			touched = append(touched, r[0], r[1])
			h.move(r[0], r[1])
		}
		return touched
	case ddlDrop:
		for _, t := range st.Tables {
			delete(h.tables, t)
		}
		return st.Tables
	case ddlCreate:
		d := &tableDef{Name: st.Table, Columns: st.Columns, Key: st.Key, Charset: st.Charset}
		h.put(d)
		return []TableName{st.Table}
	case ddlCreateLike:
		if src := h.tables[st.Like]; src != nil {
			d := *src
			d.Name, d.Columns, d.Key = st.Table, slices.Clone(src.Columns), slices.Clone(src.Key)
			h.put(&d)
		} else {
			delete(h.tables, st.Table)
		}
		return []TableName{st.Table}
	}
	return nil
}

func (h *history) put(d *tableDef) {
	h.gen++
	d.Gen = h.gen
	h.tables[d.Name] = d
}

func (h *history) move(from, to TableName) {
	d, ok := h.tables[from]
	delete(h.tables, from)
	if !ok {
		delete(h.tables, to)
		return
	}
	nd := *d
	nd.Name = to
	h.put(&nd)
}

// alter applies ALTER TABLE operations to a copy of the definition (shapes built from the old one
// stay valid).
func (h *history) alter(st ddlStmt) []TableName {
	old, ok := h.tables[st.Table]
	if !ok {
		for _, op := range st.Ops {
			if op.Kind == alterRenameTable {
				delete(h.tables, op.To)
				return []TableName{st.Table, op.To}
			}
		}
		return nil
	}
	d := *old
	d.Columns, d.Key = slices.Clone(old.Columns), slices.Clone(old.Key)
	touched := []TableName{st.Table}
	for _, op := range st.Ops {
		switch op.Kind {
		case alterAddColumn:
			d.place(op, d.column(op.Col.Name)) // replayed after a restart from today's catalog: replace
		case alterModifyColumn:
			i := d.column(op.Old)
			if i < 0 {
				d.Unreliable = "MODIFY/CHANGE of unknown column " + op.Old
				continue
			}
			d.renameKey(d.Columns[i].Name, op.Col.Name)
			d.place(op, i)
		case alterDropColumn:
			i := d.column(op.Old)
			if i < 0 {
				d.Unreliable = "DROP of unknown column " + op.Old
				continue
			}
			d.renameKey(d.Columns[i].Name, "")
			d.Columns = slices.Delete(d.Columns, i, i+1)
		case alterRenameColumn:
			i := d.column(op.Old)
			if i < 0 {
				d.Unreliable = "RENAME of unknown column " + op.Old
				continue
			}
			d.renameKey(d.Columns[i].Name, op.Col.Name)
			d.Columns[i].Name = op.Col.Name
		case alterAddPrimaryKey:
			d.Key = d.Key[:0]
			for _, k := range op.Key {
				if i := d.column(k); i >= 0 {
					d.Key = append(d.Key, d.Columns[i].Name)
				}
			}
		case alterDropPrimaryKey:
			d.Key = nil
		case alterConvertCharset:
			d.Charset = op.Cs
			for i := range d.Columns {
				if isTextBase(d.Columns[i].Spec.Base) {
					d.Columns[i].Spec.Charset = op.Cs
				}
			}
		case alterRenameTable:
			touched = append(touched, op.To)
			delete(h.tables, d.Name)
			d.Name = op.To
		}
	}
	h.put(&d)
	return touched
}

// place puts op's column definition at its position: replacing column i (or appending, i < 0)
// unless FIRST or AFTER moves it.
func (d *tableDef) place(op alterOp, i int) {
	col := op.Col
	if col.Spec.Charset == "" && isTextBase(col.Spec.Base) {
		col.Spec.Charset = d.Charset
	}
	if col.Spec.Key {
		d.Key = []string{col.Name}
	}
	if i >= 0 {
		d.Columns[i] = col
		if !op.First && op.After == "" {
			return
		}
		d.Columns = slices.Delete(d.Columns, i, i+1)
	}
	switch {
	case op.First:
		d.Columns = slices.Insert(d.Columns, 0, col)
	case op.After != "":
		j := d.column(op.After)
		if j < 0 {
			d.Unreliable = "AFTER unknown column " + op.After
			j = len(d.Columns) - 1
		}
		d.Columns = slices.Insert(d.Columns, j+1, col)
	default:
		d.Columns = append(d.Columns, col)
	}
}

// renameKey renames (or, with to == "", removes) a key column.
func (d *tableDef) renameKey(from, to string) {
	for i, k := range d.Key {
		if strings.EqualFold(k, from) {
			if to == "" {
				d.Key = slices.Delete(d.Key, i, i+1)
			} else {
				d.Key[i] = to
			}
			return
		}
	}
}
