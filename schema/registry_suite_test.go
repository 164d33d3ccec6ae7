package schema

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/riferrei/srclient"
)

// registryTarget is a Confluent-compatible registry the conformance suite runs against.
type registryTarget struct {
	url string
	// thirdParty relaxes the checks where axonops-schema-registry v0.2.1 legitimately deviates
	// from Confluent; each deviation is named where it is tolerated. cdcd's own registry must
	// behave like Confluent's.
	thirdParty bool
	// fresh: nothing has been registered yet.
	fresh bool
}

// runRegistrySuite checks a registry's REST API with raw HTTP and with srclient. Subtests use
// subjects and record names of their own, so they can share a registry with other tests; they
// change the global level only temporarily and must not run in parallel.
func runRegistrySuite(t *testing.T, target registryTarget) {
	sr := srclient.NewSchemaRegistryClient(target.url)

	t.Run("SubjectsListIsArray", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		status, body := raw.do("GET", "/subjects", nil)
		if status != http.StatusOK {
			t.Fatalf("GET /subjects: %d %s", status, body)
		}
		got := strings.TrimSpace(string(body))
		switch {
		case got == "null" && target.thirdParty:
			// Deviation (axonops v0.2.1): an empty registry lists its subjects as null, not [].
			t.Log("tolerated deviation: GET /subjects answers null for no subjects")
		case got == "null":
			t.Fatal("GET /subjects answered null; Confluent answers []")
		case target.fresh && got != "[]":
			t.Fatalf("GET /subjects on an empty registry: %s, want []", got)
		case !strings.HasPrefix(got, "["):
			t.Fatalf("GET /subjects: %s, want a JSON array", got)
		}
	})

	t.Run("SameSchemaSameID", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		s1, s2, s3 := "same1-"+u, "same2-"+u, "same3-"+u
		schema := record("r_"+u, field("a", `"int"`, ""))
		id := raw.register(s1, schema)
		if again := raw.register(s1, schema); again != id {
			t.Fatalf("registering the same schema again: id %d, want %d", again, id)
		}
		if vs := raw.versions(s1); !slices.Equal(vs, []int{1}) {
			t.Fatalf("versions after registering twice: %v, want [1]", vs)
		}
		if other := raw.register(s2, schema); other != id {
			t.Fatalf("same schema in another subject: id %d, want %d (ids are global)", other, id)
		}
		if vs := raw.versions(s2); !slices.Equal(vs, []int{1}) {
			t.Fatalf("versions of the second subject: %v, want [1]", vs)
		}
		created, err := sr.CreateSchema(s3, schema, srclient.Avro)
		if err != nil {
			t.Fatalf("srclient CreateSchema: %v", err)
		}
		if created.ID() != id {
			t.Fatalf("srclient CreateSchema: id %d, want %d", created.ID(), id)
		}
	})

	t.Run("EquivalentSpellingSameID", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "spelling-" + u
		compact := record("r_"+u, field("a", `"int"`, ""))
		spaced := `{ "name" : "r_` + u + `", "fields" : [ { "type" : "int", "name" : "a" } ], "type" : "record" }`
		id := raw.register(subject, compact)
		if got := raw.register(subject, spaced); got != id {
			t.Fatalf("white space and key order changed the id: %d, want %d", got, id)
		}
		// A primitive spelled as an object is the same schema too (Confluent parses and prints).
		pu := "prim-" + u
		pid := raw.register(pu, record("p_"+u, field("s", `"string"`, "")))
		got := raw.register(pu, record("p_"+u, field("s", `{"type":"string"}`, "")))
		switch {
		case got == pid:
		case target.thirdParty:
			// Deviation (axonops v0.2.1): it normalizes white space and key order but not
			// {"type":"string"} against "string", so the two get different ids.
			t.Logf("tolerated deviation: {\"type\":\"string\"} got id %d, \"string\" id %d", got, pid)
		default:
			t.Fatalf(`{"type":"string"} got id %d, "string" id %d: want one id`, got, pid)
		}
		if vs := raw.versions(subject); !slices.Equal(vs, []int{1}) {
			t.Fatalf("versions: %v, want [1]", vs)
		}
	})

	t.Run("VersionsLatestAndByVersion", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "versions-" + u
		v1 := record("r_"+u, field("a", `"int"`, ""))
		v2 := record("r_"+u, field("a", `"int"`, ""), field("b", `"string"`, `"x"`))
		v3 := record("r_"+u, field("a", `"int"`, ""), field("b", `"string"`, `"x"`), field("c", `["null","long"]`, "null"))
		ids := []int{raw.register(subject, v1), raw.register(subject, v2), raw.register(subject, v3)}
		if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
			t.Fatalf("three different schemas got ids %v", ids)
		}
		if vs := raw.versions(subject); !slices.Equal(vs, []int{1, 2, 3}) {
			t.Fatalf("versions: %v, want [1 2 3]", vs)
		}
		var got versionResponse
		raw.ok("GET", "/subjects/"+subject+"/versions/latest", nil, &got)
		if got.Subject != subject || got.Version != 3 || got.ID != ids[2] || canonOf(t, got.Schema) != canonOf(t, v3) {
			t.Fatalf("latest: %+v, want version 3 id %d", got, ids[2])
		}
		raw.ok("GET", "/subjects/"+subject+"/versions/2", nil, &got)
		if got.Subject != subject || got.Version != 2 || got.ID != ids[1] || canonOf(t, got.Schema) != canonOf(t, v2) {
			t.Fatalf("version 2: %+v, want id %d", got, ids[1])
		}
		s, err := sr.GetSchemaByVersion(subject, 1)
		if err != nil || s.ID() != ids[0] || s.Version() != 1 || canonOf(t, s.Schema()) != canonOf(t, v1) {
			t.Fatalf("srclient GetSchemaByVersion 1: %v %v", s, err)
		}
		s, err = sr.GetLatestSchema(subject)
		if err != nil || s.ID() != ids[2] || s.Version() != 3 {
			t.Fatalf("srclient GetLatestSchema: %v %v", s, err)
		}
		vs, err := sr.GetSchemaVersions(subject)
		if err != nil || !slices.Equal(vs, []int{1, 2, 3}) {
			t.Fatalf("srclient GetSchemaVersions: %v %v", vs, err)
		}
		subjects, err := sr.GetSubjects()
		if err != nil || !slices.Contains(subjects, subject) {
			t.Fatalf("srclient GetSubjects: %v lacks %s (%v)", subjects, subject, err)
		}
	})

	t.Run("SchemaByID", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		schema := record("r_"+u, field("a", `{"type":"long","logicalType":"timestamp-micros"}`, ""))
		id := raw.register("byid-"+u, schema)
		var got struct {
			Schema string `json:"schema"`
		}
		raw.ok("GET", "/schemas/ids/"+itoa(id), nil, &got)
		if canonOf(t, got.Schema) != canonOf(t, schema) {
			t.Fatalf("GET /schemas/ids/%d: %s, want %s", id, got.Schema, schema)
		}
		raw.fails("GET", "/schemas/ids/987654321", nil, http.StatusNotFound, CodeSchemaNotFound)
		s, err := sr.GetSchema(id)
		if err != nil || canonOf(t, s.Schema()) != canonOf(t, schema) {
			t.Fatalf("srclient GetSchema: %v %v", s, err)
		}
		_, err = sr.GetSchema(987654321)
		if code(err) != CodeSchemaNotFound {
			t.Fatalf("srclient GetSchema of an unknown id: %v, want error code 40403", err)
		}
	})

	t.Run("Lookup", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "lookup-" + u
		v1 := record("r_"+u, field("a", `"int"`, ""))
		v2 := record("r_"+u, field("a", `"int"`, ""), field("b", `"int"`, "0"))
		id1 := raw.register(subject, v1)
		raw.register(subject, v2)
		var got versionResponse
		raw.ok("POST", "/subjects/"+subject, map[string]string{"schema": v1}, &got)
		if got.Subject != subject || got.Version != 1 || got.ID != id1 || canonOf(t, got.Schema) != canonOf(t, v1) {
			t.Fatalf("lookup: %+v, want version 1 id %d", got, id1)
		}
		other := record("r_"+u, field("z", `"int"`, ""))
		raw.fails("POST", "/subjects/"+subject, map[string]string{"schema": other}, http.StatusNotFound, CodeSchemaNotFound)
		raw.fails("POST", "/subjects/nosuch-"+u, map[string]string{"schema": v1}, http.StatusNotFound, CodeSubjectNotFound)
		s, err := sr.LookupSchema(subject, v2, srclient.Avro)
		if err != nil || s.Version() != 2 {
			t.Fatalf("srclient LookupSchema: %v %v", s, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "errors-" + u
		raw.register(subject, record("r_"+u, field("a", `"int"`, "")))
		raw.fails("GET", "/subjects/nosuch-"+u+"/versions", nil, http.StatusNotFound, CodeSubjectNotFound)
		raw.fails("GET", "/subjects/nosuch-"+u+"/versions/1", nil, http.StatusNotFound, CodeSubjectNotFound)
		raw.fails("GET", "/subjects/"+subject+"/versions/99", nil, http.StatusNotFound, CodeVersionNotFound)
		raw.fails("GET", "/subjects/"+subject+"/versions/abc", nil, http.StatusUnprocessableEntity, CodeInvalidVersion)
		for _, bad := range []string{`{"type":"recor`, `{"type":"nosuchtype"}`,
			`{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":"x"}]}`} {
			raw.fails("POST", "/subjects/"+subject+"/versions", map[string]string{"schema": bad},
				http.StatusUnprocessableEntity, CodeInvalidSchema)
		}
		if !target.thirdParty {
			// axonops also holds PROTOBUF and JSON schemas; cdcd's registry only AVRO.
			raw.fails("POST", "/subjects/"+subject+"/versions", map[string]string{"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"},
				http.StatusUnprocessableEntity, CodeInvalidSchema)
		}
		raw.fails("GET", "/nosuch", nil, http.StatusNotFound, http.StatusNotFound)
		_, err := sr.GetSchemaByVersion("nosuch-"+u, 1)
		if code(err) != CodeSubjectNotFound {
			t.Fatalf("srclient GetSchemaByVersion of an unknown subject: %v, want error code 40401", err)
		}
	})

	t.Run("Incompatible409", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "incompatible-" + u
		raw.register(subject, record("r_"+u, field("a", `"int"`, "")))
		bad := record("r_"+u, field("a", `"string"`, ""))
		msg := raw.fails("POST", "/subjects/"+subject+"/versions", map[string]string{"schema": bad}, http.StatusConflict, CodeIncompatible)
		t.Logf("409 message: %s", msg)
		if vs := raw.versions(subject); !slices.Equal(vs, []int{1}) {
			t.Fatalf("versions after a refused schema: %v, want [1]", vs)
		}
		_, err := sr.CreateSchema(subject, bad, srclient.Avro)
		var se srclient.Error
		if !errors.As(err, &se) || se.Code != CodeIncompatible || se.Message == "" {
			t.Fatalf("srclient CreateSchema of an incompatible schema: %v, want error code 409", err)
		}
	})

	t.Run("CompatibilityEndpoint", func(t *testing.T) {
		raw := rawClient{t: t, base: target.url}
		u := uniq()
		subject := "compat-" + u
		raw.register(subject, record("r_"+u, field("a", `"int"`, "")))
		good := map[string]string{"schema": record("r_"+u, field("a", `"long"`, ""))}
		bad := map[string]string{"schema": record("r_"+u, field("a", `"string"`, ""))}
		var res struct {
			IsCompatible *bool    `json:"is_compatible"`
			Messages     []string `json:"messages"`
		}
		check := func(path string, body map[string]string, want bool) {
			t.Helper()
			res.IsCompatible, res.Messages = nil, nil
			raw.ok("POST", path, body, &res)
			if res.IsCompatible == nil || *res.IsCompatible != want {
				t.Fatalf("POST %s: is_compatible %v, want %v", path, res.IsCompatible, want)
			}
		}
		base := "/compatibility/subjects/" + subject + "/versions/"
		check(base+"latest", good, true)
		check(base+"1", good, true)
		check(base+"latest", bad, false)
		check(base+"latest?verbose=true", bad, false)
		if len(res.Messages) == 0 || res.Messages[0] == "" {
			t.Fatalf("verbose check of an incompatible schema gave no messages")
		}
		t.Logf("verbose messages: %q", res.Messages)
		check("/compatibility/subjects/nosuch-"+u+"/versions/latest", bad, true)
		raw.fails("POST", base+"7", good, http.StatusNotFound, CodeVersionNotFound)
		ok, err := sr.IsSchemaCompatible(subject, bad["schema"], "latest", srclient.Avro)
		if err != nil || ok {
			t.Fatalf("srclient IsSchemaCompatible of an incompatible schema: %v %v", ok, err)
		}
		ok, err = sr.IsSchemaCompatible(subject, good["schema"], "1", srclient.Avro)
		if err != nil || !ok {
			t.Fatalf("srclient IsSchemaCompatible of a compatible schema: %v %v", ok, err)
		}
	})

	t.Run("Config", func(t *testing.T) { suiteConfig(t, target, sr) })
	t.Run("Levels", func(t *testing.T) { suiteLevels(t, target) })
	t.Run("DeleteAndReRegister", func(t *testing.T) { suiteDelete(t, target, sr) })
	t.Run("ContentTypes", func(t *testing.T) { suiteContentTypes(t, target) })
}
