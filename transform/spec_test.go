package transform

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
)

// TestYAMLAndSQLAgree: both forms of one aggregation parse to equal Specs.
func TestYAMLAndSQLAgree(t *testing.T) {
	for _, tc := range []struct{ name, yaml, sql string }{{
		name: "the issue's example",
		yaml: `
name: revenue_by_account
from: shop.public.orders
group_by: [account_id]
where: "status = 'paid'"
window: {column: created_at, size: 1m}
measures:
  orders: count()
  revenue: sum(amount)
  avg_order: avg(amount)
  biggest: max(amount)
  smallest: min(amount)
  buyers: count_distinct(customer_id)
`,
		sql: `
name: revenue_by_account
sql: |
  SELECT account_id, window_start, window_end,
         count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_order,
         max(amount) AS biggest, min(amount) AS smallest, count(DISTINCT customer_id) AS buyers
  FROM shop.public.orders
  WHERE status = 'paid'
  GROUP BY account_id, tumble(created_at, INTERVAL '1 minute')
`,
	}, {
		name: "hopping window, every kind of condition",
		yaml: `
name: h
from: shop.public.orders
group_by: [status, account_id]
where: "(status IN ('paid', 'it''s') OR amount >= 100.50) AND note IS NOT NULL AND NOT customer_id = -1 AND flag = TRUE AND x NOT IN (1, NULL) AND y IS NULL AND z <> 'a' AND w < .5 AND v <= 007"
window: {column: created_at, size: 5m, hop: 1m}
measures: {n: count(*), c: count(note), d: count(DISTINCT customer_id)}
insert_only: true
max_groups: 1000
`,
		sql: `
name: h
insert_only: true
max_groups: 1000
sql: |
  select status, account_id, count(1) as n, count(note) as c, count_distinct(customer_id) as d
  from shop.public.orders -- the three-part name
  where (status in ('paid', 'it''s') or amount >= 100.50) and note is not null
    and not customer_id = -1 and flag = true and x not in (1, null) and y is null
    and z != 'a' and w < 0.5 and 7 >= v
  group by status, account_id, hop(created_at, INTERVAL 5 MINUTE, INTERVAL '1' MINUTE)
`,
	}, {
		name: "quoted names, alias, BETWEEN, comments",
		yaml: `
name: q
from: shop.public.orders
group_by: ["Account Id"]
where: "\"weird\"\"col\" >= 1 AND \"weird\"\"col\" <= 2 AND (a < 0 OR a > 9)"
measures: {total: sum("Amount $"), lo: min(a)}
`,
		sql: `
name: q
sql: |
  SELECT "Account Id", sum("Amount $") AS total, /* a comment */ min(o.a) AS lo
  FROM "shop".public.` + "`orders`" + ` AS o
  WHERE "weird""col" BETWEEN 1 AND 2 AND a NOT BETWEEN 0 AND 9
  GROUP BY o."Account Id"
`,
	}, {
		name: "columns alone as conditions",
		yaml: `
name: b
from: shop.public.orders
group_by: [status]
where: "paid AND NOT (archived OR \"Flag\")"
measures: {n: count()}
`,
		sql: `
name: b
sql: SELECT status, count(*) AS n FROM shop.public.orders WHERE paid AND NOT (archived OR "Flag") GROUP BY status
`,
	}, {
		name: "no group columns, window sizes as strings",
		yaml: `
name: g
from: shop.public.orders
window: {column: created_at, size: 1h, hop: 30m}
measures: {n: count()}
`,
		sql: `
name: g
sql: SELECT count(*) AS n FROM shop.public.orders GROUP BY hop(created_at, '1 hour', '30m')
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			y := mustSpec(t, tc.yaml)
			s := mustSpec(t, tc.sql)
			if !reflect.DeepEqual(y, s) {
				t.Errorf("YAML form:\n%#v\nwhere %v\nSQL form:\n%#v\nwhere %v", y, y.Where, s, s.Where)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	s := mustSpec(t, revenueYAML)
	want := &Spec{
		Name:    "revenue_by_account",
		From:    change.TableID{Source: "shop", Namespace: "public", Name: "orders"},
		GroupBy: []string{"account_id"},
		Where:   Compare{Column: "status", Op: OpEq, Value: Literal{Kind: LitString, Text: "paid"}},
		Measures: []Measure{
			{"orders", Count, ""}, {"revenue", Sum, "amount"}, {"avg_order", Avg, "amount"},
			{"biggest", Max, "amount"}, {"smallest", Min, "amount"}, {"buyers", CountDistinct, "customer_id"},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %#v\nwant %#v", s, want)
	}
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30s", 30 * time.Second}, {"1m", time.Minute}, {"5m", 5 * time.Minute}, {"1h", time.Hour},
		{"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"1h30m", 90 * time.Minute},
		{"1 minute", time.Minute}, {"5 MINUTES", 5 * time.Minute}, {"2 hours", 2 * time.Hour},
		{"1 week", 7 * 24 * time.Hour}, {"500ms", 500 * time.Millisecond}, {" 10 second ", 10 * time.Second},
	} {
		if got, err := ParseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1", "0s", "-1m", "1x", "1.5d", "1 fortnight", "1ns", "m"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
}

// TestParseSpecErrors: every error names the field and, for where and sql, the token and its
// position.
func TestParseSpecErrors(t *testing.T) {
	const base = "name: a\nfrom: shop.public.orders\n"
	const ms = "measures: {n: count()}\n"
	for _, tc := range []struct{ in, want string }{
		// YAML form.
		{"name: Bad\nfrom: shop.public.orders\n" + ms, `aggregations[0].name: "Bad" must match ^[a-z0-9_]+$`},
		{"name: a\n" + ms, `aggregations[0].from: is required (or write the aggregation as sql)`},
		{"name: a\nfrom: shop.orders\n" + ms, `aggregations[0].from: "shop.orders" must be source.schema.table`},
		{"name: a\nfrom: nope.public.orders\n" + ms, `aggregations[0].from: source "nope" is not configured`},
		{base + ms + "colour: red\n", `aggregations[0].colour: is not a setting of an aggregation; use name, from, group_by, where, window, measures, insert_only, max_groups or sql`},
		{base, `aggregations[0].measures: at least one measure is required, like orders: count()`},
		{base + "measures: [count()]\n", `aggregations[0].measures: must be a mapping of names to aggregates, like revenue: sum(amount)`},
		{base + "measures: {n: median(x)}\n", `aggregations[0].measures.n: unexpected "median" at 1: expected count, count_distinct, sum, avg, min or max`},
		{base + "measures: {n: sum()}\n", `aggregations[0].measures.n: unexpected ")" at 5: expected a column`},
		{base + "measures: {n: \"sum(a, b)\"}\n", `aggregations[0].measures.n: unexpected "," at 6: expected ")"`},
		{base + "measures: {n: sum(a) + 1}\n", `aggregations[0].measures.n: unexpected "+" at 8`},
		{base + "measures: {n: count(*) x}\n", `aggregations[0].measures.n: unexpected "x" at 10: expected the end`},
		{base + "measures: {N: count()}\n", `aggregations[0].measures.N: measure name "N" must match ^[a-z0-9_]+$ and not start with _`},
		{base + "measures: {_n: count()}\n", `aggregations[0].measures._n: measure name "_n" must match ^[a-z0-9_]+$ and not start with _`},
		{base + "group_by: [n]\nmeasures: {n: count()}\n", `aggregations[0].measures.n: measure name "n" is also the name of a group column`},
		{base + "window: {column: t, size: 1m}\nmeasures: {window_end: count()}\n", `aggregations[0].measures.window_end: measure name "window_end" is also the name of a window column`},
		{base + "measures: {n: count(), m: sum(x), n2: min(x)}\ngroup_by: [_version]\n", `aggregations[0].group_by[0]: column "_version" has the name of an output column cdcd adds: _group, _seq, _state, _version, _is_deleted, window_start, window_end`},
		{base + "measures: {n: count()}\ngroup_by: [_seq]\n", `aggregations[0].group_by[0]: column "_seq" has the name of an output column cdcd adds: _group, _seq, _state, _version, _is_deleted, window_start, window_end`},
		{base + ms + "group_by: [a, a]\n", `aggregations[0].group_by[1]: column "a" is grouped by twice`},
		{base + ms + "group_by: [[a]]\n", `aggregations[0].group_by[0]: must be a column name`},
		{base + ms + "where: \"account_id = AND x\"\n", `aggregations[0].where: unexpected "AND" at 14: expected a value`},
		{base + ms + "where: \"\"\n", `aggregations[0].where: is empty; leave it out to aggregate every row`},
		{base + ms + "where: [a]\n", `aggregations[0].where: must be a string`},
		{base + ms + "window: {size: 1m}\n", `aggregations[0].window.column: is required: the date or timestamp column that holds each row's event time`},
		{base + ms + "window: {column: t, size: 1y}\n", `aggregations[0].window.size: "1y" is not a size; use 30s, 1m, 5m, 1h, 1d or '1 minute'`},
		{base + ms + "window: {column: t}\n", `aggregations[0].window.size: "" is not a size; use 30s, 1m, 5m, 1h, 1d or '1 minute'`},
		{base + ms + "window: {column: t, size: 5m, hop: 2m}\n", `aggregations[0].window.hop: size 5m0s must be a positive multiple of hop 2m0s`},
		{base + ms + "window: {column: t, size: 1d, hop: 1s}\n", `aggregations[0].window.hop: size 24h0m0s / hop 1s puts each row in 86400 windows; at most 1000`},
		{base + ms + "window: {column: t, size: 1m, every: 1m}\n", `aggregations[0].window.every: is not a setting of a window; use column, size or hop`},
		{base + ms + "insert_only: maybe\n", `aggregations[0].insert_only: must be true or false`},
		{base + ms + "max_groups: -1\n", `aggregations[0].max_groups: must be a whole number, 0 (no limit) or more`},
		{base + ms + "sql: SELECT 1\n", `aggregations[0].from: set sql or from, group_by, where, window and measures, not both`},
		// SQL form.
		{"name: a\nsql: SELECT a, count(*) AS n FROM nope.public.orders GROUP BY a\n", `aggregations[0].sql: source "nope" is not configured`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a = AND b GROUP BY a\n", `aggregations[0].sql: syntax error: unexpected "AND" at 59`},
		{"name: a\nsql: \"SELECT a,\\n  count(*) AS n\\nFROM shop.public.orders\\nWHERE a = 1 AND AND b GROUP BY a\"\n", `aggregations[0].sql: syntax error: unexpected "AND" at line 4 column 17`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE\n", `aggregations[0].sql: syntax error: unexpected end of input at 54`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a = 'x\n", `aggregations[0].sql: unterminated string at 59`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders /* x\n", `aggregations[0].sql: unterminated comment at 49`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a HAVING count(*) > 1\n", `aggregations[0].sql: HAVING is not supported at 60`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a ORDER BY a\n", `aggregations[0].sql: ORDER BY is not supported at 60`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a LIMIT 10\n", `aggregations[0].sql: LIMIT is not supported at 60`},
		{"name: a\nsql: SELECT DISTINCT a, count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: SELECT DISTINCT is not supported at 8`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders JOIN shop.public.x ON 1 = 1 GROUP BY a\n", `aggregations[0].sql: a join (FROM more than one table) is not supported at 49`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM (SELECT 1) AS s GROUP BY a\n", `aggregations[0].sql: a subquery in FROM is not supported at 25`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM public.orders GROUP BY a\n", `aggregations[0].sql: FROM public.orders: name the table as source.schema.table at 25`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a IN (SELECT 1) GROUP BY a\n", `aggregations[0].sql: a subquery is not supported at 60`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE lower(a) = 'x' GROUP BY a\n", `aggregations[0].sql: function lower() is not supported in WHERE at 55`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a LIKE 'x%' GROUP BY a\n", `aggregations[0].sql: LIKE is not supported at 55`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a = b GROUP BY a\n", `aggregations[0].sql: expected a value: a 'string', a number, TRUE, FALSE or NULL at 59`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a + 1 = 2 GROUP BY a\n", `aggregations[0].sql: a comparison must compare a column with a value at 55`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE a = 1e3 GROUP BY a\n", `aggregations[0].sql: floating-point literals are not supported: write a decimal like 1000.5 at 59`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders WHERE x.a = 1 GROUP BY a\n", `aggregations[0].sql: column x.a: qualify columns with the table's alias or not at all at 55`},
		{"name: a\nsql: SELECT * FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: SELECT * is not supported: list the group columns and the measures at 8`},
		{"name: a\nsql: SELECT a, count(*) FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: an aggregate needs a name: write count(*) AS name at 11`},
		{"name: a\nsql: SELECT a, sum(x) FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: an aggregate needs a name: write sum(x) AS name at 11`},
		{"name: a\nsql: SELECT a, upper(b) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: function upper() is not supported: use count, sum, avg, min, max or count(DISTINCT column) at 11`},
		{"name: a\nsql: SELECT a, group_concat(b) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: aggregate group_concat() is not supported: use count, sum, avg, min, max or count(DISTINCT column) at 11`},
		{"name: a\nsql: SELECT a, sum(DISTINCT b) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: sum(DISTINCT ...) is not supported; count(DISTINCT column) is at 11`},
		{"name: a\nsql: SELECT a, sum(b + 1) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: the argument of sum() must be a column at 15`},
		{"name: a\nsql: SELECT a, count(NULL) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: count(NULL) is always 0 at 11`},
		{"name: a\nsql: SELECT a, 1 + 1 AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: unsupported expression in the SELECT list: only group columns and count, sum, avg, min, max, count(DISTINCT column) at 11`},
		{"name: a\nsql: SELECT a, b, count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: column b must be in GROUP BY or used in an aggregate at 11`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: group column a must be in the SELECT list at 46`},
		{"name: a\nsql: SELECT a AS b, count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: group column a cannot be renamed: output columns keep the source's names at 8`},
		{"name: a\nsql: SELECT a, window_start, count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: window_start needs a window: GROUP BY tumble(column, size) or hop(column, size, hop) at 11`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY tumble(t, '1m'), tumble(t, '2m')\n", `aggregations[0].sql: GROUP BY has more than one window at 72`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY tumble(t)\n", `aggregations[0].sql: tumble takes 2 arguments: tumble(column, size) at 55`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY hop(t, '1m')\n", `aggregations[0].sql: hop takes 3 arguments: hop(column, size, hop) at 55`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY tumble(t, 60)\n", `aggregations[0].sql: a window size is a string like '1 minute' or INTERVAL '1 minute' at 65`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY tumble(t, INTERVAL '1 fortnight')\n", `aggregations[0].sql: "1 fortnight" is not a size; use 30s, 1m, 5m, 1h, 1d or '1 minute' at 65`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY hop(t, '1m', '5m')\n", `aggregations[0].sql: size 1m0s must be a positive multiple of hop 5m0s`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders GROUP BY lower(a)\n", `aggregations[0].sql: GROUP BY takes columns and at most one tumble(column, size) or hop(column, size, hop) at 55`},
		{"name: a\nsql: SELECT count(*) AS n FROM shop.public.orders\n", `aggregations[0].sql: GROUP BY is required at 45`},
		{"name: a\nsql: SELECT a, count(*) AS N FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: measure name "N" must match ^[a-z0-9_]+$ and not start with _`},
		{"name: a\nsql: SELECT a, count(*) AS a FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: measure name "a" is also the name of a group column`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a; SELECT 1\n", `aggregations[0].sql: one SELECT ... GROUP BY statement expected, not 2 at 69`},
		{"name: a\nsql: INSERT INTO t VALUES (1)\n", `aggregations[0].sql: only SELECT ... GROUP BY is supported at 1`},
		{"name: a\nsql: SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a UNION SELECT a, count(*) AS n FROM shop.public.orders GROUP BY a\n", `aggregations[0].sql: only SELECT ... GROUP BY is supported at 1`},
	} {
		_, err := parseYAML(t, tc.in)
		want := "config: " + tc.want
		if err == nil || err.Error() != want {
			t.Errorf("%s\n got: %v\nwant: %s", tc.in, err, want)
		}
		if _, ok := err.(*config.Error); err != nil && !ok {
			t.Errorf("%T is not a *config.Error", err)
		}
	}
}

// TestParseSpecWithoutNode: an Aggregation built in code (no YAML node) parses from Name, From
// and SQL.
func TestParseSpecWithoutNode(t *testing.T) {
	s, err := ParseSpec("aggregations[2]", config.Aggregation{Name: "x",
		SQL: "SELECT count(*) AS n FROM shop.public.orders GROUP BY tumble(t, INTERVAL 1 DAY)"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Window == nil || s.Window.Size != 24*time.Hour || s.From.Name != "orders" {
		t.Errorf("spec = %+v", s)
	}
	_, err = ParseSpec("aggregations[2]", config.Aggregation{Name: "x", From: "shop.public.orders"}, nil)
	if err == nil || !strings.Contains(err.Error(), "aggregations[2].measures: at least one measure") {
		t.Errorf("err = %v", err)
	}
	_, err = ParseSpec("aggregations[2]", config.Aggregation{Name: "x", Spec: yaml.Node{Kind: yaml.ScalarNode, Value: "x"}}, nil)
	if err == nil || err.Error() != "config: aggregations[2]: must be a mapping" {
		t.Errorf("err = %v", err)
	}
}
