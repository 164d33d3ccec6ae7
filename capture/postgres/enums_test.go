package postgres

import (
	"slices"
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

func TestEnumHelpers(t *testing.T) {
	enum := change.Type{Kind: change.Enum, Symbols: []string{"a", "b"}, Source: "public.e"}
	nested := change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Array, Elem: &enum}}
	tbl := &change.Table{Columns: []change.Column{
		{Name: "id", Type: change.Type{Kind: change.Int32}},
		{Name: "e", Type: enum},
		{Name: "ee", Type: nested},
		{Name: "unlabelled", Type: change.Type{Kind: change.Enum}},
	}}
	if got := enumColumns(tbl); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("enumColumns = %v, want [1 2]", got)
	}
	got := unknownLabels([]any{[]any{"a", "c", nil}, []any{"d", "c"}}, enum.Symbols, nil)
	got = unknownLabels("b", enum.Symbols, got)
	got = unknownLabels(nil, enum.Symbols, got)
	if !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("unknownLabels = %v, want [c d]", got)
	}
	wide := withSymbols(nested, []string{"a", "b", "c"})
	if s := enumOf(&wide).Symbols; !slices.Equal(s, []string{"a", "b", "c"}) || wide.Elem.Elem.Source != "public.e" {
		t.Errorf("withSymbols: %v", wide)
	}
	if !slices.Equal(enum.Symbols, []string{"a", "b"}) || len(nested.Elem.Elem.Symbols) != 2 {
		t.Errorf("withSymbols modified its argument: %v", nested)
	}
}
