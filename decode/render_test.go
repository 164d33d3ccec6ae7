package decode

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cdcd-dev/cdcd/change"
)

func TestDecodeToJSONBenchRow(t *testing.T) {
	s, ev := benchRow(t)
	b, err := s.Append(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeToJSON(s.JSON, b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"insert","version":97500059720,"seq":7,"commit_ts":"2024-05-06T07:08:09.500000Z","snapshot":false,` +
		`"row":{"id":123456789,"qty":42,"amount":"1234.56","status":"shipped","created_at":"2024-05-06T07:08:09.123456Z",` +
		`"note":"` + strings.Repeat("n", 100) + `"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestDecodeToJSONValues renders one value of each kind that needs care.
func TestDecodeToJSONValues(t *testing.T) {
	int4 := change.Type{Kind: change.Int32}
	cols := []struct {
		typ  change.Type
		v    any
		want string
	}{
		{change.Type{Kind: change.UInt64}, uint64(math.MaxUint64), `"18446744073709551615"`},
		{change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, dec("-1.5"), `"-1.50"`},
		{change.Type{Kind: change.Decimal}, dec("1.500"), `"1.500"`},
		{change.Type{Kind: change.Float64}, math.NaN(), `"NaN"`},
		{change.Type{Kind: change.Float32}, math.Inf(-1), `"-Inf"`},
		{change.Type{Kind: change.Float64}, 0.1, `0.1`},
		{change.Type{Kind: change.Float32}, float64(float32(0.1)), `0.1`},
		{change.Type{Kind: change.Date}, date(1969, 7, 20), `"1969-07-20"`},
		{change.Type{Kind: change.Timestamp}, time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), `"2024-01-02T03:04:05.000006"`},
		{change.Type{Kind: change.TimestampTZ}, time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), `"1969-12-31T23:59:59.999999Z"`},
		{change.Type{Kind: change.Time}, 24 * time.Hour, `"24:00:00.000000"`},
		{change.Type{Kind: change.Time}, 13*time.Hour + 5*time.Second + 7*time.Microsecond, `"13:00:05.000007"`},
		{change.Type{Kind: change.UUID}, uuid.MustParse("f47ac10b-58cc-4372-a567-0e02b2c3d479"), `"f47ac10b-58cc-4372-a567-0e02b2c3d479"`},
		{change.Type{Kind: change.Bytes}, []byte{0, 1, 0xff}, `"AAH/"`},
		{change.Type{Kind: change.Enum, Symbols: []string{"a", "b"}}, "b", `"b"`},
		{change.Type{Kind: change.String}, "say \"hi\"\n", `"say \"hi\"\n"`},
		{change.Type{Kind: change.Array, Elem: &int4}, []any{int64(1), nil}, `[1,null]`},
		{change.Type{Kind: change.Bool}, true, `true`},
		{change.Type{Kind: change.Int64}, nil, `null`},
	}
	tab := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}}
	row := []any{}
	for i, c := range cols {
		tab.Columns = append(tab.Columns, change.Column{Name: "c " + string(rune('a'+i)), Type: c.typ, Nullable: true})
		row = append(row, c.v)
	}
	s := mustSchema(t, tab)
	b, err := s.Append(nil, &change.Event{Op: change.Delete, Table: tab, Before: row, Version: math.MaxUint64, Snapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeToJSON(s.JSON, b)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString(`{"op":"delete","version":18446744073709551615,"seq":0,"commit_ts":null,"snapshot":true,"row":{`)
	for i, c := range cols {
		if i > 0 {
			want.WriteByte(',')
		}
		want.WriteString(`"c ` + string(rune('a'+i)) + `":` + c.want)
	}
	want.WriteString("}}")
	if string(got) != want.String() {
		t.Errorf("got  %s\nwant %s", got, want.String())
	}
	if !json.Valid(got) {
		t.Error("not valid JSON")
	}
}

// TestDecodeToJSONAllKinds renders every sample row: valid JSON under the original names.
func TestDecodeToJSONAllKinds(t *testing.T) {
	tab := allKindsTable()
	s := mustSchema(t, tab)
	r, err := NewRenderer(s.JSON)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range sampleEvents(tab, 8) {
		b, err := s.Append(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		text, err := r.Render(b)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var doc struct{ Row map[string]any }
		if err := json.Unmarshal(text, &doc); err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, text)
		}
		if len(doc.Row) != len(tab.Columns) {
			t.Errorf("event %d: %d columns rendered, want %d", i, len(doc.Row), len(tab.Columns))
		}
	}
}

// TestDecodeToJSONPlainSchema renders a record of a schema cdcd did not make.
func TestDecodeToJSONPlainSchema(t *testing.T) {
	schema := `{"type":"record","name":"r","fields":[{"name":"a","type":"int"},` +
		`{"name":"m","type":{"type":"map","values":"long"}},{"name":"u","type":["null","string","long"]},` +
		`{"name":"f","type":{"type":"fixed","name":"f4","size":2}},{"name":"again","type":"f4"}]}`
	payload := []byte{
		0x54,                                         // a = 42
		0x04, 0x02, 'z', 0x02, 0x02, 'a', 0x04, 0x00, // m = {z:1, a:2}
		0x04, 0x0e, // u = long 7
		0xff, 0x00, // f
		0x01, 0x02, // again
	}
	got, err := DecodeToJSON(schema, payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":42,"m":{"a":2,"z":1},"u":7,"f":"/wA=","again":"AQI="}`; string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := DecodeToJSON(schema, payload[:3]); err == nil {
		t.Error("truncated record: no error")
	}
	if _, err := DecodeToJSON(schema, append(payload, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
	if _, err := DecodeToJSON(`{"type":"nope"}`, nil); err == nil {
		t.Error("bad schema: no error")
	}
}
