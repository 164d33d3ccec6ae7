package schema

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riferrei/srclient"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestEmbeddedConformance runs the registry suite against cdcd's registry over httptest.
func TestEmbeddedConformance(t *testing.T) {
	e := newEmbedded(t, "")
	runRegistrySuite(t, registryTarget{url: serveEmbedded(t, e), fresh: true})
}

// TestEmbeddedServe runs the suite against Serve on a real port and checks it shuts down with ctx.
func TestEmbeddedServe(t *testing.T) {
	e := newEmbedded(t, "BACKWARD")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.Serve(ctx, addr) }()
	t.Cleanup(cancel)
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/config")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Serve on %s not ready: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := e.Serve(context.Background(), addr); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("second Serve on a bound address: %v, want a listen error naming it", err)
	}
	runRegistrySuite(t, registryTarget{url: url, fresh: true})
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after ctx ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
}

func TestEmbeddedRegister(t *testing.T) {
	ctx := context.Background()
	e := newEmbedded(t, "")
	subject := Subject("shop", "public", "orders")
	if subject != "shop.public.orders-value" {
		t.Fatalf("Subject: %q", subject)
	}
	v1 := record("orders", field("id", `"long"`, ""), field("qty", `"int"`, ""))
	id, version, err := e.Register(ctx, subject, v1)
	if err != nil || id != 1 || version != 1 {
		t.Fatalf("Register: %d %d %v, want 1 1", id, version, err)
	}
	spaced := strings.ReplaceAll(v1, ",", " , ")
	if id2, v2, err := e.Register(ctx, subject, spaced); err != nil || id2 != id || v2 != 1 {
		t.Fatalf("Register of the same schema spelled differently: %d %d %v", id2, v2, err)
	}
	v2 := record("orders", field("id", `"long"`, ""), field("qty", `"int"`, ""), field("note", `["null","string"]`, "null"))
	if id2, ver, err := e.Register(ctx, subject, v2); err != nil || id2 != 2 || ver != 2 {
		t.Fatalf("Register v2: %d %d %v, want 2 2", id2, ver, err)
	}
	text, err := e.SchemaByID(ctx, 2)
	if err != nil || text != v2 {
		t.Fatalf("SchemaByID(2): %q %v", text, err)
	}

	// int → text under BACKWARD: the error names the subject, the version and the reason.
	bad := record("orders", field("id", `"long"`, ""), field("qty", `"string"`, ""), field("note", `["null","string"]`, "null"))
	_, _, err = e.Register(ctx, subject, bad)
	var inc *IncompatibleError
	if !errors.As(err, &inc) {
		t.Fatalf("Register of int → string: %v, want *IncompatibleError", err)
	}
	if inc.Subject != subject || inc.Version != 2 || inc.Next != 3 || inc.Level != LevelBackward || inc.NewSchema != bad || inc.Reason == "" {
		t.Fatalf("IncompatibleError: %+v", inc)
	}
	want := `schema registry: subject "shop.public.orders-value": new schema (would be version 3) is incompatible with version 2 under BACKWARD: the new schema cannot read data written with version 2: reader schema string not compatible with writer schema int`
	if err.Error() != want {
		t.Fatalf("error text:\n%s\nwant\n%s", err, want)
	}
	if IsUnavailable(err) {
		t.Fatal("an incompatible schema is not an unavailable registry")
	}

	_, _, err = e.Register(ctx, subject, `{"type":"record","name":"x","fields":[{"name":"a","type":"nosuch"}]}`)
	if apiCode(err) != CodeInvalidSchema || IsUnavailable(err) || !strings.Contains(err.Error(), subject) {
		t.Fatalf("Register of an invalid schema: %v, want error code 42201 naming the subject", err)
	}
	if _, err := e.SchemaByID(ctx, 99); apiCode(err) != CodeSchemaNotFound {
		t.Fatalf("SchemaByID(99): %v, want error code 40403", err)
	}
	if _, _, err := e.Register(ctx, "", v1); err == nil {
		t.Fatal("Register with an empty subject succeeded")
	}
	if _, err := NewEmbedded(ctx, nil, "SIDEWAYS"); err == nil || !strings.Contains(err.Error(), "SIDEWAYS") {
		t.Fatalf("NewEmbedded with a bad level: %v", err)
	}
}

// TestEmbeddedInProcessMatchesHTTP: what the pipeline registers in-process is what Confluent
// clients read.
func TestEmbeddedInProcessMatchesHTTP(t *testing.T) {
	ctx := context.Background()
	e := newEmbedded(t, "")
	sr := srclient.NewSchemaRegistryClient(serveEmbedded(t, e))
	schema := record("orders", field("id", `"long"`, ""))
	id, version, err := e.Register(ctx, "shop.public.orders-value", schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sr.GetLatestSchema("shop.public.orders-value")
	if err != nil || s.ID() != id || s.Version() != version || s.Schema() != schema {
		t.Fatalf("srclient GetLatestSchema: %+v %v; want id %d version %d", s, err, id, version)
	}
	// And the other way round: a schema registered over HTTP is found in-process.
	other := record("items", field("sku", `"string"`, ""))
	created, err := sr.CreateSchema("shop.public.items-value", other, srclient.Avro)
	if err != nil {
		t.Fatal(err)
	}
	if got, ver, err := e.Register(ctx, "shop.public.items-value", other); err != nil || got != created.ID() || ver != 1 {
		t.Fatalf("in-process Register of a schema registered over HTTP: %d %d %v, want id %d", got, ver, err, created.ID())
	}
}

// TestEmbeddedConcurrentRegister registers the same schemas from many goroutines: one id per
// schema, one version per schema and subject, versions without gaps.
func TestEmbeddedConcurrentRegister(t *testing.T) {
	ctx := context.Background()
	e := newEmbedded(t, "NONE")
	const subjects, schemas, workers = 4, 6, 12
	type key struct{ subject, schema int }
	var mu sync.Mutex
	got := map[key][2]int{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readers := sync.WaitGroup{}
	readers.Add(1)
	go func() { // Confluent clients read while the pipeline registers
		defer readers.Done()
		h := e.Handler()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, path := range []string{"/subjects", "/subjects/s0/versions/latest", "/schemas/ids/1", "/subjects/s1/versions"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
					t.Errorf("GET %s during registrations: %d %s", path, rec.Code, rec.Body)
				}
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range subjects * schemas {
				k := key{(i + w) % subjects, (i / subjects) % schemas}
				id, ver, err := e.Register(ctx, fmt.Sprintf("s%d", k.subject), record("r", field(fmt.Sprintf("f%d", k.schema), `"int"`, "")))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = e.SchemaByID(ctx, id)
				mu.Lock()
				if prev, ok := got[k]; ok && prev != [2]int{id, ver} {
					t.Errorf("%v: got %d/%d and %d/%d", k, prev[0], prev[1], id, ver)
				}
				got[k] = [2]int{id, ver}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	ids := map[int]int{} // schema → id
	versions := map[int]map[int]bool{}
	for k, v := range got {
		if prev, ok := ids[k.schema]; ok && prev != v[0] {
			t.Errorf("schema %d has ids %d and %d", k.schema, prev, v[0])
		}
		ids[k.schema] = v[0]
		if versions[k.subject] == nil {
			versions[k.subject] = map[int]bool{}
		}
		versions[k.subject][v[1]] = true
	}
	for s, vs := range versions {
		for v := 1; v <= schemas; v++ {
			if !vs[v] {
				t.Errorf("subject s%d lacks version %d: %v", s, v, vs)
			}
		}
	}
}
