package mysql

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// describeTables reads each table's definition from information_schema, checking that it exists,
// is a base table with a primary key and can be read. The definitions seed schema history.
func (s *Source) describeTables(x execer, f Flavor, tables []TableName) ([]*tableDef, error) {
	defs := make([]*tableDef, 0, len(tables))
	for _, t := range tables {
		d, err := s.describeTable(x, f, t)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return defs, nil
}

func (s *Source) describeTable(x execer, f Flavor, t TableName) (*tableDef, error) {
	fail := func(format string, args ...any) error {
		return change.Terminal(fmt.Errorf("mysql source %q: table %s "+format, append([]any{s.cfg.Name, t}, args...)...))
	}
	r, err := x.Execute(`SELECT TABLE_TYPE, IFNULL(CCSA.CHARACTER_SET_NAME, '') FROM information_schema.TABLES T
LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA ON CCSA.COLLATION_NAME = T.TABLE_COLLATION
WHERE T.TABLE_SCHEMA = ? AND T.TABLE_NAME = ?`, t.DB, t.Name)
	if err != nil {
		return nil, s.privilegeError("describe table "+t.String(), err)
	}
	rows := strRows(r)
	if len(rows) == 0 {
		return nil, fail("does not exist (or cdcd's user has no privilege on it: GRANT SELECT ON %s TO <cdcd user>)", t.quoted())
	}
	if typ := rows[0][0]; typ != "BASE TABLE" && typ != "SYSTEM VERSIONED" {
		return nil, fail("is a %s, not a base table; cdcd captures base tables", strings.ToLower(typ))
	}
	d := &tableDef{Name: t, Charset: strings.ToLower(rows[0][1])}
	if _, err := x.Execute("SELECT 1 FROM " + t.quoted() + " LIMIT 0"); err != nil {
		if errorCode(err) == erTableAccessDenied {
			return nil, fail("cannot be read by cdcd's user: %v (GRANT SELECT ON %s TO <cdcd user>)", err, t.quoted())
		}
		return nil, s.privilegeError("read table "+t.String(), err)
	}
	r, err = x.Execute(`SELECT COLUMN_NAME, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, ''), IS_NULLABLE, COLUMN_DEFAULT, EXTRA
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, t.DB, t.Name)
	if err != nil {
		return nil, fmt.Errorf("mysql source %q: columns of table %s: %w", s.cfg.Name, t, err)
	}
	for _, row := range strRows(r) {
		spec, err := parseColumnType(row[1])
		if err != nil {
			return nil, fail("column %q has type %q, which cdcd cannot read: %v", row[0], row[1], err)
		}
		if !knownBases[spec.Base] {
			return nil, fail("column %q has type %s, which cdcd does not support", row[0], row[1])
		}
		spec.Charset = strings.ToLower(row[2])
		spec.NotNull = row[3] == "NO"
		spec.Default = catalogDefault(f, row[4], row[5])
		d.Columns = append(d.Columns, colDef{Name: row[0], Spec: spec})
	}
	r, err = x.Execute(`SELECT COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, t.DB, t.Name)
	if err != nil {
		return nil, fmt.Errorf("mysql source %q: primary key of table %s: %w", s.cfg.Name, t, err)
	}
	for _, row := range strRows(r) {
		d.Key = append(d.Key, row[0])
	}
	if len(d.Key) == 0 {
		return nil, fail("has no primary key; cdcd needs one to key its rows in ClickHouse (ALTER TABLE %s ADD PRIMARY KEY (...))", t.quoted())
	}
	if f == MariaDB { // MariaDB's JSON is LONGTEXT with a json_valid() check
		r, err = x.Execute(`SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, t.DB, t.Name)
		if err == nil {
			for _, row := range strRows(r) {
				if col, ok := jsonValidColumn(row[0]); ok {
					if i := d.column(col); i >= 0 {
						d.Columns[i].Spec.JSON = true
					}
				}
			}
		}
	}
	return d, nil
}

// jsonValidColumn returns the column of a "json_valid(`col`)" check clause.
func jsonValidColumn(clause string) (string, bool) {
	toks, err := tokenize(clause)
	if err != nil || len(toks) != 4 || !toks[0].is("json_valid") || !toks[1].isPunct('(') || !toks[3].isPunct(')') {
		return "", false
	}
	return toks[2].name()
}

// catalogDefault reads information_schema.COLUMNS.COLUMN_DEFAULT. MariaDB (10.2.7+) writes it as
// SQL: 'text' quoted, NULL, numbers, expressions such as current_timestamp(); MySQL writes a
// literal's value unquoted and marks expressions DEFAULT_GENERATED in EXTRA.
func catalogDefault(f Flavor, text, extra string) *defaultValue {
	switch {
	case isNull(text):
		return nil
	case f == MySQL:
		up := strings.ToUpper(text)
		if strings.Contains(strings.ToUpper(extra), "DEFAULT_GENERATED") || strings.HasPrefix(up, "CURRENT_TIMESTAMP") {
			return &defaultValue{Expr: true}
		}
		return &defaultValue{Text: text}
	}
	toks, err := tokenize(text)
	if err != nil || len(toks) == 0 {
		return &defaultValue{Expr: true}
	}
	c := &cursor{toks: toks}
	d := c.defaultValue()
	if c.peek().kind != tkEOF {
		return &defaultValue{Expr: true} // an expression such as 1 + 2
	}
	return d
}
