package mysql

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestStreamDropsWhatSnapshotsHold feeds the stream a hand-built binlog with a floor on table b:
// b's table maps, rows, TRUNCATE and CREATE TABLE at or below it are dropped (a's are not, in the
// same transaction), and everything of b above it streams, its schema announced only then.
func TestStreamDropsWhatSnapshotsHold(t *testing.T) {
	cols := []tcol{{name: "id", typ: gomysql.MYSQL_TYPE_LONG, numeric: true}, {name: "n", typ: gomysql.MYSQL_TYPE_LONG, numeric: true}}
	parsed := parseEvents(t, true, fdeEvent(), tableMapEvent(7, "db", "b", cols, true),
		rowsEvent(replication.WRITE_ROWS_EVENTv2, 7, 2, nil, imageOf(le(1, 4), le(10, 4))),
		tableMapEvent(8, "db", "a", cols, true),
		rowsEvent(replication.WRITE_ROWS_EVENTv2, 8, 2, nil, imageOf(le(5, 4), le(5, 4))))
	tmB, insB, tmA, insA := parsed[1].Event, parsed[2], parsed[3].Event, parsed[4]
	gset := func(s string) gomysql.GTIDSet { g, err := gomysql.ParseMariadbGTIDSet(s); mustNil(t, err); return g }
	hdr := func(typ replication.EventType, pos uint32) *replication.EventHeader {
		return &replication.EventHeader{EventType: typ, LogPos: pos, Timestamp: 1700000000}
	}
	at := func(ev *replication.BinlogEvent, pos uint32) *replication.BinlogEvent {
		h := *ev.Header
		h.LogPos = pos
		return &replication.BinlogEvent{Header: &h, Event: ev.Event}
	}
	txn := func(pos uint32) *replication.BinlogEvent {
		return &replication.BinlogEvent{Header: hdr(replication.MARIADB_GTID_EVENT, pos), Event: &replication.MariadbGTIDEvent{}}
	}
	ddl := func(pos uint32, q, gtid string) []*replication.BinlogEvent {
		return []*replication.BinlogEvent{
			{Header: hdr(replication.MARIADB_GTID_EVENT, pos), Event: &replication.MariadbGTIDEvent{Flags: replication.BINLOG_MARIADB_FL_STANDALONE}},
			{Header: hdr(replication.QUERY_EVENT, pos+100), Event: &replication.QueryEvent{Schema: []byte("db"), Query: []byte(q), GSet: gset(gtid)}},
		}
	}
	xid := func(pos uint32, gtid string) *replication.BinlogEvent {
		return &replication.BinlogEvent{Header: hdr(replication.XID_EVENT, pos), Event: &replication.XIDEvent{GSet: gset(gtid)}}
	}
	events := []*replication.BinlogEvent{
		{Header: hdr(replication.ROTATE_EVENT, 0), Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("mysql-bin.000003")}},
		txn(1000), {Header: hdr(replication.TABLE_MAP_EVENT, 1100), Event: tmB}, at(insB, 1200),
		{Header: hdr(replication.TABLE_MAP_EVENT, 1250), Event: tmA}, at(insA, 1280), xid(1300, "0-1-10"),
	}
	events = append(events, ddl(1400, "CREATE TABLE b (id int PRIMARY KEY, n int)", "0-1-11")...)
	events = append(events, ddl(1600, "TRUNCATE TABLE b", "0-1-12")...)
	// A transaction versioned exactly at the floor is in the snapshot too.
	events = append(events, txn(2000), &replication.BinlogEvent{Header: hdr(replication.TABLE_MAP_EVENT, 2100), Event: tmB}, at(insB, 2200), xid(2300, "0-1-13"))
	events = append(events, txn(2400), &replication.BinlogEvent{Header: hdr(replication.TABLE_MAP_EVENT, 2500), Event: tmB}, at(insB, 2600), xid(2700, "0-1-14"))
	events = append(events, ddl(2800, "TRUNCATE TABLE b", "0-1-15")...)

	b := TableName{DB: "db", Name: "b"}
	src := New(Config{Name: "s", Tables: []TableName{{DB: "db", Name: "a"}, b}})
	rec := &recorder{}
	v := func(pos uint32) uint64 { return Coord{File: 3, Pos: pos}.Version() }
	st := &streamState{s: src, srv: serverInfo{flavor: MariaDB, collations: collationCharsets{}}, hist: newHistory(nil), e: rec,
		byID: map[uint64]*shape{}, tables: map[TableName]*change.Table{}, floors: map[TableName]uint64{b: v(2000)}}
	for _, ev := range events {
		mustNil(t, st.handle(context.Background(), ev))
	}
	var got []string
	for _, ev := range rec.events {
		got = append(got, fmt.Sprintf("%s %s %d", ev.Op, ev.Table.ID.Name, CoordOf(ev.Version).Pos))
	}
	want := []string{fmt.Sprintf("%s a 1000", change.Insert), fmt.Sprintf("%s b 2400", change.Insert), fmt.Sprintf("%s b 2800", change.Truncate)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if o := strings.Join(rec.order, " "); o != "schema change commit commit commit commit schema change commit change commit" {
		t.Errorf("emitter calls: %s (b's schema must be announced only above its floor)", o)
	}
	if len(rec.commits) != 6 || rec.commits[5].Token != "0-1-15" {
		t.Errorf("commits %+v: every transaction still commits", rec.commits)
	}
}

// runSource runs src from start into a new recorder until stop is called, which returns Run's
// error (nil when it ended by the cancellation).
func runSource(t *testing.T, src *Source, start capture.Start) (*recorder, func() error) {
	t.Helper()
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, start, rec) }()
	stopped := false
	var err error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			if err = <-done; err == context.Canceled {
				err = nil
			}
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return rec, stop
}

// waitEvent waits until rec holds an event matching ok and returns it.
func waitEvent(t *testing.T, rec *recorder, what string, ok func(change.Event) bool) change.Event {
	t.Helper()
	var found change.Event
	waitFor(t, 30*time.Second, what, func() bool {
		_, evs, _ := rec.snapshot()
		for _, ev := range evs {
			if ok(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

func rowID(ev change.Event) int64 {
	row := ev.After
	if row == nil {
		row = ev.Before
	}
	if len(row) == 0 {
		return -1
	}
	id, _ := row[0].(int64)
	return id
}

// TestMariaDBTableSnapshots runs a source against a real MariaDB through the life of its table
// snapshots: the first snapshot reports its table with its version; a table added while the source
// was stopped (created, filled, altered and changed after the stored offset) is snapshotted on its
// own, at a version above the offset, with a commit at the stored offset, and its changes up to
// that snapshot are dropped from the stream while the other table's stream from the offset; a
// restart from the same offset with the snapshot recorded drops them by the recorded floor alone;
// a snapshot at the offset's very coordinate is versioned one past it; an offset from before the
// records reports every table at version 0; a recorded snapshot past the binlog's end is refused.
func TestMariaDBTableSnapshots(t *testing.T) {
	srv := testenv.StartMariaDB(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE a (id int PRIMARY KEY, n int)", "INSERT INTO a VALUES (1, 1), (2, 2)")
	a, b, c := TableName{DB: db, Name: "a"}, TableName{DB: db, Name: "b"}, TableName{DB: db, Name: "c"}
	config := func(snapshot bool, tables ...TableName) *Source {
		return New(Config{Name: "ts", Addr: srv.Addr(), User: srv.User, Password: srv.Pass, ServerID: 9011, Snapshot: snapshot, Tables: tables})
	}
	id := func(t TableName) change.TableID { return change.TableID{Source: "ts", Namespace: t.DB, Name: t.Name} }

	// The first snapshot reports its table, at the version of its rows and its commit.
	rec, stop := runSource(t, config(true, a), capture.Start{})
	waitEvent(t, rec, "the snapshot's rows", func(ev change.Event) bool { return ev.Snapshot && rowID(ev) == 2 })
	waitFor(t, 30*time.Second, "the snapshot's commit", func() bool { _, _, c := rec.snapshot(); return len(c) > 0 })
	snaps, order := rec.calls()
	_, evs, commits := rec.snapshot()
	first := commits[0]
	if len(snaps) != 1 || !reflect.DeepEqual(snaps[0].tables, []change.TableID{id(a)}) || snaps[0].version != first.Version {
		t.Fatalf("first snapshot reported %+v, want [%s] at its commit's version %d", snaps, id(a), first.Version)
	}
	if i := indexOf(order, "snapshotted"); i < 0 || order[i+1] != "commit" || i != len(evs)+1 { // schema, truncate, 2 rows
		t.Errorf("calls %v: Snapshotted must follow the last row and precede the commit", order)
	}
	srv.Exec(t, db, "INSERT INTO a VALUES (3, 3)")
	waitEvent(t, rec, "a streamed insert", func(ev change.Event) bool { return !ev.Snapshot && rowID(ev) == 3 })
	waitFor(t, 30*time.Second, "its commit", func() bool { _, _, c := rec.snapshot(); return len(c) > 1 })
	_, _, commits = rec.snapshot()
	offset := commits[len(commits)-1]
	mustNil(t, stop())

	// While stopped: table b is created, filled, altered and changed; a changes too.
	srv.Exec(t, db, "CREATE TABLE b (id int PRIMARY KEY, n int)")
	for i := 0; i < 500; i += 100 {
		var vals []string
		for g := i + 1; g <= i+100; g++ {
			vals = append(vals, fmt.Sprintf("(%d, %d)", g, g))
		}
		srv.Exec(t, db, "INSERT INTO b VALUES "+strings.Join(vals, ", "))
	}
	srv.Exec(t, db, "UPDATE a SET n = 30 WHERE id = 3", "ALTER TABLE b ADD COLUMN extra varchar(10) DEFAULT 'x'",
		"UPDATE b SET n = n + 1000 WHERE id <= 10", "DELETE FROM b WHERE id > 490")

	// Restarted with [a, b]: b alone is snapshotted, closed by a commit at the stored offset.
	recorded := map[change.TableID]uint64{id(a): first.Version}
	rec, stop = runSource(t, config(true, a, b), capture.Start{Position: offset, Tables: recorded})
	waitEvent(t, rec, "the stream", func(ev change.Event) bool { return !ev.Snapshot && rowID(ev) == 3 })
	srv.Exec(t, db, "INSERT INTO b VALUES (1000, 1, 'y')")
	after := waitEvent(t, rec, "b's change after its snapshot", func(ev change.Event) bool { return !ev.Snapshot && rowID(ev) == 1000 })
	mustNil(t, stop())
	snaps, order = rec.calls()
	schemas, evs, commits := rec.snapshot()
	if len(snaps) != 1 || !reflect.DeepEqual(snaps[0].tables, []change.TableID{id(b)}) {
		t.Fatalf("catch-up reported %+v, want b alone", snaps)
	}
	floor := snaps[0].version
	if floor <= offset.Version || after.Version <= floor {
		t.Errorf("b's snapshot version %s, want between the offset %s and b's next change %s", CoordOf(floor), CoordOf(offset.Version), CoordOf(after.Version))
	}
	if commits[0] != offset || order[indexOf(order, "snapshotted")+1] != "commit" {
		t.Errorf("the catch-up's commit %+v (calls %v), want one at the stored offset %+v right after Snapshotted", commits[0], order, offset)
	}
	var snapRows, streamed []string
	for _, ev := range evs {
		switch {
		case ev.Snapshot:
			if ev.Table.ID != id(b) || ev.Version != floor {
				t.Fatalf("snapshot event of %s at %s, want b's at %s", ev.Table.ID, CoordOf(ev.Version), CoordOf(floor))
			}
			if ev.Op == change.Truncate {
				snapRows = append(snapRows, "truncate")
				continue
			}
			if rowID(ev) == 1 {
				snapRows = append(snapRows, fmt.Sprint(ev.After))
			}
		default:
			streamed = append(streamed, fmt.Sprintf("%s %s %d", ev.Op, ev.Table.ID.Name, rowID(ev)))
		}
	}
	if n := countSnapshotRows(evs); n != 490 || len(snapRows) != 2 || snapRows[0] != "truncate" || snapRows[1] != "[1 1001 x]" {
		t.Errorf("b's snapshot: %d rows, first events %v; want a truncate, then 490 rows, row 1 = [1 1001 x]", n, snapRows)
	}
	want := []string{fmt.Sprintf("%s a 3", change.Update), fmt.Sprintf("%s b 1000", change.Insert)}
	if !reflect.DeepEqual(streamed, want) {
		t.Errorf("streamed %q, want %q: b's changes up to its snapshot must be dropped", firstOf(streamed), want)
	}
	for _, s := range schemas {
		if s.ID == id(b) && len(s.Columns) != 3 {
			t.Errorf("b announced with %d columns: a table map from before its snapshot was used", len(s.Columns))
		}
	}

	// Killed after the catch-up was recorded but before the offset moved: the recorded floor
	// alone keeps b's old changes out, and nothing is snapshotted.
	recorded[id(b)] = floor
	rec, stop = runSource(t, config(true, a, b), capture.Start{Position: offset, Tables: recorded})
	waitEvent(t, rec, "b's change after its snapshot", func(ev change.Event) bool { return rowID(ev) == 1000 })
	mustNil(t, stop())
	snaps, _ = rec.calls()
	_, evs, _ = rec.snapshot()
	streamed = streamed[:0]
	for _, ev := range evs {
		streamed = append(streamed, fmt.Sprintf("%s %s %d", ev.Op, ev.Table.ID.Name, rowID(ev)))
	}
	if len(snaps) != 0 || !reflect.DeepEqual(streamed, want) {
		t.Errorf("restart with b recorded: snapshots %+v, events %q; want none and %q", snaps, firstOf(streamed), want)
	}

	// A table added while nothing is written: its snapshot is at the offset's coordinate itself,
	// so it is versioned one past it.
	srv.Exec(t, db, "CREATE TABLE c (id int PRIMARY KEY)", "INSERT INTO c VALUES (7)")
	conn := srv.Conn(t, "")
	cur, err := currentPosition(conn, serverInfo{flavor: MariaDB})
	conn.Close()
	mustNil(t, err)
	rec, stop = runSource(t, config(true, a, b, c), capture.Start{Position: cur.Position, Tables: recorded})
	waitFor(t, 30*time.Second, "c's snapshot", func() bool { s, _ := rec.calls(); return len(s) > 0 })
	waitFor(t, 30*time.Second, "its commit", func() bool { _, _, c := rec.snapshot(); return len(c) > 0 })
	mustNil(t, stop())
	snaps, _ = rec.calls()
	_, evs, commits = rec.snapshot()
	if !reflect.DeepEqual(snaps[0].tables, []change.TableID{id(c)}) || snaps[0].version != cur.Version+1 || commits[0] != cur.Position ||
		countSnapshotRows(evs) != 1 || evs[1].Version != cur.Version+1 {
		t.Errorf("c's snapshot at the offset %+v: reported %+v, commit %+v, %d rows", cur.Position, snaps, commits[0], countSnapshotRows(evs))
	}

	// An offset stored before table snapshots were recorded: every table is reported, at 0.
	rec, stop = runSource(t, config(true, a, b, c), capture.Start{Position: cur.Position})
	waitFor(t, 30*time.Second, "the report", func() bool { s, _ := rec.calls(); return len(s) > 0 })
	waitFor(t, 30*time.Second, "the stream", func() bool { _, o := rec.calls(); return indexOf(o, "idle") >= 0 })
	mustNil(t, stop())
	snaps, _ = rec.calls()
	_, evs, _ = rec.snapshot()
	if len(snaps) != 1 || !reflect.DeepEqual(snaps[0], snapshotted{tables: []change.TableID{id(a), id(b), id(c)}}) || countSnapshotRows(evs) != 0 {
		t.Errorf("reported %+v with %d snapshot rows; want a, b and c at version 0 and no snapshot", snaps, countSnapshotRows(evs))
	}

	// snapshot: never: no report and no catch-up, whatever is missing.
	rec, stop = runSource(t, config(false, a, b, c), capture.Start{Position: cur.Position, Tables: map[change.TableID]uint64{}})
	waitFor(t, 30*time.Second, "the stream", func() bool { _, o := rec.calls(); return indexOf(o, "idle") >= 0 })
	mustNil(t, stop())
	if snaps, _ = rec.calls(); len(snaps) != 0 {
		t.Errorf("snapshot: never reported %+v", snaps)
	}

	// A recorded snapshot past the server's binlog end (RESET MASTER, another server) is refused.
	far := map[change.TableID]uint64{id(a): first.Version, id(b): Coord{File: CoordOf(cur.Version).File + 1, Pos: 4}.Version()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runErr := config(true, a, b).Run(ctx, capture.Start{Position: cur.Position, Tables: far}, &recorder{})
	if !change.IsTerminal(runErr) || !strings.Contains(fmt.Sprint(runErr), "past the server's binlog end") {
		t.Errorf("a snapshot past the binlog end: %v", runErr)
	}
}

// firstOf clips a long list for a failure message.
func firstOf(s []string) []string {
	if len(s) > 12 {
		return append(s[:12:12], fmt.Sprintf("… %d in all", len(s)))
	}
	return s
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func countSnapshotRows(evs []change.Event) int {
	n := 0
	for _, ev := range evs {
		if ev.Snapshot && ev.Op == change.Insert {
			n++
		}
	}
	return n
}
