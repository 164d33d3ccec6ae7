package mysql

import (
	"fmt"
	"strings"
)

// cursor walks a statement's tokens.
type cursor struct {
	toks []token
	i    int
	db   string // the default database
}

func (c *cursor) peek() token { return c.peekAt(0) }

func (c *cursor) peekAt(n int) token {
	if c.i+n < len(c.toks) {
		return c.toks[c.i+n]
	}
	return token{}
}

func (c *cursor) next() token {
	t := c.peek()
	if c.i < len(c.toks) {
		c.i++
	}
	return t
}

func (c *cursor) accept(kw string) bool {
	if c.peek().is(kw) {
		c.i++
		return true
	}
	return false
}

// acceptSeq accepts the keywords kws in a row, or nothing.
func (c *cursor) acceptSeq(kws ...string) bool {
	for j, kw := range kws {
		if !c.peekAt(j).is(kw) {
			return false
		}
	}
	c.i += len(kws)
	return true
}

func (c *cursor) peekAny(kws ...string) bool {
	for _, kw := range kws {
		if c.peek().is(kw) {
			return true
		}
	}
	return false
}

func (c *cursor) acceptPunct(p byte) bool {
	if c.peek().isPunct(p) {
		c.i++
		return true
	}
	return false
}

func (c *cursor) ident() (string, error) {
	t := c.next()
	if n, ok := t.name(); ok {
		return n, nil
	}
	if t.kind == tkEOF {
		return "", fmt.Errorf("expected a name, found the end of the statement")
	}
	return "", fmt.Errorf("expected a name, found %q", t.text)
}

// wordLower reads a word or name (a charset) in lower case.
func (c *cursor) wordLower() string {
	c.acceptPunct('=')
	n, _ := c.next().name()
	return strings.ToLower(n)
}

// tableName reads [db.]name; a table without a database is in the default one.
func (c *cursor) tableName() (TableName, error) {
	first, err := c.ident()
	if err != nil {
		return TableName{}, err
	}
	if c.acceptPunct('.') {
		second, err := c.ident()
		return TableName{DB: first, Name: second}, err
	}
	if c.db == "" {
		return TableName{}, fmt.Errorf("table %q has no database and the statement has no default one", first)
	}
	return TableName{DB: c.db, Name: first}, nil
}

// skipGroup skips a parenthesised group starting at the cursor.
func (c *cursor) skipGroup() {
	depth := 0
	for {
		t := c.next()
		switch {
		case t.kind == tkEOF:
			return
		case t.isPunct('('):
			depth++
		case t.isPunct(')'):
			depth--
			if depth <= 0 {
				return
			}
		}
	}
}

// skipTo advances to the next p at depth 0 (or a closing parenthesis of the enclosing group).
func (c *cursor) skipTo(p byte) {
	for {
		t := c.peek()
		switch {
		case t.kind == tkEOF, t.isPunct(p), t.isPunct(')'):
			return
		case t.isPunct('('):
			c.skipGroup()
		default:
			c.next()
		}
	}
}
