package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// Handler serves the Confluent Schema Registry REST API over the embedded registry: subjects,
// versions, schemas by id, lookup, compatibility checks, config and subject deletes, with
// Confluent's response shapes, error codes and HTTP statuses. Only AVRO schemas are accepted.
func (e *Embedded) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, struct{}{}) })
	mux.HandleFunc("GET /subjects", e.getSubjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", e.getVersions)
	mux.HandleFunc("POST /subjects/{subject}/versions", e.postVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", e.getVersion)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", e.getVersionSchema)
	mux.HandleFunc("POST /subjects/{subject}", e.postLookup)
	mux.HandleFunc("DELETE /subjects/{subject}", e.deleteSubjectHTTP)
	mux.HandleFunc("GET /schemas/ids/{id}", e.getSchemaByID)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", e.getIDVersions)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", e.postCompatibility)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", e.postCompatibility)
	mux.HandleFunc("GET /config", e.getConfig)
	mux.HandleFunc("PUT /config", e.putConfig)
	mux.HandleFunc("GET /config/{subject}", e.getConfig)
	mux.HandleFunc("PUT /config/{subject}", e.putConfig)
	mux.HandleFunc("DELETE /config/{subject}", e.deleteConfig)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		replyError(w, &APIError{Status: http.StatusNotFound, Code: http.StatusNotFound, Message: "HTTP 404 Not Found"})
	})
	return mux
}

// versionResponse is Confluent's answer for one version of a subject.
type versionResponse struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema  string `json:"schema"`
}

// schemaRequest is the body of register, lookup and compatibility requests.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
}

func (e *Embedded) getSubjects(w http.ResponseWriter, r *http.Request) {
	e.mu.RLock()
	names := e.st.subjectNames(flag(r, "deleted"))
	e.mu.RUnlock()
	reply(w, http.StatusOK, names)
}

func (e *Embedded) getVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	e.mu.RLock()
	vs := e.st.subjects[subject].visible(flag(r, "deleted"))
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.version
	}
	e.mu.RUnlock()
	if len(out) == 0 {
		replyError(w, errSubjectNotFound(subject))
		return
	}
	reply(w, http.StatusOK, out)
}

func (e *Embedded) postVersion(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, err := readSchemaRequest(w, r)
	if err != nil {
		replyError(w, err)
		return
	}
	// A client that goes away must not cut a change in half: finish it within a bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	id, _, err := e.Register(ctx, subject, req.Schema)
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]int{"id": id})
}

func (e *Embedded) getVersion(w http.ResponseWriter, r *http.Request) {
	if v, ok := e.resolveVersion(w, r); ok {
		reply(w, http.StatusOK, v)
	}
}

func (e *Embedded) getVersionSchema(w http.ResponseWriter, r *http.Request) {
	if v, ok := e.resolveVersion(w, r); ok {
		w.Header().Set("Content-Type", contentTypeV1)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(v.Schema))
	}
}

// resolveVersion answers {subject}/versions/{version} or writes the error.
func (e *Embedded) resolveVersion(w http.ResponseWriter, r *http.Request) (versionResponse, bool) {
	subject := r.PathValue("subject")
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		replyError(w, err)
		return versionResponse{}, false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	vs := e.st.subjects[subject].visible(flag(r, "deleted"))
	if len(vs) == 0 {
		replyError(w, errSubjectNotFound(subject))
		return versionResponse{}, false
	}
	v := vs[len(vs)-1]
	if n > 0 {
		v = nil
		for _, c := range vs {
			if c.version == n {
				v = c
			}
		}
		if v == nil {
			replyError(w, errVersionNotFound(subject, n))
			return versionResponse{}, false
		}
	}
	return versionResponse{Subject: subject, Version: v.version, ID: v.id, Schema: e.st.ids[v.id].text}, true
}

func (e *Embedded) postLookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	req, err := readSchemaRequest(w, r)
	if err != nil {
		replyError(w, err)
		return
	}
	deleted := flag(r, "deleted")
	p, parseErr := parseSchema(req.Schema)
	e.mu.RLock()
	sub := e.st.subjects[subject]
	var resp versionResponse
	switch {
	case len(sub.visible(deleted)) == 0:
		err = errSubjectNotFound(subject)
	case parseErr != nil:
		err = parseErr
	default:
		if v := e.st.find(sub, p, deleted); v != nil {
			resp = versionResponse{Subject: subject, Version: v.version, ID: v.id, Schema: e.st.ids[v.id].text}
		} else {
			err = errSchemaNotFound("in subject '" + subject + "'")
		}
	}
	e.mu.RUnlock()
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, resp)
}

func (e *Embedded) deleteSubjectHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	versions, err := e.deleteSubject(ctx, r.PathValue("subject"), flag(r, "permanent"))
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, versions)
}

func (e *Embedded) getSchemaByID(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		replyError(w, errSchemaNotFound(strconv.Quote(r.PathValue("id"))))
		return
	}
	text, err := e.SchemaByID(r.Context(), id)
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"schema": text})
}

func (e *Embedded) getIDVersions(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	type pair struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := []pair{}
	e.mu.RLock()
	for _, name := range e.st.subjectNames(flag(r, "deleted")) {
		for _, v := range e.st.subjects[name].visible(flag(r, "deleted")) {
			if v.id == id {
				out = append(out, pair{name, v.version})
			}
		}
	}
	e.mu.RUnlock()
	if len(out) == 0 {
		replyError(w, errSchemaNotFound(strconv.Quote(r.PathValue("id"))))
		return
	}
	reply(w, http.StatusOK, out)
}

// postCompatibility checks a schema against one version ({version}) or, without one, against the
// versions the subject's level names. A subject without versions is compatible with anything.
func (e *Embedded) postCompatibility(w http.ResponseWriter, r *http.Request) {
	subject, spec := r.PathValue("subject"), r.PathValue("version")
	n := 0
	if spec != "" {
		var err error
		if n, err = parseVersion(spec); err != nil {
			replyError(w, err)
			return
		}
	}
	req, err := readSchemaRequest(w, r)
	if err != nil {
		replyError(w, err)
		return
	}
	p, err := parseSchema(req.Schema)
	if err != nil {
		replyError(w, err)
		return
	}
	e.mu.RLock()
	level := e.st.level(subject)
	live := e.st.versioned(e.st.subjects[subject])
	e.mu.RUnlock()
	var reason string
	switch {
	case spec == "":
		_, reason = checkLevel(level, p.avro, live)
	case n == 0 && len(live) == 0: // latest of nothing
	case n == 0:
		_, reason = checkLevel(level, p.avro, live[len(live)-1:])
	default:
		var old *versioned
		for i := range live {
			if live[i].version == n {
				old = &live[i]
			}
		}
		if len(live) == 0 {
			replyError(w, errSubjectNotFound(subject))
			return
		}
		if old == nil {
			replyError(w, errVersionNotFound(subject, n))
			return
		}
		if level != LevelNone {
			reason = checkPair(level, p.avro, *old)
		}
	}
	resp := map[string]any{"is_compatible": reason == ""}
	if flag(r, "verbose") {
		msgs := []string{}
		if reason != "" {
			msgs = append(msgs, reason)
		}
		resp["messages"] = msgs
	}
	reply(w, http.StatusOK, resp)
}

func (e *Embedded) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	e.mu.RLock()
	level := e.st.global
	if subject != "" {
		level = ""
		if sub := e.st.subjects[subject]; sub != nil {
			level = sub.level
		}
		if level == "" && flag(r, "defaultToGlobal") {
			level = e.st.global
		}
	}
	e.mu.RUnlock()
	if level == "" {
		replyError(w, errLevelNotSet(subject))
		return
	}
	reply(w, http.StatusOK, map[string]Level{"compatibilityLevel": level})
}

func (e *Embedded) putConfig(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if err := readJSON(w, r, &req); err != nil {
		replyError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	level, err := e.setLevel(ctx, r.PathValue("subject"), req.Compatibility)
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]Level{"compatibility": level})
}

func (e *Embedded) deleteConfig(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	old, err := e.deleteLevel(ctx, r.PathValue("subject"))
	if err != nil {
		replyError(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]Level{"compatibilityLevel": old})
}

// parseVersion parses a version id: a positive number, or "latest" (also "-1"), returned as 0.
func parseVersion(s string) (int, error) {
	if s == "latest" || s == "-1" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n, nil
	}
	return 0, &APIError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidVersion,
		Message: fmt.Sprintf("The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s)}
}

// flag reads a boolean query parameter.
func flag(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

const contentTypeV1 = "application/vnd.schemaregistry.v1+json"

// acceptedMediaTypes are the request content types Confluent's registry accepts.
var acceptedMediaTypes = map[string]bool{
	contentTypeV1:                         true,
	"application/vnd.schemaregistry+json": true,
	"application/json":                    true,
	"application/octet-stream":            true,
}

// readJSON decodes a request body sent with one of the accepted content types (or none).
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !acceptedMediaTypes[mt] {
			return &APIError{Status: http.StatusUnsupportedMediaType, Code: http.StatusUnsupportedMediaType,
				Message: "HTTP 415 Unsupported Media Type"}
		}
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(v); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: http.StatusBadRequest,
			Message: "Invalid request body: " + err.Error()}
	}
	return nil
}

// readSchemaRequest reads a register, lookup or compatibility request: an AVRO schema without
// references.
func readSchemaRequest(w http.ResponseWriter, r *http.Request) (schemaRequest, error) {
	var req schemaRequest
	if err := readJSON(w, r, &req); err != nil {
		return req, err
	}
	if req.SchemaType != "" && req.SchemaType != "AVRO" {
		return req, &APIError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidSchema,
			Message: fmt.Sprintf("Invalid schema: schema type %s is not supported: this registry holds AVRO schemas only", req.SchemaType)}
	}
	if len(req.References) > 0 {
		return req, &APIError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidSchema,
			Message: "Invalid schema: schema references are not supported"}
	}
	return req, nil
}

func reply(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		replyError(w, err)
		return
	}
	w.Header().Set("Content-Type", contentTypeV1)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// replyError answers err in Confluent's form: {"error_code":N,"message":"..."}.
func replyError(w http.ResponseWriter, err error) {
	resp := APIError{Status: http.StatusInternalServerError, Code: CodeStoreError,
		Message: "Error in the backend datastore: " + err.Error()}
	var api *APIError
	var inc *IncompatibleError
	switch {
	case errors.As(err, &api):
		resp = *api
	case errors.As(err, &inc):
		resp = APIError{Status: http.StatusConflict, Code: CodeIncompatible,
			Message: fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]", inc.Subject, inc.Reason)}
	}
	body, _ := json.Marshal(map[string]any{"error_code": resp.Code, "message": resp.Message})
	w.Header().Set("Content-Type", contentTypeV1)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(body)
}
