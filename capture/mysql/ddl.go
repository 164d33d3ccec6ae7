package mysql

import (
	"fmt"
)

// TableName is a MySQL table: its database and name, unquoted.
type TableName struct{ DB, Name string }

func (t TableName) String() string { return t.DB + "." + t.Name }

// quoted is the table as SQL: `db`.`name`.
func (t TableName) quoted() string { return quoteIdent(t.DB) + "." + quoteIdent(t.Name) }

// ddlKind is the kind of a recognised DDL statement.
type ddlKind uint8

const (
	ddlOther      ddlKind = iota // anything cdcd does not track
	ddlAlter                     // ALTER TABLE
	ddlRename                    // RENAME TABLE a TO b[, ...]
	ddlTruncate                  // TRUNCATE [TABLE] t
	ddlDrop                      // DROP TABLE a[, ...]
	ddlCreate                    // CREATE TABLE t (definitions)
	ddlCreateLike                // CREATE TABLE t LIKE u
)

// alterKind is one operation of an ALTER TABLE.
type alterKind uint8

const (
	alterAddColumn alterKind = iota + 1
	alterDropColumn
	alterModifyColumn // MODIFY and CHANGE (Old names the column before)
	alterRenameColumn
	alterRenameTable
	alterAddPrimaryKey
	alterDropPrimaryKey
	alterConvertCharset
)

// colDef is a column definition.
type colDef struct {
	Name string
	Spec colSpec
}

// alterOp is one operation of an ALTER TABLE statement.
type alterOp struct {
	Kind  alterKind
	Col   colDef    // the new definition (add, modify, change)
	Old   string    // the column's previous name (drop, change, rename)
	First bool      // FIRST
	After string    // AFTER column
	To    TableName // RENAME TO
	Key   []string  // ADD PRIMARY KEY columns
	Cs    string    // CONVERT TO CHARACTER SET
}

// ddlStmt is a DDL statement as far as schema history needs it.
type ddlStmt struct {
	Kind    ddlKind
	Table   TableName   // the table altered, truncated, created
	Tables  []TableName // DROP TABLE
	Renames [][2]TableName
	Ops     []alterOp
	Columns []colDef // CREATE TABLE
	Key     []string // CREATE TABLE: the PRIMARY KEY columns
	Charset string   // CREATE TABLE: the table's default character set
	Like    TableName
}

// parseDDL recognises the DDL statements that change a table's shape or contents. db is the
// statement's default database (the QueryEvent's schema). Statements it does not track come back
// with Kind ddlOther; an error means text that looks like a tracked statement but cannot be read.
func parseDDL(sql, db string) (ddlStmt, error) {
	toks, err := tokenize(sql)
	if err != nil {
		return ddlStmt{}, err
	}
	c := &cursor{toks: toks, db: db}
	switch {
	case c.accept("alter"):
		c.accept("online")
		c.accept("ignore")
		if !c.accept("table") {
			return ddlStmt{}, nil
		}
		c.acceptSeq("if", "exists")
		return c.alter()
	case c.accept("rename"):
		if !c.accept("table") && !c.accept("tables") {
			return ddlStmt{}, nil // RENAME USER
		}
		return c.renameTables()
	case c.accept("truncate"):
		c.accept("table")
		t, err := c.tableName()
		return ddlStmt{Kind: ddlTruncate, Table: t}, err
	case c.accept("drop"):
		if c.accept("temporary") || !c.accept("table") {
			return ddlStmt{}, nil
		}
		c.acceptSeq("if", "exists")
		st := ddlStmt{Kind: ddlDrop}
		for {
			t, err := c.tableName()
			if err != nil {
				return st, err
			}
			st.Tables = append(st.Tables, t)
			if !c.acceptPunct(',') {
				return st, nil
			}
		}
	case c.accept("create"):
		c.acceptSeq("or", "replace")
		if c.accept("temporary") || !c.accept("table") {
			return ddlStmt{}, nil
		}
		c.acceptSeq("if", "not", "exists")
		return c.createTable()
	}
	return ddlStmt{}, nil
}

func (c *cursor) alter() (ddlStmt, error) {
	t, err := c.tableName()
	if err != nil {
		return ddlStmt{}, err
	}
	st := ddlStmt{Kind: ddlAlter, Table: t}
	for c.peek().kind != tkEOF {
		ops, err := c.alterSpec()
		if err != nil {
			return st, fmt.Errorf("ALTER TABLE %s: %w", t, err)
		}
		st.Ops = append(st.Ops, ops...)
		c.skipTo(',')
		if !c.acceptPunct(',') {
			break
		}
	}
	return st, nil
}

// alterSpec reads one ALTER TABLE operation (ADD of a parenthesised list makes several); nothing
// for operations that do not change the columns or key.
func (c *cursor) alterSpec() ([]alterOp, error) {
	op, err := c.alterOne()
	if op == nil || err != nil {
		return nil, err
	}
	if op.Kind != alterAddColumn || op.Col.Name != "" {
		return []alterOp{*op}, nil
	}
	var ops []alterOp // ADD [COLUMN] (a INT, b INT)
	for !c.acceptPunct(')') {
		col, err := c.columnDef()
		if err != nil {
			return nil, err
		}
		ops = append(ops, alterOp{Kind: alterAddColumn, Col: col})
		c.skipTo(',')
		c.acceptPunct(',')
		if c.peek().kind == tkEOF {
			return nil, fmt.Errorf("unterminated ADD column list")
		}
	}
	return ops, nil
}

func (c *cursor) alterOne() (*alterOp, error) {
	switch {
	case c.accept("add"):
		switch {
		case c.acceptSeq("primary", "key"):
			key, err := c.indexColumns()
			return &alterOp{Kind: alterAddPrimaryKey, Key: key}, err
		case c.accept("constraint"):
			if !c.peek().is("primary") {
				c.next() // the constraint's name
			}
			if c.acceptSeq("primary", "key") {
				key, err := c.indexColumns()
				return &alterOp{Kind: alterAddPrimaryKey, Key: key}, err
			}
			return nil, nil
		case c.peekAny("index", "key", "unique", "fulltext", "spatial", "foreign", "check", "partition", "period", "system"):
			return nil, nil
		}
		c.accept("column")
		c.acceptSeq("if", "not", "exists")
		if c.acceptPunct('(') { // ADD (a INT, b INT): read by alterSpec
			return &alterOp{Kind: alterAddColumn}, nil
		}
		col, err := c.columnDef()
		if err != nil {
			return nil, err
		}
		op := &alterOp{Kind: alterAddColumn, Col: col}
		return op, c.position(op)
	case c.accept("drop"):
		switch {
		case c.acceptSeq("primary", "key"):
			return &alterOp{Kind: alterDropPrimaryKey}, nil
		case c.peekAny("index", "key", "foreign", "constraint", "check", "partition", "period", "system"):
			return nil, nil
		}
		c.accept("column")
		c.acceptSeq("if", "exists")
		name, err := c.ident()
		return &alterOp{Kind: alterDropColumn, Old: name}, err
	case c.accept("modify"):
		c.accept("column")
		c.acceptSeq("if", "exists")
		col, err := c.columnDef()
		if err != nil {
			return nil, err
		}
		op := &alterOp{Kind: alterModifyColumn, Col: col, Old: col.Name}
		return op, c.position(op)
	case c.accept("change"):
		c.accept("column")
		c.acceptSeq("if", "exists")
		old, err := c.ident()
		if err != nil {
			return nil, err
		}
		col, err := c.columnDef()
		if err != nil {
			return nil, err
		}
		op := &alterOp{Kind: alterModifyColumn, Col: col, Old: old}
		return op, c.position(op)
	case c.accept("rename"):
		switch {
		case c.accept("column"):
			c.acceptSeq("if", "exists")
			old, err := c.ident()
			if err != nil {
				return nil, err
			}
			c.accept("to")
			nw, err := c.ident()
			return &alterOp{Kind: alterRenameColumn, Old: old, Col: colDef{Name: nw}}, err
		case c.peekAny("index", "key"):
			return nil, nil
		}
		if !c.accept("to") {
			c.accept("as")
		}
		to, err := c.tableName()
		return &alterOp{Kind: alterRenameTable, To: to}, err
	case c.accept("convert"):
		c.accept("to")
		if c.accept("charset") || c.acceptSeq("character", "set") {
			return &alterOp{Kind: alterConvertCharset, Cs: c.wordLower()}, nil
		}
	}
	return nil, nil
}

// position reads an optional FIRST or AFTER col.
func (c *cursor) position(op *alterOp) error {
	switch {
	case c.accept("first"):
		op.First = true
	case c.accept("after"):
		n, err := c.ident()
		op.After = n
		return err
	}
	return nil
}

func (c *cursor) renameTables() (ddlStmt, error) {
	st := ddlStmt{Kind: ddlRename}
	c.acceptSeq("if", "exists")
	for {
		from, err := c.tableName()
		if err != nil {
			return st, err
		}
		if !c.accept("to") {
			return st, fmt.Errorf("RENAME TABLE %s: expected TO", from)
		}
		to, err := c.tableName()
		if err != nil {
			return st, err
		}
		st.Renames = append(st.Renames, [2]TableName{from, to})
		if !c.acceptPunct(',') {
			return st, nil
		}
		c.acceptSeq("if", "exists")
	}
}

func (c *cursor) createTable() (ddlStmt, error) {
	t, err := c.tableName()
	if err != nil {
		return ddlStmt{}, err
	}
	st := ddlStmt{Kind: ddlCreate, Table: t}
	if c.accept("like") || (c.peek().isPunct('(') && c.peekAt(1).is("like")) {
		paren := c.acceptPunct('(')
		if paren {
			c.accept("like")
		}
		st.Kind = ddlCreateLike
		st.Like, err = c.tableName()
		return st, err
	}
	if !c.acceptPunct('(') {
		return ddlStmt{}, nil // CREATE TABLE ... SELECT without columns: not tracked
	}
	for !c.peek().isPunct(')') && c.peek().kind != tkEOF {
		switch {
		case c.acceptSeq("primary", "key"):
			if st.Key, err = c.indexColumns(); err != nil {
				return st, err
			}
		case c.accept("constraint"):
			if !c.peek().is("primary") && !c.peek().isPunct('(') {
				c.next()
			}
			if c.acceptSeq("primary", "key") {
				if st.Key, err = c.indexColumns(); err != nil {
					return st, err
				}
			}
		case c.peekAny("index", "key", "unique", "fulltext", "spatial", "foreign", "check", "period", "system"):
		default:
			col, err := c.columnDef()
			if err != nil {
				return st, fmt.Errorf("CREATE TABLE %s: %w", t, err)
			}
			if col.Spec.Key {
				st.Key = []string{col.Name}
			}
			st.Columns = append(st.Columns, col)
		}
		c.skipTo(',')
		c.acceptPunct(',')
	}
	c.acceptPunct(')')
	for c.peek().kind != tkEOF { // table options: the default character set matters
		switch {
		case c.accept("charset"), c.acceptSeq("character", "set"):
			c.acceptPunct('=')
			st.Charset = c.wordLower()
		default:
			c.next()
		}
	}
	return st, nil
}

// columnDef reads "name type attributes".
func (c *cursor) columnDef() (colDef, error) {
	name, err := c.ident()
	if err != nil {
		return colDef{}, err
	}
	spec, err := c.columnType()
	if err != nil {
		return colDef{}, fmt.Errorf("column %q: %w", name, err)
	}
	c.attributes(&spec, name)
	if !knownBases[spec.Base] {
		return colDef{}, fmt.Errorf("column %q: type %s is not supported", name, spec.Base)
	}
	return colDef{Name: name, Spec: spec}, nil
}

// indexColumns reads "(a, b(10) DESC, ...)" and returns the column names.
func (c *cursor) indexColumns() ([]string, error) {
	for c.peek().is("using") || (c.peek().kind != tkEOF && !c.peek().isPunct('(')) {
		c.next() // an index name or type before the columns
	}
	if !c.acceptPunct('(') {
		return nil, fmt.Errorf("expected the key's column list")
	}
	var cols []string
	for {
		n, err := c.ident()
		if err != nil {
			return nil, err
		}
		cols = append(cols, n)
		for !c.peek().isPunct(',') && !c.peek().isPunct(')') && c.peek().kind != tkEOF {
			if c.peek().isPunct('(') {
				c.skipGroup()
			} else {
				c.next()
			}
		}
		if !c.acceptPunct(',') {
			break
		}
	}
	if !c.acceptPunct(')') {
		return nil, fmt.Errorf("unterminated key column list")
	}
	return cols, nil
}
