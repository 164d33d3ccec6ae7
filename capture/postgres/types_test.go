package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cdcd-dev/cdcd/change"
)

// fakeCatalog is a TypeLookup over a few catalog types, as a database with these would have them:
//
//	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
//	CREATE DOMAIN posint AS int4; CREATE DOMAIN price AS numeric(10,2); CREATE DOMAIN price2 AS price;
//	CREATE DOMAIN jdoc AS jsonb; CREATE TYPE pair AS (a int, b text);
func fakeCatalog() TypeLookup {
	types := map[uint32]TypeInfo{
		90001: {OID: 90001, Name: "mood", Type: 'e', Category: 'E', Labels: []string{"sad", "ok", "happy"}},
		90002: {OID: 90002, Name: "_mood", Type: 'b', Category: 'A', Elem: 90001},
		90003: {OID: 90003, Name: "posint", Type: 'd', Category: 'N', BaseType: pgtype.Int4OID, BaseTypmod: -1},
		90004: {OID: 90004, Name: "public.price", Type: 'd', Category: 'N', BaseType: pgtype.NumericOID, BaseTypmod: 10<<16 | 2 + 4},
		90005: {OID: 90005, Name: "price2", Type: 'd', Category: 'N', BaseType: 90004, BaseTypmod: -1},
		90006: {OID: 90006, Name: "jdoc", Type: 'd', Category: 'U', BaseType: pgtype.JSONBOID, BaseTypmod: -1},
		90007: {OID: 90007, Name: "pair", Type: 'c', Category: 'C'},
		90008: {OID: 90008, Name: "_pair", Type: 'b', Category: 'A', Elem: 90007},
		90009: {OID: 90009, Name: "loop", Type: 'd', BaseType: 90009, BaseTypmod: -1},
		90010: {OID: 90010, Name: "_price", Type: 'b', Category: 'A', Elem: 90004},
		90011: {OID: 90011, Name: "intdomarr", Type: 'd', Category: 'A', BaseType: pgtype.Int4ArrayOID, BaseTypmod: -1},
		90012: {OID: 90012, Name: "int4range", Type: 'r', Category: 'R'},
	}
	return func(oid uint32) (TypeInfo, bool) {
		info, ok := types[oid]
		return info, ok
	}
}

func TestMapType(t *testing.T) {
	dec := func(p, s int, src string) change.Type {
		return change.Type{Kind: change.Decimal, Precision: p, Scale: s, Source: src}
	}
	scalar := func(k change.Kind, src string) change.Type { return change.Type{Kind: k, Source: src} }
	array := func(elem change.Type, src string) change.Type {
		return change.Type{Kind: change.Array, Elem: &elem, Source: src}
	}
	fallback := func(src string) change.Type { return change.Type{Kind: change.String, Fallback: true, Source: src} }
	mood := change.Type{Kind: change.Enum, Symbols: []string{"sad", "ok", "happy"}, Source: "mood"}
	numTypmod := func(p, s int) int32 { return int32(p<<16|(s&0x7ff)) + 4 }

	cases := []struct {
		oid    uint32
		typmod int32
		want   change.Type
	}{
		{pgtype.Int2OID, -1, scalar(change.Int16, "int2")},
		{pgtype.Int4OID, -1, scalar(change.Int32, "int4")},
		{pgtype.Int8OID, -1, scalar(change.Int64, "int8")},
		{pgtype.OIDOID, -1, scalar(change.UInt32, "oid")},
		{pgtype.NumericOID, -1, dec(0, 0, "numeric")},
		{pgtype.NumericOID, numTypmod(12, 2), dec(12, 2, "numeric(12,2)")},
		{pgtype.NumericOID, numTypmod(38, 10), dec(38, 10, "numeric(38,10)")},
		{pgtype.NumericOID, numTypmod(1000, 0), dec(1000, 0, "numeric(1000,0)")},
		{pgtype.NumericOID, numTypmod(5, -2), dec(5, -2, "numeric(5,-2)")},             // PostgreSQL 15
		{pgtype.NumericOID, numTypmod(3, 5), dec(3, 5, "numeric(3,5)")},                // PostgreSQL 15
		{pgtype.NumericOID, numTypmod(10, -1000), dec(10, -1000, "numeric(10,-1000)")}, // the lowest scale
		{pgtype.Float4OID, -1, scalar(change.Float32, "float4")},
		{pgtype.Float8OID, -1, scalar(change.Float64, "float8")},
		{pgtype.TextOID, -1, scalar(change.String, "text")},
		{pgtype.VarcharOID, -1, scalar(change.String, "varchar")},
		{pgtype.VarcharOID, 24, scalar(change.String, "varchar(20)")},
		{pgtype.BPCharOID, 9, scalar(change.String, "char(5)")},
		{pgtype.NameOID, -1, scalar(change.String, "name")},
		{pgtype.QCharOID, -1, scalar(change.String, `"char"`)},
		{pgtype.BoolOID, -1, scalar(change.Bool, "bool")},
		{pgtype.DateOID, -1, scalar(change.Date, "date")},
		{pgtype.TimestampOID, -1, scalar(change.Timestamp, "timestamp")},
		{pgtype.TimestampOID, 3, scalar(change.Timestamp, "timestamp(3)")},
		{pgtype.TimestamptzOID, -1, scalar(change.TimestampTZ, "timestamptz")},
		{pgtype.TimestamptzOID, 0, scalar(change.TimestampTZ, "timestamptz(0)")},
		{pgtype.TimeOID, -1, scalar(change.Time, "time")},
		{pgtype.UUIDOID, -1, scalar(change.UUID, "uuid")},
		{pgtype.JSONOID, -1, scalar(change.JSON, "json")},
		{pgtype.JSONBOID, -1, scalar(change.JSON, "jsonb")},
		{pgtype.ByteaOID, -1, scalar(change.Bytes, "bytea")},

		{pgtype.Int2ArrayOID, -1, array(scalar(change.Int16, "int2"), "int2[]")},
		{pgtype.Int4ArrayOID, -1, array(scalar(change.Int32, "int4"), "int4[]")},
		{pgtype.Int8ArrayOID, -1, array(scalar(change.Int64, "int8"), "int8[]")},
		{pgtype.NumericArrayOID, numTypmod(10, 2), array(dec(10, 2, "numeric(10,2)"), "numeric(10,2)[]")},
		{pgtype.Float4ArrayOID, -1, array(scalar(change.Float32, "float4"), "float4[]")},
		{pgtype.Float8ArrayOID, -1, array(scalar(change.Float64, "float8"), "float8[]")},
		{pgtype.TextArrayOID, -1, array(scalar(change.String, "text"), "text[]")},
		{pgtype.VarcharArrayOID, 14, array(scalar(change.String, "varchar(10)"), "varchar(10)[]")},
		{pgtype.BPCharArrayOID, -1, array(scalar(change.String, "bpchar"), "bpchar[]")},
		{pgtype.BoolArrayOID, -1, array(scalar(change.Bool, "bool"), "bool[]")},
		{pgtype.DateArrayOID, -1, array(scalar(change.Date, "date"), "date[]")},
		{pgtype.TimestampArrayOID, -1, array(scalar(change.Timestamp, "timestamp"), "timestamp[]")},
		{pgtype.TimestamptzArrayOID, -1, array(scalar(change.TimestampTZ, "timestamptz"), "timestamptz[]")},
		{pgtype.TimeArrayOID, -1, array(scalar(change.Time, "time"), "time[]")},
		{pgtype.UUIDArrayOID, -1, array(scalar(change.UUID, "uuid"), "uuid[]")},
		{pgtype.JSONArrayOID, -1, array(scalar(change.JSON, "json"), "json[]")},
		{pgtype.JSONBArrayOID, -1, array(scalar(change.JSON, "jsonb"), "jsonb[]")},
		{pgtype.ByteaArrayOID, -1, array(scalar(change.Bytes, "bytea"), "bytea[]")},

		{pgtype.IntervalOID, -1, fallback("interval")},
		{pgtype.TimetzOID, -1, fallback("timetz")},
		{pgtype.InetOID, -1, fallback("inet")},
		{790, -1, fallback("money")},
		{pgtype.PointOID, -1, fallback("point")},
		{pgtype.XMLOID, -1, fallback("xml")},
		{pgtype.TSVectorOID, -1, fallback("tsvector")},
		{pgtype.Int4rangeOID, -1, fallback("int4range")},
		{pgtype.IntervalArrayOID, -1, fallback("interval[]")},
		{pgtype.BoxArrayOID, -1, fallback("box[]")},
		{424242, -1, fallback("oid 424242")},

		{90001, -1, mood},
		{90002, -1, array(mood, "mood[]")},
		{90003, -1, scalar(change.Int32, "posint")},
		{90004, -1, dec(10, 2, "public.price")},
		{90005, -1, dec(10, 2, "price2")},
		{90006, -1, scalar(change.JSON, "jdoc")},
		{90007, -1, fallback("pair")},
		{90008, -1, fallback("pair[]")},
		{90009, -1, fallback("loop")},
		{90010, -1, array(dec(10, 2, "public.price"), "public.price[]")},
		{90011, -1, change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Int32, Source: "int4"}, Source: "intdomarr"}},
		{90012, -1, fallback("int4range")},
	}
	lookup := fakeCatalog()
	for _, tc := range cases {
		got := MapType(tc.oid, tc.typmod, lookup)
		if !got.Equal(tc.want) || got.Source != tc.want.Source || (got.Elem != nil && got.Elem.Source != tc.want.Elem.Source) {
			t.Errorf("MapType(%d, %d) = %s, want %s", tc.oid, tc.typmod, dump(got), dump(tc.want))
		}
	}
}

func TestMapTypeWithoutLookup(t *testing.T) {
	for _, oid := range []uint32{90001, 90002, 90003} {
		if got := MapType(oid, -1, nil); !got.Fallback || got.Kind != change.String {
			t.Errorf("MapType(%d, nil lookup) = %s, want a fallback String", oid, dump(got))
		}
	}
}

// TestMapTypeSymbolsCopied checks the enum labels are not shared with the lookup's TypeInfo.
func TestMapTypeSymbolsCopied(t *testing.T) {
	labels := []string{"a", "b"}
	got := MapType(1, -1, func(uint32) (TypeInfo, bool) {
		return TypeInfo{OID: 1, Name: "e", Type: 'e', Labels: labels}, true
	})
	labels[0] = "changed"
	if got.Symbols[0] != "a" {
		t.Fatalf("Symbols alias the lookup's labels: %v", got.Symbols)
	}
}

func TestNumericTypmod(t *testing.T) {
	cases := []struct {
		typmod int32
		p, s   int
		ok     bool
	}{
		{-1, 0, 0, false},
		{0, 0, 0, false},
		{(12<<16 | 2) + 4, 12, 2, true},
		{(1000<<16 | 1000) + 4, 1000, 1000, true},
		{(5<<16 | (-2 & 0x7ff)) + 4, 5, -2, true},
		{(5<<16 | (-1000 & 0x7ff)) + 4, 5, -1000, true},
	}
	for _, tc := range cases {
		p, s, ok := numericTypmod(tc.typmod)
		if p != tc.p || s != tc.s || ok != tc.ok {
			t.Errorf("numericTypmod(%d) = %d, %d, %v, want %d, %d, %v", tc.typmod, p, s, ok, tc.p, tc.s, tc.ok)
		}
	}
}

func dump(t change.Type) string {
	s := t.String() + " source=" + t.Source
	if t.Fallback {
		s += " fallback"
	}
	if t.Elem != nil {
		s += " elem{" + dump(*t.Elem) + "}"
	}
	return s
}
