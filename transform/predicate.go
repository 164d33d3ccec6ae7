package transform

import (
	"fmt"
	"strings"
)

// Predicate is a parsed where condition: And, Or, Not, Compare, In, IsNull or Truth. It holds column
// names and literals only; Bind checks it against a table. String renders it in the where
// language, and parsing that text gives the same Predicate.
type Predicate interface {
	String() string
	predicate()
}

// And is Left AND Right.
type And struct{ Left, Right Predicate }

// Or is Left OR Right.
type Or struct{ Left, Right Predicate }

// Not is NOT X.
type Not struct{ X Predicate }

// Compare is Column Op Value.
type Compare struct {
	Column string
	Op     CmpOp
	Value  Literal
}

// In is Column [NOT] IN (Values...).
type In struct {
	Column string
	Values []Literal
	Not    bool
}

// IsNull is Column IS [NOT] NULL.
type IsNull struct {
	Column string
	Not    bool
}

// Truth is a column alone as a condition: a boolean column is Column = TRUE; a numeric one, as
// MySQL reads it, Column <> 0.
type Truth struct{ Column string }

func (And) predicate()     {}
func (Truth) predicate()   {}
func (Or) predicate()      {}
func (Not) predicate()     {}
func (Compare) predicate() {}
func (In) predicate()      {}
func (IsNull) predicate()  {}

// CmpOp is a comparison operator.
type CmpOp uint8

// The comparison operators.
const (
	OpEq CmpOp = iota + 1 // =
	OpNe                  // <> (also written !=)
	OpLt                  // <
	OpLe                  // <=
	OpGt                  // >
	OpGe                  // >=
)

var cmpOpText = [...]string{OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (o CmpOp) String() string {
	if o >= OpEq && o <= OpGe {
		return cmpOpText[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// mirror returns the operator with its operands swapped: a < b is b > a.
func (o CmpOp) mirror() CmpOp {
	switch o {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return o
}

func parseCmpOp(s string) CmpOp {
	switch s {
	case "=":
		return OpEq
	case "!=", "<>":
		return OpNe
	case "<":
		return OpLt
	case "<=":
		return OpLe
	case ">":
		return OpGt
	case ">=":
		return OpGe
	}
	return 0
}

// LiteralKind is the kind of a literal.
type LiteralKind uint8

// The kinds of literals.
const (
	LitNull    LiteralKind = iota + 1 // NULL
	LitBool                           // TRUE, FALSE
	LitInt                            // 42, -7 (any size)
	LitDecimal                        // 1.50, -0.5 (exact)
	LitString                         // 'text'
)

// Literal is a constant of the where language. Text is the string's content, the number in
// canonical form (no leading zeros or plus sign; a decimal keeps its written fraction digits),
// "TRUE"/"FALSE" or "NULL".
type Literal struct {
	Kind LiteralKind
	Text string
}

// String renders the literal as the where language writes it.
func (l Literal) String() string {
	if l.Kind == LitString {
		return quoteString(l.Text)
	}
	return l.Text
}

// describe names the literal for type errors: "the number 5", "the string 'x'".
func (l Literal) describe() string {
	switch l.Kind {
	case LitInt, LitDecimal:
		return "the number " + l.Text
	case LitString:
		return "the string " + quoteString(l.Text)
	case LitBool:
		return "the boolean " + l.Text
	}
	return "NULL"
}

// numberLiteral canonicalises an unsigned number as lexed ("007", ".5", "1.50"), negated when neg.
func numberLiteral(text string, neg bool) Literal {
	ip, frac, isDec := strings.Cut(text, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	lit := Literal{Kind: LitInt, Text: ip}
	if isDec && frac != "" { // "5." is the integer 5
		lit.Kind = LitDecimal
		lit.Text += "." + frac
	}
	if neg && strings.Trim(lit.Text, "0.") != "" {
		lit.Text = "-" + lit.Text
	}
	return lit
}

func (p And) String() string { return wrap(p.Left, false) + " AND " + wrap(p.Right, false) }
func (p Or) String() string  { return wrap(p.Left, true) + " OR " + wrap(p.Right, true) }
func (p Not) String() string { return "NOT " + wrap(p.X, false) }

func (p Compare) String() string {
	return quoteIdent(p.Column) + " " + p.Op.String() + " " + p.Value.String()
}

func (p In) String() string {
	vals := make([]string, len(p.Values))
	for i, v := range p.Values {
		vals[i] = v.String()
	}
	not := ""
	if p.Not {
		not = "NOT "
	}
	return quoteIdent(p.Column) + " " + not + "IN (" + strings.Join(vals, ", ") + ")"
}

func (p Truth) String() string { return quoteIdent(p.Column) }

func (p IsNull) String() string {
	if p.Not {
		return quoteIdent(p.Column) + " IS NOT NULL"
	}
	return quoteIdent(p.Column) + " IS NULL"
}

// wrap renders a child of AND (orOK false) or OR (orOK true) or NOT, parenthesised when needed
// to keep the tree's shape when parsed again.
func wrap(p Predicate, orOK bool) string {
	switch p.(type) {
	case Or:
		if !orOK {
			return "(" + p.String() + ")"
		}
	case And:
		return "(" + p.String() + ")"
	}
	return p.String()
}

// ParseWhere parses a predicate of the where language (see the package doc).
func ParseWhere(src string) (Predicate, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &whereParser{src: src, toks: toks}
	pred, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected("expected AND, OR or the end")
	}
	return pred, nil
}

type whereParser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// maxDepth bounds nesting (parentheses, NOT) so that a hostile predicate cannot exhaust the stack.
const maxDepth = 200

func (p *whereParser) peek() token { return p.toks[p.i] }
func (p *whereParser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *whereParser) unexpected(expected string) error {
	t := p.peek()
	return syntaxErr(p.src, t.pos, "unexpected "+t.describe(), expected)
}

func (p *whereParser) or() (Predicate, error) {
	left, err := p.and()
	for err == nil && p.peek().keyword("OR") {
		p.next()
		var right Predicate
		if right, err = p.and(); err == nil {
			left = Or{left, right}
		}
	}
	return left, err
}

func (p *whereParser) and() (Predicate, error) {
	left, err := p.not()
	for err == nil && p.peek().keyword("AND") {
		p.next()
		var right Predicate
		if right, err = p.not(); err == nil {
			left = And{left, right}
		}
	}
	return left, err
}

func (p *whereParser) not() (Predicate, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.unexpected("nested too deeply")
	}
	defer func() { p.depth-- }()
	if p.peek().keyword("NOT") {
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.unexpected(`expected ")"`)
		}
		p.next()
		return x, nil
	}
	return p.condition()
}

// column reads a column name: a bare identifier that is no keyword, or a quoted one.
func (p *whereParser) column() (string, bool) {
	t := p.peek()
	if t.kind == tQIdent || t.kind == tIdent && !isKeyword(t.raw) {
		p.next()
		return t.val, true
	}
	return "", false
}

func (p *whereParser) condition() (Predicate, error) {
	col, ok := p.column()
	if !ok {
		return nil, p.unexpected("expected a column")
	}
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return Compare{Column: col, Op: parseCmpOp(t.val), Value: lit}, nil
	case t.keyword("IS"):
		p.next()
		not := p.peek().keyword("NOT")
		if not {
			p.next()
		}
		if !p.peek().keyword("NULL") {
			return nil, p.unexpected("expected NULL")
		}
		p.next()
		return IsNull{Column: col, Not: not}, nil
	case t.keyword("NOT") || t.keyword("IN"):
		p.next()
		not := t.keyword("NOT")
		if not {
			if !p.peek().keyword("IN") {
				return nil, p.unexpected("expected IN")
			}
			p.next()
		}
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		return In{Column: col, Values: vals, Not: not}, nil
	case t.kind == tEOF || t.kind == tRParen || t.keyword("AND") || t.keyword("OR"):
		return Truth{Column: col}, nil
	}
	return nil, p.unexpected("expected a comparison: =, <>, !=, <, <=, >, >=, IN, NOT IN or IS")
}

func (p *whereParser) list() ([]Literal, error) {
	if p.peek().kind != tLParen {
		return nil, p.unexpected(`expected "("`)
	}
	p.next()
	var vals []Literal
	for {
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		vals = append(vals, lit)
		switch p.next().kind {
		case tComma:
			continue
		case tRParen:
			return vals, nil
		}
		p.i--
		return nil, p.unexpected(`expected "," or ")"`)
	}
}

func (p *whereParser) literal() (Literal, error) {
	t := p.next()
	switch {
	case t.kind == tString:
		return Literal{Kind: LitString, Text: t.val}, nil
	case t.kind == tNumber:
		return numberLiteral(t.val, false), nil
	case t.kind == tMinus && p.peek().kind == tNumber:
		return numberLiteral(p.next().val, true), nil
	case t.keyword("TRUE"), t.keyword("FALSE"):
		return Literal{Kind: LitBool, Text: strings.ToUpper(t.raw)}, nil
	case t.keyword("NULL"):
		return Literal{Kind: LitNull, Text: "NULL"}, nil
	}
	p.i--
	return Literal{}, p.unexpected("expected a value")
}

// columns appends the columns p refers to, in order of appearance.
func columns(p Predicate, dst []string) []string {
	switch x := p.(type) {
	case And:
		return columns(x.Right, columns(x.Left, dst))
	case Or:
		return columns(x.Right, columns(x.Left, dst))
	case Not:
		return columns(x.X, dst)
	case Compare:
		return append(dst, x.Column)
	case In:
		return append(dst, x.Column)
	case IsNull:
		return append(dst, x.Column)
	case Truth:
		return append(dst, x.Column)
	}
	return dst
}
