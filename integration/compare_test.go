package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// col is a column to compare between a PostgreSQL table and its ClickHouse view: both sides render
// it to the same text through SQL, so the comparison is exact (no float or time formatting in Go).
type col struct {
	name string
	kind string // int, num, text, ts, bool, bytea, float, date, json, uuid
}

func pgIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func chIdent(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// pgExpr renders a column as text in PostgreSQL, 'NULL' for NULL.
func pgExpr(c col) string {
	n := pgIdent(c.name)
	var e string
	switch c.kind {
	case "ts":
		e = "(extract(epoch from " + n + ") * 1000000)::bigint::text"
	case "bool":
		e = n + "::int::text"
	case "bytea":
		e = "encode(" + n + ", 'hex')"
	case "date":
		e = "to_char(" + n + ", 'YYYY-MM-DD')"
	default:
		e = n + "::text"
	}
	return "coalesce(" + e + ", 'NULL')"
}

// chExpr renders a column as text in ClickHouse 18.16 as cdcd stores it, 'NULL' for NULL.
func chExpr(c col) string {
	n := chIdent(c.name)
	var e string
	switch c.kind {
	case "bytea":
		e = "lower(hex(" + n + "))"
	case "text", "json":
		e = n
	default:
		e = "toString(" + n + ")"
	}
	return "ifNull(" + e + ", 'NULL')"
}

// pgTableRows reads a PostgreSQL table as text rows ordered by key.
func pgTableRows(t testing.TB, dsn, table string, cols []col, key []string) [][]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exprs, order []string
	for _, c := range cols {
		exprs = append(exprs, pgExpr(c))
	}
	for _, k := range key {
		order = append(order, pgIdent(k))
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+table+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		t.Fatalf("postgres read %s: %v", table, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		return vals, r.Scan(ptrs...)
	})
	if err != nil {
		t.Fatalf("postgres read %s: %v", table, err)
	}
	return out
}

// chTableRows reads a ClickHouse view as text rows ordered by key.
func (e *env) chTableRows(t testing.TB, view string, cols []col, key []string) [][]string {
	t.Helper()
	var exprs, order []string
	for _, c := range cols {
		exprs = append(exprs, chExpr(c))
	}
	for _, k := range key {
		order = append(order, chIdent(k))
	}
	return e.chRows(t, "SELECT "+strings.Join(exprs, ", ")+" FROM "+e.table(view)+" ORDER BY "+strings.Join(order, ", "))
}

// diffRows compares two row sets ordered by their first column(s) and returns the number of rows
// compared and a description of up to 10 mismatches.
func diffRows(pg, ch [][]string) (compared int, mismatches int, report string) {
	var b strings.Builder
	i, j := 0, 0
	note := func(format string, args ...any) {
		mismatches++
		if mismatches <= 10 {
			fmt.Fprintf(&b, format+"\n", args...)
		}
	}
	for i < len(pg) || j < len(ch) {
		switch {
		case i >= len(pg):
			note("extra in clickhouse: %v", ch[j])
			j++
		case j >= len(ch):
			note("missing in clickhouse: %v", pg[i])
			i++
		default:
			compared++
			if strings.Join(pg[i], "\x00") != strings.Join(ch[j], "\x00") {
				if pg[i][0] == ch[j][0] {
					note("differs:\n  postgres   %v\n  clickhouse %v", pg[i], ch[j])
					i++
					j++
				} else if keyLess(pg[i][0], ch[j][0]) {
					note("missing in clickhouse: %v", pg[i])
					i++
				} else {
					note("extra in clickhouse: %v", ch[j])
					j++
				}
				continue
			}
			i++
			j++
		}
	}
	return compared, mismatches, b.String()
}

// keyLess orders keys as the databases do for integer keys, and as text otherwise.
func keyLess(a, b string) bool {
	var x, y int64
	if _, err := fmt.Sscan(a, &x); err == nil {
		if _, err := fmt.Sscan(b, &y); err == nil {
			return x < y
		}
	}
	return a < b
}

// sameTable compares a PostgreSQL table with its ClickHouse view and fails the test on a mismatch.
func (e *env) sameTable(t testing.TB, pgTable, view string, cols []col, key []string) int {
	t.Helper()
	pg := pgTableRows(t, e.pgDSN, pgTable, cols, key)
	ch := e.chTableRows(t, view, cols, key)
	n, bad, report := diffRows(pg, ch)
	if bad > 0 {
		t.Fatalf("%s vs %s: %d mismatches over %d rows:\n%s", pgTable, view, bad, n, report)
	}
	return n
}
