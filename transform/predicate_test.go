package transform

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

func lit(k LiteralKind, text string) Literal { return Literal{Kind: k, Text: text} }

func TestParseWhere(t *testing.T) {
	paid := Compare{"status", OpEq, lit(LitString, "paid")}
	for _, tc := range []struct {
		in   string
		want Predicate
		text string // String(); "" when it is the input
	}{
		{"status = 'paid'", paid, ""},
		{`"status" = 'paid'`, paid, "status = 'paid'"},
		{"a != 1", Compare{"a", OpNe, lit(LitInt, "1")}, "a <> 1"},
		{"a <> -1.50", Compare{"a", OpNe, lit(LitDecimal, "-1.50")}, ""},
		{"a < .5", Compare{"a", OpLt, lit(LitDecimal, "0.5")}, "a < 0.5"},
		{"a <= 007", Compare{"a", OpLe, lit(LitInt, "7")}, "a <= 7"},
		{"a > 18446744073709551616", Compare{"a", OpGt, lit(LitInt, "18446744073709551616")}, ""},
		{"a >= -0", Compare{"a", OpGe, lit(LitInt, "0")}, "a >= 0"},
		{"a = 'it''s'", Compare{"a", OpEq, lit(LitString, "it's")}, ""},
		{"a = ''", Compare{"a", OpEq, lit(LitString, "")}, ""},
		{"a = true", Compare{"a", OpEq, lit(LitBool, "TRUE")}, "a = TRUE"},
		{"a = NULL", Compare{"a", OpEq, lit(LitNull, "NULL")}, ""},
		{"a IN (1, 'x', NULL)", In{"a", []Literal{lit(LitInt, "1"), lit(LitString, "x"), lit(LitNull, "NULL")}, false}, ""},
		{"a not in (1)", In{"a", []Literal{lit(LitInt, "1")}, true}, "a NOT IN (1)"},
		{"a is null", IsNull{"a", false}, "a IS NULL"},
		{"a IS NOT NULL", IsNull{"a", true}, ""},
		{`"select" = 1`, Compare{"select", OpEq, lit(LitInt, "1")}, "select = 1"},
		{`"in" = 1`, Compare{"in", OpEq, lit(LitInt, "1")}, ""},
		{`"My ""Col""" = 1`, Compare{`My "Col"`, OpEq, lit(LitInt, "1")}, ""},
		{"café = 'é'", Compare{"café", OpEq, lit(LitString, "é")}, ""},
		{"a = 1 AND b = 2 AND c = 3", And{And{Compare{"a", OpEq, lit(LitInt, "1")}, Compare{"b", OpEq, lit(LitInt, "2")}}, Compare{"c", OpEq, lit(LitInt, "3")}},
			"(a = 1 AND b = 2) AND c = 3"},
		{"a = 1 OR b = 2 AND c = 3", Or{Compare{"a", OpEq, lit(LitInt, "1")}, And{Compare{"b", OpEq, lit(LitInt, "2")}, Compare{"c", OpEq, lit(LitInt, "3")}}},
			"a = 1 OR (b = 2 AND c = 3)"},
		{"(a = 1 OR b = 2) AND NOT c = 3", And{Or{Compare{"a", OpEq, lit(LitInt, "1")}, Compare{"b", OpEq, lit(LitInt, "2")}}, Not{Compare{"c", OpEq, lit(LitInt, "3")}}}, ""},
		{"NOT NOT (a IS NULL)", Not{Not{IsNull{"a", false}}}, "NOT NOT a IS NULL"},
		{"NOT (a = 1 AND b = 2)", Not{And{Compare{"a", OpEq, lit(LitInt, "1")}, Compare{"b", OpEq, lit(LitInt, "2")}}}, ""},
		{"paid", Truth{"paid"}, ""},
		{`"select"`, Truth{"select"}, "select"},
		{`"true" OR "and"`, Or{Truth{"true"}, Truth{"and"}}, ""},
		{"NOT paid AND (a = 1 OR b)", And{Not{Truth{"paid"}}, Or{Compare{"a", OpEq, lit(LitInt, "1")}, Truth{"b"}}}, ""},
	} {
		got, err := ParseWhere(tc.in)
		if err != nil {
			t.Errorf("ParseWhere(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseWhere(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		text := tc.text
		if text == "" {
			text = tc.in
		}
		if got.String() != text {
			t.Errorf("ParseWhere(%q).String() = %q, want %q", tc.in, got.String(), text)
		}
		again, err := ParseWhere(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseWhere(%q) round trip: %#v, %v", got.String(), again, err)
		}
	}
}

func TestParseWhereErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"account_id = AND x", `unexpected "AND" at 14: expected a value`},
		{"", `unexpected end of input at 1: expected a column`},
		{"a b", `unexpected "b" at 3: expected a comparison: =, <>, !=, <, <=, >, >=, IN, NOT IN or IS`},
		{"a =", `unexpected end of input at 4: expected a value`},
		{"a = b", `unexpected "b" at 5: expected a value`},
		{"a = 1 b = 2", `unexpected "b" at 7: expected AND, OR or the end`},
		{"a = 1 AND", `unexpected end of input at 10: expected a column`},
		{"1 = a", `unexpected "1" at 1: expected a column`},
		{"NULL IS NULL", `unexpected "NULL" at 1: expected a column`},
		{"(a = 1", `unexpected end of input at 7: expected ")"`},
		{"a = 1)", `unexpected ")" at 6: expected AND, OR or the end`},
		{"a IS 1", `unexpected "1" at 6: expected NULL`},
		{"a NOT LIKE 'x'", `unexpected "LIKE" at 7: expected IN`},
		{"a LIKE 'x'", `unexpected "LIKE" at 3: expected a comparison: =, <>, !=, <, <=, >, >=, IN, NOT IN or IS`},
		{"a IN 1", `unexpected "1" at 6: expected "("`},
		{"a IN ()", `unexpected ")" at 7: expected a value`},
		{"a IN (1 2)", `unexpected "2" at 9: expected "," or ")"`},
		{"a = 'x", `unterminated string at 5`},
		{`"a = 1`, `unterminated quoted identifier at 1`},
		{`"" = 1`, `empty quoted identifier at 1`},
		{"a = 1e5", `unexpected "e5" at 6: expected AND, OR or the end`},
		{"a == 1", `unexpected "=" at 4: expected a value`},
		{"a ! 1", `unexpected "!" at 3: write != or NOT`},
		{"a = 1 && b = 2", `unexpected "&" at 7`},
		{"a = - 'x'", `unexpected "-" at 5: expected a value`},
		{"é = 'x' AND", `unexpected end of input at 12: expected a column`},
		{"a = 1\nAND AND", `unexpected "AND" at line 2 column 5: expected a column`},
		{strings.Repeat("(", 300) + "a = 1" + strings.Repeat(")", 300), `unexpected "(" at 201: nested too deeply`},
	} {
		_, err := ParseWhere(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseWhere(%q) = %v, want %s", tc.in, err, tc.want)
		}
	}
}

// TestWhereEval: comparisons are type-aware and three-valued; a row passes only when true.
func TestWhereEval(t *testing.T) {
	u := uuid.MustParse("0b5c1a8e-4d2f-4c3a-9e1b-7f6d5c4b3a21")
	for _, tc := range []struct {
		typ   change.Type
		where string
		val   any
		want  tri
	}{
		{change.Type{Kind: change.Int32}, "c = 5", int64(5), tTrue},
		{change.Type{Kind: change.Int32}, "c = 5.0", int64(5), tTrue},
		{change.Type{Kind: change.Int32}, "c = 5.5", int64(5), tFalse},
		{change.Type{Kind: change.Int32}, "c < 5.5", int64(5), tTrue},
		{change.Type{Kind: change.Int32}, "c > 5.5", int64(5), tFalse},
		{change.Type{Kind: change.Int32}, "c >= 5.5", int64(6), tTrue},
		{change.Type{Kind: change.Int32}, "c > -5.5", int64(-5), tTrue},
		{change.Type{Kind: change.Int32}, "c < -5.5", int64(-6), tTrue},
		{change.Type{Kind: change.Int64}, "c < 99999999999999999999", int64(math.MaxInt64), tTrue},
		{change.Type{Kind: change.Int64}, "c > -99999999999999999999", int64(math.MinInt64), tTrue},
		{change.Type{Kind: change.UInt64}, "c = 18446744073709551615", uint64(math.MaxUint64), tTrue},
		{change.Type{Kind: change.UInt64}, "c > -1", uint64(0), tTrue},
		{change.Type{Kind: change.UInt64}, "c < 18446744073709551616", uint64(math.MaxUint64), tTrue},
		{change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, "c = 1.5", decimal.RequireFromString("1.50"), tTrue},
		{change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}, "c = 1.501", decimal.RequireFromString("1.50"), tFalse},
		{change.Type{Kind: change.Decimal}, "c > 0.1", decimal.RequireFromString("0.10000000000000000001"), tTrue},
		{change.Type{Kind: change.Decimal}, "c = 3", decimal.RequireFromString("3.000"), tTrue},
		{change.Type{Kind: change.Float64}, "c = 0.1", 0.1, tTrue},
		{change.Type{Kind: change.Float32}, "c = 0.1", float64(float32(0.1)), tTrue},
		{change.Type{Kind: change.Float64}, "c > 1000000", math.Inf(1), tTrue},
		{change.Type{Kind: change.Float64}, "c > 1000000", math.NaN(), tTrue}, // NaN sorts above everything
		{change.Type{Kind: change.String}, "c = 'paid'", "paid", tTrue},
		{change.Type{Kind: change.String}, "c < 'b'", "a\xff", tTrue}, // byte-wise
		{change.Type{Kind: change.String}, "c = 'Paid'", "paid", tFalse},
		{change.Type{Kind: change.JSON}, `c = '{"a":1}'`, `{"a":1}`, tTrue},
		{change.Type{Kind: change.Enum}, "c IN ('x', 'y')", "y", tTrue},
		{change.Type{Kind: change.Bytes}, "c = 'ab'", []byte("ab"), tTrue},
		{change.Type{Kind: change.Bool}, "c = TRUE", true, tTrue},
		{change.Type{Kind: change.Bool}, "c > FALSE", true, tTrue},
		// A column alone: a boolean is true when TRUE, a number (as MySQL reads it) when not 0.
		{change.Type{Kind: change.Bool}, "c", true, tTrue},
		{change.Type{Kind: change.Bool}, "c", false, tFalse},
		{change.Type{Kind: change.Bool}, "NOT c", nil, tUnknown},
		{change.Type{Kind: change.Int8}, "c", int64(1), tTrue},
		{change.Type{Kind: change.Int8}, "c", int64(-3), tTrue},
		{change.Type{Kind: change.Int8}, "NOT c", int64(0), tTrue},
		{change.Type{Kind: change.UInt64}, "c", uint64(math.MaxUint64), tTrue},
		{change.Type{Kind: change.Decimal, Precision: 5, Scale: 2}, "c", decimal.RequireFromString("0.00"), tFalse},
		{change.Type{Kind: change.Float64}, "c", 0.5, tTrue},
		{change.Type{Kind: change.Date}, "c = '2024-01-02'", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), tTrue},
		{change.Type{Kind: change.Date}, "c < '2024-01-02 00:00:01'", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), tTrue},
		{change.Type{Kind: change.TimestampTZ}, "c >= '2024-01-02 10:00:00.000001'", time.Date(2024, 1, 2, 10, 0, 0, 1000, time.UTC), tTrue},
		{change.Type{Kind: change.TimestampTZ}, "c = '2024-01-02 12:00:00+02:00'", time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC), tTrue},
		{change.Type{Kind: change.TimestampTZ}, "c = '2024-01-02T10:00:00Z'", time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC), tTrue},
		{change.Type{Kind: change.Timestamp}, "c > '2024-01-02 10:00:00'", time.Date(2024, 1, 2, 10, 0, 0, 1000, time.UTC), tTrue},
		{change.Type{Kind: change.Time}, "c = '10:30:00.5'", 10*time.Hour + 30*time.Minute + 500*time.Millisecond, tTrue},
		{change.Type{Kind: change.UUID}, "c = '0b5c1a8e-4d2f-4c3a-9e1b-7f6d5c4b3a21'", u, tTrue},
		// Three-valued logic.
		{change.Type{Kind: change.Int64}, "c = 1", nil, tUnknown},
		{change.Type{Kind: change.Int64}, "c = NULL", int64(1), tUnknown},
		{change.Type{Kind: change.Int64}, "c <> NULL", int64(1), tUnknown},
		{change.Type{Kind: change.Int64}, "NOT c = 1", nil, tUnknown},
		{change.Type{Kind: change.Int64}, "c = 1 OR c IS NULL", nil, tTrue},
		{change.Type{Kind: change.Int64}, "c = 1 AND c IS NULL", nil, tUnknown},
		{change.Type{Kind: change.Int64}, "c = 1 AND c IS NOT NULL", nil, tFalse},
		{change.Type{Kind: change.Int64}, "c = 1 OR c = 2", nil, tUnknown},
		{change.Type{Kind: change.Int64}, "c IS NOT NULL", nil, tFalse},
		{change.Type{Kind: change.Int64}, "c IN (1, NULL)", int64(1), tTrue},
		{change.Type{Kind: change.Int64}, "c IN (2, NULL)", int64(1), tUnknown},
		{change.Type{Kind: change.Int64}, "c NOT IN (2, NULL)", int64(1), tUnknown},
		{change.Type{Kind: change.Int64}, "c NOT IN (2, 3)", int64(1), tTrue},
		{change.Type{Kind: change.Int64}, "c NOT IN (1, NULL)", int64(1), tFalse},
		{change.Type{Kind: change.Int64}, "c IN (1)", nil, tUnknown},
	} {
		tbl := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"},
			Columns: []change.Column{{Name: "c", Type: tc.typ, Nullable: true}}}
		p, err := ParseWhere(tc.where)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bindPredicate(p, tbl, func(string) (int, error) { return 0, nil })
		if err != nil {
			t.Errorf("%s on %s: %v", tc.where, tc.typ, err)
			continue
		}
		if got := c.eval([]any{tc.val}); got != tc.want {
			t.Errorf("%s with c = %v (%s): %v, want %v", tc.where, tc.val, tc.typ, got, tc.want)
		}
	}
}

func TestWhereBindErrors(t *testing.T) {
	for _, tc := range []struct {
		typ   change.Type
		where string
		want  string
	}{
		{change.Type{Kind: change.String}, "c = 5", `where: column "c": a string column cannot be compared with the number 5`},
		{change.Type{Kind: change.Int64}, "c = '5'", `where: column "c": a int64 column cannot be compared with the string '5'`},
		{change.Type{Kind: change.Int64}, "c IN (1, TRUE)", `where: column "c": a int64 column cannot be compared with the boolean TRUE`},
		{change.Type{Kind: change.Bool}, "c = 1", `where: column "c": a bool column cannot be compared with the number 1`},
		{change.Type{Kind: change.Decimal, Precision: 10, Scale: 2}, "c = 'x'", `where: column "c": a decimal(10,2) column cannot be compared with the string 'x'`},
		{change.Type{Kind: change.TimestampTZ}, "c > 'yesterday'", `where: column "c": the string 'yesterday' is not a date or timestamp: use 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|+hh:mm]'`},
		{change.Type{Kind: change.TimestampTZ}, "c > 5", `where: column "c": a timestamptz column cannot be compared with the number 5`},
		{change.Type{Kind: change.Time}, "c > '25:00'", `where: column "c": the string '25:00' is not a time of day: use 'HH:MM:SS[.ffffff]'`},
		{change.Type{Kind: change.UUID}, "c = 'x'", `where: column "c": the string 'x' is not a UUID`},
		{change.Type{Kind: change.Array, Elem: &change.Type{Kind: change.Int64}}, "c = 1", `where: column "c": a int64[] column cannot be compared`},
		{change.Type{Kind: change.String}, "c", `where: column "c" (string) alone is not a condition: only a boolean or numeric column is; compare it with a value`},
	} {
		tbl := &change.Table{Columns: []change.Column{{Name: "c", Type: tc.typ}}}
		p, err := ParseWhere(tc.where)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bindPredicate(p, tbl, func(string) (int, error) { return 0, nil })
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s on %s: %v\nwant %s", tc.where, tc.typ, err, tc.want)
		}
	}
	// Array columns can still be tested for NULL.
	tbl := &change.Table{Columns: []change.Column{{Name: "c", Type: change.Type{Kind: change.Array}}}}
	if _, err := bindPredicate(IsNull{Column: "c"}, tbl, func(string) (int, error) { return 0, nil }); err != nil {
		t.Error(err)
	}
}
