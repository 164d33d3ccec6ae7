package clickhouse

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// Two source tables of one shape: key id, a small column a, a TOAST-able column big.
var (
	tabT = &change.Table{
		ID: change.TableID{Source: "src", Namespace: "public", Name: "t"},
		Columns: []change.Column{
			{Name: "id", Type: typ(change.Int64)},
			{Name: "a", Type: typ(change.String), Nullable: true},
			{Name: "big", Type: typ(change.String), Nullable: true},
		},
		Key: []int{0},
	}
	tabU = &change.Table{
		ID:      change.TableID{Source: "src", Namespace: "public", Name: "u"},
		Columns: tabT.Columns,
		Key:     []int{0},
	}
	// tabT2 is a later schema of t: big moved first, a new column n.
	tabT2 = &change.Table{
		ID: tabT.ID,
		Columns: []change.Column{
			{Name: "id", Type: typ(change.Int64)},
			{Name: "big", Type: typ(change.String), Nullable: true},
			{Name: "a", Type: typ(change.String), Nullable: true},
			{Name: "n", Type: typ(change.Int64), Nullable: true},
		},
		Key:        []int{0},
		Generation: 1,
	}
)

var U = change.Unchanged

func row(vals ...any) []any { return vals }

func ins(t *change.Table, v uint64, after []any) change.Event {
	return change.Event{Op: change.Insert, Table: t, After: after, Version: v}
}

func upd(t *change.Table, v uint64, before []any, full bool, after []any) change.Event {
	return change.Event{Op: change.Update, Table: t, Before: before, BeforeFull: full, After: after, Version: v}
}

func del(t *change.Table, v uint64, before []any) change.Event {
	return change.Event{Op: change.Delete, Table: t, Before: before, Version: v}
}

func trunc(t *change.Table, v uint64) change.Event {
	return change.Event{Op: change.Truncate, Table: t, Version: v}
}

// wantRow is a collapsed row as the test expects it.
type wantRow struct {
	vals    []any
	version uint64
	deleted bool
	from    []any
	op      change.Op // the event the row came from
}

type wantTable struct {
	id       string // table name
	truncate bool
	rows     []wantRow
}

func TestCollapse(t *testing.T) {
	k1, k2, k3 := int64(1), int64(2), int64(3)
	cases := []struct {
		name   string
		events []change.Event
		want   []wantTable
	}{
		{
			name: "last write wins per key, rows in first-seen order",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				ins(tabT, 1, row(k2, "b", "y")),
				upd(tabT, 2, nil, false, row(k1, "a2", "x2")),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a2", "x2"), version: 2, op: change.Update},
				{vals: row(k2, "b", "y"), version: 1, op: change.Insert},
			}}},
		},
		{
			name: "insert, update, delete",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				upd(tabT, 2, row(k1, nil, nil), false, row(k1, "a2", "x")),
				del(tabT, 3, row(k1, nil, nil)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 3, deleted: true, op: change.Delete},
			}}},
		},
		{
			name: "delete then insert",
			events: []change.Event{
				del(tabT, 1, row(k1, nil, nil)),
				ins(tabT, 2, row(k1, "new", "x")),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "new", "x"), version: 2, op: change.Insert},
			}}},
		},
		{
			name: "NULL in an update is a value, not unchanged",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				upd(tabT, 2, nil, false, row(k1, nil, nil)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, op: change.Update},
			}}},
		},
		{
			name: "truncate discards earlier rows of its table only",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				ins(tabU, 1, row(k1, "u", "x")),
				trunc(tabT, 2),
				ins(tabT, 3, row(k2, "b", "y")),
				ins(tabU, 3, row(k2, "u2", "y")),
			},
			want: []wantTable{
				{id: "t", truncate: true, rows: []wantRow{{vals: row(k2, "b", "y"), version: 3, op: change.Insert}}},
				{id: "u", rows: []wantRow{
					{vals: row(k1, "u", "x"), version: 1, op: change.Insert},
					{vals: row(k2, "u2", "y"), version: 3, op: change.Insert},
				}},
			},
		},
		{
			name: "truncate as the last event",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				trunc(tabT, 2),
			},
			want: []wantTable{{id: "t", truncate: true}},
		},
		{
			name: "truncated rows do not fill unchanged values",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				trunc(tabT, 2),
				upd(tabT, 3, nil, false, row(k1, "a2", U)),
			},
			want: []wantTable{{id: "t", truncate: true, rows: []wantRow{
				{vals: row(k1, "a2", U), version: 3, op: change.Update},
			}}},
		},
		{
			name: "unchanged filled from an earlier row of the batch",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				upd(tabT, 2, nil, false, row(k1, "a2", U)),
				upd(tabT, 3, nil, false, row(k1, U, U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a2", "BIG"), version: 3, op: change.Update},
			}}},
		},
		{
			name: "unchanged filled from a full before image",
			events: []change.Event{
				upd(tabT, 2, row(k1, "a", "BIG"), true, row(k1, "a2", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a2", "BIG"), version: 2, op: change.Update},
			}}},
		},
		{
			name: "a key-only before image fills nothing",
			events: []change.Event{
				upd(tabT, 2, row(k1, nil, nil), false, row(k1, "a2", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a2", U), version: 2, op: change.Update},
			}}},
		},
		{
			name: "unchanged an earlier row does not have stays unchanged",
			events: []change.Event{
				upd(tabT, 1, nil, false, row(k1, "a", U)),
				upd(tabT, 2, nil, false, row(k1, "a2", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a2", U), version: 2, op: change.Update},
			}}},
		},
		{
			name: "unchanged filled by name across a schema change",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				upd(tabT2, 2, nil, false, row(k1, U, "a2", int64(7))),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "BIG", "a2", int64(7)), version: 2, op: change.Update},
			}}},
		},
		{
			name: "update that changes the key",
			events: []change.Event{
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a", "x")),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, "a", "x"), version: 2, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "key change replaces the old key's earlier row with its delete",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "x")),
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a", "x")),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, "a", "x"), version: 2, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "TOAST fill across a key change from an earlier row",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a2", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, "a2", "BIG"), version: 2, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "TOAST fill across a key change from a full before image",
			events: []change.Event{
				upd(tabT, 2, row(k1, "a", "BIG"), true, row(k2, "a2", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "a", "BIG"), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, "a2", "BIG"), version: 2, from: row(k1, "a", "BIG"), op: change.Update},
			}}},
		},
		{
			name: "unresolved unchanged after a key change is looked up at the old key",
			events: []change.Event{
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a2", U)),
				upd(tabT, 3, nil, false, row(k2, "a3", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, "a3", U), version: 3, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "chain of key changes keeps the first key for the lookup",
			events: []change.Event{
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a", U)),
				upd(tabT, 3, row(k2, nil, nil), false, row(k3, "b", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, nil, nil), version: 3, deleted: true, op: change.Update},
				{vals: row(k3, "b", U), version: 3, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "chain of key changes carries filled values",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a", U)),
				upd(tabT, 3, row(k2, nil, nil), false, row(k3, "b", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 2, deleted: true, op: change.Update},
				{vals: row(k2, nil, nil), version: 3, deleted: true, op: change.Update},
				{vals: row(k3, "b", "BIG"), version: 3, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "key change and back",
			events: []change.Event{
				ins(tabT, 1, row(k1, "a", "BIG")),
				upd(tabT, 2, row(k1, nil, nil), false, row(k2, "a", U)),
				upd(tabT, 3, row(k2, nil, nil), false, row(k1, "c", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "c", "BIG"), version: 3, from: row(k1, nil, nil), op: change.Update},
				{vals: row(k2, nil, nil), version: 3, deleted: true, op: change.Update},
			}}},
		},
		{
			name: "a key freed by a key change does not fill the row moved into it",
			events: []change.Event{
				upd(tabT, 2, row(k2, nil, nil), false, row(k3, "b", "x")),
				upd(tabT, 3, row(k1, nil, nil), false, row(k2, "a", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k2, "a", U), version: 3, from: row(k1, nil, nil), op: change.Update},
				{vals: row(k3, "b", "x"), version: 2, from: row(k2, nil, nil), op: change.Update},
				{vals: row(k1, nil, nil), version: 3, deleted: true, op: change.Update},
			}}},
		},
		{
			name: "a deleted row does not fill a key change from it",
			events: []change.Event{
				del(tabT, 2, row(k1, nil, nil)),
				upd(tabT, 3, row(k1, nil, nil), false, row(k2, "a", U)),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, nil, nil), version: 3, deleted: true, op: change.Update},
				{vals: row(k2, "a", U), version: 3, from: row(k1, nil, nil), op: change.Update},
			}}},
		},
		{
			name: "update with an unchanged before key is no key change",
			events: []change.Event{
				upd(tabT, 2, row(k1, "a", "x"), true, row(k1, "b", "x")),
			},
			want: []wantTable{{id: "t", rows: []wantRow{
				{vals: row(k1, "b", "x"), version: 2, op: change.Update},
			}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := (&Sink{}).collapse(c.events)
			checkCollapsed(t, got, c.want)
		})
	}
}

func checkCollapsed(t *testing.T, got []*pendingTable, want []wantTable) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("collapse made %d tables, want %d", len(got), len(want))
	}
	for i, w := range want {
		p := got[i]
		if p.schema.ID.Name != w.id {
			t.Errorf("table %d is %s, want %s", i, p.schema.ID.Name, w.id)
			continue
		}
		if p.truncate != w.truncate {
			t.Errorf("table %s: truncate %v, want %v", w.id, p.truncate, w.truncate)
		}
		if len(p.rows) != len(w.rows) {
			t.Errorf("table %s: %d rows %s, want %d", w.id, len(p.rows), describeRows(p.rows), len(w.rows))
			continue
		}
		for j, wr := range w.rows {
			r := p.rows[j]
			if !reflect.DeepEqual(r.vals, wr.vals) || r.version != wr.version || r.deleted != wr.deleted ||
				!reflect.DeepEqual(r.from, wr.from) || r.ev == nil || r.ev.Op != wr.op {
				t.Errorf("table %s row %d = %s, want vals %v version %d deleted %v from %v op %v",
					w.id, j, describeRows(p.rows[j:j+1]), wr.vals, wr.version, wr.deleted, wr.from, wr.op)
			}
		}
		// The index must point every key at its row.
		for k, j := range p.index {
			if j >= len(p.rows) || string(appendKey(nil, p.rows[j].schema, p.rows[j].vals)) != k {
				t.Errorf("table %s: index entry %q -> %d does not match the row", w.id, k, j)
			}
		}
		if len(p.index) != len(p.rows) {
			t.Errorf("table %s: %d index entries for %d rows", w.id, len(p.index), len(p.rows))
		}
	}
}

func describeRows(rows []pendingRow) string {
	var b strings.Builder
	for _, r := range rows {
		op := change.Op(0)
		if r.ev != nil {
			op = r.ev.Op
		}
		fmt.Fprintf(&b, "{vals %v version %d deleted %v from %v op %v}", r.vals, r.version, r.deleted, r.from, op)
	}
	return b.String()
}

func TestCollapseNewestSchema(t *testing.T) {
	got := (&Sink{}).collapse([]change.Event{
		ins(tabT, 1, row(int64(1), "a", "x")),
		ins(tabT2, 2, row(int64(2), "x", "a", nil)),
	})
	if len(got) != 1 || got[0].schema != tabT2 {
		t.Fatalf("collapse: want one table with the newest schema")
	}
	if got[0].rows[0].schema != tabT || got[0].rows[1].schema != tabT2 {
		t.Errorf("rows must keep the schema of their own event")
	}
}

// TestCollapseDoesNotModifyEvents: events are shared between stages and must stay as they were.
func TestCollapseDoesNotModifyEvents(t *testing.T) {
	events := []change.Event{
		ins(tabT, 1, row(int64(1), "a", "BIG")),
		upd(tabT, 2, nil, false, row(int64(1), "b", U)),
		upd(tabT, 3, row(int64(1), "b", "BIG"), true, row(int64(2), "c", U)),
	}
	after1, after2 := append([]any(nil), events[1].After...), append([]any(nil), events[2].After...)
	(&Sink{}).collapse(events)
	if !reflect.DeepEqual(events[1].After, after1) || !reflect.DeepEqual(events[2].After, after2) {
		t.Errorf("collapse changed the events' After images: %v, %v", events[1].After, events[2].After)
	}
}

func TestAppendKey(t *testing.T) {
	at := func(kinds ...change.Kind) *change.Table {
		tab := &change.Table{}
		for i, k := range kinds {
			tab.Columns = append(tab.Columns, change.Column{Name: fmt.Sprint("k", i), Type: typ(k)})
			tab.Key = append(tab.Key, i)
		}
		return tab
	}
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	cases := []struct {
		name  string
		a, b  []any
		equal bool
	}{
		{"same int", row(int64(7)), row(int64(7)), true},
		{"different int", row(int64(7)), row(int64(8)), false},
		{"int64 vs uint64", row(int64(7)), row(uint64(7)), false},
		{"int64 vs float64", row(int64(1)), row(1.0), false},
		{"decimal 1.5 vs 1.50", row(mustDec("1.5")), row(mustDec("1.50")), true},
		{"decimal 100 vs 1E2", row(mustDec("100")), row(decimal.New(1, 2)), true},
		{"decimal 1.5 vs 1.51", row(mustDec("1.5")), row(mustDec("1.51")), false},
		{"decimal vs string", row(mustDec("1.5")), row("1.5"), false},
		{"string vs bytes", row("ab"), row([]byte("ab")), false},
		{"same bytes", row([]byte{0, 1}), row([]byte{0, 1}), true},
		{"empty string vs NULL", row(""), row(nil), false},
		{"time in two zones", row(ts), row(ts.In(berlin)), true},
		{"time a microsecond apart", row(ts), row(ts.Add(time.Microsecond)), false},
		{"uuid", row(id), row(uuid.MustParse(id.String())), true},
		{"uuid vs its text", row(id), row(id.String()), false},
		{"bool", row(true), row(false), false},
		{"duration vs int64", row(time.Second), row(int64(time.Second)), false},
		{"composite boundaries", row("ab", "c"), row("a", "bc"), false},
		{"composite equal", row("a", int64(1)), row("a", int64(1)), true},
		{"string with a length-like prefix", row("\x01a", "b"), row("\x01", "ab"), false},
	}
	for _, c := range cases {
		kinds := make([]change.Kind, len(c.a))
		tab := at(kinds...)
		ka, kb := string(appendKey(nil, tab, c.a)), string(appendKey(nil, tab, c.b))
		if (ka == kb) != c.equal {
			t.Errorf("%s: appendKey(%v) == appendKey(%v) is %v, want %v", c.name, c.a, c.b, ka == kb, c.equal)
		}
	}

	// Only key columns count, in key order.
	tab := &change.Table{Columns: tabT.Columns, Key: []int{2, 0}}
	if string(appendKey(nil, tab, row(int64(1), "a", "x"))) != string(appendKey(nil, tab, row(int64(1), "b", "x"))) {
		t.Errorf("appendKey depends on a non-key column")
	}
	if string(appendKey(nil, tab, row(int64(1), "a", "x"))) == string(appendKey(nil, tab, row(int64(2), "a", "x"))) {
		t.Errorf("appendKey ignores a key column")
	}
	// appendKey appends.
	if got := appendKey([]byte("pre"), at(change.Int64), row(int64(1))); !strings.HasPrefix(string(got), "pre") {
		t.Errorf("appendKey dropped the prefix: %q", got)
	}
}

// rowTableFor builds the rowTable the sink would hold after creating t's table.
func rowTableFor(t *testing.T, tab *change.Table, caps Capabilities) *rowTable {
	t.Helper()
	cols, err := DesiredColumns(tab, caps)
	if err != nil {
		t.Fatal(err)
	}
	cols = append(cols, ColumnDef{Name: VersionColumn, Type: "UInt64"}, ColumnDef{Name: DeletedColumn, Type: "UInt8"})
	rt := &rowTable{id: tab.ID, name: TableName(tab.ID), layouts: map[*change.Table]*layout{}}
	rt.setColumns(cols)
	rt.layouts[tab] = newLayout(rt, tab)
	return rt
}

func buildersFor(t *testing.T, rt *rowTable) []builder {
	t.Helper()
	bs := make([]builder, len(rt.cols))
	for i, c := range rt.cols {
		b, err := newBuilder(c.Type)
		if err != nil {
			t.Fatalf("newBuilder(%s): %v", c.Type, err)
		}
		bs[i] = b
	}
	return bs
}

// columnValues returns what each builder would send, one []any per column (arrays as [][]any).
func columnValues(t *testing.T, rt *rowTable, bs []builder) map[string]any {
	t.Helper()
	out := map[string]any{}
	for i, b := range bs {
		if strings.HasPrefix(rt.cols[i].Type, "Array(") {
			out[rt.cols[i].Name] = arrayState(t, b)
		} else {
			out[rt.cols[i].Name], _ = scalarState(t, b)
		}
	}
	return out
}

func TestAddRow(t *testing.T) {
	tab := &change.Table{
		ID: change.TableID{Source: "s", Namespace: "n", Name: "t"},
		Columns: []change.Column{
			{Name: "id", Type: typ(change.Int64)},
			{Name: "tags", Type: arr(typ(change.String)), Nullable: true},
			{Name: "price", Type: dec(6, 2), Nullable: true},
			{Name: "at", Type: typ(change.TimestampTZ)},
		},
		Key: []int{0},
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rt := rowTableFor(t, tab, caps1816)
	l := rt.layouts[tab]
	wantRoles := []role{roleValue, roleValue, roleNullFlag, roleValue, roleValue, roleVersion, roleDeleted}
	if !reflect.DeepEqual(l.role, wantRoles) || !reflect.DeepEqual(l.src, []int{0, 1, 1, 2, 3, -1, -1}) {
		t.Fatalf("layout roles %v src %v", l.role, l.src)
	}
	bs := buildersFor(t, rt)
	ev := &change.Event{Op: change.Insert, Table: tab}
	good := []*pendingRow{
		{schema: tab, vals: row(int64(1), []any{"a", nil}, mustDec("1.50"), ts), version: 10, ev: ev},
		{schema: tab, vals: row(int64(2), nil, nil, ts), version: 11, ev: ev},
		{schema: tab, vals: row(int64(3), []any{}, nil, ts), version: 12, ev: ev},
		// A delete writes its key and meta columns; everything else is the default.
		{schema: tab, vals: row(int64(4), nil, nil, nil), version: 13, deleted: true, ev: ev},
	}
	bad := []struct {
		r       *pendingRow
		wantErr string
	}{
		{&pendingRow{schema: tab, vals: row(int64(5), nil, mustDec("1.555"), ts), version: 14, ev: ev}, `column "price"`},
		{&pendingRow{schema: tab, vals: row(int64(5), nil, mustDec("10000"), ts), version: 14, ev: ev}, `column "price"`},
		{&pendingRow{schema: tab, vals: row(int64(5), []any{"x"}, &change.BadValue{Raw: "NaN", Err: errors.New("not finite")}, ts), version: 14, ev: ev}, "not finite"},
		{&pendingRow{schema: tab, vals: row(int64(5), U, nil, ts), version: 14, ev: ev}, "unchanged TOAST"},
		{&pendingRow{schema: tab, vals: row(int64(5), nil, nil, nil), version: 14, ev: ev}, `column "at"`},
		{&pendingRow{schema: tab, vals: row(int64(5), "not an array", nil, ts), version: 14, ev: ev}, `column "tags"`},
	}
	// Interleave: a rejected row leaves no trace in any column.
	for i, r := range good {
		if err := addRow(bs, rt, l, r); err != nil {
			t.Fatalf("addRow(good %d): %v", i, err)
		}
		if i < len(bad) {
			if err := addRow(bs, rt, l, bad[i].r); err == nil || !strings.Contains(err.Error(), bad[i].wantErr) {
				t.Errorf("addRow(bad %d) = %v, want an error with %q", i, err, bad[i].wantErr)
			}
		}
	}
	for _, b := range bad[len(good):] {
		if err := addRow(bs, rt, l, b.r); err == nil || !strings.Contains(err.Error(), b.wantErr) {
			t.Errorf("addRow = %v, want an error with %q", err, b.wantErr)
		}
	}
	got := columnValues(t, rt, bs)
	want := map[string]any{
		"id":           []any{int64(1), int64(2), int64(3), int64(4)},
		"tags":         [][]any{{"a", nil}, {}, {}, {}},
		"tags_is_null": []any{uint8(0), uint8(1), uint8(0), uint8(0)},
		"price":        []any{mustDec("1.50"), nil, nil, nil},
		"at":           []any{ts.UnixMicro(), ts.UnixMicro(), ts.UnixMicro(), int64(0)},
		"_version":     []any{uint64(10), uint64(11), uint64(12), uint64(13)},
		"_is_deleted":  []any{uint8(0), uint8(0), uint8(0), uint8(1)},
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("column %s = %v, want %v", name, got[name], w)
		}
	}
}

// TestAddRowOldSchema: rows of a schema without a column the table has (dropped at the source)
// write its default there.
func TestAddRowOldSchema(t *testing.T) {
	rt := rowTableFor(t, tabT2, caps248)
	rt.layouts[tabT] = newLayout(rt, tabT)
	bs := buildersFor(t, rt)
	ev := &change.Event{Op: change.Insert, Table: tabT}
	if err := addRow(bs, rt, rt.layouts[tabT], &pendingRow{schema: tabT, vals: row(int64(1), "a", "x"), version: 5, ev: ev}); err != nil {
		t.Fatal(err)
	}
	got := columnValues(t, rt, bs)
	want := map[string]any{
		"id": []any{int64(1)}, "big": []any{"x"}, "a": []any{"a"}, "n": []any{nil},
		"_version": []any{uint64(5)}, "_is_deleted": []any{uint8(0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
}
