package transform

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

// FuzzParseWhere: the where parser never panics, and what it accepts renders to text that parses
// to the same predicate.
func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{
		"status = 'paid'", "a <> -1.50 AND (b IN (1, 'x', NULL) OR c IS NOT NULL)", `"we""ird" NOT IN (TRUE)`,
		"NOT NOT a >= .5", "a = 'it''s' OR b <= 007", "a = 1e5", "((a = 1)", "a ! 1", "é = 'é'", "a = '", `"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseWhere(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error %T", err)
			}
			_ = err.Error()
			return
		}
		text := p.String()
		again, err := ParseWhere(text)
		if err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", s, text, err)
		}
		if !reflect.DeepEqual(p, again) || again.String() != text {
			t.Fatalf("%q: %#v renders as %q, which parses as %#v", s, p, text, again)
		}
	})
}

// FuzzPrepSQL: the SQL preprocessing lexer never panics, keeps what it does not rewrite, maps
// every output offset into the input in order, and the whole SQL form never panics.
func FuzzPrepSQL(f *testing.F) {
	for _, s := range []string{
		"SELECT a, count(*) AS n FROM shop.public.orders WHERE s = 'x' GROUP BY a, tumble(t, INTERVAL '1 minute')",
		"select count(*) as n from \"my src\".`db`.t -- c\n group by hop(t, interval 5 minute, INTERVAL '1' MINUTE)",
		"SELECT 'FROM a.b.c' /* FROM x.y.z */ FROM a . b . c JOIN d.e.f", "FROM a.b.c.d", "tumble(INTERVAL", "'", "/*", "`a``b`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseSQL(s, "x")
		p, err := prepSQL(s)
		if err != nil {
			return
		}
		if _, _, err := lexSQL(p.out); err != nil {
			t.Fatalf("%q: output %q does not lex: %v", s, p.out, err)
		}
		last := 0
		for o := 0; o <= len(p.out); o++ {
			at := p.origin(o)
			if at < last || at > len(s) {
				t.Fatalf("%q: origin(%d) = %d after %d", s, o, at, last)
			}
			last = at
		}
		// Outside the rewritten spans, the output is the input.
		prev := 0
		for _, e := range p.edits {
			if got, want := p.out[e.outStart-(e.start-prev):e.outStart], s[prev:e.start]; got != want {
				t.Fatalf("%q: kept %q as %q", s, want, got)
			}
			prev = e.end
		}
		if !strings.HasSuffix(p.out, s[prev:]) {
			t.Fatalf("%q: tail %q lost in %q", s, s[prev:], p.out)
		}
	})
}

// FuzzRestore: Restore never panics on bytes read back from ClickHouse, and what it accepts
// can be continued.
func FuzzRestore(f *testing.F) {
	a, s := newAgg(f, revenueYAML)
	apply(f, a, script(s)...)
	for _, r := range a.Flush() {
		f.Add(r.Group, r.State, r.Deleted)
	}
	spec := mustSpec(f, revenueYAML)
	tbl := ordersTable()
	f.Fuzz(func(t *testing.T, group, state []byte, deleted bool) {
		b := New(spec)
		if err := b.Restore(Row{Group: group, State: state, Version: 5, Deleted: deleted}); err != nil {
			return
		}
		_ = b.Stats()
		if _, err := b.Bind(tbl); err != nil {
			return
		}
		st := &stream{t: tbl, v: 5}
		_ = b.Apply(st.ins(row(1, 10, "paid", "1.00", 100, "10:00:00", 1)))
		_ = b.Apply(st.trunc())
		_ = b.Flush()
	})
}

// TestFuzzSeeds keeps the seeds of the fuzz targets meaningful: they restore.
func TestFuzzSeeds(t *testing.T) {
	a, s := newAgg(t, revenueYAML)
	apply(t, a, script(s)...)
	for _, r := range a.Flush() {
		b := New(mustSpec(t, revenueYAML))
		if err := b.Restore(r); err != nil {
			t.Fatal(err)
		}
	}
	_ = change.Insert
}
