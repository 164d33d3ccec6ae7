package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestMySQLDDLMidStream: ADD COLUMN (nullable, and NOT NULL with a default), DROP COLUMN, MODIFY
// int -> bigint, RENAME TABLE away and back, and TRUNCATE, while streaming and without a restart:
// rows before and after each change read as MariaDB has them.
func TestMySQLDDLMidStream(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, "CREATE TABLE ev (id int PRIMARY KEY, a int, s varchar(10), v varchar(5))",
		"INSERT INTO ev VALUES (1, 1, 'one', 'v1')",
		"CREATE TABLE tr (id int PRIMARY KEY, n int)", "INSERT INTO tr VALUES (1, 1), (2, 2)")
	d := startDaemon(t, e.config(t, []string{"ev", "tr"}, ""))
	view := e.chName("ev") + "_current"
	e.waitRows(t, view, 1)
	steps := []struct{ ddl, dml string }{
		{"ALTER TABLE ev ADD COLUMN n text", "INSERT INTO ev VALUES (2, 2, 'two', 'v2', 'nn')"},
		{"ALTER TABLE ev ADD COLUMN dflt int NOT NULL DEFAULT 7", "INSERT INTO ev VALUES (3, 3, 'three', 'v3', NULL, 8)"},
		{"ALTER TABLE ev DROP COLUMN s", "INSERT INTO ev (id, a, v, n, dflt) VALUES (4, 4, 'v4', 'x', 9)"},
		{"ALTER TABLE ev MODIFY a bigint", "INSERT INTO ev (id, a, v, dflt) VALUES (5, 5000000000, 'v5', 10)"},
		{"ALTER TABLE /* a comment */ `ev` CHANGE COLUMN `v` `v` text CHARACTER SET utf8mb4", "INSERT INTO ev (id, a, v, dflt) VALUES (6, 6, 'a longer text than five', 11)"},
	}
	for i, s := range steps {
		e.exec(t, s.ddl, s.dml)
		e.waitRows(t, view, uint64(i+2))
	}
	e.exec(t, "UPDATE ev SET a = 11 WHERE id = 1")

	// Renamed away, the table is no longer captured; renamed back, it streams again.
	e.exec(t, "RENAME TABLE ev TO ev_away", "INSERT INTO ev_away (id, a, dflt) VALUES (7, 7, 12)", "RENAME TABLE ev_away TO ev",
		"INSERT INTO ev (id, a, dflt) VALUES (8, 8, 13)")
	e.exec(t, "INSERT INTO tr VALUES (3, 3)", "TRUNCATE TABLE tr", "INSERT INTO tr VALUES (9, 9)")
	e.waitCaughtUp(t)

	cols := []myCol{{"id", "int"}, {"a", "int"}, {"v", "text"}, {"n", "text"}, {"dflt", "int"}}
	src := e.myRows(t, "ev", cols, []string{"id"})
	ch := e.chMyRows(t, view, cols, []string{"id"})
	// Row 7 was written while the table had another name: MariaDB has it, ClickHouse must not.
	var want [][]string
	for _, r := range src {
		if r[0] != "7" {
			want = append(want, r)
		}
	}
	if n, bad, report := diffRows(want, ch); bad > 0 {
		t.Errorf("ev: %d mismatches over %d rows (dflt = 7 for rows from before the column):\n%s", bad, n, report)
	}
	// The dropped column stays in ClickHouse with the values it had; rows written later (row 1 was
	// updated after the drop) hold NULL.
	got := e.chRows(t, "SELECT toString(id), ifNull(s, 'NULL') FROM "+e.table(view)+" ORDER BY id")
	if w := "[[1 NULL] [2 two] [3 three] [4 NULL] [5 NULL] [6 NULL] [8 NULL]]"; fmt.Sprint(got) != w {
		t.Errorf("dropped column s: %v, want %s", got, w)
	}
	types := map[string]string{}
	for _, r := range e.chRows(t, "SELECT name, type FROM system.columns WHERE database = '"+e.chDB+"' AND table = '"+e.chName("ev")+"'") {
		types[r[0]] = r[1]
	}
	if types["a"] != "Nullable(Int64)" || types["n"] != "Nullable(String)" || types["dflt"] != "Nullable(Int32)" {
		t.Errorf("clickhouse column types after the changes: %v", types)
	}
	if got := e.chRows(t, "SELECT toString(id) FROM "+e.table(e.chName("tr")+"_current")+" ORDER BY id"); fmt.Sprint(got) != "[[9]]" {
		t.Errorf("tr after TRUNCATE: %v, want only row 9", got)
	}
	out := d.out.String()
	if strings.Contains(out, "pipeline stopped") {
		t.Errorf("the pipeline restarted during the schema changes:\n%s", tail(out, 30))
	}
	if !strings.Contains(out, "captured table renamed to a name cdcd does not capture") {
		t.Errorf("the rename away was not logged:\n%s", tail(out, 30))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}

// TestMySQLHistoryAcrossRestart: with binlog_row_metadata=MINIMAL row events carry no column
// names, so cdcd reads them through its schema history. DDL run while cdcd was stopped must not be
// applied to the events written before it: a restart starts from the history stored in ClickHouse
// at the offset, not from today's catalog, and replays the DDL where the binlog has it.
func TestMySQLHistoryAcrossRestart(t *testing.T) {
	e := newMyEnv(t)
	prev := e.scalar(t, "SELECT @@GLOBAL.binlog_row_metadata")
	e.exec(t, "SET GLOBAL binlog_row_metadata = MINIMAL")
	t.Cleanup(func() { e.exec(t, "SET GLOBAL binlog_row_metadata = "+prev) })
	e.exec(t, "CREATE TABLE h (id int PRIMARY KEY, a int, b int, s varchar(10))", "INSERT INTO h VALUES (1, 10, 100, 'one')")
	cfg := e.config(t, []string{"h"}, "")
	view := e.chName("h") + "_current"
	d := startDaemon(t, cfg)
	e.waitRows(t, view, 1)
	e.exec(t, "INSERT INTO h VALUES (2, 20, 200, 'two')")
	e.waitRows(t, view, 2)
	e.waitCaughtUp(t)
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	// While cdcd is stopped: changes under the old shape, then a column dropped and another moved.
	e.exec(t, "INSERT INTO h VALUES (3, 30, 300, 'three')", "UPDATE h SET b = 201 WHERE id = 2",
		"ALTER TABLE h DROP COLUMN a", "ALTER TABLE h MODIFY s varchar(10) AFTER id",
		"INSERT INTO h VALUES (4, 'four', 400)", "UPDATE h SET s = 'uno' WHERE id = 1")
	d = startDaemon(t, cfg)
	e.waitRows(t, view, 4)
	e.waitCaughtUp(t)
	got := e.chRows(t, "SELECT toString(id), ifNull(toString(a), 'NULL'), ifNull(toString(b), 'NULL'), ifNull(s, 'NULL') FROM "+
		e.table(view)+" ORDER BY id")
	// a was dropped after rows 2 and 3 were written: ClickHouse keeps their values; later rows
	// (row 1's update, row 4) hold NULL.
	if want := "[[1 NULL 100 uno] [2 20 201 two] [3 30 300 three] [4 NULL 400 four]]"; fmt.Sprint(got) != want {
		t.Errorf("rows %v\nwant %s", got, want)
	}
	if n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); err != nil || n != 0 {
		t.Errorf("%d dead letters (%v), want none", n, err)
	}
	if !strings.Contains(d.out.String(), "schema history restored") {
		t.Errorf("the restart did not restore schema history:\n%s", tail(d.out.String(), 30))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
