package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// snapshotPosition opens a consistent-snapshot transaction on x and returns the binlog coordinate
// and GTID position its reads are consistent with, so streaming from there loses and repeats
// nothing.
//
// MariaDB reports the binlog position of a consistent snapshot itself (binlog_snapshot_file and
// binlog_snapshot_position), and BINLOG_GTID_POS turns it into a GTID position: no lock at all.
//
// MySQL has no such status, so commits are stopped while the snapshot starts and the position is
// read: FLUSH TABLES WITH READ LOCK (RELOAD privilege), START TRANSACTION WITH CONSISTENT SNAPSHOT,
// SHOW BINARY LOG STATUS (SHOW MASTER STATUS before 8.2), UNLOCK TABLES. The lock lasts a few
// milliseconds. (LOCK INSTANCE FOR BACKUP would not do: it blocks DDL, not commits, so the position
// read under it need not match the snapshot.)
func snapshotPosition(x execer, f Flavor, v serverVersion) (Coord, string, error) {
	if f == MariaDB {
		for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"} {
			if _, err := x.Execute(q); err != nil {
				return Coord{}, "", fmt.Errorf("%s: %w", q, err)
			}
		}
		r, err := x.Execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
		if err != nil {
			return Coord{}, "", fmt.Errorf("read the snapshot's binlog position: %w", err)
		}
		var file, pos string
		for _, row := range strRows(r) {
			switch strings.ToLower(row[0]) {
			case "binlog_snapshot_file":
				file = row[1]
			case "binlog_snapshot_position":
				pos = row[1]
			}
		}
		p, err := strconv.ParseUint(pos, 10, 64)
		if file == "" || err != nil {
			return Coord{}, "", fmt.Errorf("the server reports no binlog position for the snapshot (binlog_snapshot_file %q, position %q): is log_bin on?", file, pos)
		}
		c, err := coordOf(file, p)
		if err != nil {
			return Coord{}, "", err
		}
		r, err = x.Execute("SELECT BINLOG_GTID_POS(?, ?)", file, p)
		if err != nil {
			return Coord{}, "", fmt.Errorf("BINLOG_GTID_POS(%s, %d): %w", file, p, err)
		}
		gtid := strRows(r)[0][0]
		if isNull(gtid) {
			return Coord{}, "", fmt.Errorf("BINLOG_GTID_POS(%s, %d) is NULL", file, p)
		}
		return c, gtid, nil
	}
	if _, err := x.Execute("FLUSH TABLES WITH READ LOCK"); err != nil {
		return Coord{}, "", fmt.Errorf("FLUSH TABLES WITH READ LOCK (the MySQL snapshot briefly stops commits to read its binlog position; it needs the RELOAD privilege): %w", err)
	}
	unlocked := false
	defer func() {
		if !unlocked {
			_, _ = x.Execute("UNLOCK TABLES")
		}
	}()
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"} {
		if _, err := x.Execute(q); err != nil {
			return Coord{}, "", fmt.Errorf("%s: %w", q, err)
		}
	}
	_, c, gtid, err := masterStatus(x, v)
	if err != nil {
		return Coord{}, "", err
	}
	if _, err := x.Execute("UNLOCK TABLES"); err != nil {
		return Coord{}, "", fmt.Errorf("UNLOCK TABLES: %w", err)
	}
	unlocked = true
	return c, gtid, nil
}

// masterStatus reads SHOW BINARY LOG STATUS (MySQL 8.2+) or SHOW MASTER STATUS: the binlog's end
// (file and coordinate) and, on MySQL, the executed GTID set.
func masterStatus(x execer, v serverVersion) (string, Coord, string, error) {
	q := "SHOW MASTER STATUS"
	if v.atLeast(8, 2) && v.Major < 10 {
		q = "SHOW BINARY LOG STATUS"
	}
	r, err := x.Execute(q)
	if err != nil {
		return "", Coord{}, "", fmt.Errorf("%s: %w", q, err)
	}
	rows := strRows(r)
	if len(rows) == 0 {
		return "", Coord{}, "", fmt.Errorf("%s returned nothing: is log_bin on?", q)
	}
	row := rows[0]
	p, err := strconv.ParseUint(row[1], 10, 64)
	if err != nil {
		return "", Coord{}, "", fmt.Errorf("%s: position %q: %w", q, row[1], err)
	}
	c, err := coordOf(row[0], p)
	if err != nil {
		return "", Coord{}, "", err
	}
	gtid := ""
	if len(row) > 4 && !isNull(row[4]) {
		gtid = row[4] // Executed_Gtid_Set
	}
	return row[0], c, gtid, nil
}

// normalizeGTID returns a flavor's GTID text in cdcd's normal form.
func normalizeGTID(f Flavor, s string) (string, error) {
	if f == MariaDB {
		p, err := ParseMariaPos(s)
		return p.String(), err
	}
	set, err := parseMySQLSet(s)
	if err != nil {
		return "", err
	}
	return set.String(), nil
}

// snapshot copies tables in one consistent-snapshot transaction and returns its position and the
// table definitions it read. It first emits a truncate of each table, which clears what an
// interrupted earlier snapshot left; every row carries the version of the snapshot's binlog
// position, below every transaction streamed after it. It ends by reporting the tables snapshotted
// and a commit: at the snapshot's position for the source's first snapshot (offset zero), whose
// definitions start schema history; at the stored offset, which it does not move, for tables new
// to a running source (a catch-up: the stream then resumes from the offset and drops the tables'
// changes at or below the returned position's version, which the snapshot holds).
func (s *Source) snapshot(ctx context.Context, srv serverInfo, tables []TableName, offset change.Position, e capture.Emitter,
	announced map[TableName]*change.Table) (change.Position, []*tableDef, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return change.Position{}, nil, err
	}
	defer conn.Close()
	defer unblockOnDone(ctx, conn)()
	timeout := "SET SESSION max_execution_time = 0"
	if srv.flavor == MariaDB {
		timeout = "SET SESSION max_statement_time = 0"
	}
	// A blocked pipeline must not make the server give up sending rows.
	for _, q := range []string{"SET SESSION net_write_timeout = 86400", timeout} {
		if _, err := conn.Execute(q); err != nil {
			return change.Position{}, nil, fmt.Errorf("mysql source %q: snapshot: %s: %w", s.cfg.Name, q, err)
		}
	}
	coord, gtid, err := snapshotPosition(conn, srv.flavor, srv.version)
	if err != nil {
		return change.Position{}, nil, s.privilegeError("snapshot", err)
	}
	token, err := normalizeGTID(srv.flavor, gtid)
	if err != nil {
		return change.Position{}, nil, fmt.Errorf("mysql source %q: snapshot GTID position: %w", s.cfg.Name, err)
	}
	catchUp := !offset.IsZero()
	pos := checkpoint(coord, token)
	if catchUp && pos.Version <= offset.Version {
		// Nothing was committed since the offset: the snapshot is at its very coordinate, and
		// the pipeline would drop rows at that version as already delivered. One past it is
		// still below every transaction after it (each starts with a GTID event of many bytes).
		pos.Version = offset.Version + 1
	}
	version := pos.Version
	// The definitions are read inside the snapshot: a table altered after its start fails to read
	// (Table definition has changed), and the snapshot is retried.
	defs, err := s.describeTables(conn, srv.flavor, tables)
	if err != nil {
		return change.Position{}, nil, err
	}
	shapes := make([]*shape, len(defs))
	ids := make([]change.TableID, len(defs))
	for i, d := range defs {
		if shapes[i], err = s.defShape(d, srv.flavor); err != nil {
			return change.Position{}, nil, err
		}
		t := shapes[i].table
		ids[i] = t.ID
		announced[d.Name] = t
		if err := e.Schema(ctx, t); err != nil {
			return change.Position{}, nil, err
		}
		if err := e.Change(ctx, change.Event{Op: change.Truncate, Table: t, Version: version, Snapshot: true}); err != nil {
			return change.Position{}, nil, err
		}
	}
	if catchUp {
		s.log.Info("snapshotting tables new to the source while the others stream", "tables", tableList(tables),
			"gtid", token, "binlog", coord.String(), "offset", offset.Token)
	} else {
		s.log.Info("snapshot started", "tables", len(defs), "gtid", token, "binlog", coord.String())
	}
	started := time.Now()
	var total int64
	for _, sh := range shapes {
		n, err := s.copyTable(ctx, conn, sh, version, e)
		if err != nil {
			return change.Position{}, nil, err
		}
		total += n
	}
	if _, err := conn.Execute("COMMIT"); err != nil {
		return change.Position{}, nil, fmt.Errorf("mysql source %q: snapshot: COMMIT: %w", s.cfg.Name, err)
	}
	if err := e.Snapshotted(ctx, ids, version); err != nil {
		return change.Position{}, nil, err
	}
	commitAt := pos
	if catchUp {
		commitAt = offset
	}
	if err := e.Commit(ctx, commitAt); err != nil {
		return change.Position{}, nil, err
	}
	s.log.Info("snapshot read", "tables", len(defs), "rows", total, "took", time.Since(started).Round(time.Millisecond),
		"gtid", token, "version", version)
	return pos, defs, nil
}

// tableList is tables as a log value: db.name, comma-separated.
func tableList(tables []TableName) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// copyTable streams one table's rows (a prepared SELECT, read row by row: never a whole table in
// memory) as inserts.
func (s *Source) copyTable(ctx context.Context, conn *client.Conn, sh *shape, version uint64, e capture.Emitter) (int64, error) {
	query := "SELECT " + selectList(sh.cols) + " FROM " + sh.name.quoted()
	stmt, err := conn.Prepare(query)
	if err != nil {
		return 0, s.snapshotReadError(sh.name, err)
	}
	defer stmt.Close()
	kinds := make([]change.Kind, len(sh.cols))
	for i := range sh.cols {
		kinds[i] = sh.table.Columns[i].Type.Kind
	}
	var n int64
	started, lastLog := time.Now(), time.Now()
	var result gomysql.Result
	err = stmt.ExecuteSelectStreaming(&result, func(fields []gomysql.FieldValue) error {
		if len(fields) != len(sh.cols) {
			return fmt.Errorf("%d columns, want %d", len(fields), len(sh.cols))
		}
		row := make([]any, len(fields))
		for i := range fields {
			row[i] = fromField(&sh.cols[i], kinds[i], &fields[i])
		}
		// Seq 0 is the table's truncate: its rows come after it.
		ev := change.Event{Op: change.Insert, Table: sh.table, After: row, Version: version, Seq: uint32(n) + 1, Snapshot: true}
		if err := e.Change(ctx, ev); err != nil {
			return err
		}
		n++
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			s.logProgress(sh.name, n, started)
		}
		return nil
	}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, s.snapshotReadError(sh.name, err)
	}
	s.logProgress(sh.name, n, started)
	return n, nil
}

func (s *Source) snapshotReadError(t TableName, err error) error {
	if errorCode(err) == erTableDefChanged {
		return fmt.Errorf("mysql source %q: snapshot: table %s was altered after the snapshot began; retrying: %w", s.cfg.Name, t, err)
	}
	return s.privilegeError("snapshot: read table "+t.String(), err)
}

func (s *Source) logProgress(t TableName, n int64, started time.Time) {
	rate := float64(n) / max(time.Since(started).Seconds(), 0.001)
	s.log.Info("snapshot progress", "table", t.String(), "rows", n, "rows_per_s", int64(rate))
}
