package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// typeColumns is the types table: every PostgreSQL type cdcd maps exactly, with its ClickHouse
// rendering expression (how the value reads back from the _current view on 18.16).
var typeColumns = []struct{ name, pgType, chExpr string }{
	{"i2", "smallint", ""}, {"i4", "integer", ""}, {"i8", "bigint", ""},
	{"n", "numeric(12,2)", ""}, {"nu", "numeric", ""}, {"r", "real", ""}, {"d", "double precision", ""},
	{"t", "text", "t"}, {"vc", "varchar(10)", "vc"}, {"c", "char(3)", "c"}, {"b", "boolean", ""},
	{"dt", "date", ""}, {"ts", "timestamp", ""}, {"tz", "timestamptz", ""}, {"tm", "time", ""},
	{"u", "uuid", ""}, {"j", "json", "j"}, {"jb", "jsonb", "jb"}, {"by", "bytea", "lower(hex(by))"},
	{"m", "mood", "m"}, {"ai", "integer[]", ""}, {"at", "text[]", ""}, {"an", "numeric(6,2)[]", ""},
	{"ai_is_null", "", ""},
}

// typeRows are rows as SQL literals (in typeColumns order, without the array null flag) and the
// text ClickHouse must hold for each column.
var typeRows = []struct {
	id   int
	sql  []string
	want []string
}{
	{1,
		[]string{"-32768", "2147483647", "-9223372036854775808", "9999999999.99", "'123456789012345678901234567890.123456789'",
			"0.1", "-2.5", "E'h\u00e9llo w\u00f6rld \u2603\\n\\ttab'", "'abc'", "'ab'", "true", "'2024-02-29'",
			"'2024-03-10 02:30:00.123456'", "'2024-03-10 01:59:59.999999-05'", "'23:59:59.999999'",
			"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", `'{"b": 1,  "a":[1,2]}'`, `'{"b": 1, "a": [1, 2]}'`, `'\x00ff10'`,
			"'happy'", "'{1,NULL,3}'", `'{"a b","c,d",NULL,"q\"uote"}'`, "'{1.50,NULL}'"},
		[]string{"-32768", "2147483647", "-9223372036854775808", "9999999999.99", "123456789012345678901234567890.123456789",
			"0.1", "-2.5", "h\u00e9llo w\u00f6rld \u2603\n\ttab", "abc", "ab ", "1", "2024-02-29",
			"1710037800123456", "1710053999999999", "86399999999",
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"b": 1,  "a":[1,2]}`, `{"a": [1, 2], "b": 1}`, "00ff10",
			"happy", "[1,NULL,3]", `['a b','c,d',NULL,'q"uote']`, "[1.50,NULL]", "0"}},
	{2,
		[]string{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		[]string{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "[]", "[]", "[]", "1"}},
	{3,
		[]string{"0", "-1", "9223372036854775807", "-0.01", "'-0.000001'", "'-Infinity'", "'1e-300'", "''", "''", "'x'", "false",
			"'2100-01-01'", "'1969-12-31 23:59:59.999999'", "'1900-01-01 00:00:00+00'", "'00:00:00'",
			"'00000000-0000-0000-0000-000000000000'", "'[]'", "'{}'", `''`, "'sad'", "'{}'", "'{}'", "'{}'"},
		[]string{"0", "-1", "9223372036854775807", "-0.01", "-0.000001", "-inf", "1e-300", "", "", "x  ", "0",
			"2100-01-01", "-1", "-2208988800000000", "0",
			"00000000-0000-0000-0000-000000000000", "[]", "{}", "", "sad", "[]", "[]", "[]", "0"}},
}

func TestPostgresTypesRoundTrip(t *testing.T) {
	for _, binary := range []bool{true, false} {
		t.Run(fmt.Sprintf("binary=%v", binary), func(t *testing.T) { testTypesRoundTrip(t, binary) })
	}
}

func testTypesRoundTrip(t *testing.T, binary bool) {
	e := newEnv(t)
	var defs []string
	for _, c := range typeColumns {
		if c.pgType != "" {
			defs = append(defs, c.name+" "+c.pgType)
		}
	}
	e.pg.Exec(t, e.pgDB, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE TABLE types (id int PRIMARY KEY, "+strings.Join(defs, ", ")+")")
	insert := func(offset int) {
		for _, r := range typeRows {
			e.pg.Exec(t, e.pgDB, fmt.Sprintf("INSERT INTO types VALUES (%d, %s)", r.id+offset, strings.Join(r.sql, ", ")))
		}
	}
	insert(0) // read by the snapshot (binary COPY)
	d := startDaemon(t, e.config(t, []string{"public.types"}, fmt.Sprintf("      binary: %v\n", binary)))
	view := "shop_public_types_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == uint64(len(typeRows)), err
	})
	insert(100) // read from the stream
	waitFor(t, 30*time.Second, "the streamed rows", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == uint64(2*len(typeRows)), err
	})

	var exprs []string
	for _, c := range typeColumns {
		ex := c.chExpr
		if ex == "" {
			ex = "toString(" + c.name + ")"
		}
		exprs = append(exprs, "ifNull("+ex+", 'NULL')")
	}
	got := e.chRows(t, "SELECT toString(id), "+strings.Join(exprs, ", ")+" FROM "+e.table(view)+" ORDER BY id")
	for i, row := range got {
		want := typeRows[i%len(typeRows)]
		path := "snapshot"
		if i >= len(typeRows) {
			path = "stream"
		}
		for j, c := range typeColumns {
			if row[j+1] != want.want[j] {
				t.Errorf("%s row %s column %s (%s): clickhouse has %q, want %q", path, row[0], c.name, c.pgType, row[j+1], want.want[j])
			}
		}
	}
	if dl, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); dl != 0 {
		t.Errorf("%d dead letters, want 0", dl)
	}
	if code, took := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d after SIGTERM (took %v)", code, took)
	}
}

// TestPostgresFallbackTypes: types without an exact mapping arrive as their PostgreSQL text in a
// String, with one warning per column, and switch the stream to text values.
func TestPostgresFallbackTypes(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE odd (id int PRIMARY KEY, iv interval, ip inet, pt point, ivs interval[])",
		"INSERT INTO odd VALUES (1, '1 day 02:00:00', '10.0.0.1/8', '(1,2)', '{1 hour,NULL}')")
	d := startDaemon(t, e.config(t, []string{"public.odd"}, ""))
	view := "shop_public_odd_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 1, err
	})
	e.pg.Exec(t, e.pgDB, "INSERT INTO odd VALUES (2, '-3 mons', '::1', '(0.5,-1)', NULL)")
	waitFor(t, 30*time.Second, "the streamed row", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 2, err
	})
	got := e.chRows(t, "SELECT toString(id), iv, ip, pt, ifNull(ivs, 'NULL') FROM "+e.table(view)+" ORDER BY id")
	want := [][]string{{"1", "1 day 02:00:00", "10.0.0.1/8", "(1,2)", "{01:00:00,NULL}"}, {"2", "-3 mons", "::1", "(0.5,-1)", "NULL"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("clickhouse has %q, want %q", got, want)
	}
	types := e.chRows(t, "SELECT name, type FROM system.columns WHERE database = '"+e.chDB+"' AND table = 'shop_public_odd' AND name = 'iv'")
	if len(types) != 1 || types[0][1] != "Nullable(String)" {
		t.Errorf("column iv is %v, want Nullable(String)", types)
	}
	d.stop()
	out := d.out.String()
	for _, c := range []string{"iv", "ip", "pt", "ivs"} {
		if n := strings.Count(out, "column="+c+" "); n != 1 {
			t.Errorf("%d warnings about column %s, want exactly 1", n, c)
		}
	}
}

// TestPostgresDeadLetters: values ClickHouse cannot hold exactly send their row to the dead-letter
// table with the reason; the other rows flow.
func TestPostgresDeadLetters(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE bad (id int PRIMARY KEY, ts timestamptz, nu numeric, dt date)")
	d := startDaemon(t, e.config(t, []string{"public.bad"}, ""))
	e.pg.Exec(t, e.pgDB, "INSERT INTO bad VALUES (1, now(), 1, '2020-01-01')",
		"INSERT INTO bad VALUES (2, 'infinity', 1, '2020-01-01')",
		"INSERT INTO bad VALUES (3, now(), 'NaN', '2020-01-01')",
		"INSERT INTO bad VALUES (4, now(), 2, '1960-01-01')",
		"INSERT INTO bad VALUES (5, now(), 3, '2020-01-02')")
	waitFor(t, 30*time.Second, "good rows and dead letters", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_bad_current"))
		if err != nil || n != 2 {
			return false, err
		}
		m, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters"))
		return m == 3, err
	})
	rows := e.chRows(t, "SELECT table, op, error, record FROM "+e.table("_cdcd_dead_letters")+" ORDER BY record")
	for i, want := range []string{"infinity", "NaN", "1960-01-01"} {
		if rows[i][0] != "public.bad" || rows[i][1] != "insert" || !strings.Contains(rows[i][2], "column") {
			t.Errorf("dead letter %d: %v", i, rows[i])
		}
		found := false
		for _, r := range rows {
			if strings.Contains(r[2]+r[3], want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no dead letter mentions %q: %v", want, rows)
		}
	}
	d.stop()
}
