package schema

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riferrei/srclient"
)

// Options configure External.
type Options struct {
	URL      string // base URL of a Confluent-compatible registry, http:// or https://
	Username string // basic auth, with Password
	Password string
	CAFile   string        // PEM file of CA certificates trusted for https, besides the system's
	Timeout  time.Duration // per HTTP request; 10s when 0
}

// DefaultTimeout is External's per-request timeout when Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// External is a Registry over any Confluent-compatible registry, through
// github.com/riferrei/srclient. Registrations and schemas it has seen are answered from memory.
type External struct {
	client *srclient.SchemaRegistryClient
	where  string // the URL without credentials, for error text

	mu         sync.RWMutex
	registered map[registration][2]int // → id, version
	byID       map[int]string
}

type registration struct{ subject, schema string }

var _ Registry = (*External)(nil)

// NewExternal returns a client of the registry at opts.URL. It does not contact the registry.
func NewExternal(opts Options) (*External, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry: url %q: want http://host:port or https://host:port", opts.URL)
	}
	if opts.Username != "" && opts.Password == "" {
		return nil, errors.New("schema registry: username set without password")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry: CA file %s: no PEM certificates in it", opts.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{Timeout: timeout, Transport: statusTransport{next: tr}}
	client := srclient.NewSchemaRegistryClient(strings.TrimRight(u.String(), "/"), srclient.WithClient(hc))
	client.SetCredentials(opts.Username, opts.Password)
	return &External{client: client, where: u.Redacted(), registered: map[registration][2]int{}, byID: map[int]string{}}, nil
}

// Register implements Registry. It looks the schema up first, registers it when absent and looks
// it up again for its version (Confluent's register answer carries only the id).
func (x *External) Register(ctx context.Context, subject, schema string) (id, version int, err error) {
	key := registration{subject, schema}
	x.mu.RLock()
	known, ok := x.registered[key]
	x.mu.RUnlock()
	if ok {
		return known[0], known[1], nil
	}
	s, err := call(ctx, func() (*srclient.Schema, error) {
		s, err := x.client.LookupSchema(subject, schema, srclient.Avro)
		if code(err) != CodeSubjectNotFound && code(err) != CodeSchemaNotFound {
			return s, err
		}
		if _, err := x.client.CreateSchema(subject, schema, srclient.Avro); err != nil {
			return nil, err
		}
		return x.client.LookupSchema(subject, schema, srclient.Avro)
	})
	if err != nil {
		if code(err) == CodeIncompatible {
			return 0, 0, x.incompatible(ctx, subject, schema, err)
		}
		return 0, 0, x.classify(fmt.Sprintf("register subject %q", subject), err)
	}
	x.mu.Lock()
	x.registered[key] = [2]int{s.ID(), s.Version()}
	x.mu.Unlock()
	return s.ID(), s.Version(), nil
}

// incompatible builds the IncompatibleError of a 409 answer, asking for the latest version and the
// subject's level (best effort: the error is returned whatever these answer).
func (x *External) incompatible(ctx context.Context, subject, schema string, refusal error) error {
	ie := &IncompatibleError{Subject: subject, NewSchema: schema, Reason: refusal.Error()}
	var se srclient.Error
	if errors.As(refusal, &se) {
		// Confluent's message restates the subject; keep its details.
		ie.Reason = se.Message
		if _, details, ok := strings.Cut(se.Message, "incompatible with an earlier schema for subject "+
			`"`+subject+`", details: `); ok {
			ie.Reason = strings.TrimSuffix(strings.TrimPrefix(details, "["), "]")
		}
	}
	if versions, err := call(ctx, func() ([]int, error) { return x.client.GetSchemaVersions(subject) }); err == nil && len(versions) > 0 {
		ie.Version = slices.Max(versions)
		ie.Next = ie.Version + 1 // as Confluent numbers, unless later versions were deleted
	}
	if level, err := call(ctx, func() (*srclient.CompatibilityLevel, error) {
		return x.client.GetCompatibilityLevel(subject, true)
	}); err == nil && level != nil {
		ie.Level = Level(*level)
	}
	return ie
}

// SchemaByID implements Registry.
func (x *External) SchemaByID(ctx context.Context, id int) (string, error) {
	x.mu.RLock()
	text, ok := x.byID[id]
	x.mu.RUnlock()
	if ok {
		return text, nil
	}
	s, err := call(ctx, func() (*srclient.Schema, error) { return x.client.GetSchema(id) })
	if err != nil {
		return "", x.classify(fmt.Sprintf("get schema id %d", id), err)
	}
	x.mu.Lock()
	x.byID[id] = s.Schema()
	x.mu.Unlock()
	return s.Schema(), nil
}

// call runs fn, a srclient call, giving up when ctx ends. srclient takes no context: an abandoned
// call runs on in the background until the client's timeout.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// code returns the Confluent error code of a srclient error, or 0.
func code(err error) int {
	var se srclient.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// classify turns a srclient error into an *APIError, an unavailable error (connection failures,
// timeouts, 5xx and 429 answers) or, for what retrying cannot fix (TLS verification, a non-JSON
// 4xx such as a proxy's 401), a plain error.
func (x *External) classify(op string, err error) error {
	op = op + " at " + x.where
	var (
		se     srclient.Error
		status *statusError
		cert   *tls.CertificateVerificationError
		header tls.RecordHeaderError
		ue     *url.Error
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &ue):
		return fmt.Errorf("schema registry: %s: %w", op, err)
	case errors.As(err, &se):
		api := &APIError{Status: se.Code, Code: se.Code, Message: se.Message}
		if api.Status >= 1000 {
			api.Status /= 100
		}
		if api.Status >= 500 {
			return &unavailableError{op: op, err: api}
		}
		return fmt.Errorf("schema registry: %s: %w", op, api)
	case errors.As(err, &status):
		return &unavailableError{op: op, err: err}
	case errors.As(err, &cert), errors.As(err, &header):
		return fmt.Errorf("schema registry: %s: %w", op, err)
	case errors.As(err, &ue):
		return &unavailableError{op: op, err: err}
	}
	return fmt.Errorf("schema registry: %s: %w", op, err)
}

// statusTransport turns answers that mean "try again later" (5xx, 429) into transport errors, so
// they are told apart from refusals whatever their body: srclient keeps only the text of a body
// that is not Confluent's JSON.
type statusTransport struct{ next http.RoundTripper }

type statusError struct {
	status string
	body   string
}

func (e *statusError) Error() string {
	return strings.TrimSpace("HTTP " + e.status + ": " + e.body)
}

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		return nil, &statusError{status: resp.Status, body: string(body)}
	}
	return resp, nil
}
