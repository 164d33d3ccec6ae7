package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// binArray builds a one-dimensional binary array (lower bound 1); a nil element is NULL.
func binArray(elemOID uint32, elems ...[]byte) []byte {
	hasNull := uint32(0)
	for _, e := range elems {
		if e == nil {
			hasNull = 1
		}
	}
	b := cat(be32(1), be32(hasNull), be32(elemOID), be32(uint32(len(elems))), be32(1))
	for _, e := range elems {
		if e == nil {
			b = append(b, be32(0xFFFFFFFF)...)
			continue
		}
		b = append(b, be32(uint32(len(e)))...)
		b = append(b, e...)
	}
	return b
}

func TestDecodeBinaryArray(t *testing.T) {
	empty := cat(be32(0), be32(0), be32(pgtype.Int4OID))
	runDecodeCases(t, []decodeCase{
		{name: "int4[]", oid: pgtype.Int4ArrayOID, binary: true,
			data: binArray(pgtype.Int4OID, be32(1), nil, be32(3)), want: []any{int64(1), nil, int64(3)}},
		{name: "empty", oid: pgtype.Int4ArrayOID, binary: true, data: empty, want: []any{}},
		{name: "only NULL", oid: pgtype.Int4ArrayOID, binary: true, data: binArray(pgtype.Int4OID, nil), want: []any{nil}},
		{name: "lower bound 0", oid: pgtype.Int2ArrayOID, binary: true,
			data: cat(be32(1), be32(0), be32(pgtype.Int2OID), be32(2), be32(0), be32(2), be16(7), be32(2), be16(8)),
			want: []any{int64(7), int64(8)}},
		{name: "text[]", oid: pgtype.TextArrayOID, binary: true,
			data: binArray(pgtype.TextOID, []byte("a b"), []byte{}, []byte(`"q"`)), want: []any{"a b", "", `"q"`}},
		{name: "numeric[]", oid: pgtype.NumericArrayOID, binary: true,
			data: binArray(pgtype.NumericOID, encodeNumeric("1.50"), nil), want: []any{decimal.New(150, -2), nil}},
		{name: "jsonb[]", oid: pgtype.JSONBArrayOID, binary: true,
			data: binArray(pgtype.JSONBOID, []byte("\x01{}")), want: []any{"{}"}},
		{name: "bytea[]", oid: pgtype.ByteaArrayOID, binary: true,
			data: binArray(pgtype.ByteaOID, []byte{}, nil, []byte{0}), want: []any{[]byte{}, nil, []byte{0}}},
		{name: "2 dims", oid: pgtype.Int4ArrayOID, binary: true,
			data:    cat(be32(2), be32(0), be32(pgtype.Int4OID), be32(1), be32(1), be32(1), be32(1), be32(4), be32(1)),
			wantErr: "array: multi-dimensional arrays are not supported (value has 2 dimensions)"},
		{name: "negative dims", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(0xFFFFFFFF), be32(0), be32(23)), wantErr: "array: invalid number of dimensions -1"},
		{name: "short header", oid: pgtype.Int4ArrayOID, binary: true, data: be32(1), wantErr: "array: binary value of 4 bytes"},
		{name: "short dims", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(1), be32(0), be32(23), be32(1)), wantErr: "array: binary value of 16 bytes"},
		{name: "empty with tail", oid: pgtype.Int4ArrayOID, binary: true, data: cat(empty, be32(0)), wantErr: "array: empty binary array has 4 bytes"},
		{name: "negative length", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(1), be32(0), be32(23), be32(0x80000000), be32(1)), wantErr: "array: invalid length"},
		{name: "huge count", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(1), be32(0), be32(23), be32(0x7FFFFFFF), be32(1)), wantErr: "array: binary value ends before element 1"},
		{name: "element overruns", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(1), be32(0), be32(23), be32(1), be32(1), be32(8), be32(1)), wantErr: "array: element 1 has invalid length 8"},
		{name: "element -2", oid: pgtype.Int4ArrayOID, binary: true, data: cat(be32(1), be32(0), be32(23), be32(1), be32(1), be32(0xFFFFFFFE)), wantErr: "array: element 1 has invalid length -2"},
		{name: "bad element", oid: pgtype.Int4ArrayOID, binary: true, data: binArray(23, be32(1), be16(1)), wantErr: "array: element 2: int4: binary value of 2 bytes"},
		{name: "trailing bytes", oid: pgtype.Int4ArrayOID, binary: true, data: cat(binArray(23, be32(1)), []byte{0}), wantErr: "array: 1 bytes after the last element"},
	})
}

func TestDecodeTextArray(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "int4[]", oid: pgtype.Int4ArrayOID, data: []byte("{1,NULL,3}"), want: []any{int64(1), nil, int64(3)}},
		{name: "empty", oid: pgtype.Int4ArrayOID, data: []byte("{}"), want: []any{}},
		{name: "empty spaced", oid: pgtype.Int4ArrayOID, data: []byte(" { } "), want: []any{}},
		{name: "spaces", oid: pgtype.Int4ArrayOID, data: []byte("{ 1 , 2 }"), want: []any{int64(1), int64(2)}},
		{name: "null lower case", oid: pgtype.Int4ArrayOID, data: []byte("{null,NuLl}"), want: []any{nil, nil}},
		{name: "bounds", oid: pgtype.Int4ArrayOID, data: []byte("[0:2]={1,2,3}"), want: []any{int64(1), int64(2), int64(3)}},
		{name: "text quoting", oid: pgtype.TextArrayOID,
			data: []byte(`{"a b","quo\"te","back\\slash","com,ma","{brace}","NULL","",plain,ü,"  pad  "}`),
			want: []any{"a b", `quo"te`, `back\slash`, "com,ma", "{brace}", "NULL", "", "plain", "ü", "  pad  "}},
		{name: "text unquoted escapes", oid: pgtype.TextArrayOID, data: []byte(`{a\,b,c\ ,\N\U\L\L, x\\y }`),
			want: []any{"a,b", "c ", "NULL", `x\y`}},
		{name: "text inner space", oid: pgtype.TextArrayOID, data: []byte("{a b,\tc d\n}"), want: []any{"a b", "c d"}},
		{name: "text only NULL", oid: pgtype.TextArrayOID, data: []byte("{NULL}"), want: []any{nil}},
		{name: "text quoted tail escape", oid: pgtype.TextArrayOID, data: []byte(`{"x\\"}`), want: []any{`x\`}},
		{name: "numeric[]", oid: pgtype.NumericArrayOID, data: []byte("{1.50,-2,NULL}"),
			want: []any{decimal.New(150, -2), decimal.New(-2, 0), nil}},
		{name: "bool[]", oid: pgtype.BoolArrayOID, data: []byte("{t,f,NULL}"), want: []any{true, false, nil}},
		{name: "bytea[]", oid: pgtype.ByteaArrayOID, data: []byte(`{"\\x00ff",NULL,"\\x"}`), want: []any{[]byte{0, 0xFF}, nil, []byte{}}},
		{name: "timestamptz[]", oid: pgtype.TimestamptzArrayOID, data: []byte(`{"2024-03-10 02:30:00+00",NULL}`),
			want: []any{utc(2024, 3, 10, 2, 30, 0, 0), nil}},
		{name: "json[]", oid: pgtype.JSONArrayOID, data: []byte(`{"{\"a\": [1, 2]}",NULL}`), want: []any{`{"a": [1, 2]}`, nil}},

		{name: "2 dims", oid: pgtype.Int4ArrayOID, data: []byte("{{1,2},{3,4}}"), wantErr: "array: multi-dimensional arrays are not supported (value has 2 dimensions)"},
		{name: "3 dims", oid: pgtype.Int4ArrayOID, data: []byte("{ { {1}}}"), wantErr: "(value has 3 dimensions)"},
		{name: "2 dims bounds", oid: pgtype.Int4ArrayOID, data: []byte("[0:1][1:1]={{1},{2}}"), wantErr: "(value has 2 dimensions)"},
		{name: "bad bounds", oid: pgtype.Int4ArrayOID, data: []byte("[0:1]{1,2}"), wantErr: "array: \"[0:1]{1,2}\" has malformed bounds"},
		{name: "unterminated", oid: pgtype.Int4ArrayOID, data: []byte("{1,2"), wantErr: "ends before its closing brace"},
		{name: "no brace", oid: pgtype.Int4ArrayOID, data: []byte("1,2}"), wantErr: "does not start with {"},
		{name: "empty input", oid: pgtype.Int4ArrayOID, data: []byte(""), wantErr: "does not start with {"},
		{name: "empty element", oid: pgtype.Int4ArrayOID, data: []byte("{1,,2}"), wantErr: "empty unquoted element"},
		{name: "trailing comma", oid: pgtype.Int4ArrayOID, data: []byte("{1,}"), wantErr: "empty unquoted element"},
		{name: "junk after", oid: pgtype.Int4ArrayOID, data: []byte("{1}x"), wantErr: "data after its closing brace"},
		{name: "junk after empty", oid: pgtype.Int4ArrayOID, data: []byte("{}x"), wantErr: "data after its closing brace"},
		{name: "unterminated quote", oid: pgtype.TextArrayOID, data: []byte(`{"a}`), wantErr: "unterminated quoted element"},
		{name: "unterminated quote escape", oid: pgtype.TextArrayOID, data: []byte(`{"a\"}`), wantErr: "unterminated quoted element"},
		{name: "quote inside", oid: pgtype.TextArrayOID, data: []byte(`{a"b"}`), wantErr: "unexpected"},
		{name: "junk after quote", oid: pgtype.TextArrayOID, data: []byte(`{"a"b}`), wantErr: "after element 1"},
		{name: "dangling escape", oid: pgtype.TextArrayOID, data: []byte(`{a\`), wantErr: "ends before its closing brace"},
		{name: "bad element", oid: pgtype.Int4ArrayOID, data: []byte("{1,x}"), wantErr: `array: element 2: int4: "x"`},
	})
}
