package mysql

import (
	"context"
	"strings"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/change"
)

// TestStreamEvents feeds the stream's event handler a hand-built binlog (rotate, transactions of
// both flavors, a DDL transaction, a heartbeat) and checks versions, sequence numbers, commit
// positions, the truncate and the idle position.
func TestStreamEvents(t *testing.T) {
	cols := []tcol{{name: "id", typ: gomysql.MYSQL_TYPE_LONG, numeric: true}, {name: "n", typ: gomysql.MYSQL_TYPE_LONG, numeric: true}}
	parsed := parseEvents(t, true, fdeEvent(), tableMapEvent(7, "db", "t", cols, true),
		rowsEvent(replication.WRITE_ROWS_EVENTv2, 7, 2, nil, imageOf(le(1, 4), le(10, 4)), imageOf(le(2, 4), le(20, 4))),
		tableMapEvent(7, "db", "t", cols, true), // each statement's rows follow their table maps
		rowsEvent(replication.UPDATE_ROWS_EVENTv2, 7, 2, nil, imageOf(le(1, 4), le(10, 4)), imageOf(le(1, 4), le(11, 4))),
		tableMapEvent(8, "db", "other", cols, true),
		rowsEvent(replication.WRITE_ROWS_EVENTv2, 8, 2, nil, imageOf(le(5, 4), le(5, 4))))
	tm, ins, upd, otherTM, otherIns := parsed[1].Event, parsed[2], parsed[4], parsed[5].Event, parsed[6]
	gset := func(s string) gomysql.GTIDSet { g, err := gomysql.ParseMariadbGTIDSet(s); mustNil(t, err); return g }
	hdr := func(typ replication.EventType, pos uint32) *replication.EventHeader {
		return &replication.EventHeader{EventType: typ, LogPos: pos, Timestamp: 1700000000}
	}
	at := func(ev *replication.BinlogEvent, pos uint32) *replication.BinlogEvent {
		h := *ev.Header
		h.LogPos = pos
		return &replication.BinlogEvent{Header: &h, Event: ev.Event}
	}
	events := []*replication.BinlogEvent{
		{Header: hdr(replication.ROTATE_EVENT, 0), Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("mysql-bin.000003")}},
		{Header: hdr(replication.MARIADB_GTID_EVENT, 1000), Event: &replication.MariadbGTIDEvent{Flags: 0}},
		{Header: hdr(replication.TABLE_MAP_EVENT, 1100), Event: tm},
		at(ins, 1200),
		{Header: hdr(replication.TABLE_MAP_EVENT, 1250), Event: otherTM},
		at(otherIns, 1280),
		{Header: hdr(replication.TABLE_MAP_EVENT, 1300), Event: tm},
		at(upd, 1400),
		{Header: hdr(replication.XID_EVENT, 1500), Event: &replication.XIDEvent{GSet: gset("0-1-41,0-2-42")}},
		{Header: hdr(replication.HEARTBEAT_EVENT, 1500), Event: &replication.GenericEvent{}},
		{Header: hdr(replication.MARIADB_GTID_EVENT, 1600), Event: &replication.MariadbGTIDEvent{Flags: replication.BINLOG_MARIADB_FL_STANDALONE}},
		{Header: hdr(replication.QUERY_EVENT, 1700), Event: &replication.QueryEvent{Schema: []byte("db"), Query: []byte("TRUNCATE /* x */ TABLE `t`"), GSet: gset("0-2-43")}},
		{Header: hdr(replication.ROTATE_EVENT, 1750), Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("mysql-bin.000004")}},
		{Header: hdr(replication.MARIADB_GTID_EVENT, 300), Event: &replication.MariadbGTIDEvent{Flags: replication.BINLOG_MARIADB_FL_STANDALONE}},
		{Header: hdr(replication.QUERY_EVENT, 400), Event: &replication.QueryEvent{Schema: []byte("db"), Query: []byte("CREATE USER x"), GSet: gset("0-2-44")}},
	}
	src := New(Config{Name: "s", Tables: []TableName{{DB: "db", Name: "t"}}})
	rec := &recorder{}
	st := &streamState{s: src, srv: serverInfo{flavor: MariaDB, collations: collationCharsets{}}, hist: newHistory(nil), e: rec,
		byID: map[uint64]*shape{}, tables: map[TableName]*change.Table{}}
	for _, ev := range events {
		mustNil(t, st.handle(context.Background(), ev))
	}
	v := func(file, pos uint32) uint64 { return Coord{File: file, Pos: pos}.Version() }
	if len(rec.events) != 4 {
		t.Fatalf("%d events, want 2 inserts, an update and a truncate (other table ignored): %+v", len(rec.events), rec.events)
	}
	for i, ev := range rec.events[:3] {
		if ev.Version != v(3, 1000) || ev.Seq != uint32(i) || ev.Table.ID.Name != "t" {
			t.Errorf("event %d: version %d seq %d table %s", i, ev.Version, ev.Seq, ev.Table.ID)
		}
	}
	if u := rec.events[2]; u.Op != change.Update || u.Before[1] != int64(10) || u.After[1] != int64(11) || !u.BeforeFull {
		t.Errorf("update %+v", u)
	}
	if tr := rec.events[3]; tr.Op != change.Truncate || tr.Version != v(3, 1600) || tr.Table == nil {
		t.Errorf("truncate %+v", tr)
	}
	want := []change.Position{{Version: v(3, 1500), Token: "0-2-42"}, {Version: v(3, 1700), Token: "0-2-43"}, {Version: v(4, 400), Token: "0-2-44"}}
	if len(rec.commits) != 3 || rec.commits[0] != want[0] || rec.commits[1] != want[1] || rec.commits[2] != want[2] {
		t.Errorf("commits %+v, want %+v", rec.commits, want)
	}
	if len(rec.idles) != 1 || rec.idles[0] != want[0] {
		t.Errorf("idles %+v, want the position of the last commit", rec.idles)
	}
	if got := strings.Join(rec.order, " "); got != "schema change change change commit idle change commit commit" {
		t.Errorf("emitter calls: %s", got)
	}
	if src.Lag() == 0 {
		t.Error("no lag before any acknowledgement")
	}
	src.Ack(want[2])
	if src.Lag() != 0 {
		t.Errorf("lag %d after acknowledging the newest commit", src.Lag())
	}
}

// TestStreamMySQLTransactions: MySQL's transactions open with a Query BEGIN after the GTID event; a
// DDL statement right after a GTID event is a transaction of its own; positions are GTID sets.
func TestStreamMySQLTransactions(t *testing.T) {
	const sid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	gset := func(s string) gomysql.GTIDSet { g, err := gomysql.ParseMysqlGTIDSet(s); mustNil(t, err); return g }
	hdr := func(typ replication.EventType, pos uint32) *replication.EventHeader {
		return &replication.EventHeader{EventType: typ, LogPos: pos}
	}
	src := New(Config{Name: "s", Tables: []TableName{{DB: "db", Name: "t"}}})
	rec := &recorder{}
	st := &streamState{s: src, srv: serverInfo{flavor: MySQL}, hist: newHistory(nil), e: rec, byID: map[uint64]*shape{}, tables: map[TableName]*change.Table{}}
	for _, ev := range []*replication.BinlogEvent{
		{Header: hdr(replication.ROTATE_EVENT, 0), Event: &replication.RotateEvent{NextLogName: []byte("binlog.000009")}},
		{Header: hdr(replication.GTID_EVENT, 200), Event: &replication.GTIDEvent{}},
		{Header: hdr(replication.QUERY_EVENT, 260), Event: &replication.QueryEvent{Query: []byte("BEGIN")}},
		{Header: hdr(replication.XID_EVENT, 300), Event: &replication.XIDEvent{GSet: gset(sid + ":1-5")}},
		{Header: hdr(replication.GTID_EVENT, 400), Event: &replication.GTIDEvent{}},
		{Header: hdr(replication.QUERY_EVENT, 500), Event: &replication.QueryEvent{Schema: []byte("db"), Query: []byte("ALTER TABLE t ADD COLUMN x int"), GSet: gset(sid + ":1-6")}},
	} {
		mustNil(t, st.handle(context.Background(), ev))
	}
	want := []change.Position{{Version: Coord{9, 300}.Version(), Token: sid + ":1-5"}, {Version: Coord{9, 500}.Version(), Token: sid + ":1-6"}}
	if len(rec.commits) != 2 || rec.commits[0] != want[0] || rec.commits[1] != want[1] {
		t.Errorf("commits %+v, want %+v", rec.commits, want)
	}
	// A transaction-opening event without a position is refused, not versioned backwards.
	err := st.handle(context.Background(), &replication.BinlogEvent{Header: hdr(replication.GTID_EVENT, 0), Event: &replication.GTIDEvent{}})
	if !change.IsTerminal(err) || !strings.Contains(err.Error(), "without its binlog position") {
		t.Errorf("LogPos 0: %v", err)
	}
}
