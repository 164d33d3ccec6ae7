package integration

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// myAggYAML are three aggregations over a MariaDB orders table: a filtered one with avg (its filter
// a BOOL column alone, as MySQL reads it), a windowed one in the SQL form, one with
// min/max/count_distinct. %[1]s is the database.
const myAggYAML = `aggregations:
  - name: revenue_by_account
    from: legacy.%[1]s.orders
    group_by: [account_id]
    where: "paid AND status <> 'refunded'"
    measures: {orders: count(), revenue: sum(amount), avg_order: avg(amount)}
  - name: per_minute
    sql: SELECT status, count(*) AS n, sum(amount) AS total FROM legacy.%[1]s.orders GROUP BY status, tumble(created_at, INTERVAL 1 MINUTE)
  - name: extremes
    from: legacy.%[1]s.orders
    group_by: [account_id]
    measures: {n: count(), biggest: max(amount), smallest: min(amount), buyers: count_distinct(customer_id)}
`

// myAggCheck is one aggregation compared with MariaDB's GROUP BY: both sides as text rows, sorted
// in Go (the servers collate differently); nums are decimal columns compared as numbers, avg within
// MariaDB's rounding (6 places).
type myAggCheck struct {
	name   string
	my, ch string
	nums   []int
	avg    int // -1 none
}

var myAggChecks = []myAggCheck{
	{"revenue_by_account",
		`SELECT IFNULL(CAST(account_id AS CHAR), 'NULL'), CAST(COUNT(*) AS CHAR), IFNULL(CAST(SUM(amount) AS CHAR), 'NULL'), IFNULL(CAST(AVG(amount) AS CHAR), 'NULL')
		 FROM orders WHERE paid AND status <> 'refunded' GROUP BY account_id`,
		`SELECT ifNull(toString(account_id), 'NULL'), toString(orders), ifNull(toString(revenue), 'NULL'), ifNull(toString(avg_order), 'NULL') FROM %s`,
		[]int{2}, 3},
	{"per_minute",
		`SELECT IFNULL(status, 'NULL'), CAST(FLOOR(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', created_at) / 60000000) * 60000000 AS CHAR),
		   CAST(COUNT(*) AS CHAR), IFNULL(CAST(SUM(amount) AS CHAR), 'NULL')
		 FROM orders WHERE created_at IS NOT NULL GROUP BY 1, 2`,
		`SELECT ifNull(status, 'NULL'), toString(window_start), toString(n), ifNull(toString(total), 'NULL') FROM %s`,
		[]int{3}, -1},
	{"extremes",
		`SELECT IFNULL(CAST(account_id AS CHAR), 'NULL'), CAST(COUNT(*) AS CHAR), IFNULL(CAST(MAX(amount) AS CHAR), 'NULL'), IFNULL(CAST(MIN(amount) AS CHAR), 'NULL'),
		   CAST(COUNT(DISTINCT customer_id) AS CHAR)
		 FROM orders GROUP BY account_id`,
		`SELECT ifNull(toString(account_id), 'NULL'), toString(n), ifNull(toString(biggest), 'NULL'), ifNull(toString(smallest), 'NULL'), toString(buyers) FROM %s`,
		[]int{2, 3}, -1},
}

// compareMyAggregates compares every check; it returns the groups compared and the mismatches.
func (e *myEnv) compareMyAggregates(t *testing.T) (groups, mismatches int) {
	t.Helper()
	c := e.my.Conn(t, e.db)
	defer c.Close()
	for _, chk := range myAggChecks {
		r, err := c.Execute(chk.my)
		if err != nil {
			t.Fatalf("mariadb %q: %v", chk.my, err)
		}
		my := make([][]string, r.RowNumber())
		for i := range my {
			my[i] = make([]string, r.ColumnNumber())
			for j := range my[i] {
				my[i][j], _ = r.GetString(i, j)
			}
		}
		ch := e.chRows(t, fmt.Sprintf(chk.ch, e.table("agg_"+chk.name+"_current")))
		for _, rows := range [][][]string{my, ch} {
			for _, row := range rows {
				for _, j := range chk.nums {
					if row[j] != "NULL" {
						row[j] = canonicalNum(row[j])
					}
				}
			}
			slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a, "|"), strings.Join(b, "|")) })
		}
		if chk.avg >= 0 && len(my) == len(ch) {
			for i := range my {
				p, q := my[i][chk.avg], ch[i][chk.avg]
				if p == "NULL" && q == "NULL" {
					continue
				}
				pd, err1 := decimal.NewFromString(p)
				qd, err2 := decimal.NewFromString(q)
				if err1 != nil || err2 != nil || pd.Sub(qd).Abs().GreaterThan(decimal.New(1, -6)) {
					mismatches++
					t.Errorf("%s: avg %s, MariaDB has %s", chk.name, q, p)
				}
				my[i][chk.avg], ch[i][chk.avg] = "", ""
			}
		}
		n, bad, report := diffRows(my, ch)
		groups += n
		mismatches += bad
		if bad > 0 {
			t.Errorf("%s: %d mismatches:\n%s", chk.name, bad, report)
		}
	}
	return groups, mismatches
}

// myOrderWorkload runs transactions of 1 to 5 statements on orders: inserts, updates that move rows
// between groups, windows and the filter, deletes.
func (e *myEnv) myOrderWorkload(t *testing.T, seed uint64, ops int, startID int64) {
	t.Helper()
	c := e.my.Conn(t, e.db)
	defer c.Close()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	next := startID
	statuses := []string{"'new'", "'paid'", "'paid'", "'refunded'", "NULL"}
	paid := []string{"0", "1", "1", "NULL"}
	ts := func() string {
		return fmt.Sprintf("'2024-03-10 06:%02d:%02d.%06d'", 55+rng.IntN(5), rng.IntN(60), rng.IntN(1000000))
	}
	amount := func() string {
		if rng.IntN(30) == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%d.%02d", rng.IntN(1000), rng.IntN(100))
	}
	for i := 0; i < ops; {
		stmts := []string{"BEGIN"}
		for j := 1 + rng.IntN(5); j > 0; j-- {
			i++
			id := startID + 1 + rng.Int64N(max(next-startID, 1))
			switch r := rng.IntN(10); {
			case r < 4:
				next++
				stmts = append(stmts, fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d, %s, %s, %s, %s)", next, rng.IntN(20), rng.IntN(6),
					statuses[rng.IntN(len(statuses))], paid[rng.IntN(len(paid))], amount(), ts()))
			case r < 6:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET status = %s, paid = %s WHERE id = %d", statuses[rng.IntN(len(statuses))],
					paid[rng.IntN(len(paid))], id))
			case r < 7:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET account_id = %d, amount = %s WHERE id = %d", rng.IntN(6), amount(), id))
			case r < 8:
				stmts = append(stmts, fmt.Sprintf("UPDATE orders SET created_at = %s, customer_id = %d WHERE id = %d", ts(), rng.IntN(20), id))
			default:
				stmts = append(stmts, fmt.Sprintf("DELETE FROM orders WHERE id = %d", id))
			}
		}
		for _, s := range append(stmts, "COMMIT") {
			if _, err := c.Execute(s); err != nil {
				t.Fatalf("mariadb %q: %v", s, err)
			}
		}
	}
}

// TestMySQLAggregations: the three aggregations on a MariaDB source stay equal to MariaDB's GROUP
// BY through the snapshot, the stream (rows moving between groups, windows and the filter), a
// SIGKILL, a restart that recovers the groups from ClickHouse, and a TRUNCATE.
func TestMySQLAggregations(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, account_id INT, status VARCHAR(20), paid BOOL, amount DECIMAL(12,2), created_at DATETIME(6))")
	e.myOrderWorkload(t, 1, 300, 0) // read by the snapshot
	cfg := writeConfig(t, readFile(t, e.config(t, []string{"orders"}, ""))+fmt.Sprintf(myAggYAML, e.db))
	d := startDaemon(t, cfg)
	e.myOrderWorkload(t, 2, 1500, 10000)
	e.waitCaughtUp(t)
	groups, bad := e.compareMyAggregates(t)
	report(t, "after the snapshot and the stream: %d groups compared, %d mismatches", groups, bad)

	// A SIGKILL in the middle of the stream, then a restart that recovers from ClickHouse.
	done := make(chan struct{})
	go func() { defer close(done); e.myOrderWorkload(t, 3, 1500, 20000) }()
	waitFor(t, 30*time.Second, "some of the workload to be written", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(e.chName("orders")) + " WHERE id > 20000")
		return n > 50, err
	})
	d.kill()
	d = startDaemon(t, cfg)
	<-done
	e.waitCaughtUp(t)
	groups, bad2 := e.compareMyAggregates(t)
	report(t, "after a SIGKILL and a restart: %d groups compared, %d mismatches", groups, bad2)
	if !strings.Contains(d.out.String(), "aggregation recovered from ClickHouse") {
		t.Error("the restart did not recover the aggregations from ClickHouse")
	}

	// TRUNCATE empties them; what follows counts from zero.
	e.exec(t, "TRUNCATE TABLE orders")
	e.myOrderWorkload(t, 4, 300, 30000)
	e.waitCaughtUp(t)
	groups, bad3 := e.compareMyAggregates(t)
	t.Logf("after a TRUNCATE: %d groups compared, %d mismatches", groups, bad3)
	if bad+bad2+bad3 > 0 {
		t.Fatalf("%d aggregate mismatches", bad+bad2+bad3)
	}
	d.stop()
}
