package clickhouse

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// TestAggregateTable: an aggregate table is created with its view, takes live groups, tombstones
// and the marker row, reads back what recovery needs, gains a measure, and is dropped.
func TestAggregateTable(t *testing.T) {
	e := newCHEnv(t, "")
	s := New(e.conn, e.db, "src", e.caps, e.log)
	ctx := t.Context()
	def := AggregateTable{Name: "agg_rev", Columns: []change.Column{
		{Name: "account_id", Type: change.Type{Kind: change.Int32}, Nullable: true},
		{Name: "orders", Type: change.Type{Kind: change.UInt64}},
		{Name: "revenue", Type: change.Type{Kind: change.Decimal, Precision: 38, Scale: 2}, Nullable: true},
	}}
	if err := s.EnsureAggregate(ctx, def); err != nil {
		t.Fatal(err)
	}
	rows := []AggregateRow{
		{Group: []byte{}, Version: 5, State: []byte("definition")}, // the marker
		{Group: []byte("g1"), Values: []any{int64(1), uint64(2), decimal.RequireFromString("10.50")}, Version: 10, Seq: 1, State: []byte{1, 2}},
		{Group: []byte("g2"), Values: []any{nil, uint64(1), nil}, Version: 11, State: []byte{3}},
		{Group: []byte("g3"), Values: []any{int64(3), uint64(0), nil}, Version: 12, Seq: 4, Deleted: true, State: []byte{4}},
		{Group: []byte("g4"), Values: []any{int64(4), uint64(0), nil}, Version: 7, Deleted: true},
	}
	rows[0].Deleted = true
	if err := s.WriteAggregate(ctx, def.Name, rows); err != nil {
		t.Fatal(err)
	}
	// A newer state of g1 wins.
	if err := s.WriteAggregate(ctx, def.Name, []AggregateRow{{Group: []byte("g1"),
		Values: []any{int64(1), uint64(3), decimal.RequireFromString("12.75")}, Version: 13, State: []byte{9}}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.LoadAggregate(ctx, def.Name, 10, func(r AggregateRow) error {
		got = append(got, fmt.Sprintf("%q v%d s%d d%v %x", r.Group, r.Version, r.Seq, r.Deleted, r.State))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The marker first; live groups; the tombstone above 10 (g3), not the one at 7 (g4).
	if len(got) != 4 || got[0] != `"" v5 s0 dtrue 646566696e6974696f6e` {
		t.Fatalf("loaded %q", got)
	}
	want := map[string]bool{`"g1" v13 s0 dfalse 09`: true, `"g2" v11 s0 dfalse 03`: true, `"g3" v12 s4 dtrue 04`: true}
	for _, g := range got[1:] {
		if !want[g] {
			t.Errorf("unexpected group %s (loaded %q)", g, got)
		}
	}
	var n uint64
	if err := e.conn.QueryRow(ctx, "SELECT count() FROM "+QuoteIdent(e.db)+".agg_rev_current").Scan(&n); err != nil || n != 2 {
		t.Errorf("view shows %d groups (%v), want the 2 live ones", n, err)
	}
	var rev string
	if err := e.conn.QueryRow(ctx, "SELECT toString(revenue) FROM "+QuoteIdent(e.db)+".agg_rev_current WHERE account_id = 1").Scan(&rev); err != nil || rev != "12.75" {
		t.Errorf("revenue of account 1 = %q (%v), want 12.75", rev, err)
	}

	// A new measure is added in place; an impossible change is refused.
	def.Columns = append(def.Columns, change.Column{Name: "buyers", Type: change.Type{Kind: change.UInt64}})
	if err := s.EnsureAggregate(ctx, def); err != nil {
		t.Fatal(err)
	}
	bad := def
	bad.Columns = append([]change.Column(nil), def.Columns...)
	bad.Columns[1] = change.Column{Name: "orders", Type: change.Type{Kind: change.String}}
	if err := s.EnsureAggregate(ctx, bad); err == nil {
		// UInt64 -> String widens; use a real narrowing instead.
		bad.Columns[1] = change.Column{Name: "orders", Type: change.Type{Kind: change.Int8}}
		if err := s.EnsureAggregate(ctx, bad); err == nil {
			t.Error("narrowing a measure column was accepted")
		}
	}
	if err := s.DropAggregate(ctx, def); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadAggregate(ctx, def.Name, 0, func(AggregateRow) error { t.Error("a dropped table returned rows"); return nil }); err != nil {
		t.Fatal(err)
	}
}
