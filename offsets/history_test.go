package offsets

import (
	"testing"
)

// TestSchemaHistory: LoadHistory returns the newest record at or below a version (the latest saved
// of several at one version), per source; ForgetHistory hides every record saved before it.
func TestSchemaHistory(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	load := func(source string, version uint64) string {
		t.Helper()
		rec, ok, err := s.LoadHistory(ctx, source, version)
		if err != nil {
			t.Fatalf("LoadHistory(%s, %d): %v", source, version, err)
		}
		if !ok {
			return "(none)"
		}
		return string(rec)
	}
	save := func(source string, version uint64, rec string) {
		t.Helper()
		if err := s.SaveHistory(ctx, source, version, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	if got := load("legacy", 100); got != "(none)" {
		t.Fatalf("no records: %s", got)
	}
	save("legacy", 10, `{"at":10}`)
	save("legacy", 20, `{"at":20,"n":1}`)
	save("legacy", 20, `{"at":20,"n":2}`) // saved again at a replayed DDL: the newest wins
	save("other", 15, `{"other":15}`)
	for _, c := range []struct {
		source  string
		version uint64
		want    string
	}{
		{"legacy", 9, "(none)"}, {"legacy", 10, `{"at":10}`}, {"legacy", 19, `{"at":10}`},
		{"legacy", 20, `{"at":20,"n":2}`}, {"legacy", 1 << 62, `{"at":20,"n":2}`},
		{"other", 100, `{"other":15}`}, {"other", 14, "(none)"},
	} {
		if got := load(c.source, c.version); got != c.want {
			t.Errorf("LoadHistory(%s, %d) = %s, want %s", c.source, c.version, got, c.want)
		}
	}
	if err := s.ForgetHistory(ctx, "legacy"); err != nil {
		t.Fatal(err)
	}
	if got := load("legacy", 100); got != "(none)" {
		t.Errorf("after ForgetHistory: %s", got)
	}
	if got := load("other", 100); got != `{"other":15}` {
		t.Errorf("ForgetHistory of another source hid %s", got)
	}
	save("legacy", 5, `{"at":5}`) // a new snapshot, at a lower coordinate (another server)
	if got := load("legacy", 100); got != `{"at":5}` {
		t.Errorf("after a new record: %s", got)
	}
	// A Store on the same database reads the same.
	if rec, ok, err := NewStore(s.conn, s.db).LoadHistory(ctx, "legacy", 30); err != nil || !ok || string(rec) != `{"at":5}` {
		t.Errorf("a second Store reads %q %v %v", rec, ok, err)
	}
}
