package postgres

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cdcd-dev/cdcd/change"
)

// TypeInfo is what the catalog (pg_type, pg_enum) says about a type that is not built in: what
// MapType needs to map enums, domains and arrays of them.
type TypeInfo struct {
	OID        uint32
	Name       string   // e.g. "mood", "public.mood"
	Type       byte     // pg_type.typtype: 'b' base, 'e' enum, 'd' domain, 'c' composite, 'r' range, 'p' pseudo, 'm' multirange
	Elem       uint32   // pg_type.typelem for array types (typcategory 'A'), else 0
	BaseType   uint32   // pg_type.typbasetype for domains
	BaseTypmod int32    // pg_type.typtypmod for domains
	Category   byte     // pg_type.typcategory
	Labels     []string // enum labels in sort order, for enums
}

// TypeLookup resolves OIDs that are not built in (the caller queries pg_type and pg_enum). It
// returns ok=false for an OID it does not know.
type TypeLookup func(oid uint32) (TypeInfo, bool)

// maxTypeDepth bounds the recursion through domains and arrays, so that a catalog lookup that
// loops (a domain over itself) cannot recurse forever.
const maxTypeDepth = 16

// MapType returns the cdcd type of a column of PostgreSQL type oid with modifier typmod, as a
// pgoutput Relation message and pg_attribute.atttypmod give them (-1: no modifier). For an array
// column typmod is its element's modifier. lookup may be nil when no catalog is at hand: enums,
// domains and their arrays then map to a fallback String.
//
// Types cdcd does not know map to a Fallback String carried in PostgreSQL's text form; so does an
// array of them. Source is always set to a readable PostgreSQL name ("numeric(12,2)", "text[]").
func MapType(oid uint32, typmod int32, lookup TypeLookup) change.Type {
	return mapType(oid, typmod, lookup, 0)
}

func mapType(oid uint32, typmod int32, lookup TypeLookup, depth int) change.Type {
	if depth > maxTypeDepth {
		return fallbackType("oid " + strconv.FormatUint(uint64(oid), 10))
	}
	if k, name, ok := builtinScalar(oid); ok {
		t := change.Type{Kind: k, Source: name}
		switch oid {
		case pgtype.NumericOID:
			if p, s, ok := numericTypmod(typmod); ok {
				t.Precision, t.Scale = p, s
				t.Source = "numeric(" + strconv.Itoa(p) + "," + strconv.Itoa(s) + ")"
			}
		case pgtype.VarcharOID, pgtype.BPCharOID:
			if typmod >= 4 {
				if oid == pgtype.BPCharOID {
					name = "char"
				}
				t.Source = name + "(" + strconv.Itoa(int(typmod-4)) + ")"
			}
		case pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.TimeOID:
			if typmod >= 0 {
				t.Source = name + "(" + strconv.Itoa(int(typmod)) + ")"
			}
		}
		return t
	}
	if elem, ok := builtinArrayElem(oid); ok {
		return arrayType(elem, typmod, lookup, depth)
	}
	if name, ok := fallbackNames[oid]; ok {
		return fallbackType(name)
	}
	if lookup != nil {
		if info, ok := lookup(oid); ok {
			return mapCatalogType(info, typmod, lookup, depth)
		}
	}
	return fallbackType("oid " + strconv.FormatUint(uint64(oid), 10))
}

// mapCatalogType maps a type described by the catalog.
func mapCatalogType(info TypeInfo, typmod int32, lookup TypeLookup, depth int) change.Type {
	name := info.Name
	if name == "" {
		name = "oid " + strconv.FormatUint(uint64(info.OID), 10)
	}
	switch {
	case info.Type == 'e':
		return change.Type{Kind: change.Enum, Symbols: append([]string(nil), info.Labels...), Source: name}
	case info.Type == 'd':
		t := mapType(info.BaseType, info.BaseTypmod, lookup, depth+1)
		t.Source = name
		return t
	case info.Category == 'A' && info.Elem != 0:
		return arrayType(info.Elem, typmod, lookup, depth)
	}
	return fallbackType(name)
}

// arrayType maps an array of element type elem. PostgreSQL keeps an array column's element
// modifier as the column's typmod.
func arrayType(elem uint32, typmod int32, lookup TypeLookup, depth int) change.Type {
	e := mapType(elem, typmod, lookup, depth+1)
	name := e.Source + "[]"
	if e.Fallback || e.Kind == change.Array {
		return fallbackType(name)
	}
	return change.Type{Kind: change.Array, Elem: &e, Source: name}
}

func fallbackType(name string) change.Type {
	return change.Type{Kind: change.String, Fallback: true, Source: name}
}

// numericTypmod decodes numeric's type modifier: ((precision << 16) | scale) + 4, where PostgreSQL
// 15 allows a scale from -1000 to 1000 stored as a signed 11-bit number.
func numericTypmod(typmod int32) (precision, scale int, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	m := typmod - 4
	precision = int((m >> 16) & 0xffff)
	scale = int(((m & 0x7ff) ^ 0x400) - 0x400)
	return precision, scale, precision > 0
}

// builtinScalar returns the cdcd kind and name of a built-in scalar type cdcd maps natively.
func builtinScalar(oid uint32) (change.Kind, string, bool) {
	switch oid {
	case pgtype.Int2OID:
		return change.Int16, "int2", true
	case pgtype.Int4OID:
		return change.Int32, "int4", true
	case pgtype.Int8OID:
		return change.Int64, "int8", true
	case pgtype.OIDOID:
		return change.UInt32, "oid", true
	case pgtype.NumericOID:
		return change.Decimal, "numeric", true
	case pgtype.Float4OID:
		return change.Float32, "float4", true
	case pgtype.Float8OID:
		return change.Float64, "float8", true
	case pgtype.TextOID:
		return change.String, "text", true
	case pgtype.VarcharOID:
		return change.String, "varchar", true
	case pgtype.BPCharOID:
		return change.String, "bpchar", true
	case pgtype.NameOID:
		return change.String, "name", true
	case pgtype.QCharOID:
		return change.String, `"char"`, true
	case pgtype.BoolOID:
		return change.Bool, "bool", true
	case pgtype.DateOID:
		return change.Date, "date", true
	case pgtype.TimestampOID:
		return change.Timestamp, "timestamp", true
	case pgtype.TimestamptzOID:
		return change.TimestampTZ, "timestamptz", true
	case pgtype.TimeOID:
		return change.Time, "time", true
	case pgtype.UUIDOID:
		return change.UUID, "uuid", true
	case pgtype.JSONOID:
		return change.JSON, "json", true
	case pgtype.JSONBOID:
		return change.JSON, "jsonb", true
	case pgtype.ByteaOID:
		return change.Bytes, "bytea", true
	}
	return change.KindInvalid, "", false
}

// builtinArrayElem returns the element type of a built-in array type, including arrays of types
// that map to a fallback (they are fallbacks themselves).
func builtinArrayElem(oid uint32) (uint32, bool) {
	switch oid {
	case pgtype.Int2ArrayOID:
		return pgtype.Int2OID, true
	case pgtype.Int4ArrayOID:
		return pgtype.Int4OID, true
	case pgtype.Int8ArrayOID:
		return pgtype.Int8OID, true
	case pgtype.OIDArrayOID:
		return pgtype.OIDOID, true
	case pgtype.NumericArrayOID:
		return pgtype.NumericOID, true
	case pgtype.Float4ArrayOID:
		return pgtype.Float4OID, true
	case pgtype.Float8ArrayOID:
		return pgtype.Float8OID, true
	case pgtype.TextArrayOID:
		return pgtype.TextOID, true
	case pgtype.VarcharArrayOID:
		return pgtype.VarcharOID, true
	case pgtype.BPCharArrayOID:
		return pgtype.BPCharOID, true
	case pgtype.NameArrayOID:
		return pgtype.NameOID, true
	case pgtype.QCharArrayOID:
		return pgtype.QCharOID, true
	case pgtype.BoolArrayOID:
		return pgtype.BoolOID, true
	case pgtype.DateArrayOID:
		return pgtype.DateOID, true
	case pgtype.TimestampArrayOID:
		return pgtype.TimestampOID, true
	case pgtype.TimestamptzArrayOID:
		return pgtype.TimestamptzOID, true
	case pgtype.TimeArrayOID:
		return pgtype.TimeOID, true
	case pgtype.UUIDArrayOID:
		return pgtype.UUIDOID, true
	case pgtype.JSONArrayOID:
		return pgtype.JSONOID, true
	case pgtype.JSONBArrayOID:
		return pgtype.JSONBOID, true
	case pgtype.ByteaArrayOID:
		return pgtype.ByteaOID, true
	}
	elem, ok := fallbackArrayElems[oid]
	return elem, ok
}

// fallbackNames names the built-in types that map to a fallback String, so that Source reads well.
var fallbackNames = map[uint32]string{
	pgtype.IntervalOID: "interval", pgtype.TimetzOID: "timetz", pgtype.InetOID: "inet",
	pgtype.CIDROID: "cidr", pgtype.MacaddrOID: "macaddr", pgtype.Macaddr8OID: "macaddr8",
	790: "money", pgtype.PointOID: "point", pgtype.LsegOID: "lseg", pgtype.PathOID: "path",
	pgtype.BoxOID: "box", pgtype.PolygonOID: "polygon", pgtype.LineOID: "line",
	pgtype.CircleOID: "circle", pgtype.XMLOID: "xml", pgtype.TSVectorOID: "tsvector",
	3615: "tsquery", pgtype.BitOID: "bit", pgtype.VarbitOID: "varbit", pgtype.TIDOID: "tid",
	pgtype.XIDOID: "xid", pgtype.XID8OID: "xid8", pgtype.CIDOID: "cid", pgtype.JSONPathOID: "jsonpath",
	pgtype.ACLItemOID: "aclitem", pgtype.RecordOID: "record", pgtype.UnknownOID: "unknown",
	3220: "pg_lsn", 24: "regproc", 2205: "regclass", 2206: "regtype",
	pgtype.Int4rangeOID: "int4range", pgtype.Int8rangeOID: "int8range", pgtype.NumrangeOID: "numrange",
	pgtype.TsrangeOID: "tsrange", pgtype.TstzrangeOID: "tstzrange", pgtype.DaterangeOID: "daterange",
	pgtype.Int4multirangeOID: "int4multirange", pgtype.Int8multirangeOID: "int8multirange",
	pgtype.NummultirangeOID: "nummultirange", pgtype.TsmultirangeOID: "tsmultirange",
	pgtype.TstzmultirangeOID: "tstzmultirange", pgtype.DatemultirangeOID: "datemultirange",
}

// fallbackArrayElems maps the built-in arrays of fallback types to their element types.
var fallbackArrayElems = map[uint32]uint32{
	pgtype.IntervalArrayOID: pgtype.IntervalOID, pgtype.TimetzArrayOID: pgtype.TimetzOID,
	pgtype.InetArrayOID: pgtype.InetOID, pgtype.CIDRArrayOID: pgtype.CIDROID,
	pgtype.MacaddrArrayOID: pgtype.MacaddrOID, 791: 790, pgtype.PointArrayOID: pgtype.PointOID,
	pgtype.LsegArrayOID: pgtype.LsegOID, pgtype.PathArrayOID: pgtype.PathOID,
	pgtype.BoxArrayOID: pgtype.BoxOID, pgtype.PolygonArrayOID: pgtype.PolygonOID,
	pgtype.LineArrayOID: pgtype.LineOID, pgtype.CircleArrayOID: pgtype.CircleOID,
	pgtype.XMLArrayOID: pgtype.XMLOID, pgtype.TSVectorArrayOID: pgtype.TSVectorOID,
	pgtype.BitArrayOID: pgtype.BitOID, pgtype.VarbitArrayOID: pgtype.VarbitOID,
	pgtype.TIDArrayOID: pgtype.TIDOID, pgtype.XIDArrayOID: pgtype.XIDOID,
	pgtype.XID8ArrayOID: pgtype.XID8OID, pgtype.CIDArrayOID: pgtype.CIDOID,
	pgtype.JSONPathArrayOID: pgtype.JSONPathOID, pgtype.ACLItemArrayOID: pgtype.ACLItemOID,
	pgtype.RecordArrayOID: pgtype.RecordOID, pgtype.Int4rangeArrayOID: pgtype.Int4rangeOID,
	pgtype.Int8rangeArrayOID: pgtype.Int8rangeOID, pgtype.NumrangeArrayOID: pgtype.NumrangeOID,
	pgtype.TsrangeArrayOID: pgtype.TsrangeOID, pgtype.TstzrangeArrayOID: pgtype.TstzrangeOID,
	pgtype.DaterangeArrayOID: pgtype.DaterangeOID, 775: pgtype.Macaddr8OID,
	3645: 3615, 3221: 3220,
}
