package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMySQLOffsetsCLI: cdcd offsets list and reset for a MariaDB source: the stored and current
// GTID positions and the lag in transactions; reset to latest and back to a served GTID position;
// refusals of garbage, of positions ahead of the server or unknown to it, and while running.
func TestMySQLOffsetsCLI(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, myOrdersDDL, "INSERT INTO orders VALUES (1, 1, 1, 'a', NOW(6))")
	cfg := e.config(t, []string{"orders"}, "")
	count := func(where string) uint64 {
		n, _ := e.chCount("SELECT count() FROM " + e.table(e.chName("orders")+"_current") + " WHERE " + where)
		return n
	}

	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) { return count("1") == 1, nil })
	t.Run("refused while running", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", "latest")
		if code != 1 || !strings.Contains(out, `source "legacy" is being run by cdcd pid`) {
			t.Errorf("exit %d, want 1 naming the running daemon; output:\n%s", code, out)
		}
	})
	t.Run("list while running", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "list", "--config", cfg)
		if code != 0 || !strings.Contains(out, "running: cdcd pid") || !strings.Contains(out, "mariadb binlog at") ||
			!strings.Contains(out, fmt.Sprintf("server_id %d", e.serverID)) {
			t.Errorf("exit %d; output:\n%s", code, out)
		}
	})
	if code, _ := d.stop(); code != 0 {
		t.Fatalf("cdcd exited %d", code)
	}
	stored := e.storedOffset(t)

	t.Run("list", func(t *testing.T) {
		e.exec(t, "INSERT INTO orders VALUES (2, 2, 2, 'skipped', NOW(6))", "INSERT INTO orders VALUES (3, 3, 3, 'skipped', NOW(6))")
		code, out := runCLI(t, nil, "offsets", "list", "--config", cfg)
		re := regexp.MustCompile(`legacy\s+mysql\s+` + regexp.QuoteMeta(stored) + `\s+\S+\s+0-1-\d+\s+2 transactions\s+mariadb binlog at`)
		if code != 0 || !re.MatchString(out) || strings.Contains(out, "server_id") {
			t.Errorf("exit %d; list does not show source, kind, stored %s, current GTID, a lag of 2 transactions and the binlog (and no replica):\n%s", code, stored, out)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct{ to, want string }{
			{"garbage", `"garbage" is not a MariaDB GTID position`},
			{"0-1-999999", "GTID 0-1-999999 is ahead of the server"},
			{"7-1-5", "GTID 7-1-5 is ahead of the server"},
		} {
			code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", c.to)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Errorf("--to %s: exit %d, want 2 with %q; output:\n%s", c.to, code, c.want, out)
			}
			if c.to != "garbage" && !strings.Contains(out, "valid positions are from") {
				t.Errorf("--to %s: no valid range in:\n%s", c.to, out)
			}
		}
		if got := e.storedOffset(t); got != stored {
			t.Errorf("offset changed to %s by a refused reset", got)
		}
	})
	t.Run("reset to latest", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", "latest", "--dry-run")
		if code != 0 || !strings.Contains(out, "would move the offset from "+stored) {
			t.Fatalf("dry run: exit %d; output:\n%s", code, out)
		}
		code, out = runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", "latest")
		if code != 0 || !strings.Contains(out, "offset moved from "+stored) || !strings.Contains(out, "forward by 2 transactions") {
			t.Fatalf("exit %d; output:\n%s", code, out)
		}
		e.exec(t, "INSERT INTO orders VALUES (4, 4, 4, 'delivered', NOW(6))")
		d := startDaemon(t, cfg)
		waitFor(t, 30*time.Second, "the change after the reset", func() (bool, error) { return count("id = 4") == 1, nil })
		if n := count("id IN (2, 3)"); n != 0 {
			t.Errorf("%d changes from before the reset point were delivered", n)
		}
		d.stop()
	})
	t.Run("reset back to a served GTID position", func(t *testing.T) {
		code, out := runCLI(t, nil, "offsets", "reset", "--config", cfg, "--source", "legacy", "--to", stored)
		if code != 0 || !strings.Contains(out, "to "+stored) || !strings.Contains(out, "backward by") {
			t.Fatalf("exit %d; output:\n%s", code, out)
		}
		d := startDaemon(t, cfg)
		e.waitCaughtUp(t)
		e.sameMyTable(t, "orders", myOrdersCols, []string{"id"}) // rows 2 and 3 replayed, 4 kept
		d.stop()
	})
}

// TestMySQLTail: cdcd tail prints a MariaDB source's live changes from its own replica connection
// (another server_id), while the daemon streams undisturbed.
func TestMySQLTail(t *testing.T) {
	e := newMyEnv(t)
	e.exec(t, myOrdersDDL, "CREATE TABLE other (id int PRIMARY KEY)")
	cfg := e.config(t, []string{"orders", "other"}, "")
	d := startDaemon(t, cfg)
	waitFor(t, 30*time.Second, "the daemon to stream", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_offsets"))
		return n > 0, err
	})
	cmd := exec.Command(cdcdBinary(t), "tail", "--config", cfg, "--source", "legacy", "--table", e.db+".orders", "--limit", "3")
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
	waitFor(t, 30*time.Second, "tail's binlog stream", func() (bool, error) {
		return strings.Contains(stderr.String(), "msg=streaming"), nil
	})
	e.exec(t, "INSERT INTO other VALUES (1)", "INSERT INTO orders VALUES (1, 2, 12.50, 'first', '2024-03-10 07:30:00.123456')",
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
		if row := rec["row"].(map[string]any); rec["op"] != op || row["id"] != float64(1) {
			t.Errorf("record %d = %v, want a %s of orders id 1", i, lines[i], op)
		}
	}
	waitFor(t, 30*time.Second, "the daemon to write the rows too", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(e.chName("other")+"_current"))
		return n == 1, err
	})
	if strings.Contains(d.out.String(), "pipeline stopped") {
		t.Errorf("tail disturbed the daemon's stream:\n%s", tail(d.out.String(), 20))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
