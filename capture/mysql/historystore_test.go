package mysql

import (
	"reflect"
	"strings"
	"testing"
)

// TestHistoryRecordRoundTrip: a history record reads back as the definitions it was made of
// (labels, charsets, defaults, keys, unreliable marks), sorted by table; bad records are errors.
func TestHistoryRecordRoundTrip(t *testing.T) {
	defs := []*tableDef{
		{Name: TableName{"shop", "orders"}, Key: []string{"id"}, Charset: "utf8mb4", Columns: []colDef{
			{Name: "id", Spec: colSpec{Base: "bigint", Unsigned: true, Key: true, NotNull: true}},
			{Name: "status", Spec: colSpec{Base: "enum", Labels: []string{"new", "paid", "it's"}, Default: &defaultValue{Text: "new"}}},
			{Name: "amount", Spec: colSpec{Base: "decimal", Args: []int{12, 2}, Default: &defaultValue{Null: true}}},
			{Name: "doc", Spec: colSpec{Base: "longtext", JSON: true, Charset: "utf8mb4"}},
			{Name: "at", Spec: colSpec{Base: "datetime", Args: []int{6}, Default: &defaultValue{Expr: true}}},
		}},
		{Name: TableName{"`odd` db", "t.1"}, Unreliable: "AFTER unknown column x", Columns: []colDef{{Name: "a", Spec: colSpec{Base: "int"}}}},
	}
	h := newHistory(defs)
	rec, err := encodeDefs(h.defs())
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeHistory(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []*tableDef{defs[1], defs[0]} // sorted by database, then table
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %s\nwant %+v", rec, want)
	}
	for _, bad := range []string{`{`, `{"format":2,"tables":[]}`, `{"format":1,"tables":[null]}`, `{"format":1,"tables":[{"Name":{"DB":"a"}}]}`} {
		if _, err := decodeHistory([]byte(bad)); err == nil {
			t.Errorf("decodeHistory(%s): no error", bad)
		} else if strings.Contains(err.Error(), "%!") {
			t.Errorf("decodeHistory(%s): %v", bad, err)
		}
	}
}
