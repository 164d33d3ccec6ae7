package clickhouse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/change"
)

func TestTableAndViewName(t *testing.T) {
	id := change.TableID{Source: "shop", Namespace: "public", Name: "Orders"}
	if got := TableName(id); got != "shop_public_Orders" {
		t.Errorf("TableName = %q", got)
	}
	if got := ViewName(id); got != "shop_public_Orders_current" {
		t.Errorf("ViewName = %q", got)
	}
}

func TestCheckNames(t *testing.T) {
	id := func(src, ns, name string) change.TableID {
		return change.TableID{Source: src, Namespace: ns, Name: name}
	}
	cases := []struct {
		name  string
		ids   []change.TableID
		extra map[string]string
		// wantErr holds substrings of the error; empty means no error.
		wantErr []string
	}{
		{
			name: "distinct tables",
			ids:  []change.TableID{id("shop", "public", "orders"), id("shop", "public", "items"), id("shop", "sales", "orders")},
		},
		{
			name:    "a_b.c and a.b_c",
			ids:     []change.TableID{id("src", "a_b", "c"), id("src", "a", "b_c")},
			wantErr: []string{"table src.a_b.c", "table src.a.b_c", `"src_a_b_c"`},
		},
		{
			name:    "table named like another's view",
			ids:     []change.TableID{id("src", "public", "t"), id("src", "public", "t_current")},
			wantErr: []string{"the view of table src.public.t", "table src.public.t_current", `"src_public_t_current"`},
		},
		{
			name:    "view of a table named like another table (other order)",
			ids:     []change.TableID{id("src", "public", "t_current"), id("src", "public", "t")},
			wantErr: []string{"table src.public.t_current", "the view of table src.public.t", `"src_public_t_current"`},
		},
		{
			name:    "same table twice",
			ids:     []change.TableID{id("src", "public", "t"), id("src", "public", "t")},
			wantErr: []string{`"src_public_t"`},
		},
		{
			name:    "reserved prefix from an empty source name",
			ids:     []change.TableID{id("", "cdcd", "dead_letters")},
			wantErr: []string{"reserved", `"_cdcd_dead_letters"`},
		},
		{
			name:    "reserved prefix from the source name",
			ids:     []change.TableID{id("_cdcd", "", "x")},
			wantErr: []string{"reserved", `"_cdcd__x"`},
		},
		{
			name: "reserved-looking but not a prefix",
			ids:  []change.TableID{id("x", "_cdcd", "y")},
		},
		{
			name:  "extra names apart from tables",
			ids:   []change.TableID{id("src", "public", "t")},
			extra: map[string]string{"daily_totals": "aggregation daily", "daily_totals_current": "the view of aggregation daily"},
		},
		{
			name:    "extra name taken by a table",
			ids:     []change.TableID{id("src", "public", "t")},
			extra:   map[string]string{"src_public_t": "aggregation t"},
			wantErr: []string{"table src.public.t", "aggregation t", `"src_public_t"`},
		},
		{
			name:    "extra name taken by a view",
			ids:     []change.TableID{id("src", "public", "t")},
			extra:   map[string]string{"src_public_t_current": "aggregation v"},
			wantErr: []string{"the view of table src.public.t", "aggregation v"},
		},
		{
			name:    "reserved extra name",
			extra:   map[string]string{"_cdcd_offsets": "aggregation o"},
			wantErr: []string{"aggregation o", "reserved"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckNames(c.ids, c.extra)
			if len(c.wantErr) == 0 {
				if err != nil {
					t.Fatalf("CheckNames: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckNames: no error, want one naming %q", c.wantErr)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckNames error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// shopTable is a hand-built source table: a two-column key and columns of several kinds.
func shopTable() *change.Table {
	return &change.Table{
		ID: change.TableID{Source: "shop", Namespace: "public", Name: "orders"},
		Columns: []change.Column{
			{Name: "tenant", Type: typ(change.Int32)},
			{Name: "id", Type: typ(change.Int64), Nullable: true}, // key: never Nullable in ClickHouse
			{Name: "total", Type: dec(12, 2), Nullable: true},
			{Name: "paid", Type: typ(change.Bool)},
			{Name: "placed", Type: typ(change.TimestampTZ), Nullable: true},
			{Name: "tags", Type: arr(typ(change.String)), Nullable: true},
			{Name: "scores", Type: arr(typ(change.Int32))},
			{Name: "due", Type: typ(change.Date), Nullable: true},
		},
		Key: []int{0, 1},
	}
}

func TestDesiredColumns(t *testing.T) {
	cases := []struct {
		caps Capabilities
		want []ColumnDef
	}{
		{caps1816, []ColumnDef{
			{Name: "tenant", Type: "Int32"},
			{Name: "id", Type: "Int64"},
			{Name: "total", Type: "Nullable(Decimal(12, 2))"},
			{Name: "paid", Type: "UInt8"},
			{Name: "placed", Type: "Nullable(Int64)"},
			{Name: "tags", Type: "Array(Nullable(String))"},
			{Name: "tags_is_null", Type: "UInt8"},
			{Name: "scores", Type: "Array(Nullable(Int32))"},
			{Name: "due", Type: "Nullable(Date)"},
		}},
		{caps248, []ColumnDef{
			{Name: "tenant", Type: "Int32"},
			{Name: "id", Type: "Int64"},
			{Name: "total", Type: "Nullable(Decimal(12, 2))"},
			{Name: "paid", Type: "Bool"},
			{Name: "placed", Type: "Nullable(DateTime64(6, 'UTC'))"},
			{Name: "tags", Type: "Array(Nullable(String))"},
			{Name: "tags_is_null", Type: "UInt8"},
			{Name: "scores", Type: "Array(Nullable(Int32))"},
			{Name: "due", Type: "Nullable(Date32)"},
		}},
	}
	for _, c := range cases {
		got, err := DesiredColumns(shopTable(), c.caps)
		if err != nil {
			t.Fatalf("DesiredColumns (%v): %v", c.caps.Version, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("DesiredColumns (%v) =\n%v\nwant\n%v", c.caps.Version, got, c.want)
		}
	}
}

func TestDesiredColumnsCollisions(t *testing.T) {
	key := change.Column{Name: "id", Type: typ(change.Int64)}
	cases := []struct {
		name    string
		cols    []change.Column
		wantErr string // substring; empty: no error
	}{
		{"source column _version", []change.Column{key, {Name: "_version", Type: typ(change.Int64)}}, `"_version"`},
		{"source column _is_deleted", []change.Column{key, {Name: "_is_deleted", Type: typ(change.Bool)}}, `"_is_deleted"`},
		{"key column _version", []change.Column{{Name: "_version", Type: typ(change.Int64)}}, `"_version"`},
		{"nullable array x then x_is_null", []change.Column{key,
			{Name: "x", Type: arr(typ(change.Int32)), Nullable: true},
			{Name: "x_is_null", Type: typ(change.Bool)}}, `null flag cdcd adds for array column "x"`},
		{"x_is_null then nullable array x", []change.Column{key,
			{Name: "x_is_null", Type: typ(change.Bool)},
			{Name: "x", Type: arr(typ(change.Int32)), Nullable: true}}, `null flag cdcd adds for array column "x"`},
		{"two nullable arrays x and x_is_null", []change.Column{key,
			{Name: "x", Type: arr(typ(change.Int32)), Nullable: true},
			{Name: "x_is_null", Type: arr(typ(change.Int32)), Nullable: true}}, `"x_is_null"`},
		{"non-nullable array x and x_is_null", []change.Column{key,
			{Name: "x", Type: arr(typ(change.Int32))},
			{Name: "x_is_null", Type: typ(change.Bool)}}, ""},
		{"nullable scalar x and x_is_null", []change.Column{key,
			{Name: "x", Type: typ(change.Int32), Nullable: true},
			{Name: "x_is_null", Type: typ(change.Bool)}}, ""},
		{"y_is_null without y", []change.Column{key, {Name: "y_is_null", Type: typ(change.Bool)}}, ""},
		{"near miss _versions", []change.Column{key, {Name: "_versions", Type: typ(change.Int64)}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := &change.Table{ID: change.TableID{Source: "s", Namespace: "n", Name: "t"}, Columns: c.cols, Key: []int{0}}
			got, err := DesiredColumns(tab, caps248)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("DesiredColumns: %v", err)
				}
				if len(got) != len(c.cols) {
					t.Errorf("DesiredColumns = %v, want %d columns", got, len(c.cols))
				}
				return
			}
			if err == nil {
				t.Fatalf("DesiredColumns = %v, want an error naming %s", got, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "s.n.t") {
				t.Errorf("DesiredColumns error %q does not name %s and the table", err, c.wantErr)
			}
		})
	}
}

func TestCreateTableSQL(t *testing.T) {
	cols := []ColumnDef{{Name: "tenant", Type: "Int32"}, {Name: "id", Type: "Int64"}, {Name: "note", Type: "Nullable(String)"}, {Name: "tags", Type: "Array(Nullable(String))"}, {Name: "tags_is_null", Type: "UInt8"}}
	key := []string{"tenant", "id"}
	cases := []struct {
		caps Capabilities
		want string
	}{
		{caps1816, "CREATE TABLE IF NOT EXISTS `cdc`.`shop_public_orders` (`tenant` Int32, `id` Int64, `note` Nullable(String), " +
			"`tags` Array(Nullable(String)), `tags_is_null` UInt8, `_version` UInt64, `_is_deleted` UInt8) " +
			"ENGINE = ReplacingMergeTree(`_version`) ORDER BY (`tenant`, `id`)"},
		{caps248, "CREATE TABLE IF NOT EXISTS `cdc`.`shop_public_orders` (`tenant` Int32, `id` Int64, `note` Nullable(String), " +
			"`tags` Array(Nullable(String)), `tags_is_null` UInt8, `_version` UInt64, `_is_deleted` UInt8) " +
			"ENGINE = ReplacingMergeTree(`_version`, `_is_deleted`) ORDER BY (`tenant`, `id`)"},
		{CapabilitiesOf(Version{23, 1, 0}), "CREATE TABLE IF NOT EXISTS `cdc`.`shop_public_orders` (`tenant` Int32, `id` Int64, `note` Nullable(String), " +
			"`tags` Array(Nullable(String)), `tags_is_null` UInt8, `_version` UInt64, `_is_deleted` UInt8) " +
			"ENGINE = ReplacingMergeTree(`_version`) ORDER BY (`tenant`, `id`)"},
	}
	for _, c := range cases {
		if got := CreateTableSQL("cdc", "shop_public_orders", cols, key, c.caps); got != c.want {
			t.Errorf("CreateTableSQL (%v) =\n%s\nwant\n%s", c.caps.Version, got, c.want)
		}
	}
}

func TestCreateTableSQLQuotesNames(t *testing.T) {
	got := CreateTableSQL("d`b", "t(1)", []ColumnDef{{Name: "a--b", Type: "Int64"}, {Name: "c#", Type: "Nullable(String)"}}, []string{"a--b"}, caps1816)
	want := "CREATE TABLE IF NOT EXISTS `d\\`b`.`t\\x281\\x29` (`a\\x2d\\x2db` Int64, `c\\x23` Nullable(String), " +
		"`_version` UInt64, `_is_deleted` UInt8) ENGINE = ReplacingMergeTree(`_version`) ORDER BY (`a\\x2d\\x2db`)"
	if got != want {
		t.Errorf("CreateTableSQL =\n%s\nwant\n%s", got, want)
	}
}

func TestCreateViewSQL(t *testing.T) {
	cols := []string{"tenant", "id", "tags", "tags_is_null"}
	cases := []struct {
		caps Capabilities
		want []string
	}{
		{caps1816, []string{
			"DROP TABLE IF EXISTS `cdc`.`shop_public_orders_current`",
			"CREATE VIEW `cdc`.`shop_public_orders_current` AS SELECT `tenant`, `id`, `tags`, `tags_is_null` " +
				"FROM `cdc`.`shop_public_orders` FINAL WHERE `_is_deleted` = 0",
		}},
		{caps248, []string{
			"CREATE OR REPLACE VIEW `cdc`.`shop_public_orders_current` AS SELECT `tenant`, `id`, `tags`, `tags_is_null` " +
				"FROM `cdc`.`shop_public_orders` FINAL WHERE `_is_deleted` = 0",
		}},
	}
	for _, c := range cases {
		got := CreateViewSQL("cdc", "shop_public_orders_current", "shop_public_orders", cols, c.caps)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("CreateViewSQL (%v) =\n%q\nwant\n%q", c.caps.Version, got, c.want)
		}
	}
}

func TestAlterSQL(t *testing.T) {
	cases := []struct{ got, want string }{
		{AddColumnSQL("cdc", "t", ColumnDef{Name: "n", Type: "Nullable(Int64)"}, "m"), "ALTER TABLE `cdc`.`t` ADD COLUMN `n` Nullable(Int64) AFTER `m`"},
		{AddColumnSQL("cdc", "t", ColumnDef{Name: "n", Type: "Nullable(Int64)"}, ""), "ALTER TABLE `cdc`.`t` ADD COLUMN `n` Nullable(Int64)"},
		{AddColumnSQL("cdc", "t", ColumnDef{Name: "a)b", Type: "UInt8"}, "c`d"), "ALTER TABLE `cdc`.`t` ADD COLUMN `a\\x29b` UInt8 AFTER `c\\`d`"},
		{ModifyColumnSQL("cdc", "t", ColumnDef{Name: "n", Type: "Nullable(Int64)"}), "ALTER TABLE `cdc`.`t` MODIFY COLUMN `n` Nullable(Int64)"},
		{AddColumnSQL("cdc", "t", ColumnDef{Name: "d", Type: "Nullable(Int32)", Default: "7"}, ""), "ALTER TABLE `cdc`.`t` ADD COLUMN `d` Nullable(Int32) DEFAULT 7"},
		{AddColumnSQL("cdc", "t", ColumnDef{Name: "s", Type: "Nullable(String)", Default: `'it\'s'`}, ""), "ALTER TABLE `cdc`.`t` ADD COLUMN `s` Nullable(String) DEFAULT 'it\\'s'"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
}

func TestInsertSQL(t *testing.T) {
	got := insertSQL("cdc", "s_p_t(x)", []ColumnDef{{Name: "id", Type: "Int64"}, {Name: "a b", Type: "String"}, {Name: "_version", Type: "UInt64"}})
	want := "INSERT INTO `cdc`.`s_p_t\\x28x\\x29`(`id`, `a\\x20b`, `_version`)"
	if got != want {
		t.Errorf("insertSQL =\n%s\nwant\n%s", got, want)
	}
}
