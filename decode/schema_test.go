package decode

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"

	"github.com/cdcd-dev/cdcd/change"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hostileTable has names that are not Avro names, names that differ only in an escaped character
// and columns named like the metadata fields.
func hostileTable() *change.Table {
	mood := change.Type{Kind: change.Enum, Symbols: []string{"happy", "sad"}, Source: "mood"}
	text := change.Type{Kind: change.String, Source: "text"}
	names := []string{"id", `"quoted"`, "back`tick", "with space", "ünïcödé", "1st", "a b", "a_x0020_b", "a_b",
		"__cdcd_op", "__cdcd_version", "int", "string", "Order_ID", "order_id", "order_id ", "😀", "élan", "e\u0301lan"}
	t := &change.Table{ID: change.TableID{Source: "shop-eu", Namespace: "my schema", Name: "Ta`b le"}, Key: []int{0}}
	for i, n := range names {
		ty := text
		if n == "int" || n == "string" {
			ty = mood // an enum named like a primitive type
		}
		if i == 0 {
			ty = change.Type{Kind: change.Int64, Source: "int8"}
		}
		t.Columns = append(t.Columns, change.Column{Name: n, Type: ty, Nullable: i > 0})
	}
	return t
}

func TestSchemaGolden(t *testing.T) {
	for name, tab := range map[string]*change.Table{"all_kinds": allKindsTable(), "hostile": hostileTable(), "bench": benchTable()} {
		t.Run(name, func(t *testing.T) {
			s := mustSchema(t, tab)
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(s.JSON)); err != nil {
				t.Fatalf("schema is not JSON: %v", err)
			}
			if compact.String() != s.JSON {
				t.Error("schema text is not compact")
			}
			if again := mustSchema(t, tab); again.JSON != s.JSON {
				t.Error("schema text is not deterministic")
			}
			if _, err := avro.ParseWithCache(s.JSON, "", &avro.SchemaCache{}); err != nil {
				t.Errorf("hamba/avro rejects the schema: %v", err)
			}
			if _, err := goavro.NewCodec(s.JSON); err != nil {
				t.Errorf("goavro rejects the schema: %v", err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, []byte(s.JSON), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", name+".avsc")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("schema differs from %s (go test -update rewrites it):\n%s", path, pretty.String())
			}
		})
	}
}

// schemaDoc is the part of a schema's JSON the name tests read.
type schemaDoc struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Source    string `json:"cdcd.source"`
	Schema    string `json:"cdcd.schema"`
	Table     string `json:"cdcd.table"`
	Key       []string
	Fields    []struct {
		Name   string          `json:"name"`
		Type   json.RawMessage `json:"type"`
		Column *string         `json:"cdcd.column"`
		Kind   string          `json:"cdcd.kind"`
	} `json:"fields"`
}

func TestSchemaHostileNames(t *testing.T) {
	tab := hostileTable()
	s := mustSchema(t, tab)
	var doc schemaDoc
	if err := json.Unmarshal([]byte(s.JSON), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "Ta_x0060_b_x0020_le" || doc.Namespace != "shop_x002D_eu.my_x0020_schema" || s.Name != doc.Namespace+"."+doc.Name {
		t.Errorf("record %q in namespace %q (full name %q)", doc.Name, doc.Namespace, s.Name)
	}
	if doc.Source != "shop-eu" || doc.Schema != "my schema" || doc.Table != "Ta`b le" {
		t.Errorf("record properties %q %q %q", doc.Source, doc.Schema, doc.Table)
	}
	if len(doc.Fields) != len(tab.Columns)+5 {
		t.Fatalf("%d fields for %d columns and 5 metadata fields", len(doc.Fields), len(tab.Columns))
	}
	seen := map[string]bool{}
	for i, f := range doc.Fields {
		if seen[f.Name] {
			t.Errorf("field name %q twice", f.Name)
		}
		seen[f.Name] = true
		if i >= len(tab.Columns) {
			if !strings.HasPrefix(f.Name, metaPrefix) || f.Column != nil {
				t.Errorf("metadata field %d: %q, cdcd.column %v", i, f.Name, f.Column)
			}
			continue
		}
		c := tab.Columns[i]
		if f.Column == nil || *f.Column != c.Name {
			t.Errorf("field %q: cdcd.column %v, want %q", f.Name, f.Column, c.Name)
		}
		if OriginalName(f.Name) != c.Name || s.Fields[i] != (FieldMap{Name: f.Name, Column: c.Name, Index: i}) {
			t.Errorf("field %q does not map back to column %q: %+v", f.Name, c.Name, s.Fields[i])
		}
		checkName(t, c.Name, f.Name)
	}

	// A row of the table goes through, and renders under the original names.
	row := make([]any, len(tab.Columns))
	for i, c := range tab.Columns {
		row[i] = sampleValues(c.Type)[0]
	}
	ev := &change.Event{Op: change.Insert, Table: tab, After: row}
	b, err := s.Append(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Native(b)
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, s, ev, got)
	text, err := DecodeToJSON(s.JSON, b)
	if err != nil {
		t.Fatal(err)
	}
	var rendered struct{ Row map[string]any }
	if err := json.Unmarshal(text, &rendered); err != nil {
		t.Fatalf("%v: %s", err, text)
	}
	for _, c := range tab.Columns {
		if _, ok := rendered.Row[c.Name]; !ok {
			t.Errorf("rendered row has no column %q: %s", c.Name, text)
		}
	}
}

func TestSchemaTypes(t *testing.T) {
	typeOf := func(ty change.Type, key bool) string {
		tab := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}, Columns: []change.Column{{Name: "c", Type: ty}}}
		if key {
			tab.Key = []int{0}
		}
		var doc schemaDoc
		if err := json.Unmarshal([]byte(mustSchema(t, tab).JSON), &doc); err != nil {
			t.Fatal(err)
		}
		return string(doc.Fields[0].Type)
	}
	cases := []struct {
		ty   change.Type
		key  bool
		want string
	}{
		{change.Type{Kind: change.Int64}, true, `"long"`},
		{change.Type{Kind: change.Int64}, false, `["null","long"]`},
		{change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, true, `{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}`},
		{change.Type{Kind: change.Decimal, Precision: 2, Scale: 5}, true, `{"type":"bytes","logicalType":"decimal","precision":5,"scale":5}`},
		{change.Type{Kind: change.Decimal, Precision: 5, Scale: -2}, true, `{"type":"bytes","logicalType":"decimal","precision":7,"scale":0}`},
		{change.Type{Kind: change.Decimal, Precision: 65, Scale: 30}, true, `{"type":"bytes","logicalType":"decimal","precision":65,"scale":30}`},
		{change.Type{Kind: change.Decimal}, true, `"string"`},
		{change.Type{Kind: change.UInt64}, true, `{"type":"bytes","logicalType":"decimal","precision":20,"scale":0}`},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", "b"}}, true, `{"type":"enum","name":"c","namespace":"s.n.t","symbols":["a","b"]}`},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", "a"}}, true, `"string"`},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", ""}}, true, `"string"`},
		{change.Type{Kind: change.Enum, Symbols: []string{"1a"}}, true, `"string"`},
		{change.Type{Kind: change.Enum}, true, `"string"`},
		{change.Type{Kind: change.Timestamp}, true, `{"type":"long","logicalType":"local-timestamp-micros"}`},
		{change.Type{Kind: change.TimestampTZ}, true, `{"type":"long","logicalType":"timestamp-micros"}`},
		{change.Type{Kind: change.Date, Fallback: true}, true, `"string"`},
		{change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Enum, Symbols: []string{"x"}}}, false,
			`["null",{"type":"array","items":["null",{"type":"enum","name":"element","namespace":"s.n.t.c","symbols":["x"]}]}]`},
	}
	for _, c := range cases {
		if got := typeOf(c.ty, c.key); got != c.want {
			t.Errorf("%s (key %v): %s, want %s", c.ty, c.key, got, c.want)
		}
	}
}

func TestSchemaNamespaceOption(t *testing.T) {
	s, err := Schema(benchTable(), Options{Namespace: "com.example"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "com.example.bench.public.orders" {
		t.Errorf("full name %q", s.Name)
	}
	if _, err := Schema(benchTable(), Options{Namespace: "com.1example"}); err == nil {
		t.Error("bad Namespace option: no error")
	}
}

func TestSchemaErrors(t *testing.T) {
	col := func(name string, ty change.Type) change.Column { return change.Column{Name: name, Type: ty} }
	int8 := change.Type{Kind: change.Int64}
	cases := []struct {
		name string
		cols []change.Column
		key  []int
		want string
	}{
		{"empty column name", []change.Column{col("", int8)}, nil, "column 0: empty name"},
		{"duplicate column", []change.Column{col("a", int8), col("a", int8)}, nil, `columns 0 and 1 both map to Avro name "a"`},
		{"invalid kind", []change.Column{col("a", change.Type{})}, nil, "no Avro mapping for kind invalid"},
		{"array without element", []change.Column{col("a", change.Type{Kind: change.Array})}, nil, "array without an element type"},
		{"bad element", []change.Column{col("a", change.Type{Kind: change.Array, Elem: &change.Type{}})}, nil, "array element: no Avro mapping"},
		{"negative precision", []change.Column{col("a", change.Type{Kind: change.Decimal, Precision: -1})}, nil, "negative decimal precision"},
		{"key out of range", []change.Column{col("a", int8)}, []int{1}, "key column index 1 out of range"},
	}
	for _, c := range cases {
		tab := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}, Columns: c.cols, Key: c.key}
		_, err := Schema(tab, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "decode: schema of table s.n.t: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := Schema(&change.Table{ID: change.TableID{Source: "s", Namespace: "n"}}, Options{}); err == nil {
		t.Error("table without a name: no error")
	}
	// A table without columns still has a record: its metadata.
	if _, err := Schema(&change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}}, Options{}); err != nil {
		t.Errorf("table without columns: %v", err)
	}
}
