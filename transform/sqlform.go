package transform

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/cdcd-dev/cdcd/change"
)

// parseSQL parses the SQL form of an aggregation named name.
func parseSQL(src, name string) (*Spec, error) {
	pp, err := prepSQL(src)
	if err != nil {
		return nil, err
	}
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes)
	stmts, _, err := p.ParseSQL(pp.out)
	if err != nil {
		return nil, pp.syntaxError(err)
	}
	tr := &translator{pp: pp}
	if len(stmts) != 1 {
		return nil, tr.errAt(len(src), "one SELECT ... GROUP BY statement expected, not "+strconv.Itoa(len(stmts)))
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || sel.Kind != ast.SelectStmtKindSelect {
		return nil, tr.errAt(0, "only SELECT ... GROUP BY is supported")
	}
	return tr.spec(sel, name)
}

// tidbSyntax matches the position in the TiDB parser's syntax errors: the column is near the end
// of the token it stopped at, and the quoted text starts with that token.
var tidbSyntax = regexp.MustCompile(`(?s)line (\d+) column (\d+) near "(.*)"`)

// syntaxError turns a TiDB parse error into a SyntaxError on the original text.
func (p *prepped) syntaxError(err error) error {
	m := tidbSyntax.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("syntax error: %v", err)
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	near := strings.TrimSuffix(strings.TrimRight(m[3], " "), `"`)
	if strings.TrimSpace(near) == "" {
		return syntaxErr(p.src, len(p.src), "syntax error: unexpected end of input", "")
	}
	approx := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(p.out[approx:], '\n')
		if i < 0 {
			break
		}
		approx += i + 1
	}
	approx += col
	// The offending token starts where the near text does, just before approx.
	at, best := -1, 0
	for i := 0; i < len(p.out); i++ {
		if strings.HasPrefix(p.out[i:], near[:min(len(near), 40)]) {
			if d := abs(approx - i); at < 0 || d < best {
				at, best = i, d
			}
		}
	}
	if at < 0 {
		return fmt.Errorf("syntax error: %v", err)
	}
	start := p.origin(at)
	text := near
	for _, t := range p.toks {
		if t.start == start {
			text = p.src[t.start:t.end]
		}
	}
	return syntaxErr(p.src, start, "syntax error: unexpected "+strconv.Quote(text), "")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// translator turns a parsed SELECT into a Spec.
type translator struct {
	pp     *prepped
	tables []string // names a column may be qualified with: the table and its alias
}

// errAt builds a SyntaxError at offset off of the original text.
func (t *translator) errAt(off int, msg string) error {
	return syntaxErr(t.pp.src, off, msg, "")
}

// errNode builds a SyntaxError at the node's position.
func (t *translator) errNode(n ast.Node, format string, args ...any) error {
	return t.errAt(t.pp.origin(n.OriginTextPosition()), fmt.Sprintf(format, args...))
}

// keywordAt returns the offset of the first keyword kw in the original text, for clauses the
// parser gives no position; 0 when it is not there.
func (t *translator) keywordAt(kw string) int {
	for _, tok := range t.pp.toks {
		if tok.word(kw) {
			return tok.start
		}
	}
	return 0
}

func (t *translator) unsupported(kw, what string) error {
	return t.errAt(t.keywordAt(kw), what+" is not supported")
}

func (t *translator) spec(sel *ast.SelectStmt, name string) (*Spec, error) {
	switch {
	case sel.With != nil:
		return nil, t.unsupported("WITH", "WITH")
	case sel.Distinct:
		return nil, t.unsupported("DISTINCT", "SELECT DISTINCT")
	case sel.Having != nil:
		return nil, t.unsupported("HAVING", "HAVING")
	case sel.OrderBy != nil:
		return nil, t.unsupported("ORDER", "ORDER BY")
	case sel.Limit != nil:
		return nil, t.unsupported("LIMIT", "LIMIT")
	case len(sel.WindowSpecs) > 0:
		return nil, t.unsupported("WINDOW", "WINDOW")
	case sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone:
		return nil, t.unsupported("FOR", "FOR UPDATE")
	case sel.SelectIntoOpt != nil:
		return nil, t.unsupported("INTO", "SELECT INTO")
	case len(sel.TableHints) > 0:
		return nil, t.errAt(0, "optimizer hints are not supported")
	case sel.From == nil:
		return nil, t.errAt(len(t.pp.src), "FROM source.schema.table is required")
	case sel.GroupBy == nil:
		return nil, t.errAt(len(t.pp.src), "GROUP BY is required")
	}
	s := &Spec{Name: name}
	if err := t.from(sel.From, s); err != nil {
		return nil, err
	}
	if err := t.groupBy(sel.GroupBy, s); err != nil {
		return nil, err
	}
	if err := t.fields(sel.Fields, s); err != nil {
		return nil, err
	}
	if sel.Where != nil {
		f := &finder{}
		sel.Where.Accept(f)
		if f.found != nil {
			return nil, t.errNode(f.found, "%s", f.what)
		}
		w, err := t.where(sel.Where)
		if err != nil {
			return nil, err
		}
		s.Where = w
	}
	return s, nil
}

func (t *translator) from(f *ast.TableRefsClause, s *Spec) error {
	j := f.TableRefs
	if j.Right != nil {
		return t.unsupported("JOIN", "a join (FROM more than one table)")
	}
	ts, ok := j.Left.(*ast.TableSource)
	if !ok {
		return t.unsupported("JOIN", "a join (FROM more than one table)")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return t.unsupported("FROM", "a subquery in FROM")
	}
	var parts [3]string
	found := false
	joined := tn.Name.O
	for _, p := range t.pp.tables {
		if tn.Schema.O == "" && strings.Join(p[:], ".") == joined {
			parts, found = p, true
		}
	}
	if !found {
		name := joined
		if tn.Schema.O != "" {
			name = tn.Schema.O + "." + joined
		}
		return t.errAt(t.keywordAt("FROM"), fmt.Sprintf("FROM %s: name the table as source.schema.table", name))
	}
	s.From = change.TableID{Source: parts[0], Namespace: parts[1], Name: parts[2]}
	t.tables = []string{parts[2]}
	if ts.AsName.O != "" {
		t.tables = []string{ts.AsName.O}
	}
	return nil
}

// column returns the name of a column reference, which may be qualified by the table or its alias.
func (t *translator) column(e ast.ExprNode) (string, bool, error) {
	c, ok := e.(*ast.ColumnNameExpr)
	if !ok {
		return "", false, nil
	}
	if c.Name.Schema.O != "" || c.Name.Table.O != "" && !strings.EqualFold(c.Name.Table.O, t.tables[0]) {
		return "", false, t.errNode(e, "column %s: qualify columns with the table's alias or not at all", c.Name.String())
	}
	return c.Name.Name.O, true, nil
}

func (t *translator) groupBy(g *ast.GroupByClause, s *Spec) error {
	if g.Rollup {
		return t.unsupported("ROLLUP", "WITH ROLLUP")
	}
	for _, item := range g.Items {
		if col, ok, err := t.column(item.Expr); err != nil {
			return err
		} else if ok {
			s.GroupBy = append(s.GroupBy, col)
			continue
		}
		fc, ok := item.Expr.(*ast.FuncCallExpr)
		if !ok || fc.FnName.L != "tumble" && fc.FnName.L != "hop" {
			return t.errNode(item.Expr, "GROUP BY takes columns and at most one tumble(column, size) or hop(column, size, hop)")
		}
		if s.Window != nil {
			return t.errNode(item.Expr, "GROUP BY has more than one window")
		}
		nargs := 2
		if fc.FnName.L == "hop" {
			nargs = 3
		}
		if len(fc.Args) != nargs {
			return t.errNode(item.Expr, "%s takes %d arguments: %s(column, size%s)", fc.FnName.L, nargs, fc.FnName.L, map[bool]string{true: ", hop"}[nargs == 3])
		}
		col, ok, err := t.column(fc.Args[0])
		if err != nil {
			return err
		} else if !ok {
			return t.errNode(fc.Args[0], "the first argument of %s must be the event-time column", fc.FnName.L)
		}
		w := &Window{Column: col}
		for i, dst := range []*time.Duration{&w.Size, &w.Hop}[:nargs-1] {
			v, ok := fc.Args[i+1].(*test_driver.ValueExpr)
			if !ok || v.Kind() != test_driver.KindString {
				return t.errNode(fc.Args[i+1], "a window size is a string like '1 minute' or INTERVAL '1 minute'")
			}
			d, err := ParseSize(v.GetString())
			if err != nil {
				return t.errNode(fc.Args[i+1], "%v", err)
			}
			*dst = d
		}
		if nargs == 2 {
			w.Hop = w.Size
		}
		s.Window = w
	}
	return nil
}

func (t *translator) fields(fl *ast.FieldList, s *Spec) error {
	selected := map[string]bool{}
	for _, f := range fl.Fields {
		if f.WildCard != nil {
			return t.errAt(t.pp.origin(f.Offset), "SELECT * is not supported: list the group columns and the measures")
		}
		if col, ok, err := t.column(f.Expr); err != nil {
			return err
		} else if ok {
			if f.AsName.O != "" && f.AsName.O != col {
				return t.errNode(f.Expr, "group column %s cannot be renamed: output columns keep the source's names", col)
			}
			if col == "window_start" || col == "window_end" {
				if s.Window == nil {
					return t.errNode(f.Expr, "%s needs a window: GROUP BY tumble(column, size) or hop(column, size, hop)", col)
				}
				continue
			}
			if !containsStr(s.GroupBy, col) {
				return t.errNode(f.Expr, "column %s must be in GROUP BY or used in an aggregate", col)
			}
			selected[col] = true
			continue
		}
		m, err := t.measure(f.Expr)
		if err != nil {
			return err
		}
		if f.AsName.O == "" {
			call := m.String()
			if m.Func == Count {
				call = "count(*)"
			}
			return t.errNode(f.Expr, "an aggregate needs a name: write %s AS name", call)
		}
		m.Name = f.AsName.O
		s.Measures = append(s.Measures, m)
	}
	for _, g := range s.GroupBy {
		if !selected[g] {
			return t.errAt(t.keywordAt("GROUP"), fmt.Sprintf("group column %s must be in the SELECT list", g))
		}
	}
	if len(s.Measures) == 0 {
		return t.errAt(0, "SELECT has no aggregate: add count(*) AS n or another measure")
	}
	return nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// measure translates an aggregate call of the SELECT list.
func (t *translator) measure(e ast.ExprNode) (Measure, error) {
	var fn string
	var args []ast.ExprNode
	distinct := false
	switch x := e.(type) {
	case *ast.AggregateFuncExpr:
		fn, args, distinct = strings.ToLower(x.F), x.Args, x.Distinct
	case *ast.FuncCallExpr:
		if x.FnName.L != "count_distinct" {
			return Measure{}, t.errNode(e, "function %s() is not supported: use count, sum, avg, min, max or count(DISTINCT column)", x.FnName.O)
		}
		fn, args = "count_distinct", x.Args
	default:
		return Measure{}, t.errNode(e, "unsupported expression in the SELECT list: only group columns and count, sum, avg, min, max, count(DISTINCT column)")
	}
	var m Measure
	var ok bool
	if m.Func, ok = measureFuncs[fn]; !ok {
		return m, t.errNode(e, "aggregate %s() is not supported: use count, sum, avg, min, max or count(DISTINCT column)", fn)
	}
	if fn == "count" && distinct {
		m.Func = CountDistinct
	}
	if distinct && fn != "count" {
		return m, t.errNode(e, "%s(DISTINCT ...) is not supported; count(DISTINCT column) is", fn)
	}
	if len(args) != 1 {
		return m, t.errNode(e, "%s() takes one argument", fn)
	}
	if v, ok := args[0].(*test_driver.ValueExpr); ok && fn == "count" && !distinct {
		if v.Kind() == test_driver.KindNull {
			return m, t.errNode(e, "count(NULL) is always 0")
		}
		m.Func = Count // count(*), count(1)
		return m, nil
	}
	col, ok, err := t.column(args[0])
	if err != nil {
		return m, err
	} else if !ok {
		return m, t.errNode(args[0], "the argument of %s() must be a column", fn)
	}
	m.Column = col
	return m, nil
}
