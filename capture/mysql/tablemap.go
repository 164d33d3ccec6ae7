package mysql

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// tmColumns builds a table's column facts from a table map event, completed by schema history
// (def, possibly nil) where the event's metadata lacks them, and returns the key columns' indexes.
//
// With binlog_row_metadata=FULL the event names the columns, their signedness, character sets,
// ENUM/SET labels and the primary key: history then only adds what the binlog never says (MariaDB's
// JSON columns are LONGTEXT in the binlog). With MINIMAL or NO_LOG metadata, names, labels and the
// key come from history, matched by position, and must agree with the event's column types.
func tmColumns(tm *replication.TableMapEvent, def *tableDef, f Flavor, charsetOf func(uint64) string) ([]colInfo, []int, error) {
	n := int(tm.ColumnCount)
	names := tm.ColumnNameString()
	byPosition := len(names) != n
	if byPosition {
		switch {
		case def == nil:
			return nil, nil, fmt.Errorf("the binlog carries no column names (binlog_row_metadata is not FULL) and cdcd has no schema history for the table; set binlog_row_metadata=FULL")
		case def.Unreliable != "":
			return nil, nil, fmt.Errorf("the binlog carries no column names (binlog_row_metadata is not FULL) and cdcd's schema history of the table is unreliable (%s); set binlog_row_metadata=FULL and re-snapshot", def.Unreliable)
		case len(def.Columns) != n:
			return nil, nil, fmt.Errorf("the binlog's row has %d columns but cdcd's schema history of the table has %d (binlog_row_metadata is not FULL, so history names them); set binlog_row_metadata=FULL and re-snapshot", n, len(def.Columns))
		}
		names = make([]string, n)
		for i, c := range def.Columns {
			names[i] = c.Name
		}
	}
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	esCollations := tm.EnumSetCollationMap()
	enums, sets := tm.EnumStrValueMap(), tm.SetStrValueMap()

	cols := make([]colInfo, n)
	for i := 0; i < n; i++ {
		var spec *colSpec
		if def != nil {
			if byPosition {
				spec = &def.Columns[i].Spec
			} else if j := def.column(names[i]); j >= 0 {
				spec = &def.Columns[j].Spec
			}
		}
		ci := colInfo{Name: names[i]}
		ci.Type, ci.Meta, ci.Length = realType(tm.ColumnType[i], tm.ColumnMeta[i])
		switch ci.Type {
		case gomysql.MYSQL_TYPE_NEWDECIMAL:
			ci.Prec, ci.Scale = int(ci.Meta>>8), int(ci.Meta&0xFF)
		case gomysql.MYSQL_TYPE_BIT:
			ci.Length = int(ci.Meta>>8)*8 + int(ci.Meta&0xFF)
		}
		if spec != nil {
			want, err := binlogType(*spec, f)
			if err == nil && !sameFamily(want, ci.Type) {
				if byPosition {
					return nil, nil, fmt.Errorf("column %d (%q) is %s in the binlog but %s in cdcd's schema history; set binlog_row_metadata=FULL and re-snapshot",
						i+1, names[i], sourceName(ci), spec.String())
				}
				spec = nil // a column of that name with another type: history is stale for it
			}
		}
		if u, ok := unsigned[i]; ok {
			ci.Unsigned = u
		} else if spec != nil {
			ci.Unsigned = spec.Unsigned
		}
		if id, ok := collations[i]; ok {
			ci.Charset = charsetOf(id)
		} else if id, ok := esCollations[i]; ok {
			ci.Charset = charsetOf(id)
		} else if spec != nil {
			if info, err := infoFromSpec(colDef{Spec: *spec}, f); err == nil {
				ci.Charset = info.Charset
			}
		}
		switch ci.Type {
		case gomysql.MYSQL_TYPE_ENUM, gomysql.MYSQL_TYPE_SET:
			labels := enums[i]
			if ci.Type == gomysql.MYSQL_TYPE_SET {
				labels = sets[i]
			}
			if labels == nil && spec != nil {
				labels = spec.Labels
			}
			if labels == nil {
				return nil, nil, fmt.Errorf("column %q: the binlog carries no ENUM/SET labels (binlog_row_metadata is not FULL) and schema history has none; set binlog_row_metadata=FULL", names[i])
			}
			ci.Labels = make([]string, len(labels))
			for j, l := range labels {
				ci.Labels[j] = toUTF8(ci.Charset, l)
			}
		case gomysql.MYSQL_TYPE_JSON:
			ci.JSON = true
		case gomysql.MYSQL_TYPE_BLOB:
			ci.JSON = spec != nil && spec.JSON
		}
		ci.Source = sourceName(ci)
		if spec != nil {
			ci.Source = spec.String()
		}
		cols[i] = ci
	}
	key, err := tmKey(tm, def, names)
	return cols, key, err
}

// tmKey returns the key columns: the table map's primary key, else history's.
func tmKey(tm *replication.TableMapEvent, def *tableDef, names []string) ([]int, error) {
	var key []int
	for _, k := range tm.PrimaryKey {
		if int(k) >= len(names) {
			return nil, fmt.Errorf("table map names primary key column %d of %d", k, len(names))
		}
		key = append(key, int(k))
	}
	if len(key) == 0 && def != nil {
		for _, k := range def.Key {
			for i, n := range names {
				if strings.EqualFold(n, k) {
					key = append(key, i)
				}
			}
		}
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("has no primary key; cdcd needs one to key its rows in ClickHouse (add a primary key)")
	}
	return key, nil
}

// realType returns a column's real type (ENUM and SET hide in STRING), its metadata and, for
// CHAR/BINARY, its maximum length in bytes.
func realType(typ byte, meta uint16) (byte, uint16, int) {
	if typ != gomysql.MYSQL_TYPE_STRING {
		return typ, meta, 0
	}
	if meta < 256 {
		return typ, meta, int(meta)
	}
	b0, b1 := byte(meta>>8), byte(meta&0xFF)
	if b0&0x30 != 0x30 { // a CHAR longer than 255 bytes: two length bits live in b0
		return b0 | 0x30, meta, int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
	}
	return b0, meta, int(b1)
}

// sameFamily reports whether binlog type got is how history type want is logged.
func sameFamily(want, got byte) bool {
	family := func(t byte) byte {
		switch t {
		case gomysql.MYSQL_TYPE_DATETIME:
			return gomysql.MYSQL_TYPE_DATETIME2
		case gomysql.MYSQL_TYPE_TIMESTAMP:
			return gomysql.MYSQL_TYPE_TIMESTAMP2
		case gomysql.MYSQL_TYPE_TIME:
			return gomysql.MYSQL_TYPE_TIME2
		case gomysql.MYSQL_TYPE_VAR_STRING:
			return gomysql.MYSQL_TYPE_VARCHAR
		}
		return t
	}
	return family(want) == family(got)
}

// tmSignature identifies a table map's shape, so unchanged tables (a table map precedes every
// transaction's rows) reuse their schema and decoders.
func tmSignature(tm *replication.TableMapEvent, defGen int) string {
	var b strings.Builder
	b.Grow(64 + 3*len(tm.ColumnType))
	b.WriteString(strconv.Itoa(defGen))
	b.WriteByte(0)
	b.Write(tm.ColumnType)
	var m [2]byte
	for _, v := range tm.ColumnMeta {
		binary.LittleEndian.PutUint16(m[:], v)
		b.Write(m[:])
	}
	b.Write(tm.SignednessBitmap)
	for _, n := range tm.ColumnName {
		b.WriteString(strconv.Itoa(len(n)))
		b.WriteByte(':')
		b.Write(n)
	}
	for _, s := range [][]uint64{tm.DefaultCharset, tm.ColumnCharset, tm.EnumSetDefaultCharset, tm.EnumSetColumnCharset, tm.PrimaryKey} {
		b.WriteByte(0xFF)
		for _, v := range s {
			b.WriteString(strconv.FormatUint(v, 36))
			b.WriteByte(',')
		}
	}
	for _, vals := range [][][][]byte{tm.EnumStrValue, tm.SetStrValue} {
		b.WriteByte(0xFE)
		for _, labels := range vals {
			b.WriteByte(0xFD)
			for _, l := range labels {
				b.WriteString(strconv.Itoa(len(l)))
				b.WriteByte(':')
				b.Write(l)
			}
		}
	}
	return b.String()
}
