package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// openStore opens a Store over the same durable place each time it is called; the returned
// function releases it (a restart closes the old store first).
type openStore func(t *testing.T) (Store, func())

func fileStoreAt(path string) openStore {
	return func(t *testing.T) (Store, func()) {
		t.Helper()
		fs, err := OpenFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		return fs, func() { fs.Close() }
	}
}

// registryDump is everything a client can read from a registry, to compare before and after a
// restart.
type registryDump struct {
	Subjects, AllSubjects []string
	Versions              map[string][]versionResponse // with deleted ones
	Levels                map[string]string
	Global                string
	IDs                   map[int]string // readable schema ids 1..20
}

func dumpRegistry(t *testing.T, url string) registryDump {
	t.Helper()
	raw := rawClient{t: t, base: url}
	d := registryDump{Versions: map[string][]versionResponse{}, Levels: map[string]string{}, IDs: map[int]string{}}
	raw.ok("GET", "/subjects", nil, &d.Subjects)
	raw.ok("GET", "/subjects?deleted=true", nil, &d.AllSubjects)
	for _, s := range append(slices.Clone(d.AllSubjects), "configured-only") {
		var lvl levelAnswer
		if status, _ := raw.do("GET", "/config/"+s, nil); status == 200 {
			raw.ok("GET", "/config/"+s, nil, &lvl)
			d.Levels[s] = lvl.CompatibilityLevel
		}
	}
	for _, s := range d.AllSubjects {
		var vs []int
		raw.ok("GET", "/subjects/"+s+"/versions?deleted=true", nil, &vs)
		for _, v := range vs {
			var vr versionResponse
			raw.ok("GET", "/subjects/"+s+"/versions/"+itoa(v)+"?deleted=true", nil, &vr)
			d.Versions[s] = append(d.Versions[s], vr)
		}
	}
	var g levelAnswer
	raw.ok("GET", "/config", nil, &g)
	d.Global = g.CompatibilityLevel
	for id := 1; id <= 20; id++ {
		var s struct{ Schema string }
		if status, _ := raw.do("GET", "/schemas/ids/"+itoa(id), nil); status == 200 {
			raw.ok("GET", "/schemas/ids/"+itoa(id), nil, &s)
			d.IDs[id] = s.Schema
		}
	}
	return d
}

// checkRestart changes a registry in every way the log records, starts a new registry over the
// same store and checks a client sees the same registry, which then continues the sequences.
func checkRestart(t *testing.T, open openStore) {
	ctx := context.Background()
	store, closeStore := open(t)
	e1, err := NewEmbedded(ctx, store, "BACKWARD")
	if err != nil {
		t.Fatal(err)
	}
	raw := rawClient{t: t, base: serveEmbedded(t, e1)}
	a1 := record("a", field("x", `"int"`, ""))
	a2 := record("a", field("x", `"int"`, ""), field("y", `"string"`, `""`))
	ids := []int{raw.register("A", a1), raw.register("A", a2), raw.register("B", a1)}
	ids = append(ids, raw.register("C", record("c", field("z", `"long"`, ""))))
	ids = append(ids, raw.register("D", record("d", field("w", `"long"`, ""))))
	if !slices.Equal(ids, []int{1, 2, 1, 3, 4}) {
		t.Fatalf("ids %v", ids)
	}
	raw.ok("PUT", "/config/A", map[string]string{"compatibility": "FULL"}, nil)
	raw.ok("PUT", "/config/configured-only", map[string]string{"compatibility": "FORWARD"}, nil)
	raw.ok("PUT", "/config", map[string]string{"compatibility": "NONE"}, nil)
	raw.ok("DELETE", "/subjects/C", nil, nil)
	raw.ok("DELETE", "/subjects/D", nil, nil)
	raw.ok("DELETE", "/subjects/D?permanent=true", nil, nil)
	before := dumpRegistry(t, raw.base)
	if len(before.IDs) != 3 || before.Global != "NONE" || before.Levels["A"] != "FULL" || len(before.Versions["C"]) != 1 {
		t.Fatalf("unexpected registry before the restart: %+v", before)
	}
	closeStore()

	store, closeStore = open(t)
	defer closeStore()
	// A different default: the level set through the API is in the log and wins.
	e2, err := NewEmbedded(ctx, store, "FORWARD_TRANSITIVE")
	if err != nil {
		t.Fatal(err)
	}
	url2 := serveEmbedded(t, e2)
	if after := dumpRegistry(t, url2); !reflect.DeepEqual(before, after) {
		t.Fatalf("after the restart:\n%+v\nbefore:\n%+v", after, before)
	}
	id, version, err := e2.Register(ctx, "A", record("a", field("x", `"int"`, ""), field("y", `"string"`, `""`), field("v", `"int"`, "0")))
	if err != nil || id != 5 || version != 3 {
		t.Fatalf("first registration after the restart: id %d version %d %v, want 5 3", id, version, err)
	}
	id, version, err = e2.Register(ctx, "C", record("c", field("z", `"long"`, "")))
	if err != nil || id != 3 || version != 2 {
		t.Fatalf("re-registering soft-deleted C: id %d version %d %v, want 3 2", id, version, err)
	}
}

func TestFileStoreRestart(t *testing.T) {
	checkRestart(t, fileStoreAt(filepath.Join(t.TempDir(), "new", "dir", "schemas.jsonl")))
}

// checkDuplicateSeq: of two records with one Seq (an append that failed after storing, then its
// replacement), the later wins.
func checkDuplicateSeq(t *testing.T, store Store) {
	ctx := context.Background()
	for _, r := range []Record{
		{Seq: 1, Kind: RecordSchema, Subject: "lost", Version: 1, ID: 1, Schema: `"int"`},
		{Seq: 1, Kind: RecordSchema, Subject: "kept", Version: 1, ID: 1, Schema: `"long"`},
		{Seq: 2, Kind: RecordConfig, Level: LevelFull},
	} {
		if err := store.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	e, err := NewEmbedded(ctx, store, "")
	if err != nil {
		t.Fatal(err)
	}
	if text, err := e.SchemaByID(ctx, 1); err != nil || text != `"long"` {
		t.Fatalf("schema 1: %q %v, want the later record's", text, err)
	}
	if _, v, err := e.Register(ctx, "kept", `"long"`); err != nil || v != 1 {
		t.Fatalf("kept: %d %v", v, err)
	}
	if id, _, err := e.Register(ctx, "other", `"string"`); err != nil || id != 2 {
		t.Fatalf("next id after a duplicate seq: %d %v, want 2", id, err)
	}
	recs, err := store.Load(ctx)
	if err != nil || len(recs) != 4 || recs[3].Seq != 3 {
		t.Fatalf("log after the next registration: %+v %v", recs, err)
	}
}

func TestFileStoreDuplicateSeq(t *testing.T) {
	fs, err := OpenFileStore(filepath.Join(t.TempDir(), "s.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	checkDuplicateSeq(t, fs)
}

func TestFileStoreTornTail(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "schemas.jsonl")
	for _, torn := range []string{`{"seq":3,"kind":"sch`, "garbage\n", "\x00\x00\x00"} {
		_ = os.Remove(path)
		fs, err := OpenFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEmbedded(ctx, fs, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{`"int"`, `"long"`} {
			if _, _, err := e.Register(ctx, "s"+s, s); err != nil {
				t.Fatal(err)
			}
		}
		fs.Close()
		good, _ := os.ReadFile(path)
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		_, _ = f.WriteString(torn)
		f.Close()

		fs, err = OpenFileStore(path)
		if err != nil {
			t.Fatalf("open with torn tail %q: %v", torn, err)
		}
		if now, _ := os.ReadFile(path); string(now) != string(good) {
			t.Fatalf("torn tail %q not cut: %q", torn, now)
		}
		e, err = NewEmbedded(ctx, fs, "")
		if err != nil {
			t.Fatal(err)
		}
		if id, _, err := e.Register(ctx, "third", `"string"`); err != nil || id != 3 {
			t.Fatalf("register after a torn tail: %d %v", id, err)
		}
		recs, err := fs.Load(ctx)
		if err != nil || len(recs) != 3 {
			t.Fatalf("reload: %d records, %v", len(recs), err)
		}
		fs.Close()
	}
}

func TestFileStoreCorruptAndLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schemas.jsonl")
	line := `{"seq":1,"kind":"config","level":"FULL"}` + "\n"
	if err := os.WriteFile(path, []byte(line+"not json\n"+strings.Replace(line, `"seq":1`, `"seq":2`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileStore(path); err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), path) {
		t.Fatalf("open of a corrupt log: %v, want an error naming the file", err)
	}
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if _, err := OpenFileStore(path); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("second open of a log in use: %v, want a lock error", err)
	}
}

// faultyStore injects append failures into a real store: before the record is written, or after
// (the ambiguous case: stored, but the caller hears an error).
type faultyStore struct {
	Store
	mu         sync.Mutex
	fail       int
	afterWrite bool
}

func (f *faultyStore) Append(ctx context.Context, r Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == 0 {
		return f.Store.Append(ctx, r)
	}
	f.fail--
	if f.afterWrite {
		if err := f.Store.Append(ctx, r); err != nil {
			return err
		}
	}
	return errors.New("injected: connection reset by peer")
}

// TestEmbeddedAppendFailure: a failed append is reported as unavailable, hands out nothing, and
// the retry gives the answer a first success would have, with one record in the log.
func TestEmbeddedAppendFailure(t *testing.T) {
	ctx := context.Background()
	for _, afterWrite := range []bool{false, true} {
		fs, err := OpenFileStore(filepath.Join(t.TempDir(), "s.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		store := &faultyStore{Store: fs}
		e, err := NewEmbedded(ctx, store, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.Register(ctx, "a", `"int"`); err != nil {
			t.Fatal(err)
		}
		store.fail, store.afterWrite = 1, afterWrite
		schema := record("r", field("f", `"int"`, ""))
		id, _, err := e.Register(ctx, "b", schema)
		if !IsUnavailable(err) || id != 0 || !strings.Contains(err.Error(), `"b"`) {
			t.Fatalf("afterWrite=%v: Register with a failing store: %d %v, want unavailable naming the subject", afterWrite, id, err)
		}
		if _, err := e.SchemaByID(ctx, 2); err == nil && !afterWrite {
			t.Fatal("a failed append's id is readable")
		}
		id, version, err := e.Register(ctx, "b", schema)
		if err != nil || id != 2 || version != 1 {
			t.Fatalf("afterWrite=%v: retry: %d %d %v, want 2 1", afterWrite, id, version, err)
		}
		recs, _ := fs.Load(ctx)
		if len(recs) != 2 || recs[1].Seq != 2 || recs[1].Subject != "b" {
			t.Fatalf("afterWrite=%v: log %+v, want two records", afterWrite, recs)
		}
		fs.Close()
	}
}
