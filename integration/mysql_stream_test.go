package integration

import (
	"fmt"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var myOrdersCols = []myCol{{"id", "int"}, {"qty", "int"}, {"amount", "num"}, {"note", "text"}, {"at", "ts"}}

const myOrdersDDL = "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount decimal(12,2), note varchar(200), at timestamp(6) NULL)"

// TestMySQLSnapshotWithConcurrentWrites starts cdcd on a MariaDB table that is being written to,
// so the snapshot and the start of the stream overlap with transactions; the result must be
// exactly the source, with no gap and no duplicate effect.
func TestMySQLSnapshotWithConcurrentWrites(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, myOrdersDDL)
	for i := 0; i < 50; i++ {
		var vals []string
		for j := 1; j <= 1000; j++ {
			id := i*1000 + j
			vals = append(vals, fmt.Sprintf("(%d, %d, %d.25, 'seed %d', '2024-01-01 00:00:00.5')", id, id%100, id, id))
		}
		e.exec(t, "INSERT INTO orders VALUES "+strings.Join(vals, ", "))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes int
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := e.my.Conn(t, e.db)
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			id := rng.IntN(60000) + 1
			var q string
			switch rng.IntN(3) {
			case 0:
				q = fmt.Sprintf("INSERT INTO orders VALUES (%d, 1, 9.99, 'new', NOW(6)) ON DUPLICATE KEY UPDATE qty = qty + 1", id)
			case 1:
				q = fmt.Sprintf("UPDATE orders SET amount = amount + 0.01, note = CONCAT(note, '+') WHERE id = %d", id)
			case 2:
				q = fmt.Sprintf("DELETE FROM orders WHERE id = %d", id)
			}
			if _, err := c.Execute(q); err != nil {
				t.Error(err)
				return
			}
			writes++
		}
	}()
	time.Sleep(200 * time.Millisecond) // writes before, during and after the snapshot
	d := startDaemon(t, e.config(t, []string{"orders"}, ""))
	waitFor(t, 60*time.Second, "the snapshot", func() (bool, error) {
		return strings.Contains(d.out.String(), "snapshot read"), nil
	})
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	e.waitCaughtUp(t)
	n := e.sameMyTable(t, "orders", myOrdersCols, []string{"id"})
	t.Logf("%d concurrent writes; %d rows compared, 0 mismatches", writes, n)
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}

// TestMySQLHostileIdentifiers: backticks, quotes, spaces, dots, unicode, parentheses and comment
// markers in database, table and column names survive into ClickHouse verbatim, through the
// snapshot, the stream and a DDL statement that names them.
func TestMySQLHostileIdentifiers(t *testing.T) {
	my := testenv.StartMariaDB(t)
	e := newMyEnvOn(t, my)
	e.db = "Sch \"é\" ma` x.y"
	table := "Ta`b.le (x) -- #1 ü"
	cols := []string{`I"d`, "v`al", "sp ace,comma", "ünï©ødé ☃", "a(b)c", "--x", "/*y*/", "#h"}
	var defs []string
	for i, c := range cols {
		typ := "text"
		if i == 0 {
			typ = "int PRIMARY KEY"
		}
		defs = append(defs, "`"+strings.ReplaceAll(c, "`", "``")+"` "+typ)
	}
	my.Exec(t, "", "CREATE DATABASE "+"`"+strings.ReplaceAll(e.db, "`", "``")+"`")
	t.Cleanup(func() { my.Exec(t, "", "DROP DATABASE `"+strings.ReplaceAll(e.db, "`", "``")+"`") })
	qt := e.myTable(table)
	e.exec(t, "CREATE TABLE "+qt+" ("+strings.Join(defs, ", ")+")",
		"INSERT INTO "+qt+" VALUES (1, 'a', 'b', 'c', 'd', 'e', 'f', 'g')")
	d := startDaemon(t, e.config(t, []string{table}, ""))
	view := e.chName(table) + "_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 1, err
	})
	e.exec(t, "INSERT INTO "+qt+" VALUES (2, 'a2', 'b2', 'c2', 'd2', 'e2', 'f2', 'g2')",
		"UPDATE "+qt+" SET `ünï©ødé ☃` = 'c1' WHERE `I\"d` = 1",
		"ALTER TABLE "+qt+" ADD COLUMN `new ``col`` ☃` varchar(10) DEFAULT 'dflt' AFTER `v``al`",
		"INSERT INTO "+qt+" (`I\"d`, `new ``col`` ☃`) VALUES (3, 'x')")
	e.waitCaughtUp(t)
	var mc []myCol
	for _, c := range append(cols, "new `col` ☃") {
		kind := "text"
		if c == `I"d` {
			kind = "int"
		}
		mc = append(mc, myCol{c, kind})
	}
	n := e.sameMyTable(t, table, mc, []string{`I"d`})
	if n != 3 {
		t.Errorf("%d rows compared, want 3", n)
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}

// TestMySQLConnectionLoss: the server kills cdcd's binlog connection; cdcd reconnects, resumes from
// the stored offset and ends equal to the source, without exiting.
func TestMySQLConnectionLoss(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, myOrdersDDL, "INSERT INTO orders VALUES (1, 1, 1.00, 'one', NOW(6))")
	d := startDaemon(t, e.config(t, []string{"orders"}, ""))
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(e.chName("orders")+"_current"))
		return n == 1, err
	})
	for round := 0; round < 3; round++ {
		c := e.my.Conn(t, "")
		r, err := c.Execute("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
		if err != nil {
			t.Fatal(err)
		}
		if r.RowNumber() == 0 {
			t.Fatalf("round %d: no binlog dump connection to kill", round)
		}
		for i := 0; i < r.RowNumber(); i++ {
			id, _ := r.GetInt(i, 0)
			_, _ = c.Execute(fmt.Sprintf("KILL %d", id))
		}
		for i := 0; i < 200; i++ {
			id := 100 + round*1000 + i
			e.exec(t, fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d.5, 'after kill %d', NOW(6))", id, i, i, round))
		}
		e.exec(t, fmt.Sprintf("UPDATE orders SET qty = qty + 1 WHERE id %% 7 = %d", round))
		waitFor(t, 30*time.Second, "a reconnection", func() (bool, error) {
			return strings.Count(d.out.String(), "msg=streaming") >= round+2, nil
		})
	}
	e.waitCaughtUp(t)
	n := e.sameMyTable(t, "orders", myOrdersCols, []string{"id"})
	if d.exited() {
		t.Fatalf("cdcd exited after losing its connection")
	}
	t.Logf("3 killed connections, %d reconnections; %d rows compared, 0 mismatches", strings.Count(d.out.String(), "msg=streaming")-1, n)
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
