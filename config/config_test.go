package config

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// setTestEnv sets the variables the testdata files use and makes sure CDCD_TEST_UNSET is unset.
func setTestEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"CDCD_TEST_CH_HOST":        "ch2",
		"CDCD_TEST_ROWS":           "5000",
		"CDCD_TEST_PG_PASSWORD":    "p@ss w:rd/%",
		"CDCD_TEST_MYSQL_PASSWORD": "my:p@ss/w%rd",
		"CDCD_TEST_INSERT_ONLY":    "true",
		"CDCD_TEST_CH_USER":        "", // set but empty: :- takes the default
		"CDCD_TEST_UNSET":          "",
		"CDCD_TEST_KEY":            "user",
	} {
		t.Setenv(k, v)
	}
	os.Unsetenv("CDCD_TEST_UNSET")
	os.Unsetenv("CDCD_TEST_WHERE")
}

// TestBadFiles loads every testdata/*.bad.yml and expects the error on its first line,
// "# error: <message>", where message is the error's text after "config <file>: ".
func TestBadFiles(t *testing.T) {
	setTestEnv(t)
	files, err := filepath.Glob("testdata/*.bad.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("found %d bad files, want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".bad.yml"), func(t *testing.T) {
			want := expectedError(t, file)
			c, err := Load(file)
			if err == nil {
				t.Fatalf("loaded; want error %q\n%s", want, c)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *config.Error: %v", err, err)
			}
			prefix := "config " + file + ": "
			got, ok := strings.CutPrefix(err.Error(), prefix)
			if !ok {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			if got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
			if strings.Contains(got, "hunter2") || strings.Contains(got, "secret") {
				t.Errorf("error %q shows a password", got)
			}
		})
	}
}

func expectedError(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	want, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "# error: ")
	if !ok {
		t.Fatalf("first line %q is not # error: <message>", line)
	}
	return want
}

// TestGoodFiles loads every testdata/*.good.yml; the tests below check what they hold.
func TestGoodFiles(t *testing.T) {
	setTestEnv(t)
	files, _ := filepath.Glob("testdata/*.good.yml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, file := range files {
		if _, err := Load(file); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func mustLoad(t *testing.T, file string) *Config {
	t.Helper()
	setTestEnv(t)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func check[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, "testdata/minimal.good.yml")
	ch := c.ClickHouse
	check(t, "clickhouse.addr", strings.Join(ch.Addr, ","), "127.0.0.1:9000")
	check(t, "clickhouse.database", ch.Database, "cdc")
	check(t, "clickhouse.user", ch.User, "default")
	check(t, "clickhouse.password", ch.Password, "")
	check(t, "clickhouse.tls", ch.TLS, TLS{})
	check(t, "clickhouse.dial_timeout", ch.DialTimeout, Duration(5*time.Second))
	check(t, "clickhouse.batch", ch.Batch, Batch{Rows: 50000, Bytes: 32 << 20, Interval: Duration(50 * time.Millisecond)})
	check(t, "registry", c.Registry, Registry{
		Listen: "127.0.0.1:8081", Compatibility: "BACKWARD", SubjectTemplate: "{source}.{schema}.{table}-value",
		HaltRetry: Duration(30 * time.Second),
	})
	check(t, "log", c.Log, Log{Level: "info", Format: "text"})
	check(t, "metrics", c.Metrics, Metrics{})
	if len(c.Sources) != 1 || c.Aggregations != nil {
		t.Fatalf("sources %d, aggregations %v", len(c.Sources), c.Aggregations)
	}
	s := c.Sources[0]
	check(t, "kind", s.Kind(), "postgres")
	p := s.Postgres
	check(t, "tables", len(p.Tables), 1)
	check(t, "tables[0]", p.Tables[0], TableName{Schema: "public", Name: "orders", Raw: "orders"})
	check(t, "slot", p.Slot, "cdcd_shop")
	check(t, "publication", p.Publication, "cdcd_shop")
	check(t, "snapshot", p.Snapshot, "initial")
	check(t, "binary", p.Binary, true)
	check(t, "status_interval", p.StatusInterval, Duration(10*time.Second))

	d := Default()
	check(t, "Default().ClickHouse.Batch", d.ClickHouse.Batch, ch.Batch)
	check(t, "Default().Registry", d.Registry, c.Registry)
}

func TestFullFile(t *testing.T) {
	c := mustLoad(t, "testdata/full.good.yml")
	ch := c.ClickHouse
	check(t, "clickhouse.addr", strings.Join(ch.Addr, ","), "ch1:9000,ch2:9000")
	check(t, "clickhouse.user", ch.User, "cdcd")
	check(t, "clickhouse.password", ch.Password, "s3cret:@/%")
	check(t, "clickhouse.password_file", ch.PasswordFile, filepath.Join("testdata", "clickhouse_password.txt"))
	check(t, "clickhouse.tls", ch.TLS, TLS{Enabled: true, CAFile: filepath.Join("testdata", "ca.pem"), InsecureSkipVerify: true})
	check(t, "clickhouse.dial_timeout", ch.DialTimeout, Duration(90*time.Second))
	check(t, "clickhouse.batch", ch.Batch, Batch{Rows: 5000, Bytes: 1e9, Interval: Duration(250 * time.Millisecond)})

	r := c.Registry
	check(t, "registry.password", r.Password, "reg-pass")
	check(t, "registry.compatibility", r.Compatibility, "FULL_TRANSITIVE")
	check(t, "registry subject", r.Subject("shop", "public", "orders"), "cdc-shop-orders")
	check(t, "log", c.Log, Log{Level: "debug", Format: "json"})
	check(t, "metrics.listen", c.Metrics.Listen, ":9187")

	shop, ok := c.Source("shop")
	if !ok || shop.Postgres == nil {
		t.Fatalf("Source(shop) = %v, %v", shop, ok)
	}
	p := shop.Postgres
	check(t, "postgres.dsn", p.DSN, "host=db.example port=5432 dbname=shop user=cdcd password='p@ss w:rd/%' sslmode=disable")
	check(t, "postgres.tables[1]", p.Tables[1], TableName{Schema: "Sales", Name: "Q1.Totals", Raw: `"Sales"."Q1.Totals"`})
	check(t, "postgres.slot", p.Slot, "shop_slot")
	check(t, "postgres.publication", p.Publication, "shop_pub")
	check(t, "postgres.snapshot", p.Snapshot, "never")
	check(t, "postgres.binary", p.Binary, false)
	check(t, "postgres.status_interval", p.StatusInterval, Duration(2*time.Second))

	legacy, _ := c.Source("legacy")
	m := legacy.MySQL
	check(t, "kind", legacy.Kind(), "mysql")
	check(t, "mysql.dsn", m.DSN, "cdcd:my:p@ss/w%rd@tcp(mysql.example:3306)/?timeout=5s")
	check(t, "mysql.tables[0]", m.Tables[0], TableName{Schema: "my db", Name: "t.1", Raw: "`my db`.`t.1`"})
	check(t, "mysql.server_id", m.ServerID, uint32(4294967295))
	check(t, "mysql.flavor", m.Flavor, "mariadb")
	dsn, err := ParseMySQLDSN(m.DSN)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "mysql dsn password", dsn.Password, "my:p@ss/w%rd")
	check(t, "mysql dsn addr", dsn.Addr, "mysql.example:3306")
	check(t, "mysql dsn timeout", dsn.Params["timeout"], "5s")

	// The aggregation is kept raw, expanded, for package transform.
	var agg struct {
		GroupBy    []string          `yaml:"group_by"`
		Where      string            `yaml:"where"`
		Measures   map[string]string `yaml:"measures"`
		InsertOnly bool              `yaml:"insert_only"`
	}
	a := c.Aggregations[0]
	check(t, "aggregation name", a.Name, "revenue")
	check(t, "aggregation from", a.From, "shop.public.orders")
	if err := a.Spec.Decode(&agg); err != nil {
		t.Fatal(err)
	}
	check(t, "where", agg.Where, "status <> 'cancelled'")
	check(t, "insert_only", agg.InsertOnly, true)
	check(t, "measures", agg.Measures["revenue"], "sum(amount)")
}

func TestAnchorsNullsAndLiterals(t *testing.T) {
	c := mustLoad(t, "testdata/anchors.good.yml")
	check(t, "clickhouse.password", c.ClickHouse.Password, "pa$$word${NOT_EXPANDED}")
	check(t, "clickhouse.batch.rows", c.ClickHouse.Batch.Rows, 50000)
	check(t, "registry.listen", c.Registry.Listen, "")
	check(t, "log.level", c.Log.Level, "info")
	b := c.Sources[1].Postgres
	check(t, "b tables", len(b.Tables), 2)
	check(t, "b slot", b.Slot, "cdcd_b")
}

func TestReference(t *testing.T) {
	setTestEnv(t)
	t.Setenv("SHOP_PG_PASSWORD", "pg-secret")
	t.Setenv("LEGACY_MYSQL_PASSWORD", "my-secret")
	c, err := LoadBytes("reference.yml", []byte(Reference()))
	if err != nil {
		t.Fatal(err)
	}
	// The reference shows the defaults: apart from its sources and aggregations it is Default().
	d := Default()
	check(t, "clickhouse.database", c.ClickHouse.Database, d.ClickHouse.Database)
	check(t, "clickhouse.batch", c.ClickHouse.Batch, d.ClickHouse.Batch)
	check(t, "registry", c.Registry, d.Registry)
	check(t, "log", c.Log, d.Log)
	check(t, "tables[2]", c.Sources[0].Postgres.Tables[2], TableName{Schema: "Sales", Name: "Q1.Totals", Raw: `"Sales"."Q1.Totals"`})
}

// TestComposeExample keeps the docker-compose example loadable.
func TestComposeExample(t *testing.T) {
	t.Setenv("PG_PASSWORD", "pg")
	t.Setenv("MYSQL_PASSWORD", "my")
	if _, err := Load("../examples/cdcd.compose.yaml"); err != nil {
		t.Fatal(err)
	}
}

// TestExpansionCannotInject: a variable's value stays inside its scalar, whatever YAML it holds.
func TestExpansionCannotInject(t *testing.T) {
	evil := "x\n  evil: 1\nsources: []\n- {"
	t.Setenv("CDCD_TEST_EVIL", evil)
	c, err := LoadBytes("evil.yml", []byte(`
clickhouse:
  addr: 127.0.0.1:9000
  password: ${CDCD_TEST_EVIL}
sources:
  - name: shop
    postgres: {dsn: "postgres://h/db", tables: [orders]}
aggregations:
  - name: agg
    from: shop.public.orders
    where: "${CDCD_TEST_EVIL}"
    measures:
      n: ${CDCD_TEST_EVIL}
`))
	if err != nil {
		t.Fatal(err)
	}
	check(t, "password", c.ClickHouse.Password, evil)
	check(t, "sources", len(c.Sources), 1)
	var spec map[string]any
	if err := c.Aggregations[0].Spec.Decode(&spec); err != nil {
		t.Fatal(err)
	}
	if _, ok := spec["evil"]; ok || len(spec) != 4 {
		t.Errorf("spec = %v; the variable added keys", spec)
	}
	check(t, "where", spec["where"].(string), evil)
	check(t, "measures.n", spec["measures"].(map[string]any)["n"].(string), evil)
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{File: "a.yml", Field: "sources[1].postgres.dsn", Message: "is required"}, "config a.yml: sources[1].postgres.dsn: is required"},
		{&Error{File: "a.yml", Message: "line 3: bad"}, "config a.yml: line 3: bad"},
		{&Error{Field: "log.level", Message: "bad"}, "config: log.level: bad"},
	} {
		check(t, "Error()", tc.err.Error(), tc.want)
	}
	_, err := Load("testdata/no-such-file.yml")
	check(t, "missing file", err.Error(), "config testdata/no-such-file.yml: cannot open: no such file or directory")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%v does not unwrap to os.ErrNotExist", err)
	}
}

// TestValidateInCode: Validate works on a Config built in code, and again on a loaded one.
func TestValidateInCode(t *testing.T) {
	c := Default()
	c.ClickHouse.Addr = []string{"ch:9000"}
	c.Sources = []Source{{Name: "s", MySQL: &MySQL{DSN: "u@tcp(h:3306)/", ServerID: 7, Flavor: "auto", Snapshot: "initial",
		Tables: []TableName{{Schema: "db", Name: "t"}}}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Sources[0].MySQL.ServerID = 0
	check(t, "error", c.Validate().Error(), "config: sources[0].mysql.server_id: is required (1..4294967295)")

	loaded := mustLoad(t, "testdata/full.good.yml")
	if err := loaded.Validate(); err != nil {
		t.Errorf("second Validate: %v", err)
	}
}

func TestTableNames(t *testing.T) {
	for _, tc := range []struct {
		d          dialect
		raw        string
		schema, nm string
	}{
		{postgresTables, "orders", "public", "orders"},
		{postgresTables, "Public.Orders", "public", "orders"},
		{postgresTables, `"Public"."Orders"`, "Public", "Orders"},
		{postgresTables, `"My Schema"."Odd.Table"`, "My Schema", "Odd.Table"},
		{postgresTables, `s."a""b"`, "s", `a"b`},
		{postgresTables, `"x.y"`, "public", "x.y"},
		{postgresTables, "s.t$1", "s", "t$1"},
		{mysqlTables, "shop.orders", "shop", "orders"},
		{mysqlTables, "Shop.Orders", "Shop", "Orders"},
		{mysqlTables, "`my db`.`t.1`", "my db", "t.1"},
		{mysqlTables, "`a``b`.2024_t", "a`b", "2024_t"},
	} {
		got, err := tc.d.parse(tc.raw)
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		check(t, tc.raw, got, TableName{Schema: tc.schema, Name: tc.nm, Raw: tc.raw})
	}
	for _, raw := range []string{"", ".", "a..b", `"a"b`, `"a`, "1t", "a b", "s.é", strings.Repeat("x", 64)} {
		if got, err := postgresTables.parse(raw); err == nil {
			t.Errorf("%q parsed as %+v", raw, got)
		}
	}
}

func TestRedactedString(t *testing.T) {
	c := mustLoad(t, "testdata/full.good.yml")
	s := c.String()
	for _, secret := range append(c.Secrets(), "s3cret", "reg-pass", "p@ss w:rd", "my:p@ss") {
		if strings.Contains(s, secret) {
			t.Errorf("String() shows %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{"password='xxxxx'", "cdcd:xxxxx@tcp(mysql.example:3306)/", "bytes: 1GB", "dial_timeout: 1m30s", "`my db`.`t.1`"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	// The redacted copy is itself a valid config, and printing it did not change c.
	var back Config
	if err := yaml.Unmarshal([]byte(s), &back); err != nil {
		t.Errorf("String() is not YAML: %v", err)
	}
	check(t, "original password", c.ClickHouse.Password, "s3cret:@/%")
	check(t, "%#v", strings.Contains(fmtGo(c), "s3cret"), false)
}
