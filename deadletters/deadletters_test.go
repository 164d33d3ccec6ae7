package deadletters

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/decode"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/schema"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// events is a table with a text key and a date; rows dated before ClickHouse can hold.
var events = &change.Table{
	ID: change.TableID{Source: "app", Namespace: "public", Name: "events"},
	Columns: []change.Column{
		{Name: "id", Type: change.Type{Kind: change.String}},
		{Name: "day", Type: change.Type{Kind: change.Date}, Nullable: true},
		{Name: "n", Type: change.Type{Kind: change.Int64}, Nullable: true},
	},
	Key: []int{0},
}

// TestReplayPages: more letters than a page are all listed, rejected again before the fix
// (staying one letter each), and replayed after it, each at its own version; JSON letters are
// skipped, never replayed.
func TestReplayPages(t *testing.T) {
	ctx := t.Context()
	srv := testenv.StartClickHouse(t)
	conn := srv.Conn(t, "default")
	db := srv.NewDatabase(t)
	if err := clickhouse.EnsureDatabase(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	caps, err := clickhouse.DetectCapabilities(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	store, err := schema.NewClickHouseStore(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schema.NewEmbedded(ctx, store, "BACKWARD")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := decode.Schema(events, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := reg.Register(ctx, "app.public.events-value", ts.JSON)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sk := clickhouse.New(conn, db, "app", caps, log)
	sk.Encode = func(buf []byte, ev *change.Event, row []any) ([]byte, int, error) {
		e := *ev
		if e.Op == change.Delete {
			e.Before = row
		} else {
			e.After = row
		}
		out, err := ts.AppendWire(buf, id, &e)
		return out, id, err
	}
	old := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) // outside Date and Date32
	const n = 2*page + 500
	var batch []change.Event
	for i := range n {
		batch = append(batch, change.Event{Op: change.Insert, Table: events, Version: uint64(100 + i/7), Seq: uint32(i % 7),
			After: []any{fmt.Sprintf("k%05d", i), old.AddDate(0, 0, i), int64(i)}})
	}
	// A row Avro cannot hold: kept as JSON.
	batch = append(batch, change.Event{Op: change.Insert, Table: events, Version: 99999,
		After: []any{"bad", &change.BadValue{Raw: "0000-00-00", Err: fmt.Errorf("zero date")}, int64(0)}})
	st, err := sk.Write(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if st.DeadLetters != n+1 {
		t.Fatalf("%d dead letters, want %d", st.DeadLetters, n+1)
	}

	dl := &Store{Conn: conn, Database: db, Registry: reg, Log: log}
	var shown []Shown
	if err := dl.List(ctx, clickhouse.DeadLetterFilter{Source: "app"}, func(s Shown) error {
		shown = append(shown, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(shown) != n+1 {
		t.Fatalf("listed %d letters, want %d", len(shown), n+1)
	}
	if s := shown[0]; s.SchemaID != id || s.RecordError != "" || !strings.Contains(string(s.Record), `"day":"1900-01-01"`) ||
		string(s.Key) != `["k00000"]` || s.Status != "dead" {
		t.Errorf("first letter: %+v (record %s)", s, s.Record)
	}
	if s := shown[n]; s.Format != clickhouse.FormatJSON || !json.Valid(s.Record) || !strings.Contains(string(s.Record), "0000-00-00") {
		t.Errorf("JSON letter: %+v", s)
	}

	rep, err := dl.Replay(ctx, "app", "", caps, true)
	if err != nil || rep.Replayed != n || len(rep.Skipped) != 1 || len(rep.Again) != 0 {
		t.Fatalf("dry run: %d replayed, %d skipped, %d again, %v", rep.Replayed, len(rep.Skipped), len(rep.Again), err)
	}
	rep, err = dl.Replay(ctx, "app", "public.events", caps, false)
	if err != nil || rep.Replayed != 0 || len(rep.Again) != n {
		t.Fatalf("before the fix: %d replayed, %d again, %v", rep.Replayed, len(rep.Again), err)
	}
	var total, dead uint64
	if err := conn.QueryRow(ctx, "SELECT count(), countIf(status = 0) FROM "+clickhouse.QuoteIdent(db)+"."+clickhouse.DeadLettersTable+" FINAL").Scan(&total, &dead); err != nil {
		t.Fatal(err)
	}
	if total != n+1 || dead != n+1 {
		t.Errorf("after a rejected replay: %d letters, %d dead; want %d each", total, dead, n+1)
	}

	if err := conn.Exec(ctx, "ALTER TABLE "+clickhouse.QuoteIdent(db)+".app_public_events MODIFY COLUMN day Nullable(String)"); err != nil {
		t.Fatal(err)
	}
	rep, err = dl.Replay(ctx, "app", "", caps, false)
	if err != nil || rep.Replayed != n || len(rep.Again) != 0 || len(rep.Skipped) != 1 {
		t.Fatalf("after the fix: %d replayed, %d again, %d skipped, %v", rep.Replayed, len(rep.Again), len(rep.Skipped), err)
	}
	var rows, versions uint64
	var first, last string
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(_version), min(assumeNotNull(day)), max(assumeNotNull(day)) FROM "+
		clickhouse.QuoteIdent(db)+".app_public_events FINAL WHERE _is_deleted = 0").Scan(&rows, &versions, &first, &last); err != nil {
		t.Fatal(err)
	}
	if rows != n || versions != (n+6)/7 || first != "1900-01-01" || last != old.AddDate(0, 0, n-1).Format(time.DateOnly) {
		t.Errorf("replayed table: %d rows, %d versions, days %s..%s", rows, versions, first, last)
	}
	left, err := dl.Discard(ctx, clickhouse.DeadLetterFilter{Source: "app", Key: `["bad"]`}, "fixed by hand", false)
	if err != nil || left != 1 {
		t.Errorf("discard: %d, %v", left, err)
	}
}
