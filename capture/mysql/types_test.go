package mysql

import (
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// TestTypeMapping: the mapping table of the package doc, from history declarations (what the
// snapshot uses) and from table maps (what the stream uses), which must agree.
func TestTypeMapping(t *testing.T) {
	for _, c := range []struct {
		decl string
		f    Flavor
		want change.Type
	}{
		{"tinyint", MariaDB, change.Type{Kind: change.Int8}},
		{"tinyint unsigned", MariaDB, change.Type{Kind: change.UInt8}},
		{"smallint", MariaDB, change.Type{Kind: change.Int16}},
		{"mediumint unsigned", MariaDB, change.Type{Kind: change.UInt32}},
		{"int", MariaDB, change.Type{Kind: change.Int32}},
		{"bigint unsigned", MariaDB, change.Type{Kind: change.UInt64}},
		{"decimal(12,2)", MariaDB, change.Type{Kind: change.Decimal, Precision: 12, Scale: 2}},
		{"decimal", MariaDB, change.Type{Kind: change.Decimal, Precision: 10}},
		{"float", MariaDB, change.Type{Kind: change.Float32}},
		{"double", MariaDB, change.Type{Kind: change.Float64}},
		{"bit(10)", MariaDB, change.Type{Kind: change.UInt64}},
		{"year", MariaDB, change.Type{Kind: change.UInt16}},
		{"date", MariaDB, change.Type{Kind: change.Date}},
		{"datetime(6)", MariaDB, change.Type{Kind: change.Timestamp}},
		{"timestamp(3)", MariaDB, change.Type{Kind: change.TimestampTZ}},
		{"time", MariaDB, change.Type{Kind: change.Time}},
		{"enum('a','b')", MariaDB, change.Type{Kind: change.String}},
		{"set('a','b')", MariaDB, change.Type{Kind: change.String}},
		{"varchar(10)", MariaDB, change.Type{Kind: change.String}},
		{"char(3) character set binary", MariaDB, change.Type{Kind: change.Bytes}},
		{"varchar(3) character set gbk", MariaDB, change.Type{Kind: change.Bytes}},
		{"varchar(3) character set latin1", MariaDB, change.Type{Kind: change.String}},
		{"binary(4)", MariaDB, change.Type{Kind: change.Bytes}},
		{"mediumblob", MariaDB, change.Type{Kind: change.Bytes}},
		{"longtext", MariaDB, change.Type{Kind: change.String}},
		{"json", MariaDB, change.Type{Kind: change.JSON}},
		{"json", MySQL, change.Type{Kind: change.JSON}},
		{"point", MySQL, change.Type{Kind: change.Bytes}},
	} {
		spec, err := parseColumnType(c.decl)
		mustNil(t, err)
		ci, err := infoFromSpec(colDef{Name: "c", Spec: spec}, c.f)
		mustNil(t, err)
		if got := ci.changeType(); !got.Equal(c.want) {
			t.Errorf("%s (%s): %s, want %s", c.decl, c.f, got, c.want)
		}
	}
	if _, err := binlogType(colSpec{Base: "uuid"}, MariaDB); err == nil {
		t.Error("uuid mapped")
	}
}

// TestTableMapWithHistory: with MINIMAL metadata (no names, labels or key), history names the
// columns by position, supplies ENUM labels, the key and MariaDB's JSON; a history that disagrees
// with the binlog is an error that says what to do.
func TestTableMapWithHistory(t *testing.T) {
	cols := []tcol{{name: "id", typ: gomysql.MYSQL_TYPE_LONG, numeric: true, unsigned: true},
		{name: "e", typ: gomysql.MYSQL_TYPE_STRING, meta: []byte{gomysql.MYSQL_TYPE_ENUM, 1}},
		{name: "doc", typ: gomysql.MYSQL_TYPE_BLOB, meta: []byte{4}, charset: 46}}
	tm := parseEvents(t, true, fdeEvent(), tableMapEvent(3, "db", "t", cols, false))[1].Event.(*replication.TableMapEvent)
	spec := func(s string) colSpec { c, err := parseColumnType(s); mustNil(t, err); return c }
	def := &tableDef{Name: TableName{"db", "t"}, Key: []string{"ID"},
		Columns: []colDef{{"ID", spec("int unsigned")}, {"E", spec("enum('x','y')")}, {"Doc", spec("longtext check (json_valid(`Doc`))")}}}
	got, key, err := tmColumns(tm, def, MariaDB, collationCharsets{}.charsetOf)
	mustNil(t, err)
	if got[0].Name != "ID" || !got[0].Unsigned || got[1].Labels[1] != "y" || !got[2].JSON || got[2].changeType().Kind != change.JSON || len(key) != 1 || key[0] != 0 {
		t.Errorf("columns %+v key %v", got, key)
	}
	for _, c := range []struct {
		def  *tableDef
		want string
	}{
		{nil, "no schema history"},
		{&tableDef{Columns: def.Columns[:2], Key: def.Key}, "has 2"},
		{&tableDef{Columns: def.Columns, Unreliable: "DROP of unknown column x"}, "unreliable"},
		{&tableDef{Columns: []colDef{{"id", spec("bigint")}, def.Columns[1], def.Columns[2]}, Key: def.Key}, "is int in the binlog but bigint in cdcd's schema history"},
		{&tableDef{Columns: []colDef{def.Columns[0], {"e", spec("varchar(3)")}, def.Columns[2]}, Key: def.Key}, "in the binlog but varchar(3)"},
		{&tableDef{Columns: def.Columns}, "has no primary key"},
	} {
		if _, _, err := tmColumns(tm, c.def, MariaDB, collationCharsets{}.charsetOf); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("history %+v: %v, want %q", c.def, err, c.want)
		}
	}
	// FULL metadata: the table map wins; history only adds JSON, by name.
	tmFull := parseEvents(t, true, fdeEvent(), tableMapEvent(3, "db", "t", append(cols[:1:1], tcol{name: "e", typ: gomysql.MYSQL_TYPE_STRING,
		meta: []byte{gomysql.MYSQL_TYPE_ENUM, 1}, enum: []string{"p", "q"}}, cols[2]), true))[1].Event.(*replication.TableMapEvent)
	got, _, err = tmColumns(tmFull, def, MariaDB, collationCharsets{}.charsetOf)
	mustNil(t, err)
	if got[0].Name != "id" || got[1].Labels[0] != "p" || !got[2].JSON {
		t.Errorf("FULL: %+v", got)
	}
	if tmSignature(tm, 1) == tmSignature(tmFull, 1) || tmSignature(tm, 1) == tmSignature(tm, 2) || tmSignature(tm, 1) != tmSignature(tm, 1) {
		t.Error("signatures do not tell table maps and history generations apart")
	}
}

func TestTextValues(t *testing.T) {
	dec := colInfo{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Prec: 12, Scale: 2}
	if v, err := fromText(&dec, change.Decimal, "1.5"); err != nil || !sameValue(v, decimal.New(150, -2)) {
		t.Errorf("decimal default: %v %v", v, err)
	}
	en := colInfo{Type: gomysql.MYSQL_TYPE_ENUM, Labels: []string{"a", "b"}}
	if _, err := fromText(&en, change.String, "c"); err == nil {
		t.Error("an unknown ENUM label accepted")
	}
	bn := colInfo{Type: gomysql.MYSQL_TYPE_STRING, Length: 3}
	if v, _ := fromText(&bn, change.Bytes, "a"); !sameValue(v, []byte{'a', 0, 0}) {
		t.Errorf("binary default %v", v)
	}
	for s, want := range map[string]time.Duration{"-838:59:59": -(838*time.Hour + 59*time.Minute + 59*time.Second), "00:00:00.5": 500 * time.Millisecond,
		"100:00:00.000001": 100*time.Hour + time.Microsecond} {
		if got, err := parseTimeText(s); err != nil || got != want {
			t.Errorf("parseTimeText(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "1:2:3", "12:60:00", "x12:00:00", "12:00:00.1234567"} {
		if _, err := parseTimeText(bad); err == nil {
			t.Errorf("parseTimeText(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"0000-00-00", "2023-02-29 00:00:00", "2024-01-01 24:00:00", "2024-1-1"} {
		if _, err := parseDateTimeText(bad); err == nil {
			t.Errorf("parseDateTimeText(%q) accepted", bad)
		}
	}
	// Defaults: constants, implicit defaults of NOT NULL columns, and none for expressions.
	i := colInfo{Type: gomysql.MYSQL_TYPE_LONG}
	for _, c := range []struct {
		spec colSpec
		want any
	}{
		{colSpec{Default: &defaultValue{Text: "7"}}, int64(7)},
		{colSpec{Default: &defaultValue{Null: true}}, nil},
		{colSpec{Default: &defaultValue{Expr: true}, NotNull: true}, nil},
		{colSpec{NotNull: true}, int64(0)},
		{colSpec{}, nil},
	} {
		if got := columnDefault(&i, change.Int32, &c.spec); got != c.want {
			t.Errorf("default of %+v = %#v, want %#v", c.spec, got, c.want)
		}
	}
	if got := columnDefault(&en, change.String, &colSpec{NotNull: true}); got != "a" {
		t.Errorf("NOT NULL ENUM implicit default = %v, want its first label", got)
	}
	bit := colInfo{Type: gomysql.MYSQL_TYPE_BIT}
	if got := columnDefault(&bit, change.UInt64, &colSpec{Default: &defaultValue{Text: "0x0a"}}); got != uint64(10) {
		t.Errorf("BIT default = %v", got)
	}
	if got := toUTF8("latin1", "\x80\x81\xe9a"); got != "\u20ac\u0081\u00e9a" {
		t.Errorf("latin1 = %q", got)
	}
}
