package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// shownLetter is a line of cdcd dead-letters list.
type shownLetter struct {
	Table   string          `json:"table"`
	Op      string          `json:"op"`
	Version uint64          `json:"version"`
	Key     json.RawMessage `json:"key"`
	Status  string          `json:"status"`
	Note    string          `json:"note"`
	Error   string          `json:"error"`
	Format  string          `json:"format"`
	Record  json.RawMessage `json:"record"`
}

func listLetters(t *testing.T, cfg string, extra ...string) []shownLetter {
	t.Helper()
	code, out := runCLI(t, nil, append([]string{"dead-letters", "list", "--config", cfg}, extra...)...)
	if code != 0 {
		t.Fatalf("dead-letters list: exit %d\n%s", code, out)
	}
	var letters []shownLetter
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // log lines
		}
		var l shownLetter
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("dead-letters list line %q: %v", line, err)
		}
		letters = append(letters, l)
	}
	return letters
}

func describeLetters(ls []shownLetter) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s %s %s %s/%s; ", l.Table, l.Key, l.Op, l.Format, l.Status)
	}
	return b.String()
}

// TestDeadLettersReplay: rows ClickHouse 18.16 cannot hold (dates before 1970) are listed with
// their decoded records; replaying before the fix rejects them again (exit 1) without duplicating
// them; after the operator widens the column, replay writes them at their original versions, so a
// later update still wins and a later delete is not undone; a letter older than a TRUNCATE is
// discarded, never replayed; JSON letters are reported as not replayable and can be discarded.
func TestDeadLettersReplay(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB,
		"CREATE TABLE dl (id int PRIMARY KEY, day date, ts timestamptz, note text)",
		"CREATE TABLE dl2 (id int PRIMARY KEY, day date)")
	cfg := e.config(t, []string{"public.dl", "public.dl2"}, "")
	d := startDaemon(t, cfg)
	defer d.stop()
	waitFor(t, 30*time.Second, "the stream", func() (bool, error) { return strings.Contains(d.out.String(), "msg=streaming"), nil })
	e.pg.Exec(t, e.pgDB,
		"INSERT INTO dl VALUES (1, '2020-01-01', now(), 'ok')",
		"INSERT INTO dl VALUES (2, '1960-05-17', now(), 'old')",
		"INSERT INTO dl VALUES (3, '2020-01-01', 'infinity', 'inf')",
		"INSERT INTO dl VALUES (4, '1955-01-01', now(), 'a')",
		"UPDATE dl SET note = 'b' WHERE id = 4",
		"INSERT INTO dl VALUES (5, '1950-01-01', now(), 'x')",
		"INSERT INTO dl2 VALUES (1, '1940-01-01')")
	waitFor(t, 30*time.Second, "the dead letters of dl (5) and dl2", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters") + " WHERE key = '[\"5\"]' OR table = 'public.dl2'")
		return n == 2, err
	})
	// In later batches: a delete of a dead-lettered row, a truncate after one.
	e.pg.Exec(t, e.pgDB, "DELETE FROM dl WHERE id = 5", "TRUNCATE dl2", "INSERT INTO dl2 VALUES (2, '2021-01-01')")
	e.waitCaughtUp(t)

	letters := listLetters(t, cfg, "--source", "shop")
	var avro, js int
	for _, l := range letters {
		if l.Status != "dead" || l.Table != "public.dl" {
			t.Errorf("listed letter %s %s is %s", l.Table, l.Key, l.Status)
		}
		switch l.Format {
		case "avro-confluent":
			avro++
		case "json":
			js++
			if !strings.Contains(l.Error, "infinity") || !strings.Contains(string(l.Record), `"note":"inf"`) || string(l.Key) != `["3"]` {
				t.Errorf("JSON letter %s: record %s, error %s", l.Key, l.Record, l.Error)
			}
		}
		if string(l.Key) == `["2"]` && !strings.Contains(string(l.Record), `"day":"1960-05-17"`) {
			t.Errorf("letter 2's record is not decoded: %s", l.Record)
		}
	}
	if js != 1 || avro < 3 { // 2, 4 (once or twice: insert and update may share a batch), 5
		t.Fatalf("letters: %s", describeLetters(letters))
	}
	all := listLetters(t, cfg, "--source", "shop", "--table", "public.dl2", "--all")
	if len(all) != 1 || all[0].Status != "discarded" || !strings.Contains(all[0].Note, "TRUNCATE") {
		t.Errorf("dl2's letter after the truncate: %s %+v", describeLetters(all), all)
	}

	// Before the fix: rejected again, exit 1, nothing duplicated.
	code, out := runCLI(t, nil, "dead-letters", "replay", "--config", cfg, "--source", "shop", "--dry-run")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("would replay %d dead letters", avro)) {
		t.Errorf("replay --dry-run: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, nil, "dead-letters", "replay", "--config", cfg, "--source", "shop")
	if code != 1 || !strings.Contains(out, "rejected again") || !strings.Contains(out, "not replayable") {
		t.Errorf("replay before the fix: exit %d, want 1\n%s", code, out)
	}
	if again := listLetters(t, cfg, "--source", "shop"); len(again) != len(letters) {
		t.Errorf("%d letters after a failed replay, want %d: %s", len(again), len(letters), describeLetters(again))
	}

	// The operator's fix, with the daemon running: the column becomes text. A new such row now
	// goes straight in.
	if err := e.chConn.Exec(t.Context(), "ALTER TABLE "+e.table("shop_public_dl")+" MODIFY COLUMN day Nullable(String)"); err != nil {
		t.Fatal(err)
	}
	e.pg.Exec(t, e.pgDB, "INSERT INTO dl VALUES (7, '1930-01-01', now(), 'after the fix')")
	e.waitCaughtUp(t)
	code, out = runCLI(t, nil, "dead-letters", "replay", "--config", cfg, "--source", "shop")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("replayed %d dead letters", avro)) || !strings.Contains(out, "not replayable") {
		t.Errorf("replay after the fix: exit %d\n%s", code, out)
	}
	got := e.chRows(t, "SELECT toString(id), ifNull(day, 'NULL'), ifNull(note, 'NULL') FROM "+e.table("shop_public_dl_current")+" ORDER BY id")
	want := [][]string{{"1", "2020-01-01", "ok"}, {"2", "1960-05-17", "old"}, {"4", "1955-01-01", "b"},
		{"7", "1930-01-01", "after the fix"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the replay, dl in ClickHouse is\n%v, want\n%v (5 was deleted; 3 holds infinity)", got, want)
	}
	if got := e.chRows(t, "SELECT toString(id) FROM "+e.table("shop_public_dl2_current")); fmt.Sprint(got) != "[[2]]" {
		t.Errorf("dl2 after the replay: %v, want only row 2: a letter before a TRUNCATE must not come back", got)
	}
	// Replaying again does nothing more.
	code, out = runCLI(t, nil, "dead-letters", "replay", "--config", cfg, "--source", "shop")
	if code != 0 || !strings.Contains(out, "replayed 0 dead letters") {
		t.Errorf("second replay: exit %d\n%s", code, out)
	}

	// The JSON letter: fixed by hand, then discarded.
	left := listLetters(t, cfg, "--source", "shop")
	if len(left) != 1 || string(left[0].Key) != `["3"]` {
		t.Fatalf("letters left: %s", describeLetters(left))
	}
	code, out = runCLI(t, nil, "dead-letters", "discard", "--config", cfg, "--source", "shop", "--table", "public.dl", "--key", `["3"]`)
	if code != 0 || !strings.Contains(out, "discarded 1 dead letters") {
		t.Errorf("discard: exit %d\n%s", code, out)
	}
	if left := listLetters(t, cfg); len(left) != 0 {
		t.Errorf("letters after discarding: %s", describeLetters(left))
	}
	statuses := map[string]int{}
	for _, l := range listLetters(t, cfg, "--all") {
		statuses[l.Status]++
	}
	if statuses["replayed"] != avro || statuses["discarded"] != 2 || statuses["dead"] != 0 {
		t.Errorf("statuses after all: %v", statuses)
	}

	// Bad input names what is wrong, exit 2.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--config", cfg}, "--source is required"},
		{[]string{"replay", "--config", cfg, "--source", "nope"}, `"nope"`},
		{[]string{"discard", "--config", cfg, "--source", "shop", "--key", "3"}, "JSON array"},
		{[]string{"frobnicate"}, "unknown dead-letters command"},
	} {
		code, out := runCLI(t, nil, append([]string{"dead-letters"}, c.args...)...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("cdcd dead-letters %v: exit %d, want 2 and %q\n%s", c.args, code, c.want, out)
		}
	}
}
