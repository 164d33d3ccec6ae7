package mysql

import (
	"strings"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/change"
)

func TestParseMariaPos(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"0-1-42", "0-1-42", ""},
		{" 1-2-7,\n0-1-42 ", "0-1-42,1-2-7", ""}, // sorted by domain, spaces and newlines allowed
		{"0-1-42,0-2-50", "0-2-50", ""},          // a binlog state after a failover: the later GTID
		{"0-2-50,0-1-42", "0-2-50", ""},
		{"4294967295-4294967295-18446744073709551615", "4294967295-4294967295-18446744073709551615", ""},
		{"0-1", "", "not domain-server-sequence"},
		{"0-1-x", "", "unsigned numbers"},
		{"-1-1-1", "", "not domain-server-sequence"},
		{"4294967296-1-1", "", "unsigned numbers"},
		{"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", "", "not domain-server-sequence"},
	} {
		p, err := ParseMariaPos(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseMariaPos(%q) = %v, %v; want error %q", c.in, p, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("ParseMariaPos(%q): %v", c.in, err)
		case c.err == "" && p.String() != c.want:
			t.Errorf("ParseMariaPos(%q) = %q, want %q", c.in, p, c.want)
		}
	}
}

func TestMariaPosBehindAndServable(t *testing.T) {
	p := func(s string) MariaPos { v, err := ParseMariaPos(s); mustNil(t, err); return v }
	if n := p("0-1-10,1-1-5").Behind(p("0-1-15,1-1-5,2-1-3")); n != 8 {
		t.Errorf("Behind = %d, want 8 (5 in domain 0, 3 in the new domain 2)", n)
	}
	if n := p("0-1-20").Behind(p("0-1-15")); n != 0 {
		t.Errorf("Behind of a position ahead = %d, want 0", n)
	}
	cur, oldest := p("0-1-100,1-2-50"), p("0-1-40")
	for _, c := range []struct{ pos, want string }{
		{"0-1-40", ""},
		{"0-1-100,1-2-50", ""},
		{"0-1-70,1-2-10", ""},
		{"0-1-39", "purged"},
		{"1-2-10", "the start of domain 0"},
		{"0-1-101", "ahead of the server"},
		{"0-1-50,7-1-1", "GTID 7-1-1 is ahead"},
	} {
		got := mariaServable(p(c.pos), oldest, cur)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("mariaServable(%s) = %q, want %q", c.pos, got, c.want)
		}
	}
}

func TestMySQLGTIDSets(t *testing.T) {
	const u1, u2 = "3e11fa47-71ca-11e1-9e33-c80aa9429562", "0d3ba9c3-82b6-11ee-b2e8-0242ac120002"
	set, err := parseMySQLSet(strings.ToUpper(u1) + ":1-100:200,\n" + u2 + ":1-5")
	mustNil(t, err)
	if got, want := set.String(), u2+":1-5,"+u1+":1-100:200"; got != want {
		t.Errorf("String = %q, want %q (sorted, lower case)", got, want)
	}
	if n := mysqlCount(set); n != 106 {
		t.Errorf("mysqlCount = %d, want 106", n)
	}
	stored, _ := parseMySQLSet(u1 + ":1-90")
	if n := mysqlBehind(stored, set); n != 16 {
		t.Errorf("mysqlBehind = %d, want 16", n)
	}
	purged, _ := parseMySQLSet(u1 + ":1-50")
	if r := mysqlServable(stored, set, purged); r != "" {
		t.Errorf("servable set refused: %s", r)
	}
	early, _ := parseMySQLSet(u1 + ":1-40")
	if r := mysqlServable(early, set, purged); !strings.Contains(r, "purged") {
		t.Errorf("purged set: %q", r)
	}
	ahead, _ := parseMySQLSet(u1 + ":1-300")
	if r := mysqlServable(ahead, set, purged); !strings.Contains(r, "has not executed") {
		t.Errorf("set ahead: %q", r)
	}
	if _, err := parseMySQLSet(u1 + ":tag:1-5"); err == nil {
		t.Error("a tagged GTID set parsed; cdcd does not support tagged GTIDs")
	}
}

func TestParsePositionAndVersions(t *testing.T) {
	pos, err := ParsePosition(MariaDB, " 1-2-7,0-1-42")
	mustNil(t, err)
	if pos != (change.Position{Version: 0, Token: "0-1-42,1-2-7"}) {
		t.Errorf("ParsePosition = %+v", pos)
	}
	if _, err := ParsePosition(MariaDB, "garbage"); err == nil || !strings.Contains(err.Error(), "is not a MariaDB GTID position") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := ParsePosition(MariaDB, ""); err == nil {
		t.Error("an empty MariaDB position parsed")
	}
	if _, err := ParsePosition(MySQL, "0-1-42"); err == nil || !strings.Contains(err.Error(), "is not a MySQL GTID set") {
		t.Errorf("MariaDB text as MySQL: %v", err)
	}
	c := Coord{File: 12, Pos: 4096}
	if v := c.Version(); v != 12<<32|4096 || CoordOf(v) != c {
		t.Errorf("Version %d / CoordOf %v", v, CoordOf(v))
	}
	// Versions order coordinates: a later file beats any position of an earlier one.
	if (Coord{File: 2, Pos: 4}).Version() <= (Coord{File: 1, Pos: 1<<32 - 1}).Version() {
		t.Error("versions do not order files")
	}
	for name, want := range map[string]uint32{"mysql-bin.000042": 42, "/var/lib/mysql/binlog.123456": 123456, "a.b.c.7": 7} {
		if got, err := fileSeq(name); err != nil || got != want {
			t.Errorf("fileSeq(%q) = %d, %v", name, got, err)
		}
	}
	for _, bad := range []string{"mysql-bin", "mysql-bin.", "mysql-bin.x1", "mysql-bin.99999999999"} {
		if _, err := fileSeq(bad); err == nil {
			t.Errorf("fileSeq(%q) accepted", bad)
		}
	}
	if _, err := coordOf("mysql-bin.000001", 1<<32); err == nil {
		t.Error("a position past 32 bits accepted")
	}
}

func TestFlavorDetection(t *testing.T) {
	for _, c := range []struct {
		version, comment string
		want             Flavor
	}{
		{"10.11.19-MariaDB-0+deb12u1-log", "Debian 12", MariaDB},
		{"5.5.5-10.6.12-MariaDB", "", MariaDB},
		{"11.4.2-MariaDB-ubu2404", "mariadb.org binary distribution", MariaDB},
		{"8.4.2", "MySQL Community Server - GPL", MySQL},
		{"8.0.36-28", "Percona Server (GPL), Release 28", MySQL},
		{"5.7.44-log", "MySQL Community Server (GPL)", MySQL},
	} {
		if got := DetectFlavor(c.version, c.comment); got != c.want {
			t.Errorf("DetectFlavor(%q, %q) = %s, want %s", c.version, c.comment, got, c.want)
		}
	}
	if f, err := ResolveFlavor("auto", MariaDB, "10.11"); err != nil || f != MariaDB {
		t.Errorf("auto: %v %v", f, err)
	}
	if _, err := ResolveFlavor("mysql", MariaDB, "10.11.19-MariaDB"); err == nil || !strings.Contains(err.Error(), "is mariadb") {
		t.Errorf("mismatched flavor: %v", err)
	}
	for s, want := range map[string]serverVersion{"8.4.2": {8, 4, 2}, "5.5.5-10.11.19-MariaDB": {10, 11, 19}, "8.0.36-28": {8, 0, 36}, "9": {9, 0, 0}} {
		if got := parseVersion(s); got != want {
			t.Errorf("parseVersion(%q) = %v, want %v", s, got, want)
		}
	}
	if !parseVersion("8.2.0").atLeast(8, 2) || parseVersion("8.0.40").atLeast(8, 2) {
		t.Error("atLeast")
	}
}

func TestMariaPosOfGoMySQLSet(t *testing.T) {
	set, err := gomysql.ParseMariadbGTIDSet("0-1-5,0-2-9,3-1-1")
	mustNil(t, err)
	if got := mariaPosOf(set.(*gomysql.MariadbGTIDSet)).String(); got != "0-2-9,3-1-1" {
		t.Errorf("mariaPosOf = %q, want one GTID per domain", got)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
