package mysql

import (
	"context"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/change"
)

// query handles a Query event: a transaction's BEGIN or COMMIT, or a statement the binlog carries
// as text in ROW format, which is DDL (a transaction of its own).
func (st *streamState) query(ctx context.Context, h *replication.EventHeader, e *replication.QueryEvent) error {
	q := strings.TrimSpace(string(e.Query))
	switch {
	case strings.EqualFold(q, "BEGIN"):
		st.begun = true
		return nil
	case strings.EqualFold(q, "COMMIT"), strings.EqualFold(q, "ROLLBACK"):
		// COMMIT ends transactions of non-transactional tables; ROLLBACK ends one whose
		// non-transactional changes stay.
		return st.commit(ctx, h, e.GSet)
	}
	if !st.inTxn {
		if err := st.begin(h); err != nil { // a statement without a GTID event (anonymous)
			return err
		}
	}
	if err := st.ddl(ctx, string(e.Schema), q); err != nil {
		return err
	}
	if !st.begun {
		return st.commit(ctx, h, e.GSet)
	}
	return nil
}

// ddl applies a statement to schema history and emits what it does to captured tables' rows: a
// TRUNCATE empties the table, and so does a CREATE TABLE of a captured name (a new table starts
// empty). Column changes reach the schema through the next table map (binlog_row_metadata=FULL)
// or history (otherwise). A captured table renamed away stops streaming (its ClickHouse table keeps
// its rows); a table renamed onto a captured name streams into that name's ClickHouse table from
// then on, without the rows it brought (re-snapshot to copy them).
func (st *streamState) ddl(ctx context.Context, db, q string) error {
	stmt, err := parseDDL(q, db)
	if err != nil {
		st.s.log.Warn("DDL statement not understood; schema history may miss it (with binlog_row_metadata=FULL the binlog's table maps still carry every table's shape)",
			"statement", clip(q, 300), "error", err)
		return nil
	}
	if stmt.Kind == ddlOther {
		return nil
	}
	relevant := false
	for _, t := range stmtTables(stmt) {
		if st.s.captured[t] || st.hist.get(t) != nil {
			relevant = true
		}
	}
	if !relevant {
		return nil
	}
	switch stmt.Kind {
	case ddlTruncate:
		return st.truncate(ctx, stmt.Table)
	case ddlCreate, ddlCreateLike:
		st.hist.apply(stmt)
		if err := st.saveHistory(ctx); err != nil {
			return err
		}
		if st.s.captured[stmt.Table] {
			st.s.log.Info("captured table created", "table", stmt.Table.String())
			return st.truncate(ctx, stmt.Table)
		}
		return nil
	case ddlDrop:
		for _, t := range stmt.Tables {
			if st.s.captured[t] {
				st.s.log.Warn("captured table dropped: its ClickHouse table keeps its rows; a table created under its name streams into it", "table", t.String())
			}
		}
	case ddlRename:
		for _, r := range stmt.Renames {
			st.logRename(r[0], r[1])
		}
	case ddlAlter:
		for _, op := range stmt.Ops {
			if op.Kind == alterRenameTable {
				st.logRename(stmt.Table, op.To)
			}
		}
		if st.s.captured[stmt.Table] {
			st.s.log.Info("captured table altered", "table", stmt.Table.String(), "statement", clip(q, 300))
		}
	}
	for _, t := range st.hist.apply(stmt) {
		if d := st.hist.get(t); d != nil && d.Unreliable != "" && st.s.captured[t] {
			st.s.log.Warn("schema history lost track of a captured table", "table", t.String(), "reason", d.Unreliable)
		}
	}
	return st.saveHistory(ctx)
}

// saveHistory stores schema history as it stands after the statement just applied, so a restart
// from an offset past it starts from it (see HistoryStore).
func (st *streamState) saveHistory(ctx context.Context) error {
	return st.s.saveHistory(ctx, st.version, st.hist.defs())
}

func (st *streamState) logRename(from, to TableName) {
	switch {
	case st.s.captured[from] && !st.s.captured[to]:
		st.s.log.Warn("captured table renamed to a name cdcd does not capture: its changes are no longer captured, its ClickHouse table keeps its rows",
			"table", from.String(), "new_name", to.String())
	case st.s.captured[to]:
		st.s.log.Warn("a table was renamed onto a captured name: its changes stream into that name's ClickHouse table from now on, without the rows it held (re-snapshot to copy them)",
			"table", to.String(), "old_name", from.String())
	}
}

// truncate emits a Truncate of a captured table, unless the table's snapshot postdates it.
func (st *streamState) truncate(ctx context.Context, name TableName) error {
	if !st.s.captured[name] || st.inSnapshot(name) {
		return nil
	}
	t := st.tables[name]
	if t == nil {
		def := st.hist.get(name)
		if def == nil {
			st.s.log.Warn("TRUNCATE of a captured table cdcd has no schema for: skipped", "table", name.String())
			return nil
		}
		sh, err := st.s.defShape(def, st.srv.flavor)
		if err != nil {
			return err
		}
		t = sh.table
		st.tables[name] = t
		if err := st.e.Schema(ctx, t); err != nil {
			return err
		}
	}
	return st.emit(ctx, change.Event{Op: change.Truncate, Table: t})
}

// stmtTables lists the tables a statement names.
func stmtTables(s ddlStmt) []TableName {
	out := []TableName{s.Table}
	out = append(out, s.Tables...)
	for _, r := range s.Renames {
		out = append(out, r[0], r[1])
	}
	for _, op := range s.Ops {
		if op.Kind == alterRenameTable {
			out = append(out, op.To)
		}
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
