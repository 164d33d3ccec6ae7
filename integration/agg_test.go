package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// aggYAML are aggregations over a shop's orders: a filtered one with avg, a windowed one (in its
// SQL form), and one with min/max/count_distinct.
const aggYAML = `aggregations:
  - name: revenue_by_account
    from: shop.public.orders
    group_by: [account_id]
    where: "status = 'paid'"
    measures:
      orders: count()
      revenue: sum(amount)
      avg_order: avg(amount)
  - name: per_minute
    sql: >-
      SELECT status, count(*) AS n, sum(amount) AS total FROM shop.public.orders
      GROUP BY status, tumble(created_at, INTERVAL '1 minute')
  - name: extremes
    from: shop.public.orders
    group_by: [account_id]
    measures:
      n: count()
      biggest: max(amount)
      smallest: min(amount)
      buyers: count_distinct(customer_id)
`

const ordersAggDDL = `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, account_id int, status text,
  amount numeric(12,2), created_at timestamptz);
ALTER TABLE orders REPLICA IDENTITY FULL`

// aggCheck is one aggregation's comparison: the same GROUP BY computed by PostgreSQL and read from
// the aggregation's _current view, both rendered as text rows ordered by group.
type aggCheck struct {
	name   string
	pg, ch string
	avgCol int // index of an avg column compared within rounding (the view's scale) instead of by text; -1 none
}

var orderAggChecks = []aggCheck{
	{"revenue_by_account",
		`SELECT coalesce(account_id::text, 'NULL'), count(*)::text, coalesce(sum(amount)::text, 'NULL'), coalesce(avg(amount)::text, 'NULL')
		 FROM orders WHERE status = 'paid' GROUP BY account_id ORDER BY account_id NULLS LAST`,
		`SELECT ifNull(toString(account_id), 'NULL'), toString(orders), ifNull(toString(revenue), 'NULL'), ifNull(toString(avg_order), 'NULL') FROM %s
		 ORDER BY isNull(account_id), account_id`,
		3},
	{"per_minute",
		`SELECT coalesce(status, 'NULL'), ((extract(epoch from date_trunc('minute', created_at)) * 1000000)::bigint)::text, count(*)::text, coalesce(sum(amount)::text, 'NULL')
		 FROM orders WHERE created_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT ifNull(status, 'NULL') AS s, toString(window_start), toString(n), ifNull(toString(total), 'NULL') FROM %s ORDER BY s, window_start`,
		-1},
	{"extremes",
		`SELECT coalesce(account_id::text, 'NULL'), count(*)::text, coalesce(max(amount)::text, 'NULL'), coalesce(min(amount)::text, 'NULL'), count(DISTINCT customer_id)::text
		 FROM orders GROUP BY account_id ORDER BY account_id NULLS LAST`,
		`SELECT ifNull(toString(account_id), 'NULL'), toString(n), ifNull(toString(biggest), 'NULL'), ifNull(toString(smallest), 'NULL'), toString(buyers) FROM %s
		 ORDER BY isNull(account_id), account_id`,
		-1},
}

// compareAggregates compares every check, returning groups compared and mismatches.
func (e *env) compareAggregates(t testing.TB, checks []aggCheck) (groups, mismatches int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, c := range checks {
		rows, err := conn.Query(ctx, c.pg)
		if err != nil {
			t.Fatalf("%s: %v", c.pg, err)
		}
		pg, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
			vals := make([]string, len(r.FieldDescriptions()))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			return vals, r.Scan(ptrs...)
		})
		if err != nil {
			t.Fatal(err)
		}
		ch := e.chRows(t, fmt.Sprintf(c.ch, e.table("agg_"+c.name+"_current")))
		if c.avgCol >= 0 && len(pg) == len(ch) {
			// avg is the exact sum over the count of non-null values, rounded to the view's
			// scale; PostgreSQL prints more digits: compare within the rounding.
			for i := range ch {
				p, q := pg[i][c.avgCol], ch[i][c.avgCol]
				if p != "NULL" || q != "NULL" {
					pd, err1 := decimal.NewFromString(p)
					qd, err2 := decimal.NewFromString(q)
					if err1 != nil || err2 != nil || pd.Sub(qd).Abs().GreaterThan(decimal.New(1, -7)) {
						mismatches++
						t.Errorf("%s: avg %s, PostgreSQL has %s", c.name, q, p)
					}
				}
				pg[i][c.avgCol], ch[i][c.avgCol] = "", ""
			}
		}
		if os.Getenv("CDCD_AGG_DEBUG") != "" {
			t.Logf("%s: postgres %d rows, first %v; clickhouse %d rows, first %v", c.name, len(pg), pg[:min(3, len(pg))], len(ch), ch[:min(3, len(ch))])
		}
		n, bad, report := diffRows(pg, ch)
		groups += n
		mismatches += bad
		if bad > 0 {
			t.Errorf("aggregation %s: %d mismatches over %d groups:\n%s", c.name, bad, n, report)
		}
	}
	return groups, mismatches
}

// orderWorkload runs random order changes: inserts, updates moving rows between accounts,
// statuses (in and out of the filter) and minutes, and deletes.
func orderWorkload(t testing.TB, dsn string, seed uint64, ops int, startID int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	next := startID
	statuses := []string{"'new'", "'paid'", "'paid'", "'refunded'", "NULL"}
	ts := func() string {
		return fmt.Sprintf("'2024-03-10 06:%02d:%02d.%06d+00'", 55+rng.IntN(10)%5, rng.IntN(60), rng.IntN(1000000))
	}
	amount := func() string {
		if rng.IntN(30) == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%d.%02d", rng.IntN(1000), rng.IntN(100))
	}
	for i := 0; i < ops; {
		var stmts []string
		for j := 1 + rng.IntN(5); j > 0; j-- {
			i++
			id := startID + 1 + rng.Int64N(max(next-startID, 1))
			switch r := rng.IntN(10); {
			case r < 4:
				next++
				stmts = append(stmts, fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d, %s, %s, %s)", next, rng.IntN(20), rng.IntN(6),
					statuses[rng.IntN(len(statuses))], amount(), ts()))
			case r < 6:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET status = %s WHERE id = %d", statuses[rng.IntN(len(statuses))], id))
			case r < 7:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET account_id = %d, amount = %s WHERE id = %d", rng.IntN(6), amount(), id))
			case r < 8:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET created_at = %s, customer_id = %d WHERE id = %d", ts(), rng.IntN(20), id))
			default:
				stmts = append(stmts, fmt.Sprintf("DELETE FROM orders WHERE id = %d", id))
			}
		}
		if _, err := conn.Exec(ctx, "BEGIN; "+strings.Join(stmts, "; ")+"; COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAggregations: three aggregations (filtered with avg, windowed via SQL, min/max/count
// distinct) stay equal to PostgreSQL's GROUP BY through inserts, updates that move rows between
// groups, windows and the filter, deletes, a restart, and a TRUNCATE.
func TestAggregations(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, ordersAggDDL)
	orderWorkload(t, e.pgDSN, 1, 300, 0) // read by the snapshot
	cfg := writeConfig(t, readFile(t, e.config(t, []string{"public.orders"}, ""))+aggYAML)
	d := startDaemon(t, cfg)
	orderWorkload(t, e.pgDSN, 2, 1500, 10000)
	e.waitCaughtUp(t)
	groups, bad := e.compareAggregates(t, orderAggChecks)
	report(t, "after the stream: %d groups compared, %d mismatches", groups, bad)

	// Recovery: a restart continues from the groups stored in ClickHouse.
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	d = startDaemon(t, cfg)
	orderWorkload(t, e.pgDSN, 3, 500, 20000)
	e.waitCaughtUp(t)
	groups, bad = e.compareAggregates(t, orderAggChecks)
	report(t, "after a restart: %d groups compared, %d mismatches", groups, bad)
	if !strings.Contains(d.out.String(), "aggregation recovered from ClickHouse") {
		t.Error("the restart did not recover the aggregations from ClickHouse")
	}

	// TRUNCATE resets every group.
	e.pg.Exec(t, e.pgDB, "TRUNCATE orders")
	e.waitCaughtUp(t)
	for _, c := range orderAggChecks {
		if n, err := e.chCount("SELECT count() FROM " + e.table("agg_"+c.name+"_current")); err != nil || n != 0 {
			t.Errorf("after TRUNCATE, aggregation %s shows %d groups (%v)", c.name, n, err)
		}
	}
	orderWorkload(t, e.pgDSN, 4, 200, 30000)
	e.waitCaughtUp(t)
	e.compareAggregates(t, orderAggChecks)
	d.stop()
}

// TestAggregationBackfill: an aggregation added to a running source is backfilled from the
// source's current rows, consistently with the stream.
func TestAggregationBackfill(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, ordersAggDDL)
	orderWorkload(t, e.pgDSN, 5, 300, 0)
	plain := e.config(t, []string{"public.orders"}, "")
	d := startDaemon(t, plain)
	orderWorkload(t, e.pgDSN, 6, 500, 10000)
	e.waitCaughtUp(t)
	d.stop()
	orderWorkload(t, e.pgDSN, 7, 200, 20000) // changes while stopped: replayed after the backfill
	d = startDaemon(t, writeConfig(t, readFile(t, plain)+aggYAML))
	orderWorkload(t, e.pgDSN, 8, 300, 30000)
	e.waitCaughtUp(t)
	groups, bad := e.compareAggregates(t, orderAggChecks)
	report(t, "backfilled: %d groups compared, %d mismatches", groups, bad)
	if !strings.Contains(d.out.String(), "aggregation backfilled") {
		t.Error("the new aggregations were not backfilled")
	}
	d.stop()
}

// TestAggregationNeedsOldRows: without REPLICA IDENTITY FULL an aggregation cannot retract, so
// the daemon refuses to start, naming the table and the fix.
func TestAggregationNeedsOldRows(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, strings.Replace(ordersAggDDL, "ALTER TABLE orders REPLICA IDENTITY FULL", "SELECT 1", 1))
	cfg := writeConfig(t, readFile(t, e.config(t, []string{"public.orders"}, ""))+aggYAML)
	d := startDaemon(t, cfg)
	code := d.wait(60 * time.Second)
	out := strings.ReplaceAll(d.out.String(), `\"`, `"`)
	if code != 1 || !strings.Contains(out, "REPLICA IDENTITY FULL") || !strings.Contains(out, "public.orders") {
		t.Fatalf("exit %d, want 1 naming the table and the fix; output:\n%s", code, tail(out, 20))
	}
}
