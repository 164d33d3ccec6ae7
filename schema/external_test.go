package schema

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// checkExternal drives External against a registry at url whose global level is BACKWARD.
func checkExternal(t *testing.T, url string) *External {
	ctx := context.Background()
	x, err := NewExternal(Options{URL: url + "/", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	u := uniq()
	subject := Subject("shop_"+u, "public", "orders")
	v1 := record("orders_"+u, field("id", `"long"`, ""), field("qty", `"int"`, ""))
	id1, ver1, err := x.Register(ctx, subject, v1)
	if err != nil || id1 <= 0 || ver1 != 1 {
		t.Fatalf("Register v1: %d %d %v", id1, ver1, err)
	}
	if id, ver, err := x.Register(ctx, subject, v1); err != nil || id != id1 || ver != 1 {
		t.Fatalf("Register v1 again: %d %d %v", id, ver, err)
	}
	v2 := record("orders_"+u, field("id", `"long"`, ""), field("qty", `"int"`, ""), field("note", `["null","string"]`, "null"))
	id2, ver2, err := x.Register(ctx, subject, v2)
	if err != nil || id2 == id1 || ver2 != 2 {
		t.Fatalf("Register v2: %d %d %v", id2, ver2, err)
	}
	// A second client, with nothing cached: it finds the registered versions.
	y, _ := NewExternal(Options{URL: url})
	if id, ver, err := y.Register(ctx, subject, v1); err != nil || id != id1 || ver != 1 {
		t.Fatalf("fresh client, Register v1: %d %d %v", id, ver, err)
	}
	text, err := y.SchemaByID(ctx, id2)
	if err != nil || canonOf(t, text) != canonOf(t, v2) {
		t.Fatalf("SchemaByID(%d): %q %v", id2, text, err)
	}
	if _, err := y.SchemaByID(ctx, 987654321); err == nil || IsUnavailable(err) || !strings.Contains(err.Error(), "40403") {
		t.Fatalf("SchemaByID of an unknown id: %v, want a 40403 error", err)
	}

	// int → string under BACKWARD.
	bad := record("orders_"+u, field("id", `"long"`, ""), field("qty", `"string"`, ""), field("note", `["null","string"]`, "null"))
	_, _, err = x.Register(ctx, subject, bad)
	var inc *IncompatibleError
	if !errors.As(err, &inc) || IsUnavailable(err) {
		t.Fatalf("Register of an incompatible schema: %v, want *IncompatibleError", err)
	}
	if inc.Subject != subject || inc.Version != 2 || inc.Next != 3 || inc.Level != LevelBackward || inc.NewSchema != bad || inc.Reason == "" {
		t.Fatalf("IncompatibleError: %+v", inc)
	}
	prefix := fmt.Sprintf("schema registry: subject %q: new schema (would be version 3) is incompatible with version 2 under BACKWARD: ", subject)
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error text %q, want prefix %q", err, prefix)
	}
	t.Logf("incompatible: %v", err)

	_, _, err = x.Register(ctx, subject, `{"type":"record","name":"x","fields":[{"name":"a","type":"nosuch"}]}`)
	if err == nil || IsUnavailable(err) || !strings.Contains(err.Error(), "42201") || !strings.Contains(err.Error(), subject) {
		t.Fatalf("Register of an invalid schema: %v, want a 42201 error naming the subject", err)
	}
	return x
}

func TestExternalAgainstEmbedded(t *testing.T) {
	e := newEmbedded(t, "")
	var mu sync.Mutex
	requests := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		e.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	x := checkExternal(t, srv.URL)

	// Known registrations and ids are answered from memory.
	ctx := context.Background()
	schema := record("cached", field("a", `"int"`, ""))
	id, _, err := x.Register(ctx, "cached-value", schema)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clear(requests)
	mu.Unlock()
	for range 3 {
		if got, _, err := x.Register(ctx, "cached-value", schema); err != nil || got != id {
			t.Fatalf("Register from cache: %d %v", got, err)
		}
		if text, err := x.SchemaByID(ctx, id); err != nil || text != schema {
			t.Fatalf("SchemaByID: %q %v", text, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// srclient already holds the id from the registration's lookup; at most one fetch is fine.
	delete(requests, fmt.Sprintf("GET /schemas/ids/%d", id))
	if len(requests) != 0 {
		t.Fatalf("requests for known registrations and one id fetched three times: %v", requests)
	}
}

func TestExternalAgainstThirdParty(t *testing.T) {
	checkExternal(t, testenv.StartRegistry(t))
}

func TestExternalUnavailable(t *testing.T) {
	ctx := context.Background()
	closed := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	x, err := NewExternal(Options{URL: closed, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = x.Register(ctx, "s-value", `"int"`)
	if !IsUnavailable(err) || !strings.Contains(err.Error(), closed) {
		t.Fatalf("Register against a closed port: %v, want unavailable naming the URL", err)
	}
	if _, err := x.SchemaByID(ctx, 1); !IsUnavailable(err) {
		t.Fatalf("SchemaByID against a closed port: %v, want unavailable", err)
	}

	answers := []struct {
		name        string
		status      int
		body        string
		unavailable bool
	}{
		{"store error", 500, `{"error_code":50001,"message":"Error in the backend datastore"}`, true},
		{"proxy 503", 503, "<html>Service Unavailable</html>", true},
		{"proxy 502 without body", 502, "", true},
		{"rate limited", 429, `{"error_code":429,"message":"slow down"}`, true},
		{"unauthorized", 401, `{"error_code":401,"message":"Unauthorized"}`, false},
		{"proxy 403", 403, "<html>Forbidden</html>", false},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(a.status)
				_, _ = w.Write([]byte(a.body))
			}))
			defer srv.Close()
			x, _ := NewExternal(Options{URL: srv.URL})
			_, _, err := x.Register(ctx, "s-value", `"int"`)
			if err == nil || IsUnavailable(err) != a.unavailable || !strings.Contains(err.Error(), fmt.Sprint(a.status)) {
				t.Fatalf("answer %d %s: %v, want unavailable=%v naming the status", a.status, a.body, err, a.unavailable)
			}
		})
	}
}

// TestExternalContext: a registry that does not answer does not hold the caller past its ctx.
func TestExternalContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	x, _ := NewExternal(Options{URL: srv.URL, Timeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := x.Register(ctx, "s-value", `"int"`)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Register past its ctx: %v after %v", err, time.Since(start))
	}
	if IsUnavailable(err) {
		t.Fatal("the caller's own deadline is not an unavailable registry")
	}
}

func TestExternalBasicAuth(t *testing.T) {
	e := newEmbedded(t, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "cdcd" || p != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			return
		}
		e.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	x, err := NewExternal(Options{URL: srv.URL, Username: "cdcd", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if id, ver, err := x.Register(ctx, "auth-value", `"int"`); err != nil || id != 1 || ver != 1 {
		t.Fatalf("Register with credentials: %d %d %v", id, ver, err)
	}
	wrong, _ := NewExternal(Options{URL: srv.URL, Username: "cdcd", Password: "guess"})
	_, _, err = wrong.Register(ctx, "auth-value", `"long"`)
	if err == nil || IsUnavailable(err) || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "guess") {
		t.Fatalf("Register with a wrong password: %v, want a 401 error without the password", err)
	}
	if _, err := NewExternal(Options{URL: srv.URL, Username: "cdcd"}); err == nil {
		t.Fatal("a username without a password was accepted")
	}
}

func TestExternalTLS(t *testing.T) {
	e := newEmbedded(t, "")
	srv := httptest.NewUnstartedServer(e.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below are expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x, err := NewExternal(Options{URL: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if id, ver, err := x.Register(ctx, "tls-value", `"int"`); err != nil || id != 1 || ver != 1 {
		t.Fatalf("Register over TLS with the CA: %d %d %v", id, ver, err)
	}
	untrusting, _ := NewExternal(Options{URL: srv.URL})
	_, _, err = untrusting.Register(ctx, "tls-value", `"int"`)
	if err == nil || IsUnavailable(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Register over TLS without the CA: %v, want a certificate error that retrying cannot fix", err)
	}
	plain, _ := NewExternal(Options{URL: strings.Replace(srv.URL, "https://", "http://", 1)})
	if _, _, err := plain.Register(ctx, "tls-value", `"int"`); err == nil {
		t.Fatal("plain HTTP to a TLS server succeeded")
	}
	notPEM := filepath.Join(dir, "not.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o644)
	for _, bad := range []Options{{URL: srv.URL, CAFile: notPEM}, {URL: srv.URL, CAFile: filepath.Join(dir, "missing.pem")},
		{URL: "ftp://x"}, {URL: "localhost:8081"}, {URL: ""}} {
		if _, err := NewExternal(bad); err == nil {
			t.Errorf("NewExternal(%+v) succeeded", bad)
		}
	}
}
