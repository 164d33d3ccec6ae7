package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// uniq returns a token unique in this test process, usable in Avro names and subjects, so tests
// sharing the third-party registry never see each other's schemas.
func uniq() string {
	return fmt.Sprintf("u%d_%d", time.Now().UnixNano()%1_000_000_000, seq.Add(1))
}

var seq atomic.Int64

// record returns an Avro record schema named name with the given fields (JSON objects).
func record(name string, fields ...string) string {
	return fmt.Sprintf(`{"type":"record","name":%q,"fields":[%s]}`, name, strings.Join(fields, ","))
}

// field returns an Avro field; def, when not "", is the JSON of its default.
func field(name, typ, def string) string {
	if def != "" {
		return fmt.Sprintf(`{"name":%q,"type":%s,"default":%s}`, name, typ, def)
	}
	return fmt.Sprintf(`{"name":%q,"type":%s}`, name, typ)
}

// canonOf returns the normalized form of an Avro schema, to compare schemas a registry may have
// re-serialised.
func canonOf(t testing.TB, text string) string {
	t.Helper()
	p, err := parseSchema(text)
	if err != nil {
		t.Fatalf("parse %s: %v", text, err)
	}
	return p.canon
}

// rawClient speaks the Confluent REST API with net/http, to check status codes and bodies exactly.
type rawClient struct {
	t    testing.TB
	base string
}

// do sends a request with the Confluent v1 content type; body (when not nil) is marshalled.
func (c rawClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	return c.send(method, path, "application/vnd.schemaregistry.v1+json", r)
}

func (c rawClient) send(method, path, contentType string, body io.Reader) (int, []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// ok sends a request that must succeed and decodes its answer into out (when not nil).
func (c rawClient) ok(method, path string, body, out any) {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, want 200: %s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// fails sends a request that must fail with Confluent's error body, status and code.
func (c rawClient) fails(method, path string, body any, status, code int) string {
	c.t.Helper()
	got, b := c.do(method, path, body)
	return checkError(c.t, method+" "+path, got, b, status, code)
}

func checkError(t testing.TB, what string, status int, body []byte, wantStatus, wantCode int) string {
	t.Helper()
	var e struct {
		Code    *int   `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == nil {
		t.Fatalf("%s: status %d, body %s: not a Confluent error", what, status, body)
	}
	if status != wantStatus || *e.Code != wantCode {
		t.Fatalf("%s: status %d, error_code %d (%s); want %d, %d", what, status, *e.Code, e.Message, wantStatus, wantCode)
	}
	if e.Message == "" {
		t.Fatalf("%s: error without message: %s", what, body)
	}
	return e.Message
}

// register registers schema under subject over raw HTTP and returns its id.
func (c rawClient) register(subject, schema string) int {
	c.t.Helper()
	var resp struct {
		ID *int `json:"id"`
	}
	c.ok("POST", "/subjects/"+subject+"/versions", map[string]string{"schema": schema}, &resp)
	if resp.ID == nil || *resp.ID <= 0 {
		c.t.Fatalf("register %s: no id", subject)
	}
	return *resp.ID
}

// versions returns a subject's versions.
func (c rawClient) versions(subject string) []int {
	c.t.Helper()
	var vs []int
	c.ok("GET", "/subjects/"+subject+"/versions", nil, &vs)
	return vs
}

// newEmbedded returns an embedded registry over a fresh file store.
func newEmbedded(t testing.TB, level string) *Embedded {
	t.Helper()
	fs, err := OpenFileStore(t.TempDir() + "/registry/schemas.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	e, err := NewEmbedded(context.Background(), fs, level)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// serveEmbedded serves e on an httptest server and returns its URL.
func serveEmbedded(t testing.TB, e *Embedded) string {
	t.Helper()
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func asAPIError(err error) (*APIError, bool) {
	var a *APIError
	ok := errors.As(err, &a)
	return a, ok
}
