package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// myTypeColumns is the MySQL types table: every type cdcd maps, with its ClickHouse rendering
// expression ("" for toString) and, per row, a SQL literal and the text ClickHouse must hold.
var myTypeColumns = []struct {
	name, typ, chExpr string
	lits, want        [3]string
}{
	{"ti", "tinyint", "", [3]string{"-128", "NULL", "127"}, [3]string{"-128", "NULL", "127"}},
	{"tiu", "tinyint unsigned", "", [3]string{"255", "NULL", "0"}, [3]string{"255", "NULL", "0"}},
	{"si", "smallint", "", [3]string{"-32768", "NULL", "32767"}, [3]string{"-32768", "NULL", "32767"}},
	{"siu", "smallint unsigned", "", [3]string{"65535", "NULL", "1"}, [3]string{"65535", "NULL", "1"}},
	{"mi", "mediumint", "", [3]string{"-8388608", "NULL", "8388607"}, [3]string{"-8388608", "NULL", "8388607"}},
	{"miu", "mediumint unsigned", "", [3]string{"16777215", "NULL", "0"}, [3]string{"16777215", "NULL", "0"}},
	{"i", "int", "", [3]string{"-2147483648", "NULL", "2147483647"}, [3]string{"-2147483648", "NULL", "2147483647"}},
	{"iu", "int unsigned", "", [3]string{"4294967295", "NULL", "0"}, [3]string{"4294967295", "NULL", "0"}},
	{"bi", "bigint", "", [3]string{"-9223372036854775808", "NULL", "9223372036854775807"}, [3]string{"-9223372036854775808", "NULL", "9223372036854775807"}},
	{"biu", "bigint unsigned", "", [3]string{"18446744073709551615", "NULL", "9223372036854775808"}, [3]string{"18446744073709551615", "NULL", "9223372036854775808"}},
	{"d1", "decimal(12,2)", "", [3]string{"-9999999999.99", "NULL", "1.5"}, [3]string{"-9999999999.99", "NULL", "1.50"}},
	{"d2", "decimal(65,30)", "", [3]string{"'-99999999999999999999999999999999999.999999999999999999999999999999'", "NULL", "'0.000000000000000000000000000001'"},
		[3]string{"-99999999999999999999999999999999999.999999999999999999999999999999", "NULL", "0.000000000000000000000000000001"}},
	{"d3", "decimal(18,0)", "", [3]string{"999999999999999999", "NULL", "0"}, [3]string{"999999999999999999", "NULL", "0"}},
	{"f", "float", "", [3]string{"123456.789", "NULL", "-0.5"}, [3]string{"123456.79", "NULL", "-0.5"}},
	{"db", "double", "", [3]string{"0.1", "NULL", "-1.7976931348623157e308"}, [3]string{"0.1", "NULL", "-1.7976931348623157e308"}},
	{"c", "char(5)", "c", [3]string{"'ab'", "NULL", "''"}, [3]string{"ab", "NULL", ""}},
	{"vc", "varchar(300)", "vc", [3]string{"'h\u00e9llo \u2603 \U0001F600 ''q'' \\\\'", "NULL", "''"}, [3]string{"h\u00e9llo \u2603 \U0001F600 'q' \\", "NULL", ""}},
	{"tx", "text", "toString(length(tx))", [3]string{"REPEAT('x', 35000)", "NULL", "'t'"}, [3]string{"35000", "NULL", "1"}},
	{"bn", "binary(4)", "lower(hex(bn))", [3]string{"X'0102'", "NULL", "X'00000000'"}, [3]string{"01020000", "NULL", "00000000"}},
	{"vb", "varbinary(10)", "lower(hex(vb))", [3]string{"X'00FF10'", "NULL", "''"}, [3]string{"00ff10", "NULL", ""}},
	{"bl", "blob", "lower(hex(bl))", [3]string{"X'DEADBEEF00'", "NULL", "''"}, [3]string{"deadbeef00", "NULL", ""}},
	{"dt", "date", "", [3]string{"'2024-02-29'", "NULL", "'2105-12-31'"}, [3]string{"2024-02-29", "NULL", "2105-12-31"}},
	{"dtm", "datetime(6)", "", [3]string{"'2024-03-10 02:30:00.123456'", "NULL", "'1969-12-31 23:59:59.999999'"}, [3]string{"1710037800123456", "NULL", "-1"}},
	{"dtm0", "datetime", "", [3]string{"'1970-01-01 00:00:00'", "NULL", "'2038-01-19 03:14:08'"}, [3]string{"0", "NULL", "2147483648000000"}},
	{"tsz", "timestamp(6) NULL", "", [3]string{"'2024-03-10 06:59:59.999999'", "NULL", "'1970-01-01 00:00:01'"}, [3]string{"1710053999999999", "NULL", "1000000"}},
	// TIME is a duration in MySQL: its whole range (-838:59:59 to 838:59:59) is kept, as microseconds.
	{"tm", "time(6)", "", [3]string{"'23:59:59.999999'", "NULL", "'00:00:00.000001'"}, [3]string{"86399999999", "NULL", "1"}},
	{"tm0", "time", "", [3]string{"'00:00:00'", "NULL", "'23:59:59'"}, [3]string{"0", "NULL", "86399000000"}},
	{"tmr", "time(1)", "", [3]string{"'-838:59:59'", "NULL", "'100:00:00.5'"}, [3]string{"-3020399000000", "NULL", "360000500000"}},
	{"y", "year", "", [3]string{"2155", "NULL", "1901"}, [3]string{"2155", "NULL", "1901"}},
	{"e", "enum('a','b c','d''q')", "e", [3]string{"'d''q'", "NULL", "'a'"}, [3]string{"d'q", "NULL", "a"}},
	{"st", "set('x','y','z')", "st", [3]string{"'z,x'", "NULL", "''"}, [3]string{"x,z", "NULL", ""}},
	{"j", "json", "j", [3]string{`'{"b": 1,  "a":[1,2.50,"\\u00e9"]}'`, "NULL", "'[]'"}, [3]string{`{"b": 1,  "a":[1,2.50,"\u00e9"]}`, "NULL", "[]"}},
	{"b1", "bit(1)", "", [3]string{"b'1'", "NULL", "b'0'"}, [3]string{"1", "NULL", "0"}},
	{"b64", "bit(64)", "", [3]string{"18446744073709551615", "NULL", "1"}, [3]string{"18446744073709551615", "NULL", "1"}},
	{"l1", "varchar(20) character set latin1", "l1", [3]string{"'caf\u00e9 \u20ac'", "NULL", "''"}, [3]string{"caf\u00e9 \u20ac", "NULL", ""}},
}

// TestMySQLTypesRoundTrip: every MySQL type, through the snapshot and the stream, reads back from
// ClickHouse exactly as MariaDB holds it, NULLs included.
func TestMySQLTypesRoundTrip(t *testing.T) {
	e := newMyEnv(t)
	defs := []string{"id int PRIMARY KEY"}
	for _, c := range myTypeColumns {
		defs = append(defs, "`"+c.name+"` "+c.typ)
	}
	e.exec(t, "CREATE TABLE types ("+strings.Join(defs, ", ")+")")
	insert := func(offset int) {
		for r := 0; r < 3; r++ {
			vals := []string{fmt.Sprint(offset + r + 1)}
			for _, c := range myTypeColumns {
				vals = append(vals, c.lits[r])
			}
			e.exec(t, "INSERT INTO types VALUES ("+strings.Join(vals, ", ")+")")
		}
	}
	insert(0) // read by the snapshot
	d := startDaemon(t, e.config(t, []string{"types"}, ""))
	view := e.chName("types") + "_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 3, err
	})
	insert(100) // read from the binlog
	waitFor(t, 30*time.Second, "the streamed rows", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 6, err
	})
	var exprs []string
	for _, c := range myTypeColumns {
		ex := c.chExpr
		if ex == "" {
			ex = "toString(" + c.name + ")"
		}
		exprs = append(exprs, "ifNull("+ex+", 'NULL')")
	}
	got := e.chRows(t, "SELECT toString(id), "+strings.Join(exprs, ", ")+" FROM "+e.table(view)+" ORDER BY id")
	for i, row := range got {
		path := "snapshot"
		if i >= 3 {
			path = "stream"
		}
		for j, c := range myTypeColumns {
			if want := c.want[i%3]; row[j+1] != want {
				t.Errorf("%s row %s column %s (%s): clickhouse has %q, want %q", path, row[0], c.name, c.typ, row[j+1], want)
			}
		}
	}
	if n, _ := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); n != 0 {
		t.Errorf("%d dead letters: %v", n, e.chRows(t, "SELECT error FROM "+e.table("_cdcd_dead_letters")))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
