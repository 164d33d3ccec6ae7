package decode

import (
	"github.com/cdcd-dev/cdcd/change"
)

// kindTypes is one type of every kind and shape the mapping distinguishes.
func kindTypes() []change.Type {
	mood := change.Type{Kind: change.Enum, Symbols: []string{"happy", "sad", "ok_ish"}, Source: "mood"}
	dec := change.Type{Kind: change.Decimal, Precision: 12, Scale: 2, Source: "numeric(12,2)"}
	text := change.Type{Kind: change.String, Source: "text"}
	int4 := change.Type{Kind: change.Int32, Source: "int4"}
	return []change.Type{
		{Kind: change.Int8, Source: "tinyint"},
		{Kind: change.Int16, Source: "int2"},
		int4,
		{Kind: change.Int64, Source: "int8"},
		{Kind: change.UInt8, Source: "tinyint unsigned"},
		{Kind: change.UInt16, Source: "smallint unsigned"},
		{Kind: change.UInt32, Source: "oid"},
		{Kind: change.UInt64, Source: "bigint unsigned"},
		{Kind: change.Float32, Source: "float4"},
		{Kind: change.Float64, Source: "float8"},
		dec,
		{Kind: change.Decimal, Precision: 38, Scale: 10, Source: "numeric(38,10)"},
		{Kind: change.Decimal, Precision: 2, Scale: 5, Source: "numeric(2,5)"},
		{Kind: change.Decimal, Precision: 5, Scale: -2, Source: "numeric(5,-2)"},
		{Kind: change.Decimal, Source: "numeric"},
		text,
		{Kind: change.JSON, Source: "jsonb"},
		mood,
		{Kind: change.Enum, Symbols: []string{"so so", "fine"}, Source: "feeling"},
		{Kind: change.Enum, Source: "enum without symbols"},
		{Kind: change.Bytes, Source: "bytea"},
		{Kind: change.Bool, Source: "bool"},
		{Kind: change.Date, Source: "date"},
		{Kind: change.Timestamp, Source: "timestamp(6)"},
		{Kind: change.TimestampTZ, Source: "timestamptz"},
		{Kind: change.Time, Source: "time"},
		{Kind: change.UUID, Source: "uuid"},
		{Kind: change.Array, Elem: &int4, Source: "int4[]"},
		{Kind: change.Array, Elem: &text, Source: "text[]"},
		{Kind: change.Array, Elem: &mood, Source: "mood[]"},
		{Kind: change.Array, Elem: &dec, Source: "numeric(12,2)[]"},
		{Kind: change.String, Fallback: true, Source: "point"},
	}
}

// allKindsTable has every type of kindTypes twice: as a key column "k_<i>" (required) and as a
// nullable column "n_<i>".
func allKindsTable() *change.Table {
	t := &change.Table{ID: change.TableID{Source: "shop", Namespace: "public", Name: "all_kinds"}}
	types := kindTypes()
	for i, ty := range types {
		t.Columns = append(t.Columns, change.Column{Name: colName("k", i, ty), Type: ty})
		t.Key = append(t.Key, i)
	}
	for i, ty := range types {
		t.Columns = append(t.Columns, change.Column{Name: colName("n", i, ty), Type: ty, Nullable: true})
	}
	return t
}

func colName(prefix string, i int, ty change.Type) string {
	return prefix + "_" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "_" + ty.Kind.String()
}
