package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/decode"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// execBeforeCommit runs stmt in a transaction and returns where the WAL ended just before its
// commit record: a position may be acknowledged up to there (PostgreSQL resends a transaction whose
// commit record starts at or after the confirmed position) without skipping it, never past it.
func (e *env) execBeforeCommit(t testing.TB, stmt string) uint64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lsn string
	if _, err = tx.Exec(ctx, stmt); err == nil {
		err = tx.QueryRow(ctx, "SELECT (pg_current_wal_insert_lsn() - '0/0')::text").Scan(&lsn)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	n, err := strconv.ParseUint(lsn, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// registryGET reads a JSON document from the daemon's embedded registry.
func registryGET(t testing.TB, base, path string, into any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("registry GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry GET %s: %s %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("registry GET %s: %v: %s", path, err, body)
	}
}

func registryPUT(t testing.TB, base, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("registry PUT %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry PUT %s: %s", path, resp.Status)
	}
}

// TestSchemaEvolution: ADD COLUMN (nullable, and with a default), DROP COLUMN and widening
// changes flow through while streaming, without a restart: each is a new schema version in the
// registry and a matching change in ClickHouse, and rows before and after read correctly.
func TestSchemaEvolution(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE ev (id int PRIMARY KEY, a int, s varchar(10), v varchar(5))",
		"INSERT INTO ev VALUES (1, 1, 'one', 'v1')")
	d := startDaemon(t, e.config(t, []string{"public.ev"}, ""))
	view := "shop_public_ev_current"
	e.waitRows(t, view, 1)
	steps := []struct {
		ddl, dml string
	}{
		{"ALTER TABLE ev ADD COLUMN n text", "INSERT INTO ev VALUES (2, 2, 'two', 'v2', 'nn'); UPDATE ev SET a = 11 WHERE id = 1"},
		{"ALTER TABLE ev ADD COLUMN dflt int NOT NULL DEFAULT 7", "INSERT INTO ev VALUES (3, 3, 'three', 'v3', NULL, 8)"},
		{"ALTER TABLE ev DROP COLUMN s", "INSERT INTO ev (id, a, v, n, dflt) VALUES (4, 4, 'v4', 'x', 9)"},
		{"ALTER TABLE ev ALTER COLUMN a TYPE bigint", "INSERT INTO ev (id, a, v, dflt) VALUES (5, 5000000000, 'v5', 10)"},
		{"ALTER TABLE ev ALTER COLUMN v TYPE text", "INSERT INTO ev (id, a, v, dflt) VALUES (6, 6, 'a longer text than five', 11)"},
	}
	for i, s := range steps {
		e.pg.Exec(t, e.pgDB, s.ddl, s.dml)
		e.waitRows(t, view, uint64(i+2))
	}
	e.waitCaughtUp(t)

	// Every row reads as PostgreSQL has it, old rows included (dflt = 7 for rows before it existed).
	cols := []col{{"id", "int"}, {"a", "int"}, {"v", "text"}, {"n", "text"}, {"dflt", "int"}}
	e.sameTable(t, "ev", view, cols, []string{"id"})
	// The dropped column stays in ClickHouse with the values it had; later rows hold NULL.
	got := e.chRows(t, "SELECT toString(id), ifNull(s, 'NULL') FROM "+e.table(view)+" ORDER BY id")
	want := "[[1 one] [2 two] [3 three] [4 NULL] [5 NULL] [6 NULL]]"
	if fmt.Sprint(got) != want {
		t.Errorf("dropped column s: %v, want %s", got, want)
	}
	types := map[string]string{}
	for _, r := range e.chRows(t, "SELECT name, type FROM system.columns WHERE database = '"+e.chDB+"' AND table = 'shop_public_ev'") {
		types[r[0]] = r[1]
	}
	if types["a"] != "Nullable(Int64)" || types["n"] != "Nullable(String)" || types["dflt"] != "Nullable(Int32)" || types["v"] != "Nullable(String)" {
		t.Errorf("clickhouse column types after evolution: %v", types)
	}
	// Each change registered a new version of the subject.
	var versions []int
	registryGET(t, "http://"+e.registryAddr, "/subjects/shop.public.ev-value/versions", &versions)
	if len(versions) != 1+len(steps)-1 { // varchar(5) -> text is the same Avro schema: no new version
		t.Errorf("subject versions %v, want %d", versions, len(steps))
	}
	if strings.Contains(d.out.String(), "pipeline stopped") {
		t.Errorf("the pipeline restarted during the schema changes:\n%s", tail(d.out.String(), 30))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}

// TestIncompatibleSchemaHaltsTable: int -> text under BACKWARD stops that table with an error
// naming the subject, both versions and the reason; the other table keeps flowing; the position is
// not acknowledged past the change; changing the subject's level resumes the table by replay, and
// so does deleting the subject (a second table).
func TestIncompatibleSchemaHaltsTable(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE a (id int PRIMARY KEY, n int)", "CREATE TABLE b (id int PRIMARY KEY)",
		"CREATE TABLE c (id int PRIMARY KEY, n int)", "INSERT INTO a VALUES (1, 1)", "INSERT INTO b VALUES (1)", "INSERT INTO c VALUES (1, 1)")
	e.registryExtra = "  halt_retry: 1s\n" // so the test sees the automatic resume
	d := startDaemon(t, e.config(t, []string{"public.a", "public.b", "public.c"}, ""))
	waitFor(t, 30*time.Second, "both tables", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_b_current"))
		return n == 1, err
	})
	// The DDL itself decodes to nothing (an idle stream may move past it); the first row under the
	// new schema is what must not be acknowledged.
	e.pg.Exec(t, e.pgDB, "ALTER TABLE a ALTER COLUMN n TYPE text USING n::text")
	before := e.execBeforeCommit(t, "INSERT INTO a VALUES (2, 'two')")
	e.pg.Exec(t, e.pgDB, "INSERT INTO b VALUES (2)", "INSERT INTO b VALUES (3)")
	waitFor(t, 30*time.Second, "the other table to keep flowing", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_b_current"))
		return n == 3, err
	})
	out := strings.ReplaceAll(d.out.String(), `\"`, `"`)
	for _, w := range []string{"table halted", `subject "shop.public.a-value"`, "incompatible with version 1", "BACKWARD"} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, tail(out, 20))
		}
	}
	if n, _ := e.chCount("SELECT count() FROM " + e.table("shop_public_a_current")); n != 1 {
		t.Errorf("halted table a has %d rows in ClickHouse, want its 1 row from before the change", n)
	}
	time.Sleep(1500 * time.Millisecond) // let idle keepalives try to move the offset; they must not
	stored, err := e.chCount("SELECT toUInt64(max(version)) + 1 FROM " + e.table("_cdcd_offsets"))
	if err != nil || stored > before {
		t.Errorf("the offset moved to %d, past the incompatible change at %d (%v)", stored, before, err)
	}
	slot, _ := strconv.ParseUint(e.pgScalar(t, "SELECT (confirmed_flush_lsn - '0/0')::text FROM pg_replication_slots WHERE slot_name = 'cdcd_shop'"), 10, 64)
	if slot > before {
		t.Errorf("the slot was acknowledged to %d, past the incompatible change at %d", slot, before)
	}

	// The operator lowers the subject's level: the table resumes from the held position.
	registryPUT(t, "http://"+e.registryAddr, "/config/shop.public.a-value", `{"compatibility":"NONE"}`)
	waitFor(t, 60*time.Second, "the halted table to resume", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_a_current"))
		return n == 2, err
	})
	e.waitCaughtUp(t)
	e.sameTable(t, "a", "shop_public_a_current", []col{{"id", "int"}, {"n", "text"}}, []string{"id"})
	e.sameTable(t, "b", "shop_public_b_current", []col{{"id", "int"}}, []string{"id"})

	// The other way out: the operator deletes the subject, and the new schema starts it afresh.
	e.pg.Exec(t, e.pgDB, "ALTER TABLE c ALTER COLUMN n TYPE text USING n::text", "INSERT INTO c VALUES (2, 'two')")
	waitFor(t, 30*time.Second, "table c to halt", func() (bool, error) {
		return strings.Contains(strings.ReplaceAll(d.out.String(), `\"`, `"`), `subject "shop.public.c-value"`), nil
	})
	req, _ := http.NewRequest(http.MethodDelete, "http://"+e.registryAddr+"/subjects/shop.public.c-value", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /subjects/shop.public.c-value: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, 60*time.Second, "table c to resume", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("shop_public_c_current"))
		return n == 2, err
	})
	e.waitCaughtUp(t)
	e.sameTable(t, "c", "shop_public_c_current", []col{{"id", "int"}, {"n", "text"}}, []string{"id"})
	d.stop()
}

// TestRegistryUnavailable: with an external registry (a third-party server, axonops) that goes
// away, a new schema pauses the stream without acknowledging; when it returns, the stream resumes
// and nothing is lost.
func TestRegistryUnavailable(t *testing.T) {
	e := newEnv(t)
	reg := testenv.StartRegistry(t)
	p := newProxy(t, strings.TrimPrefix(reg, "http://"))
	e.pg.Exec(t, e.pgDB, "CREATE TABLE r (id int PRIMARY KEY, a int)", "INSERT INTO r VALUES (1, 1)")
	e.registryExtra = fmt.Sprintf("  url: http://%s\n", p.addr)
	d := startDaemon(t, e.config(t, []string{"public.r"}, ""))
	view := "shop_public_r_current"
	waitFor(t, 30*time.Second, "the snapshot", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 1, err
	})
	p.down()
	e.pg.Exec(t, e.pgDB, "ALTER TABLE r ADD COLUMN b text")
	before := e.execBeforeCommit(t, "INSERT INTO r VALUES (2, 2, 'x')")
	waitFor(t, 30*time.Second, "the pause to be logged", func() (bool, error) {
		return strings.Contains(d.out.String(), "schema registry unavailable"), nil
	})
	if n, _ := e.chCount("SELECT count() FROM " + e.table(view)); n != 1 {
		t.Errorf("%d rows while the registry is down, want 1: nothing under the new schema may be written", n)
	}
	stored, _ := e.chCount("SELECT toUInt64(max(version)) + 1 FROM " + e.table("_cdcd_offsets"))
	if stored > before {
		t.Errorf("offset advanced to %d past the unregistered change at %d", stored, before)
	}
	p.up()
	waitFor(t, 60*time.Second, "the stream to resume", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table(view))
		return n == 2, err
	})
	e.waitCaughtUp(t)
	e.sameTable(t, "r", view, []col{{"id", "int"}, {"a", "int"}, {"b", "text"}}, []string{"id"})
	// The third-party registry holds both versions.
	var versions []int
	registryGET(t, reg, "/subjects/shop.public.r-value/versions", &versions)
	if len(versions) != 2 {
		t.Errorf("axonops has versions %v, want 2", versions)
	}
	d.stop()
}

// TestDeadLettersAreAvro: a row ClickHouse cannot hold lands in the dead-letter table in the
// Confluent wire format, readable through the registry; a value Avro cannot hold is kept as JSON.
func TestDeadLettersAreAvro(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TABLE dl (id int PRIMARY KEY, day date, ts timestamptz)")
	d := startDaemon(t, e.config(t, []string{"public.dl"}, ""))
	e.pg.Exec(t, e.pgDB, "INSERT INTO dl VALUES (1, '2020-01-01', now())", "INSERT INTO dl VALUES (2, '1960-05-17', now())",
		"INSERT INTO dl VALUES (3, '2020-01-01', 'infinity')")
	waitFor(t, 30*time.Second, "two dead letters", func() (bool, error) {
		n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters"))
		return n == 2, err
	})
	rows := e.chRows(t, "SELECT format, record, error FROM "+e.table("_cdcd_dead_letters")+" ORDER BY format")
	if rows[0][0] != "avro-confluent" || rows[1][0] != "json" {
		t.Fatalf("dead-letter formats %s, %s", rows[0][0], rows[1][0])
	}
	id, payload, err := decode.ParseWire([]byte(rows[0][1]))
	if err != nil {
		t.Fatal(err)
	}
	var sch struct {
		Schema string `json:"schema"`
	}
	registryGET(t, "http://"+e.registryAddr, fmt.Sprintf("/schemas/ids/%d", id), &sch)
	js, err := decode.DecodeToJSON(sch.Schema, payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"day":"1960-05-17"`)) || !bytes.Contains(js, []byte(`"id":2`)) {
		t.Errorf("decoded dead letter %s lacks the row", js)
	}
	if !strings.Contains(rows[0][2], "1960-05-17") || !strings.Contains(rows[1][2], "infinity") {
		t.Errorf("dead-letter errors: %q, %q", rows[0][2], rows[1][2])
	}
	d.stop()
}

// TestEnumLabelAdded: ALTER TYPE ... ADD VALUE sends nothing on the stream (no new Relation
// message), yet rows holding the new labels, in enum and enum[] columns, reach ClickHouse under a
// new schema version whose symbols include them; none goes to the dead letters.
func TestEnumLabelAdded(t *testing.T) {
	e := newEnv(t)
	e.pg.Exec(t, e.pgDB, "CREATE TYPE feel AS ENUM ('sad', 'ok')",
		"CREATE TABLE en (id int PRIMARY KEY, f feel, fs feel[])",
		"INSERT INTO en VALUES (1, 'sad', '{ok}')")
	d := startDaemon(t, e.config(t, []string{"public.en"}, ""))
	view := "shop_public_en_current"
	e.waitRows(t, view, 1)
	e.pg.Exec(t, e.pgDB, "INSERT INTO en VALUES (2, 'ok', NULL)") // streamed under the first schema
	e.waitRows(t, view, 2)
	e.pg.Exec(t, e.pgDB, "ALTER TYPE feel ADD VALUE 'happy'", "ALTER TYPE feel ADD VALUE 'meh' BEFORE 'ok'",
		"INSERT INTO en VALUES (3, 'happy', '{sad,meh}')",
		"INSERT INTO en VALUES (4, 'ok', '{happy,NULL}')",
		"UPDATE en SET f = 'meh' WHERE id = 1")
	e.waitRows(t, view, 4)
	e.waitCaughtUp(t)
	got := e.chRows(t, "SELECT toString(id), ifNull(f, 'NULL'), toString(fs) FROM "+e.table(view)+" ORDER BY id")
	want := "[[1 meh ['ok']] [2 ok []] [3 happy ['sad','meh']] [4 ok ['happy',NULL]]]"
	if fmt.Sprint(got) != want {
		t.Errorf("rows %v\nwant %s", got, want)
	}
	if n, err := e.chCount("SELECT count() FROM " + e.table("_cdcd_dead_letters")); err != nil || n != 0 {
		t.Errorf("%d dead letters (%v), want none", n, err)
	}
	var versions []int
	registryGET(t, "http://"+e.registryAddr, "/subjects/shop.public.en-value/versions", &versions)
	if len(versions) != 2 {
		t.Errorf("subject versions %v, want 2 (the added labels read at once)", versions)
	}
	var latest struct {
		Schema string `json:"schema"`
	}
	registryGET(t, "http://"+e.registryAddr, "/subjects/shop.public.en-value/versions/latest", &latest)
	if !strings.Contains(latest.Schema, `"symbols":["sad","meh","ok","happy"]`) {
		t.Errorf("latest schema's symbols: %s", latest.Schema)
	}
	if strings.Contains(d.out.String(), "pipeline stopped") {
		t.Errorf("the pipeline restarted:\n%s", tail(d.out.String(), 30))
	}
	if code, _ := d.stop(); code != 0 {
		t.Errorf("cdcd exited %d", code)
	}
}
