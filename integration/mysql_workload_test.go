package integration

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/cdcd-dev/cdcd/capture/mysql"
)

// myTxn is what the workload knows of one committed transaction; its before is the binlog
// coordinate just before COMMIT: at or below the transaction's version.
type myTxn struct {
	crashTxn
	seq uint64 // its GTID's sequence number (domain 0)
}

// myWorkload runs a seeded random workload of multi-row transactions on one connection.
type myWorkload struct {
	crashWorkload
	conn *client.Conn
	mu   sync.Mutex
	txns []myTxn
}

func (w *myWorkload) amount(max int) string {
	switch w.rng.IntN(50) {
	case 0:
		return fmt.Sprintf("%d.99", max)
	case 1, 2:
		return "NULL"
	}
	return fmt.Sprintf("%d.%02d", w.rng.IntN(max), w.rng.IntN(100))
}

func (w *myWorkload) timestamp() string {
	base := []int64{1710053999, 1730611800}[w.rng.IntN(2)] // around the 2024 DST changes
	return "'" + time.Unix(base+int64(w.rng.IntN(7200)-3600), int64(w.rng.IntN(1e6))*1000).UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

func (w *myWorkload) text() string {
	switch w.rng.IntN(20) {
	case 0:
		return "'" + randomText(2000+w.rng.IntN(4000)) + "'"
	case 1:
		return "NULL"
	case 2:
		return `'quote '' back\\slash ü ☃ 😀'`
	}
	return fmt.Sprintf("'note %d'", w.rng.IntN(1e6))
}

// op returns one random statement and the (table, key) it touches.
func (w *myWorkload) op(pending pendingKeys) (string, [3]string) {
	qLine := "`Line \"Items\" ``x```"
	switch r := w.rng.IntN(100); {
	case r < 30:
		w.nextID["orders"]++
		id := w.nextID["orders"]
		k := strconv.FormatInt(id, 10)
		pending.mark("orders", k, 1)
		return fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %s, 'new', %s, %s, %d)", id, 1+w.rng.IntN(2000), w.amount(99999),
			w.text(), w.timestamp(), w.rng.IntN(2)), [3]string{"orders", k}
	case r < 50:
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] < 0 {
			break
		}
		set := []string{"status = 'paid', paid = 1", "amount = " + w.amount(99999), "note = " + w.text(),
			"created = " + w.timestamp() + ", status = 'shipped'"}[w.rng.IntN(4)]
		return "UPDATE orders SET " + set + " WHERE id = " + k, [3]string{"orders", k}
	case r < 55:
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] != 0 {
			break
		}
		w.nextID["orders"]++
		nk := strconv.FormatInt(w.nextID["orders"], 10)
		pending.mark("orders", k, -1)
		pending.mark("orders", nk, 1)
		w.moves++
		return fmt.Sprintf("UPDATE orders SET id = %s WHERE id = %s", nk, k), [3]string{"orders", k + ">" + nk, "move"}
	case r < 65:
		k, ok := w.randomKey("orders")
		if !ok || pending["orders"][k] != 0 {
			break
		}
		pending.mark("orders", k, -1)
		return "DELETE FROM orders WHERE id = " + k, [3]string{"orders", k, "d"}
	case r < 80:
		k, ok := w.randomKey("accounts")
		if !ok {
			break
		}
		return fmt.Sprintf("UPDATE accounts SET balance = %s, updated = %s WHERE id = %s", w.amount(999999999999), w.timestamp(), k),
			[3]string{"accounts", k}
	case r < 85:
		w.nextID["accounts"]++
		id := w.nextID["accounts"]
		k := strconv.FormatInt(id, 10)
		pending.mark("accounts", k, 1)
		return fmt.Sprintf("INSERT INTO accounts VALUES (%d, %s, %s, %s)", id, w.amount(1000), w.text(), w.timestamp()), [3]string{"accounts", k}
	case r < 95:
		order, line := w.rng.IntN(40000), w.rng.IntN(5)
		return fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, %d, %s, %s) ON DUPLICATE KEY UPDATE `qty (n)` = `qty (n)` + 1, price = VALUES(price)",
			qLine, order, line, w.rng.IntN(100), w.text(), w.amount(999999)), [3]string{myLineItems, fmt.Sprintf("%d,%d", order, line)}
	default:
		order := w.rng.IntN(40000)
		return fmt.Sprintf("DELETE FROM %s WHERE order_id = %d", qLine, order), [3]string{myLineItems, strconv.Itoa(order) + ",*", "d"}
	}
	return "SELECT 1", [3]string{}
}

func (w *myWorkload) query(q string) (string, error) {
	r, err := w.conn.Execute(q)
	if err != nil {
		return "", err
	}
	s, _ := r.GetString(0, 0)
	return s, nil
}

// coordinate returns the binlog's end as a version.
func (w *myWorkload) coordinate() (uint64, error) {
	r, err := w.conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		return 0, err
	}
	file, _ := r.GetString(0, 0)
	pos, _ := r.GetUint(0, 1)
	dot := strings.LastIndexByte(file, '.')
	seq, _ := strconv.ParseUint(file[dot+1:], 10, 32)
	return mysql.Coord{File: uint32(seq), Pos: uint32(pos)}.Version(), nil
}

// commitRecord commits and records the transaction.
func (w *myWorkload) commitRecord(touched [][3]string, truncated []string, stmt string) error {
	before, err := w.coordinate()
	if err != nil {
		return err
	}
	if _, err := w.conn.Execute(stmt); err != nil {
		return fmt.Errorf("%.300s: %w", stmt, err)
	}
	gtid, err := w.query("SELECT @@last_gtid")
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.txns = append(w.txns, myTxn{crashTxn: crashTxn{before: before, touched: touched, truncated: truncated}, seq: domainSeq(gtid)})
	w.mu.Unlock()
	return nil
}

// run executes transactions until total operations were issued or stop closes.
func (w *myWorkload) run(total int, stop chan struct{}) error {
	for w.ops < total {
		select {
		case <-stop:
			return nil
		default:
		}
		if w.rng.IntN(1500) == 0 && w.truncate < 3 {
			// TRUNCATE is DDL in MariaDB: a transaction of its own.
			if err := w.commitRecord(nil, []string{myLineItems}, "TRUNCATE TABLE `Line \"Items\" ``x```"); err != nil {
				return err
			}
			w.truncate++
			continue
		}
		if _, err := w.conn.Execute("BEGIN"); err != nil {
			return err
		}
		pending := pendingKeys{}
		var touched [][3]string
		n := 1 + w.rng.IntN(20)
		for i := 0; i < n; i++ {
			stmt, tk := w.op(pending)
			r, err := w.conn.Execute(stmt)
			if err != nil {
				return fmt.Errorf("%.300s: %w", stmt, err)
			}
			w.ops++
			// MariaDB logs no row event for an UPDATE that changes nothing (affected rows count
			// changed rows): such a statement leaves no new version to check for.
			if tk[0] != "" && r.AffectedRows > 0 {
				touched = append(touched, tk)
			}
		}
		if w.rng.IntN(10) == 0 {
			if _, err := w.conn.Execute("ROLLBACK"); err != nil {
				return err
			}
			w.rolled++
			continue
		}
		if err := w.commitRecord(touched, nil, "COMMIT"); err != nil {
			return err
		}
		w.commitKeys(pending)
	}
	return nil
}
