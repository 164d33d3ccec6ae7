package transform

import (
	"fmt"
	"strconv"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// where translates a WHERE expression into the where language's Predicate.
func (t *translator) where(e ast.ExprNode) (Predicate, error) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return t.where(x.Expr)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr:
			l, err := t.where(x.L)
			if err != nil {
				return nil, err
			}
			r, err := t.where(x.R)
			if err != nil {
				return nil, err
			}
			if x.Op == opcode.LogicAnd {
				return And{l, r}, nil
			}
			return Or{l, r}, nil
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE:
			op := map[opcode.Op]CmpOp{opcode.EQ: OpEq, opcode.NE: OpNe, opcode.LT: OpLt,
				opcode.LE: OpLe, opcode.GT: OpGt, opcode.GE: OpGe}[x.Op]
			col, ok, err := t.column(x.L)
			lit := x.R
			if err == nil && !ok {
				if col, ok, err = t.column(x.R); ok {
					op, lit = op.mirror(), x.L
				}
			}
			if err != nil {
				return nil, err
			} else if !ok {
				return nil, t.errNode(e, "a comparison must compare a column with a value")
			}
			v, err := t.literal(lit)
			if err != nil {
				return nil, err
			}
			return Compare{Column: col, Op: op, Value: v}, nil
		}
		return nil, t.errNode(e, "operator %s is not supported in WHERE", x.Op)
	case *ast.UnaryOperationExpr:
		if x.Op != opcode.Not && x.Op != opcode.Not2 {
			return nil, t.errNode(e, "operator %s is not supported in WHERE", x.Op)
		}
		p, err := t.where(x.V)
		if err != nil {
			return nil, err
		}
		return Not{p}, nil
	case *ast.IsNullExpr:
		col, err := t.whereColumn(x.Expr)
		if err != nil {
			return nil, err
		}
		return IsNull{Column: col, Not: x.Not}, nil
	case *ast.PatternInExpr:
		if x.Sel != nil {
			return nil, t.errNode(x.Sel, "a subquery is not supported")
		}
		col, err := t.whereColumn(x.Expr)
		if err != nil {
			return nil, err
		}
		in := In{Column: col, Not: x.Not}
		for _, item := range x.List {
			v, err := t.literal(item)
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, v)
		}
		return in, nil
	case *ast.BetweenExpr:
		col, err := t.whereColumn(x.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := t.literal(x.Left)
		if err != nil {
			return nil, err
		}
		hi, err := t.literal(x.Right)
		if err != nil {
			return nil, err
		}
		if x.Not {
			return Or{Compare{col, OpLt, lo}, Compare{col, OpGt, hi}}, nil
		}
		return And{Compare{col, OpGe, lo}, Compare{col, OpLe, hi}}, nil
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		return nil, t.errNode(e, "a subquery is not supported")
	case *ast.FuncCallExpr:
		return nil, t.errNode(e, "function %s() is not supported in WHERE", x.FnName.O)
	case *ast.AggregateFuncExpr:
		return nil, t.errNode(e, "aggregate %s() is not allowed in WHERE", x.F)
	case *ast.PatternLikeOrIlikeExpr:
		return nil, t.errNode(e, "LIKE is not supported")
	case *ast.ColumnNameExpr:
		col, err := t.whereColumn(x)
		if err != nil {
			return nil, err
		}
		return Truth{Column: col}, nil
	}
	return nil, t.errNode(e, "unsupported expression in WHERE: use comparisons, IN, IS NULL, BETWEEN, AND, OR, NOT")
}

// finder finds the first construct of a WHERE clause that cannot be translated whatever its
// place: a function call or a subquery.
type finder struct {
	found ast.Node
	what  string
}

func (f *finder) Enter(n ast.Node) (ast.Node, bool) {
	if f.found != nil {
		return n, true
	}
	switch x := n.(type) {
	case *ast.FuncCallExpr:
		f.found, f.what = n, fmt.Sprintf("function %s() is not supported in WHERE", x.FnName.O)
	case *ast.AggregateFuncExpr:
		f.found, f.what = n, fmt.Sprintf("aggregate %s() is not allowed in WHERE", x.F)
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		f.found, f.what = n, "a subquery is not supported"
	}
	return n, f.found != nil
}

func (f *finder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (t *translator) whereColumn(e ast.ExprNode) (string, error) {
	col, ok, err := t.column(e)
	if err == nil && !ok {
		err = t.errNode(e, "expected a column")
	}
	return col, err
}

// literal translates a constant: a string, a number (optionally negated), TRUE, FALSE or NULL.
func (t *translator) literal(e ast.ExprNode) (Literal, error) {
	neg := false
	if u, ok := e.(*ast.UnaryOperationExpr); ok && (u.Op == opcode.Minus || u.Op == opcode.Plus) {
		neg, e = u.Op == opcode.Minus, u.V
	}
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return Literal{}, t.errNode(e, "expected a value: a 'string', a number, TRUE, FALSE or NULL")
	}
	number := func(text string) (Literal, error) { return numberLiteral(text, neg), nil }
	switch v.Kind() {
	case test_driver.KindInt64:
		if mysql.HasIsBooleanFlag(v.GetType().GetFlag()) && !neg {
			return Literal{Kind: LitBool, Text: map[bool]string{true: "TRUE", false: "FALSE"}[v.GetInt64() != 0]}, nil
		}
		return number(strconv.FormatInt(v.GetInt64(), 10))
	case test_driver.KindUint64:
		return number(strconv.FormatUint(v.GetUint64(), 10))
	case test_driver.KindMysqlDecimal:
		return number(v.GetMysqlDecimal().String())
	case test_driver.KindNull:
		if !neg {
			return Literal{Kind: LitNull, Text: "NULL"}, nil
		}
	case test_driver.KindString:
		if !neg {
			return Literal{Kind: LitString, Text: v.GetString()}, nil
		}
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return Literal{}, t.errNode(e, "floating-point literals are not supported: write a decimal like 1000.5")
	}
	return Literal{}, t.errNode(e, "expected a value: a 'string', a number, TRUE, FALSE or NULL")
}
