package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// rtCase is one column of the round-trip table: a SQL type, a value literal, the kind MapType must
// give (and its Source when set), and the canonical value both formats must decode to (or a
// substring of the error both must give).
type rtCase struct {
	typ      string
	lit      string // a SQL string literal's content; the column is set to 'lit'::typ
	kind     change.Kind
	source   string
	fallback bool
	want     any
	wantErr  string
}

func roundTripCases() []rtCase {
	d := decimal.RequireFromString
	u := uuid.MustParse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
	nines := strings.Repeat("9", 1000)
	text := `with,comma {brace} "quote" \back	tab ünï 😀`
	return []rtCase{
		{typ: "int2", lit: "-32768", kind: change.Int16, source: "int2", want: int64(-32768)},
		{typ: "int2", lit: "32767", kind: change.Int16, want: int64(32767)},
		{typ: "int4", lit: "-2147483648", kind: change.Int32, source: "int4", want: int64(math.MinInt32)},
		{typ: "int8", lit: "9223372036854775807", kind: change.Int64, source: "int8", want: int64(math.MaxInt64)},
		{typ: "int8", lit: "-9223372036854775808", kind: change.Int64, want: int64(math.MinInt64)},
		{typ: "oid", lit: "4294967295", kind: change.UInt32, source: "oid", want: uint64(math.MaxUint32)},

		{typ: "numeric(12,2)", lit: "1.5", kind: change.Decimal, source: "numeric(12,2)", want: decimal.New(150, -2)},
		{typ: "numeric(12,2)", lit: "-9999999999.99", kind: change.Decimal, want: decimal.New(-999999999999, -2)},
		{typ: "numeric(12,2)", lit: "0", kind: change.Decimal, want: decimal.New(0, -2)},
		{typ: "numeric", lit: "1.50", kind: change.Decimal, source: "numeric", want: decimal.New(150, -2)},
		{typ: "numeric", lit: "0", kind: change.Decimal, want: decimal.New(0, 0)},
		{typ: "numeric", lit: "-0.000001", kind: change.Decimal, want: decimal.New(-1, -6)},
		{typ: "numeric", lit: "10000", kind: change.Decimal, want: decimal.New(10000, 0)},
		{typ: "numeric", lit: "100000000000000000000", kind: change.Decimal, want: d("100000000000000000000")},
		{typ: "numeric", lit: "123456789012345678901234567890.123456789", kind: change.Decimal, want: d("123456789012345678901234567890.123456789")},
		{typ: "numeric", lit: "-0.0000000000000000000001", kind: change.Decimal, want: d("-0.0000000000000000000001")},
		{typ: "numeric", lit: "1e-20", kind: change.Decimal, want: decimal.New(1, -20)},
		{typ: "numeric", lit: nines, kind: change.Decimal, want: d(nines)},
		{typ: "numeric", lit: "-" + nines + "." + nines, kind: change.Decimal, want: d("-" + nines + "." + nines)},
		{typ: "numeric(38,10)", lit: "9999999999999999999999999999.9999999999", kind: change.Decimal, source: "numeric(38,10)",
			want: d("9999999999999999999999999999.9999999999")},
		{typ: "numeric(38,10)", lit: "-0.0000000001", kind: change.Decimal, want: decimal.New(-1, -10)},
		{typ: "numeric(5,-2)", lit: "12345", kind: change.Decimal, source: "numeric(5,-2)", want: decimal.New(12300, 0)},
		{typ: "numeric(3,5)", lit: "0.001234", kind: change.Decimal, source: "numeric(3,5)", want: decimal.New(123, -5)},
		{typ: "numeric", lit: "NaN", kind: change.Decimal, wantErr: "numeric: value is NaN"},
		{typ: "numeric", lit: "Infinity", kind: change.Decimal, wantErr: "numeric: value is Infinity"},
		{typ: "numeric", lit: "-Infinity", kind: change.Decimal, wantErr: "numeric: value is -Infinity"},

		{typ: "float4", lit: "3.14", kind: change.Float32, source: "float4", want: float64(float32(3.14))},
		{typ: "float4", lit: "3.4028235e38", kind: change.Float32, want: float64(math.MaxFloat32)},
		{typ: "float4", lit: "1e-45", kind: change.Float32, want: float64(math.SmallestNonzeroFloat32)},
		{typ: "float4", lit: "NaN", kind: change.Float32, want: math.NaN()},
		{typ: "float4", lit: "-Infinity", kind: change.Float32, want: math.Inf(-1)},
		{typ: "float8", lit: "0.1", kind: change.Float64, source: "float8", want: 0.1},
		{typ: "float8", lit: "1.7976931348623157e308", kind: change.Float64, want: math.MaxFloat64},
		{typ: "float8", lit: "5e-324", kind: change.Float64, want: math.SmallestNonzeroFloat64},
		{typ: "float8", lit: "-0", kind: change.Float64, want: math.Copysign(0, -1)},
		{typ: "float8", lit: "Infinity", kind: change.Float64, want: math.Inf(1)},

		{typ: "text", lit: text, kind: change.String, source: "text", want: text},
		{typ: "text", lit: "", kind: change.String, want: ""},
		{typ: "varchar(20)", lit: "abc", kind: change.String, source: "varchar(20)", want: "abc"},
		{typ: "char(5)", lit: "ab", kind: change.String, source: "char(5)", want: "ab   "},
		{typ: "name", lit: "pg_class", kind: change.String, source: "name", want: "pg_class"},
		{typ: `"char"`, lit: "x", kind: change.String, source: `"char"`, want: "x"},
		{typ: `"char"`, lit: `\351`, kind: change.String, want: `\351`},
		{typ: "bool", lit: "true", kind: change.Bool, source: "bool", want: true},
		{typ: "bool", lit: "false", kind: change.Bool, want: false},

		{typ: "date", lit: "2024-03-10", kind: change.Date, source: "date", want: utc(2024, 3, 10, 0, 0, 0, 0)},
		{typ: "date", lit: "1999-12-31", kind: change.Date, want: utc(1999, 12, 31, 0, 0, 0, 0)},
		{typ: "date", lit: "0044-03-15 BC", kind: change.Date, want: utc(-43, 3, 15, 0, 0, 0, 0)},
		{typ: "date", lit: "4714-11-24 BC", kind: change.Date, want: utc(-4713, 11, 24, 0, 0, 0, 0)},
		{typ: "date", lit: "12345-06-07", kind: change.Date, want: utc(12345, 6, 7, 0, 0, 0, 0)},
		{typ: "date", lit: "infinity", kind: change.Date, wantErr: "date: value is infinity"},
		{typ: "date", lit: "-infinity", kind: change.Date, wantErr: "date: value is -infinity"},
		{typ: "timestamp", lit: "2024-03-10 02:30:00.123456", kind: change.Timestamp, source: "timestamp", want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		{typ: "timestamp", lit: "1969-07-20 20:17:40", kind: change.Timestamp, want: utc(1969, 7, 20, 20, 17, 40, 0)},
		{typ: "timestamp", lit: "1999-12-31 23:59:59.999999", kind: change.Timestamp, want: utc(1999, 12, 31, 23, 59, 59, 999999)},
		{typ: "timestamp", lit: "0044-03-15 10:00:00 BC", kind: change.Timestamp, want: utc(-43, 3, 15, 10, 0, 0, 0)},
		{typ: "timestamp", lit: "12345-01-01 00:00:00", kind: change.Timestamp, want: utc(12345, 1, 1, 0, 0, 0, 0)},
		{typ: "timestamp", lit: "294276-12-31 23:59:59.999999", kind: change.Timestamp, want: utc(294276, 12, 31, 23, 59, 59, 999999)},
		{typ: "timestamp", lit: "infinity", kind: change.Timestamp, wantErr: "timestamp: value is infinity"},
		{typ: "timestamp(3)", lit: "2024-03-10 02:30:00.123456", kind: change.Timestamp, source: "timestamp(3)", want: utc(2024, 3, 10, 2, 30, 0, 123000)},
		// 02:30 does not exist in New York that day: PostgreSQL reads it with the offset before the
		// jump (EST, -05), the same instant as 03:30 EDT.
		{typ: "timestamptz", lit: "2024-03-10 02:30:00 America/New_York", kind: change.TimestampTZ, source: "timestamptz", want: utc(2024, 3, 10, 7, 30, 0, 0)},
		{typ: "timestamptz", lit: "2024-03-10 03:30:00 America/New_York", kind: change.TimestampTZ, want: utc(2024, 3, 10, 7, 30, 0, 0)},
		{typ: "timestamptz", lit: "2024-03-10 01:59:59.999999 America/New_York", kind: change.TimestampTZ, want: utc(2024, 3, 10, 6, 59, 59, 999999)},
		// 01:30 happens twice that day: PostgreSQL takes the offset after the jump back (EST).
		{typ: "timestamptz", lit: "2024-11-03 01:30:00 America/New_York", kind: change.TimestampTZ, want: utc(2024, 11, 3, 6, 30, 0, 0)},
		{typ: "timestamptz", lit: "2024-03-10 02:30:00.123456+05:30", kind: change.TimestampTZ, want: utc(2024, 3, 9, 21, 0, 0, 123456)},
		{typ: "timestamptz", lit: "1900-06-01 12:00:00+00", kind: change.TimestampTZ, want: utc(1900, 6, 1, 12, 0, 0, 0)},
		{typ: "timestamptz", lit: "0044-03-15 10:00:00+00 BC", kind: change.TimestampTZ, want: utc(-43, 3, 15, 10, 0, 0, 0)},
		{typ: "timestamptz", lit: "-infinity", kind: change.TimestampTZ, wantErr: "timestamptz: value is -infinity"},
		{typ: "time", lit: "00:00:00", kind: change.Time, source: "time", want: time.Duration(0)},
		{typ: "time", lit: "12:34:56.789", kind: change.Time, want: 12*time.Hour + 34*time.Minute + 56*time.Second + 789*time.Millisecond},
		{typ: "time", lit: "23:59:59.999999", kind: change.Time, want: 24*time.Hour - time.Microsecond},
		{typ: "time", lit: "24:00:00", kind: change.Time, want: 24 * time.Hour},
		{typ: "uuid", lit: u.String(), kind: change.UUID, source: "uuid", want: u},
		{typ: "json", lit: `{"b": [1, 2.50, "x"],  "a" : null}`, kind: change.JSON, source: "json", want: `{"b": [1, 2.50, "x"],  "a" : null}`},
		{typ: "jsonb", lit: `{"b": [1, 2.50, "ü"],  "a" : null}`, kind: change.JSON, source: "jsonb", want: `{"a": null, "b": [1, 2.50, "ü"]}`},
		{typ: "bytea", lit: `\x00ff5c22`, kind: change.Bytes, source: "bytea", want: []byte{0, 0xFF, '\\', '"'}},
		{typ: "bytea", lit: `\x`, kind: change.Bytes, want: []byte{}},

		{typ: "int2[]", lit: "{1,NULL,-3}", kind: change.Array, source: "int2[]", want: []any{int64(1), nil, int64(-3)}},
		{typ: "int4[]", lit: "{}", kind: change.Array, source: "int4[]", want: []any{}},
		{typ: "int4[]", lit: "[0:1]={7,8}", kind: change.Array, want: []any{int64(7), int64(8)}},
		{typ: "int4[]", lit: "{{1,2},{3,4}}", kind: change.Array, wantErr: "multi-dimensional arrays are not supported (value has 2 dimensions)"},
		{typ: "int8[]", lit: "{NULL}", kind: change.Array, want: []any{nil}},
		{typ: "numeric[]", lit: "{1.50,NULL,-2,NaN}", kind: change.Array, wantErr: "array: element 4: numeric: value is NaN"},
		{typ: "numeric[]", lit: "{1.50,NULL,-2}", kind: change.Array, want: []any{decimal.New(150, -2), nil, decimal.New(-2, 0)}},
		{typ: "numeric(10,2)[]", lit: "{1.5}", kind: change.Array, source: "numeric(10,2)[]", want: []any{decimal.New(150, -2)}},
		{typ: "float4[]", lit: "{1.5,NaN,-Infinity}", kind: change.Array, want: []any{1.5, math.NaN(), math.Inf(-1)}},
		{typ: "float8[]", lit: "{0.1,NULL}", kind: change.Array, want: []any{0.1, nil}},
		{typ: "text[]", lit: `{"a b","quo\"te","back\\slash","com,ma","{}","NULL",NULL,""," pad ",ü}`, kind: change.Array, source: "text[]",
			want: []any{"a b", `quo"te`, `back\slash`, "com,ma", "{}", "NULL", nil, "", " pad ", "ü"}},
		{typ: "varchar(3)[]", lit: "{abc,NULL}", kind: change.Array, source: "varchar(3)[]", want: []any{"abc", nil}},
		{typ: "char(3)[]", lit: "{a,b}", kind: change.Array, source: "char(3)[]", want: []any{"a  ", "b  "}},
		{typ: "bool[]", lit: "{t,f,NULL}", kind: change.Array, want: []any{true, false, nil}},
		{typ: "date[]", lit: "{2024-01-01,NULL,0044-03-15 BC}", kind: change.Array, want: []any{utc(2024, 1, 1, 0, 0, 0, 0), nil, utc(-43, 3, 15, 0, 0, 0, 0)}},
		{typ: "timestamp[]", lit: `{"2024-01-01 00:00:00.5",NULL}`, kind: change.Array, want: []any{utc(2024, 1, 1, 0, 0, 0, 500000), nil}},
		{typ: "timestamptz[]", lit: `{"2024-01-01 00:00:00+02"}`, kind: change.Array, want: []any{utc(2023, 12, 31, 22, 0, 0, 0)}},
		{typ: "time[]", lit: "{12:00:00,NULL}", kind: change.Array, want: []any{12 * time.Hour, nil}},
		{typ: "uuid[]", lit: "{" + u.String() + ",NULL}", kind: change.Array, want: []any{u, nil}},
		{typ: "json[]", lit: `{"{\"a\": 1}",NULL}`, kind: change.Array, want: []any{`{"a": 1}`, nil}},
		{typ: "jsonb[]", lit: `{"{\"a\": 1}","[]"}`, kind: change.Array, want: []any{`{"a": 1}`, "[]"}},
		{typ: "bytea[]", lit: `{"\\x00ff",NULL,"\\x"}`, kind: change.Array, want: []any{[]byte{0, 0xFF}, nil, []byte{}}},

		{typ: "mood", lit: "happy", kind: change.Enum, source: "mood", want: "happy"},
		{typ: "mood[]", lit: "{sad,NULL,happy}", kind: change.Array, source: "mood[]", want: []any{"sad", nil, "happy"}},
		{typ: "posint", lit: "5", kind: change.Int32, source: "posint", want: int64(5)},
		{typ: "price", lit: "3.5", kind: change.Decimal, source: "price", want: decimal.New(350, -2)},
		{typ: "price2", lit: "-7", kind: change.Decimal, source: "price2", want: decimal.New(-700, -2)},
		{typ: "price[]", lit: "{1.5,NULL}", kind: change.Array, source: "price[]", want: []any{decimal.New(150, -2), nil}},
		{typ: "jdoc", lit: `{"k": "v"}`, kind: change.JSON, source: "jdoc", want: `{"k": "v"}`},
		{typ: "jdoc[]", lit: `{"{\"k\": 1}"}`, kind: change.Array, source: "jdoc[]", want: []any{`{"k": 1}`}},
		{typ: "email", lit: "a@b.c", kind: change.String, source: "email", want: "a@b.c"},

		// Fallbacks: text only.
		{typ: "interval", lit: "1 day 02:00:00", kind: change.String, source: "interval", fallback: true, want: "1 day 02:00:00"},
		{typ: "inet", lit: "192.168.0.1/24", kind: change.String, source: "inet", fallback: true, want: "192.168.0.1/24"},
		{typ: "money", lit: "12.34", kind: change.String, source: "money", fallback: true, want: "$12.34"},
		{typ: "timetz", lit: "12:00:00+02", kind: change.String, source: "timetz", fallback: true, want: "12:00:00+02"},
		{typ: "point", lit: "(1,2)", kind: change.String, source: "point", fallback: true, want: "(1,2)"},
		{typ: "int4range", lit: "[1,5)", kind: change.String, source: "int4range", fallback: true, want: "[1,5)"},
		{typ: "pair", lit: "(1,x)", kind: change.String, source: "pair", fallback: true, want: "(1,x)"},
		{typ: "interval[]", lit: "{1 day,NULL}", kind: change.String, source: "interval[]", fallback: true, want: `{"1 day",NULL}`},
		{typ: "pair[]", lit: `{"(1,x)"}`, kind: change.String, source: "pair[]", fallback: true, want: `{"(1,x)"}`},
	}
}

// roundTripSetup creates the round-trip table, one column per case, and returns a connection
// with the session settings the walsender uses, and each column's (atttypid, atttypmod).
func roundTripSetup(t *testing.T, cases []rtCase) (context.Context, *pgx.Conn, []uint32, []int32) {
	t.Helper()
	pg := testenv.StartPostgres(t)
	_, dsn := pg.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	cols := make([]string, len(cases))
	vals := make([]string, len(cases))
	for i, c := range cases {
		cols[i] = fmt.Sprintf("c%d %s", i, c.typ)
		vals[i] = fmt.Sprintf("'%s'::%s", strings.ReplaceAll(c.lit, "'", "''"), c.typ)
	}
	for _, s := range []string{
		"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, MDY'", "SET extra_float_digits = 3", "SET lc_monetary = 'C'",
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE DOMAIN posint AS int4 CHECK (VALUE > 0)",
		"CREATE DOMAIN price AS numeric(10,2)",
		"CREATE DOMAIN price2 AS price",
		"CREATE DOMAIN jdoc AS jsonb",
		"CREATE DOMAIN email AS varchar(50)",
		"CREATE TYPE pair AS (a int, b text)",
		"CREATE TABLE rt (" + strings.Join(cols, ", ") + ")",
		"INSERT INTO rt VALUES (" + strings.Join(vals, ", ") + ")",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%.200s: %v", s, err)
		}
	}
	oids := make([]uint32, len(cases))
	typmods := make([]int32, len(cases))
	rows, err := conn.Query(ctx, "SELECT attnum, atttypid, atttypmod FROM pg_attribute WHERE attrelid = 'rt'::regclass AND attnum > 0 ORDER BY attnum")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int16
		var oid uint32
		var typmod int32
		if err := rows.Scan(&n, &oid, &typmod); err != nil {
			t.Fatal(err)
		}
		oids[n-1], typmods[n-1] = oid, typmod
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ctx, conn, oids, typmods
}

// catalogLookup is a TypeLookup over pg_type and pg_enum.
func catalogLookup(ctx context.Context, t *testing.T, conn *pgx.Conn) TypeLookup {
	return func(oid uint32) (TypeInfo, bool) {
		var info TypeInfo
		var typtype, category string
		err := conn.QueryRow(ctx, `SELECT oid, typname, typtype, typelem, typbasetype, typtypmod, typcategory
			FROM pg_type WHERE oid = $1`, oid).Scan(&info.OID, &info.Name, &typtype, &info.Elem, &info.BaseType, &info.BaseTypmod, &category)
		if errors.Is(err, pgx.ErrNoRows) {
			return TypeInfo{}, false
		}
		if err != nil {
			t.Fatalf("lookup %d: %v", oid, err)
		}
		info.Type, info.Category = typtype[0], category[0]
		if info.Type == 'e' {
			rows, _ := conn.Query(ctx, "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder", oid)
			if info.Labels, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatalf("enum labels %d: %v", oid, err)
			}
		}
		return info, true
	}
}

// selectRaw returns the raw bytes of `SELECT col FROM rt` in the given result format.
func selectRaw(ctx context.Context, t *testing.T, conn *pgx.Conn, col string, format int16) []byte {
	t.Helper()
	res := conn.PgConn().ExecParams(ctx, "SELECT "+col+" FROM rt", nil, nil, nil, []int16{format}).Read()
	if res.Err != nil {
		t.Fatalf("select %s: %v", col, res.Err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Fatalf("select %s: %d rows", col, len(res.Rows))
	}
	return res.Rows[0][0]
}

func checkRoundTrip(t *testing.T, what string, dec Decoder, data []byte, c rtCase) {
	t.Helper()
	got, err := dec(data)
	switch {
	case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
		t.Errorf("%s: %.60q: got %s, %v; want error containing %q", what, c.lit, describe(got), err, c.wantErr)
	case c.wantErr == "" && err != nil:
		t.Errorf("%s: %.60q (raw %.80q): %v", what, c.lit, data, err)
	case c.wantErr == "" && !equalValue(got, c.want):
		t.Errorf("%s: %.60q (raw %.80q): got %.200s, want %.200s", what, c.lit, data, describe(got), describe(c.want))
	}
}

// TestRoundTrip decodes every case as the server sends it: binary and text query results, binary
// COPY as the snapshot reads it, and text under other TimeZone and bytea_output settings.
func TestRoundTrip(t *testing.T) {
	cases := roundTripCases()
	ctx, conn, oids, typmods := roundTripSetup(t, cases)
	lookup := catalogLookup(ctx, t, conn)
	types := make([]change.Type, len(cases))
	for i, c := range cases {
		ty := MapType(oids[i], typmods[i], lookup)
		types[i] = ty
		if ty.Kind != c.kind || ty.Fallback != c.fallback || (c.source != "" && ty.Source != c.source) {
			t.Errorf("column %d %s: MapType(%d, %d) = %s", i, c.typ, oids[i], typmods[i], dump(ty))
		}
	}
	if got := types[len(cases)-1]; got.Kind != change.String {
		t.Fatalf("last case is not a fallback: %s", dump(got))
	}
	for i, c := range cases {
		if c.typ == "mood" && !types[i].Equal(change.Type{Kind: change.Enum, Symbols: []string{"sad", "ok", "happy"}}) {
			t.Errorf("mood: MapType = %s, want its labels", dump(types[i]))
		}
	}

	t.Run("query", func(t *testing.T) {
		for i, c := range cases {
			col := fmt.Sprintf("c%d", i)
			what := fmt.Sprintf("column %d %s", i, c.typ)
			text, err := NewDecoder(oids[i], types[i], false)
			if err != nil {
				t.Fatalf("%s: text decoder: %v", what, err)
			}
			checkRoundTrip(t, what+" text", text, selectRaw(ctx, t, conn, col, 0), c)
			bin, err := NewDecoder(oids[i], types[i], true)
			if c.fallback {
				var ub *UnsupportedBinaryError
				if !errors.As(err, &ub) {
					t.Errorf("%s: binary decoder error %v, want *UnsupportedBinaryError", what, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: binary decoder: %v", what, err)
			}
			checkRoundTrip(t, what+" binary", bin, selectRaw(ctx, t, conn, col, 1), c)
		}
	})

	t.Run("copy", func(t *testing.T) {
		// As the snapshot reads a table: binary COPY with fallback columns cast to text.
		sel := make([]string, len(cases))
		decs := make([]Decoder, len(cases))
		for i := range cases {
			bin := HasBinaryDecoder(oids[i], types[i])
			dec, err := NewDecoder(oids[i], types[i], bin)
			if err != nil {
				t.Fatal(err)
			}
			decs[i] = dec
			sel[i] = fmt.Sprintf("c%d", i)
			if !bin {
				sel[i] += "::text"
			}
		}
		var buf bytes.Buffer
		query := "COPY (SELECT " + strings.Join(sel, ", ") + ", NULL::int4 FROM rt) TO STDOUT (FORMAT binary)"
		if _, err := conn.PgConn().CopyTo(ctx, &buf, query); err != nil {
			t.Fatal(err)
		}
		r := NewCopyReader(&buf)
		fields, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(fields) != len(cases)+1 || fields[len(cases)] != nil {
			t.Fatalf("COPY tuple has %d fields, want %d with a NULL last", len(fields), len(cases)+1)
		}
		for i, c := range cases {
			checkRoundTrip(t, fmt.Sprintf("column %d %s copy", i, c.typ), decs[i], fields[i], c)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the tuple: %v, want io.EOF", err)
		}
	})

	t.Run("text settings", func(t *testing.T) {
		// UTC offsets with minutes and seconds, and bytea's escape format, parse to the same values.
		affected := func(ty change.Type) bool {
			if ty.Kind == change.Array {
				ty = *ty.Elem
			}
			return ty.Kind == change.TimestampTZ || ty.Kind == change.Bytes
		}
		for _, set := range []string{"SET TimeZone = 'Asia/Kolkata'", "SET TimeZone = 'Europe/Amsterdam'",
			"SET TimeZone = 'America/St_Johns'", "SET TimeZone = 'Pacific/Chatham'", "SET bytea_output = 'escape'"} {
			if _, err := conn.Exec(ctx, set); err != nil {
				t.Fatal(err)
			}
			for i, c := range cases {
				if c.fallback || !affected(types[i]) {
					continue
				}
				text, err := NewDecoder(oids[i], types[i], false)
				if err != nil {
					t.Fatal(err)
				}
				raw := selectRaw(ctx, t, conn, fmt.Sprintf("c%d", i), 0)
				checkRoundTrip(t, fmt.Sprintf("%s: column %d %s text", set, i, c.typ), text, raw, c)
			}
		}
	})
}
