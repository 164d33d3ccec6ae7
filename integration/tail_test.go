package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTail: cdcd tail prints live changes as JSON decoded through the registry by schema id,
// from its own temporary stream, while the daemon runs undisturbed.
func TestTail(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, at timestamptz)",
		"CREATE TABLE other (id int PRIMARY KEY)")
	cfg := e.config(t, []string{"public.orders", "public.other"}, "")
	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "the daemon to stream", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
		return n > 0, err
	})

	cmd := exec.Command(cdcdBinary(t), "tail", "--config", cfg, "--source", "shop", "--table", "public.orders", "--limit", "3")
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 30*time.Second, "tail to start", func() (bool, error) {
		return strings.Contains(stderr.String(), "streaming shop from now"), nil
	})
	// Give its temporary slot a moment: it streams changes committed after it was created.
	waitFor(t, 30*time.Second, "tail's temporary slot", func() (bool, error) {
		n := e.pgScalar(t, "SELECT count(*)::text FROM pg_replication_slots WHERE slot_name LIKE 'cdcd_tail_%' AND temporary")
		return n == "1", nil
	})
	e.pg.Exec(t, e.pgDB, "INSERT INTO other VALUES (1)",
		"INSERT INTO orders VALUES (1, 12.50, 'first', '2024-03-10 07:30:00.123456+00')",
		"UPDATE orders SET amount = 13.75 WHERE id = 1", "DELETE FROM orders WHERE id = 1")

	var lines []map[string]any
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("tail printed %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tail: %v; stderr:\n%s", err, stderr.String())
	}
	if len(lines) != 3 {
		t.Fatalf("tail printed %d records, want 3: %v", len(lines), lines)
	}
	for i, op := range []string{"insert", "update", "delete"} {
		rec := lines[i]["record"].(map[string]any)
		row := rec["row"].(map[string]any)
		if rec["op"] != op || lines[i]["table"] != "public.orders" || row["id"] != float64(1) || lines[i]["schema_id"] == nil {
			t.Errorf("record %d = %v, want a %s of orders id 1", i, lines[i], op)
		}
	}
	first := lines[0]["record"].(map[string]any)["row"].(map[string]any)
	if first["amount"] != "12.50" || first["note"] != "first" || first["at"] != "2024-03-10T07:30:00.123456Z" {
		t.Errorf("insert record row = %v", first)
	}
	// The daemon's own stream was not disturbed.
	waitFor(t, 30*time.Second, "the daemon to write the rows too", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_other_current"))
		return n == 1, err
	})
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
