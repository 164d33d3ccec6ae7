package clickhouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/change"
)

// datedTable is a source table with a date column: ClickHouse 18.16's Date cannot hold 1960,
// Date32 (22.8+) cannot hold 1860.
var datedTable = &change.Table{
	ID: change.TableID{Source: "src", Namespace: "public", Name: "dated"},
	Columns: []change.Column{
		{Name: "id", Type: typ(change.Int64)},
		{Name: "day", Type: typ(change.Date), Nullable: true},
	},
	Key: []int{0},
}

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func (e *chEnv) deadLetters(t *testing.T, f DeadLetterFilter) []DeadLetter {
	t.Helper()
	var out []DeadLetter
	if err := ListDeadLetters(t.Context(), e.conn, e.db, f, func(d DeadLetter) error {
		out = append(out, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func letterIDs(ds []DeadLetter) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s@%d.%d%s:%s", d.Table, d.Version, d.Seq, d.Key, d.Status))
	}
	return out
}

// TestDeadLetterLifecycle: a row ClickHouse cannot hold becomes one dead letter however often its
// batch is written; a TRUNCATE after it discards it; an operator's ALTER that makes the column hold
// the value lets the same (running) sink write such rows; marking letters is idempotent.
func TestDeadLetterLifecycle(t *testing.T) {
	e := newCHEnv(t, "")
	ctx := t.Context()
	s := New(e.conn, e.db, "src", e.caps, e.log)
	century := "19" // a year ClickHouse's date type cannot hold: 19xx for Date, 18xx for Date32
	if e.caps.Date32 {
		century = "18"
	}
	day := func(s string) time.Time { return day(strings.Replace(s, "19", century, 1)) }
	batch := []change.Event{
		ins(datedTable, 10, row(int64(1), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))),
		{Op: change.Insert, Table: datedTable, After: row(int64(2), day("1960-05-17")), Version: 10, Seq: 1},
		{Op: change.Insert, Table: datedTable, After: row(int64(3), day("1961-01-01")), Version: 11, Seq: 0},
	}
	for range 2 { // a batch replayed after a crash writes its dead letters again
		st := e.write(t, s, batch...)
		if st.Rows != 1 || st.DeadLetters != 2 {
			t.Fatalf("Write: %+v, want 1 row and 2 dead letters", st)
		}
		want := []DeadLetterID{{Table: "public.dated", Version: 10, Seq: 1, Key: `["2"]`}, {Table: "public.dated", Version: 11, Key: `["3"]`}}
		if !slices.Equal(st.Dead, want) {
			t.Errorf("WriteStats.Dead = %v, want %v", st.Dead, want)
		}
	}
	got := e.deadLetters(t, DeadLetterFilter{Source: "src"})
	if fmt.Sprint(letterIDs(got)) != `[public.dated@10.1["2"]:dead public.dated@11.0["3"]:dead]` {
		t.Fatalf("dead letters %v", letterIDs(got))
	}
	if d := got[0]; d.Op != "insert" || d.Format != FormatJSON || d.Error == "" || d.Source != "src" {
		t.Errorf("dead letter %+v", d)
	}
	if n := len(e.deadLetters(t, DeadLetterFilter{Source: "other"})); n != 0 {
		t.Errorf("%d dead letters of another source", n)
	}

	// A truncate at version 11 discards the letter before it, not the one at 11.
	e.write(t, s, trunc(datedTable, 11))
	all := e.deadLetters(t, DeadLetterFilter{All: true, Table: "public.dated"})
	if fmt.Sprint(letterIDs(all)) != `[public.dated@10.1["2"]:discarded public.dated@11.0["3"]:dead]` {
		t.Fatalf("after the truncate: %v", letterIDs(all))
	}
	if all[0].Note == "" {
		t.Error("a letter discarded by a truncate has no note")
	}
	// Writing the discarded letter's batch again does not revive it.
	e.write(t, s, batch[1])
	if got := e.deadLetters(t, DeadLetterFilter{}); len(got) != 1 {
		t.Errorf("dead letters after a replay: %v", letterIDs(got))
	}

	// The operator widens the column; the running sink picks it up at the next such row.
	if err := e.conn.Exec(ctx, "ALTER TABLE "+QuoteIdent(e.db)+".src_public_dated MODIFY COLUMN day Nullable(String)"); err != nil {
		t.Fatal(err)
	}
	st := e.write(t, s, ins(datedTable, 12, row(int64(4), day("1950-01-02"))), ins(datedTable, 12, row(int64(5), time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC))))
	if st.DeadLetters != 0 || st.Rows != 2 {
		t.Errorf("after the ALTER: %+v", st)
	}
	var rows []string
	r, err := e.conn.Query(ctx, "SELECT toString(id), assumeNotNull(day) FROM "+QuoteIdent(e.db)+".src_public_dated_current ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var id, d string
		if err := r.Scan(&id, &d); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, id+"="+d)
	}
	r.Close()
	if want := fmt.Sprintf("[4=%s50-01-02 5=2021-03-04]", century); fmt.Sprint(rows) != want {
		t.Errorf("view after the ALTER: %v, want %s", rows, want)
	}

	// Marking twice leaves one handled letter.
	left := e.deadLetters(t, DeadLetterFilter{})
	for range 2 {
		if err := MarkDeadLetters(ctx, e.conn, e.db, left, Replayed, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.deadLetters(t, DeadLetterFilter{})); n != 0 {
		t.Errorf("%d dead letters after marking", n)
	}
	all = e.deadLetters(t, DeadLetterFilter{All: true})
	if fmt.Sprint(letterIDs(all)) != `[public.dated@10.1["2"]:discarded public.dated@11.0["3"]:replayed]` {
		t.Errorf("all letters: %v", letterIDs(all))
	}
}
