package integration

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestPostgresLargeTransaction: a transaction far larger than a batch is written in parts (memory
// stays bounded by the batch limits), and every row arrives.
func TestPostgresLargeTransaction(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE big (id bigint PRIMARY KEY, note text)")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := strings.Replace(readFile(t, e.config(t, []string{"public.big"}, "")),
		"  batch: {interval: 20ms}", "  batch: {interval: 20ms, rows: 5000}", 1)
	d := startDaemon(t, writeConfig(t, cfg+"metrics:\n  listen: "+addr+"\n"))
	waitFor(t, 30*time.Second, "streaming", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
		return n > 0, err
	})
	e.pg.Exec(t, e.pgDB, "INSERT INTO big SELECT g, repeat('x', 50) FROM generate_series(1, 120000) g")
	e.waitCaughtUp(t)
	if n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_big_current")); err != nil || n != 120000 {
		t.Fatalf("%d rows in ClickHouse (%v), want 120000", n, err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`cdcd_batches_total\{source="shop",kind="postgres"\} (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no batch count in /metrics:\n%s", body)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < 120000/5000 {
		t.Errorf("the 120,000-row transaction went in %d batches; with 5,000-row batches it needs at least 24", n)
	}
	d.stop()
}

// TestPostgresConnectionLoss: the replication connection is killed on the server; cdcd
// reconnects, resumes from its stored offset, and loses nothing.
func TestPostgresConnectionLoss(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), note text, at timestamptz)")
	d := startDaemon(t, e.config(t, []string{"public.orders"}, ""))
	for round := 0; round < 3; round++ {
		waitFor(t, 30*time.Second, "the walsender", func() (bool, error) {
			return e.pgScalar(t, "SELECT count(*)::text FROM pg_replication_slots WHERE slot_name = 'cdcd_shop' AND active") == "1", nil
		})
		e.pg.Exec(t, e.pgDB, "INSERT INTO orders SELECT g, 1, 1, 'x', now() FROM generate_series("+strconv.Itoa(round*1000+1)+", "+strconv.Itoa(round*1000+1000)+") g")
		e.pg.Exec(t, "postgres", "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'cdcd_shop' AND active")
		e.pg.Exec(t, e.pgDB, "UPDATE orders SET qty = qty + 1 WHERE id % 7 = 0")
	}
	e.waitCaughtUp(t)
	e.sameTable(t, "orders", "shop_public_orders_current", ordersCols, []string{"id"})
	if !strings.Contains(d.out.String(), "restarting from the stored offset") {
		t.Error("no reconnect was logged")
	}
	if d.exited() {
		t.Fatal("cdcd exited")
	}
	d.stop()
}
