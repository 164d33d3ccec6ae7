package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func fmtGo(v any) string { return fmt.Sprintf("%#v", v) }

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		// PostgreSQL URLs.
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"postgresql://u:secret@h:5432/db?sslmode=disable", "postgresql://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u:p%40ss%3Aw%2Frd@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:p@ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:pa/ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:pa?ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:a:b%c@h1:5432,h2:5432/db", "postgres://u:xxxxx@h1:5432,h2:5432/db"},
		{"postgres://u@h/db?password=secret&sslmode=require", "postgres://u@h/db?password=xxxxx&sslmode=require"},
		{"postgres://h/db?sslpassword=key%20pw&PASSWORD=s", "postgres://h/db?sslpassword=xxxxx&PASSWORD=xxxxx"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u:@h/db", "postgres://u:@h/db"},
		// PostgreSQL keyword/value.
		{"host=h password=secret dbname=db", "host=h password=xxxxx dbname=db"},
		{"host=h password='se cret' dbname=db", "host=h password='xxxxx' dbname=db"},
		{"password = 'it\\'s @:/%' user=u", "password = 'xxxxx' user=u"},
		{"user=u password=p\\ w", "user=u password=xxxxx"},
		{"user=u sslpassword=k password='unterminated", "user=u sslpassword=xxxxx password='xxxxx"},
		{"host=h dbname=db", "host=h dbname=db"},
		// go-sql-driver/mysql.
		{"u:secret@tcp(h:3306)/", "u:xxxxx@tcp(h:3306)/"},
		{"u:s@c:r/t%@tcp(h:3306)/db?timeout=5s", "u:xxxxx@tcp(h:3306)/db?timeout=5s"},
		{"u:secret@/db", "u:xxxxx@/db"},
		{"u@tcp(h:3306)/db", "u@tcp(h:3306)/db"},
		{"u:secret@tcp(h:3306)", "u:xxxxx@tcp(h:3306)"},
		// Not a DSN.
		{"", ""},
		{"just text", "just text"},
	} {
		if got := RedactDSN(tc.dsn); got != tc.want {
			t.Errorf("RedactDSN(%q)\n got %q\nwant %q", tc.dsn, got, tc.want)
		}
	}
}

func TestDSNSecrets(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want []string
	}{
		{"postgres://u:p%40ss@h/db?password=a%2Bb", []string{"p%40ss", "p@ss", "a%2Bb", "a+b"}},
		{"host=h password='it\\'s'", []string{"it\\'s", "it's"}},
		{"u:s@c:r/t%@tcp(h:3306)/", []string{"s@c:r/t%"}},
		{"postgres://u@h/db", nil},
	} {
		if got := dsnSecrets(tc.dsn); !slices.Equal(got, tc.want) {
			t.Errorf("dsnSecrets(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	c := mustLoad(t, "testdata/full.good.yml")
	want := []string{"my:p@ss/w%rd", "p@ss w:rd/%", "reg-pass", "s3cret:@/%"}
	if got := c.Secrets(); !slices.Equal(got, want) {
		t.Errorf("Secrets() = %q, want %q", got, want)
	}
	redact := NewRedactor(c.Secrets())
	line := `connecting to cdcd:my:p@ss/w%rd@tcp(mysql.example:3306)/ with "s3cret:@/%" and reg-pass`
	check(t, "redacted", redact(line), `connecting to cdcd:xxxxx@tcp(mysql.example:3306)/ with "xxxxx" and xxxxx`)
}

func TestRedactor(t *testing.T) {
	var f func(string) string = NewRedactor([]string{"abc", "", "abcdef", "x"})
	check(t, "overlap", f("abcdef abc abcd"), "xxxxx xxxxx xxxxxd")
	check(t, "one char", f("xyz"), "xxxxxyz")
	check(t, "none", NewRedactor(nil)("secret"), "secret")
	check(t, "empty only", NewRedactor([]string{""})("secret"), "secret")
}

func TestRedactedCopy(t *testing.T) {
	c := mustLoad(t, "testdata/full.good.yml")
	r := c.Redacted()
	check(t, "clickhouse.password", r.ClickHouse.Password, "xxxxx")
	check(t, "registry.password", r.Registry.Password, "xxxxx")
	check(t, "postgres.dsn", r.Sources[0].Postgres.DSN, "host=db.example port=5432 dbname=shop user=cdcd password='xxxxx' sslmode=disable")
	r.Sources[1].MySQL.Flavor = "mysql"
	r.ClickHouse.Addr[0] = "changed"
	check(t, "original flavor", c.Sources[1].MySQL.Flavor, "mariadb")
	check(t, "original addr", c.ClickHouse.Addr[0], "ch1:9000")
	if strings.Contains(fmt.Sprint(c), "s3cret") || strings.Contains(fmt.Sprintf("%+v", c), "s3cret") {
		t.Error("printing the config shows a password")
	}
}
