package schema

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, text string) *parsed {
	t.Helper()
	p, err := parseSchema(text)
	if err != nil {
		t.Fatalf("parse %s: %v", text, err)
	}
	return p
}

// TestCompatibilityRules checks the Avro resolution rules in both directions: backward means the
// new schema reads data written with the old one, forward the old reads the new.
func TestCompatibilityRules(t *testing.T) {
	rec := func(fields ...string) string { return record("r", fields...) }
	a := field("a", `"int"`, "")
	enum := func(symbols string, def string) string {
		if def != "" {
			def = `,"default":` + def
		}
		return `{"type":"enum","name":"E","symbols":` + symbols + def + `}`
	}
	cases := []struct {
		name               string
		old, new           string
		backward, forward  bool
		reasonContains     string // of the backward failure, when backward is false
		forwardReasonHasIt string // of the forward failure, when forward is false
	}{
		{"same", rec(a), rec(a), true, true, "", ""},
		{"add field with default", rec(a), rec(a, field("b", `"int"`, "0")), true, true, "", ""},
		{"add field without default", rec(a), rec(a, field("b", `"int"`, "")), false, true, "field b", ""},
		{"add nullable field with null default", rec(a), rec(a, field("b", `["null","string"]`, "null")), true, true, "", ""},
		{"remove field without default", rec(a, field("b", `"int"`, "")), rec(a), true, false, "", "field b"},
		{"remove field with default", rec(a, field("b", `"int"`, "0")), rec(a), true, true, "", ""},
		{"int to long", rec(a), rec(field("a", `"long"`, "")), true, false, "", "int"},
		{"long to int", rec(field("a", `"long"`, "")), rec(a), false, true, "long", ""},
		{"int to float", rec(a), rec(field("a", `"float"`, "")), true, false, "", ""},
		{"float to double", rec(field("a", `"float"`, "")), rec(field("a", `"double"`, "")), true, false, "", ""},
		{"int to string", rec(a), rec(field("a", `"string"`, "")), false, false, "string", "int"},
		{"string to bytes", rec(field("a", `"string"`, "")), rec(field("a", `"bytes"`, "")), true, true, "", ""},
		{"nullable widening", rec(field("a", `["null","int"]`, "null")), rec(field("a", `["null","long"]`, "null")), true, false, "", ""},
		{"nullable narrowing", rec(field("a", `["null","long"]`, "null")), rec(field("a", `["null","int"]`, "null")), false, true, "", ""},
		{"int to nullable int", rec(a), rec(field("a", `["null","int"]`, "null")), true, false, "", ""},
		{"nullable int to int", rec(field("a", `["null","int"]`, "null")), rec(a), false, true, "", ""},
		{"enum symbol added", rec(field("e", enum(`["A","B"]`, ""), "")), rec(field("e", enum(`["A","B","C"]`, ""), "")), true, false, "", "symbol C"},
		{"enum symbol removed", rec(field("e", enum(`["A","B","C"]`, ""), "")), rec(field("e", enum(`["A","B"]`, ""), "")), false, true, "symbol C", ""},
		{"enum symbol removed, reader default", rec(field("e", enum(`["A","B","C"]`, `"A"`), "")), rec(field("e", enum(`["A","B"]`, `"A"`), "")), true, true, "", ""},
		{"record renamed", record("r", a), record("s", a), false, false, "names do not match", ""},
		{"record renamed with alias", record("r", a), `{"type":"record","name":"s","aliases":["r"],"fields":[` + a + `]}`, true, false, "", ""},
		{"field renamed with alias", rec(a), rec(`{"name":"z","aliases":["a"],"type":"int"}`), true, false, "", ""},
		{"nested record field type", rec(field("n", record("N", a), "")), rec(field("n", record("N", field("a", `"string"`, "")), "")), false, false, "", ""},
		{"array items int to long", rec(field("l", `{"type":"array","items":"int"}`, "")), rec(field("l", `{"type":"array","items":"long"}`, "")), true, false, "", ""},
		{"map values string to int", rec(field("m", `{"type":"map","values":"string"}`, "")), rec(field("m", `{"type":"map","values":"int"}`, "")), false, false, "", ""},
		{"fixed size changed", rec(field("f", `{"type":"fixed","name":"F","size":4}`, "")), rec(field("f", `{"type":"fixed","name":"F","size":8}`, "")), false, false, "sizes", ""},
		{"decimal precision changed", rec(field("d", `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`, "")),
			rec(field("d", `{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}`, "")), true, true, "", ""},
		{"recursive list gains a field", `{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`,
			`{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]},{"name":"w","type":"int","default":0}]}`, true, true, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, nw := mustParse(t, c.old), mustParse(t, c.new)
			back := canReadFrom(nw.avro, old.avro)
			if (back == nil) != c.backward {
				t.Errorf("backward (new reads old): %v, want compatible=%v", back, c.backward)
			}
			if back != nil && !strings.Contains(back.Error(), c.reasonContains) {
				t.Errorf("backward reason %q lacks %q", back, c.reasonContains)
			}
			fwd := canReadFrom(old.avro, nw.avro)
			if (fwd == nil) != c.forward {
				t.Errorf("forward (old reads new): %v, want compatible=%v", fwd, c.forward)
			}
			if fwd != nil && !strings.Contains(fwd.Error(), c.forwardReasonHasIt) {
				t.Errorf("forward reason %q lacks %q", fwd, c.forwardReasonHasIt)
			}
			for _, lc := range []struct {
				level Level
				want  bool
			}{
				{LevelNone, true}, {LevelBackward, c.backward}, {LevelForward, c.forward},
				{LevelFull, c.backward && c.forward}, {LevelBackwardTransitive, c.backward},
				{LevelForwardTransitive, c.forward}, {LevelFullTransitive, c.backward && c.forward},
			} {
				failed, reason := checkLevel(lc.level, nw.avro, []versioned{{version: 1, schema: old.avro}})
				if (failed == 0) != lc.want {
					t.Errorf("%s: failed version %d (%s), want compatible=%v", lc.level, failed, reason, lc.want)
				}
			}
		})
	}
}

// TestTransitiveLevels: v3 is compatible with v2 but not with v1.
func TestTransitiveLevels(t *testing.T) {
	a := field("a", `"int"`, "")
	v1 := mustParse(t, record("r", a))
	v2 := mustParse(t, record("r", a, field("b", `"int"`, "0")))
	v3 := mustParse(t, record("r", a, field("b", `"int"`, "")))
	live := []versioned{{1, v1.avro}, {2, v2.avro}}
	for _, c := range []struct {
		level  Level
		failed int
	}{
		{LevelBackward, 0}, {LevelBackwardTransitive, 1}, {LevelFull, 0}, {LevelFullTransitive, 1},
		{LevelForward, 0}, {LevelForwardTransitive, 0}, {LevelNone, 0},
	} {
		failed, reason := checkLevel(c.level, v3.avro, live)
		if failed != c.failed {
			t.Errorf("%s: failed version %d (%s), want %d", c.level, failed, reason, c.failed)
		}
		if failed != 0 && !strings.Contains(reason, "version 1") {
			t.Errorf("%s: reason %q does not name version 1", c.level, reason)
		}
	}
	// Forward transitive: v1 cannot read v3 data when v3 drops a field v1 needs.
	w1 := mustParse(t, record("r", a, field("b", `"int"`, "")))
	w2 := mustParse(t, record("r", a, field("b", `"int"`, "0")))
	w3 := mustParse(t, record("r", a))
	fl := []versioned{{1, w1.avro}, {2, w2.avro}}
	if failed, _ := checkLevel(LevelForward, w3.avro, fl); failed != 0 {
		t.Errorf("FORWARD: failed version %d, want compatible", failed)
	}
	if failed, reason := checkLevel(LevelForwardTransitive, w3.avro, fl); failed != 1 {
		t.Errorf("FORWARD_TRANSITIVE: failed version %d (%s), want 1", failed, reason)
	}
}

// TestCompatibilityIgnoresEarlierVerdicts guards against hamba's checker cache, which is keyed by
// fingerprints that ignore defaults: a field with a default must not vouch for one without.
func TestCompatibilityIgnoresEarlierVerdicts(t *testing.T) {
	a := field("a", `"int"`, "")
	writer := mustParse(t, record("r", a))
	withDefault := mustParse(t, record("r", a, field("b", `"int"`, "1")))
	without := mustParse(t, record("r", a, field("b", `"int"`, "")))
	if err := canReadFrom(withDefault.avro, writer.avro); err != nil {
		t.Fatalf("field with default: %v", err)
	}
	if err := canReadFrom(without.avro, writer.avro); err == nil {
		t.Fatal("field without default judged compatible after the same field with a default")
	}
}

func TestSchemaIdentity(t *testing.T) {
	same := [][2]string{
		{`{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}`,
			` { "fields" : [ { "type" : "int" , "name" : "a" } ] , "name" : "r", "type" : "record" } `},
		{`{"type":"record","namespace":"ns","name":"r","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"ns.r","fields":[{"name":"a","type":"int"}]}`},
		{`{"type":"record","name":"r","fields":[{"name":"a","type":"string"}]}`,
			`{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"string"}}]}`},
		{`"string"`, `{"type":"string"}`},
	}
	for _, p := range same {
		if a, b := mustParse(t, p[0]).canon, mustParse(t, p[1]).canon; a != b {
			t.Errorf("%s and %s should be one schema: %s != %s", p[0], p[1], a, b)
		}
	}
	// What a reader depends on makes a different schema (the Parsing Canonical Form would drop
	// the default and the doc).
	different := [][2]string{
		{`{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":0}]}`},
		{`{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":0}]}`,
			`{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":1}]}`},
		{`{"type":"long"}`, `{"type":"long","logicalType":"timestamp-micros"}`},
		{`{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"r","doc":"d","fields":[{"name":"a","type":"int"}]}`},
	}
	for _, p := range different {
		if a, b := mustParse(t, p[0]).canon, mustParse(t, p[1]).canon; a == b {
			t.Errorf("%s and %s should be different schemas, both %s", p[0], p[1], a)
		}
	}
}

func TestParseSchemaInvalid(t *testing.T) {
	// Named types do not leak from one parse into the next.
	mustParse(t, `{"type":"record","name":"Defined","fields":[]}`)
	for _, bad := range []string{
		``, `   `, `{`, `{"type":"recor`, `"nosuch"`, `{"type":"Defined"}`,
		`{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":"x"}]}`,
		`{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}`,
		`{"type":"enum","name":"E","symbols":["A","A"]}`,
		`{"type":"record","name":"1r","fields":[]}`,
	} {
		_, err := parseSchema(bad)
		if code := apiCode(err); code != CodeInvalidSchema {
			t.Errorf("parse %q: %v, want error code 42201", bad, err)
		}
	}
}

// apiCode returns the Confluent error code of an *APIError in err's chain, or 0.
func apiCode(err error) int {
	if api, ok := asAPIError(err); ok {
		return api.Code
	}
	return 0
}
