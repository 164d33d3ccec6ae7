package mysql

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	pingcap "github.com/pingcap/errors"

	"github.com/cdcd-dev/cdcd/change"
)

// fakeExec records statements and answers them from canned results, by statement prefix.
type fakeExec struct {
	stmts   []string
	results map[string][][]any // prefix -> rows (first row: column names)
	fail    map[string]error
}

func (f *fakeExec) Execute(q string, args ...any) (*gomysql.Result, error) {
	s := q
	if len(args) > 0 {
		s += fmt.Sprintln(args...)
	}
	f.stmts = append(f.stmts, s)
	for p, err := range f.fail {
		if strings.HasPrefix(q, p) {
			return nil, err
		}
	}
	for p, rows := range f.results {
		if strings.HasPrefix(q, p) {
			names := make([]string, len(rows[0]))
			for i, n := range rows[0] {
				names[i] = n.(string)
			}
			rs, err := gomysql.BuildSimpleTextResultset(names, rows[1:])
			if err != nil {
				return nil, err
			}
			for _, rd := range rs.RowDatas {
				vals, err := rd.ParseText(rs.Fields, nil)
				if err != nil {
					return nil, err
				}
				rs.Values = append(rs.Values, vals)
			}
			return &gomysql.Result{Resultset: rs}, nil
		}
	}
	return &gomysql.Result{}, nil
}

// TestMySQLSnapshotSequence checks the MySQL 8 snapshot's statements: commits are stopped (FLUSH
// TABLES WITH READ LOCK) while the consistent snapshot starts and the binlog position is read, then
// released; the position is the binlog status's.
func TestMySQLSnapshotSequence(t *testing.T) {
	for _, c := range []struct {
		version string
		status  string
	}{
		{"8.4.2", "SHOW BINARY LOG STATUS"},
		{"8.0.36", "SHOW MASTER STATUS"},
	} {
		const gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100"
		f := &fakeExec{results: map[string][][]any{
			c.status: {{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"}, {"binlog.000007", "1234", "", "", gtid}},
		}}
		coord, got, err := snapshotPosition(f, MySQL, parseVersion(c.version))
		mustNil(t, err)
		want := []string{"FLUSH TABLES WITH READ LOCK", "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", c.status, "UNLOCK TABLES"}
		if !reflect.DeepEqual(f.stmts, want) {
			t.Errorf("MySQL %s statements:\n got %q\nwant %q", c.version, f.stmts, want)
		}
		if coord != (Coord{File: 7, Pos: 1234}) || got != gtid {
			t.Errorf("position %v %q", coord, got)
		}
	}
	// A failure after the lock still releases it.
	f := &fakeExec{fail: map[string]error{"START TRANSACTION": errors.New("boom")}}
	if _, _, err := snapshotPosition(f, MySQL, parseVersion("8.4.0")); err == nil {
		t.Fatal("no error")
	}
	if last := f.stmts[len(f.stmts)-1]; last != "UNLOCK TABLES" {
		t.Errorf("lock not released: %q", f.stmts)
	}
	f = &fakeExec{fail: map[string]error{"FLUSH TABLES": &gomysql.MyError{Code: 1227, Message: "Access denied; you need (at least one of) the RELOAD privilege(s)"}}}
	if _, _, err := snapshotPosition(f, MySQL, parseVersion("8.4.0")); err == nil || !strings.Contains(err.Error(), "RELOAD privilege") {
		t.Errorf("no RELOAD: %v", err)
	}
}

// TestMariaDBSnapshotSequence: MariaDB reports the consistent snapshot's binlog position; no lock.
func TestMariaDBSnapshotSequence(t *testing.T) {
	f := &fakeExec{results: map[string][][]any{
		"SHOW STATUS LIKE 'binlog_snapshot_%'": {{"Variable_name", "Value"}, {"Binlog_snapshot_file", "mysql-bin.000003"}, {"Binlog_snapshot_position", "4567"}},
		"SELECT BINLOG_GTID_POS":               {{"pos"}, {"0-1-42"}},
	}}
	coord, gtid, err := snapshotPosition(f, MariaDB, parseVersion("10.11.19"))
	mustNil(t, err)
	want := []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
		"SHOW STATUS LIKE 'binlog_snapshot_%'", "SELECT BINLOG_GTID_POS(?, ?)mysql-bin.000003 4567\n"}
	if !reflect.DeepEqual(f.stmts, want) || coord != (Coord{File: 3, Pos: 4567}) || gtid != "0-1-42" {
		t.Errorf("statements %q, position %v %q", f.stmts, coord, gtid)
	}
	for _, s := range f.stmts {
		if strings.Contains(s, "LOCK") {
			t.Errorf("MariaDB's snapshot took a lock: %q", s)
		}
	}
}

func TestCheckServer(t *testing.T) {
	good := func(f Flavor) serverInfo {
		si := serverInfo{flavor: f, serverID: 1, version: parseVersion("10.11.19"), versionText: "10.11.19-MariaDB",
			vars:   map[string]string{"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "gtid_mode": "ON", "binlog_row_value_options": ""},
			grants: []string{"GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdcd`@`%`"}}
		if f == MySQL {
			si.version, si.versionText = parseVersion("8.4.2"), "8.4.2"
			si.grants = []string{"GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdcd`@`%`"}
		}
		return si
	}
	for _, f := range []Flavor{MariaDB, MySQL} {
		if err := checkServer(good(f), 4201); err != nil {
			t.Errorf("%s: a good server refused: %v", f, err)
		}
	}
	for _, c := range []struct {
		f    Flavor
		edit func(*serverInfo)
		want string
	}{
		{MariaDB, func(s *serverInfo) { s.vars["log_bin"] = "OFF" }, "log_bin is OFF"},
		{MariaDB, func(s *serverInfo) { s.vars["binlog_format"] = "MIXED" }, "binlog_format is MIXED but cdcd needs ROW"},
		{MariaDB, func(s *serverInfo) { s.vars["binlog_row_image"] = "NOBLOB" }, "binlog_row_image is NOBLOB but cdcd needs FULL"},
		{MySQL, func(s *serverInfo) { s.vars["gtid_mode"] = "OFF_PERMISSIVE" }, "gtid_mode is OFF_PERMISSIVE"},
		{MySQL, func(s *serverInfo) { delete(s.vars, "gtid_mode") }, "gtid_mode is not set"},
		{MySQL, func(s *serverInfo) { s.vars["binlog_row_value_options"] = "PARTIAL_JSON" }, "PARTIAL_JSON"},
		{MySQL, func(s *serverInfo) { s.vars["binlog_transaction_compression"] = "ON" }, "binlog_transaction_compression is ON"},
		{MariaDB, func(s *serverInfo) { s.serverID = 4201 }, "mysql.server_id 4201 is the server's own server_id"},
		{MariaDB, func(s *serverInfo) { s.version = parseVersion("5.5.60") }, "has no GTIDs"},
		{MariaDB, func(s *serverInfo) { s.grants = []string{"GRANT SELECT, BINLOG MONITOR ON *.* TO `u`@`%`"} }, "lacks the REPLICATION SLAVE privilege"},
		{MariaDB, func(s *serverInfo) { s.grants = []string{"GRANT REPLICATION SLAVE ON *.* TO `u`@`%`"} }, "lacks the BINLOG MONITOR privilege"},
		{MySQL, func(s *serverInfo) { s.grants = []string{"GRANT REPLICATION SLAVE ON *.* TO `u`@`%`"} }, "lacks the REPLICATION CLIENT privilege"},
	} {
		si := good(c.f)
		c.edit(&si)
		if err := checkServer(si, 4201); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.f, err, c.want)
		}
	}
}

func TestParseGrants(t *testing.T) {
	for _, c := range []struct {
		lines []string
		f     Flavor
		ok    bool
	}{
		{[]string{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"}, MariaDB, true},
		{[]string{"GRANT USAGE ON *.* TO `u`@`%`", "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`"}, MySQL, true},
		{[]string{"GRANT SELECT (`a`, `b`), INSERT ON `shop`.`t` TO `u`@`%`", "GRANT REPLICATION SLAVE, SUPER ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*AB'"}, MariaDB, true},
		{[]string{"GRANT REPLICATION SLAVE ON `shop`.* TO `u`@`%`", "GRANT BINLOG MONITOR ON *.* TO `u`@`%`"}, MariaDB, false},
		{[]string{"GRANT `cdcd_role` TO `u`@`%`"}, MariaDB, true}, // roles: the server decides
		{[]string{"GRANT USAGE ON *.* TO `u`@`%`"}, MariaDB, false},
	} {
		if err := checkGrants(c.lines, c.f); (err == nil) != c.ok {
			t.Errorf("checkGrants(%q) = %v, want ok=%v", c.lines, err, c.ok)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	s := New(Config{Name: "legacy", ServerID: 4201})
	purged := &gomysql.MyError{Code: 1236, Message: "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged."}
	for _, c := range []struct {
		err      error
		terminal bool
		want     string
	}{
		{purged, true, "cdcd offsets reset --config <file> --source legacy --to snapshot"},
		{pingcap.Trace(purged), true, `stored GTID position "0-1-42"`},
		{fmt.Errorf("wrapped: %w", purged), true, "will not skip them silently"},
		{&gomysql.MyError{Code: 1236, Message: "A slave with the same server_uuid/server_id as this slave has connected to the master"}, true, "another replica connected with server_id 4201"},
		{&gomysql.MyError{Code: 1227, Message: "Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s)"}, true, "GRANT REPLICATION SLAVE"},
		{errors.New("connection reset by peer"), false, "binlog stream"},
		{&gomysql.MyError{Code: 1927, Message: "Connection was killed"}, false, "Connection was killed"},
	} {
		err := s.streamError("0-1-42", c.err)
		if change.IsTerminal(err) != c.terminal || !strings.Contains(err.Error(), c.want) {
			t.Errorf("streamError(%v) = %v (terminal %v), want terminal=%v with %q", c.err, err, change.IsTerminal(err), c.terminal, c.want)
		}
	}
	if err := s.privilegeError("connect", &gomysql.MyError{Code: 1045, Message: "Access denied for user 'u'@'h' (using password: YES)"}); !change.IsTerminal(err) ||
		!strings.Contains(err.Error(), "check the user and password") {
		t.Errorf("wrong password: %v", err)
	}
	if err := s.privilegeError("connect", errors.New("dial tcp: connection refused")); change.IsTerminal(err) {
		t.Errorf("an unreachable server is terminal: %v", err)
	}
}
