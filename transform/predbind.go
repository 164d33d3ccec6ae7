package transform

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// tri is a value of SQL's three-valued logic.
type tri uint8

const (
	tFalse tri = iota
	tTrue
	tUnknown
)

func (t tri) not() tri {
	switch t {
	case tFalse:
		return tTrue
	case tTrue:
		return tFalse
	}
	return tUnknown
}

// cond is a Predicate bound to a table's columns.
type cond interface {
	eval(row []any) tri
}

type andCond struct{ l, r cond }
type orCond struct{ l, r cond }
type notCond struct{ x cond }
type isNullCond struct {
	col int
	not bool
}
type cmpCond struct {
	col int
	op  CmpOp
	lit boundLit
}
type inCond struct {
	col  int
	lits []boundLit
	not  bool
}

func (c andCond) eval(row []any) tri {
	l := c.l.eval(row)
	if l == tFalse {
		return tFalse
	}
	r := c.r.eval(row)
	if r == tFalse {
		return tFalse
	}
	if l == tTrue && r == tTrue {
		return tTrue
	}
	return tUnknown
}

func (c orCond) eval(row []any) tri {
	l := c.l.eval(row)
	if l == tTrue {
		return tTrue
	}
	r := c.r.eval(row)
	if r == tTrue {
		return tTrue
	}
	if l == tFalse && r == tFalse {
		return tFalse
	}
	return tUnknown
}

func (c notCond) eval(row []any) tri { return c.x.eval(row).not() }

func (c isNullCond) eval(row []any) tri {
	if (row[c.col] == nil) != c.not {
		return tTrue
	}
	return tFalse
}

func (c *cmpCond) eval(row []any) tri {
	v := row[c.col]
	if v == nil || c.lit.null {
		return tUnknown
	}
	r, ok := c.lit.compare(v)
	if !ok {
		return tUnknown
	}
	var res bool
	switch c.op {
	case OpEq:
		res = r == 0
	case OpNe:
		res = r != 0
	case OpLt:
		res = r < 0
	case OpLe:
		res = r <= 0
	case OpGt:
		res = r > 0
	case OpGe:
		res = r >= 0
	}
	if res {
		return tTrue
	}
	return tFalse
}

func (c *inCond) eval(row []any) tri {
	v := row[c.col]
	if v == nil {
		return tUnknown
	}
	res := tFalse
	for i := range c.lits {
		if c.lits[i].null {
			res = tUnknown
			continue
		}
		if r, ok := c.lits[i].compare(v); ok && r == 0 {
			res = tTrue
			break
		}
	}
	if c.not {
		return res.not()
	}
	return res
}

// boundLit is a literal converted to the class of the column it is compared with.
type boundLit struct {
	cls  class
	null bool
	// Integer columns: i or u is the literal's floor, clamped; frac marks a literal strictly
	// above its floor; below/above mark a literal outside the column's range.
	i            int64
	u            uint64
	frac         bool
	below, above bool
	f            float64
	d            decimal.Decimal
	s            string
	b            bool
	t            time.Time
	id           uuid.UUID
}

// compare orders the column value v against the literal; ok is false when v is not of the
// literal's class.
func (l *boundLit) compare(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		if l.cls != clsInt {
			return 0, false
		}
		return l.cmpInteger(cmpOrdered(x, l.i)), true
	case uint64:
		if l.cls != clsUint {
			return 0, false
		}
		return l.cmpInteger(cmpOrdered(x, l.u)), true
	case float64:
		return cmpFloat(x, l.f), l.cls == clsFloat
	case decimal.Decimal:
		if l.cls != clsDec {
			return 0, false
		}
		return x.Cmp(l.d), true
	case string:
		return strings.Compare(x, l.s), l.cls == clsString
	case []byte:
		return bytes.Compare(x, []byte(l.s)), l.cls == clsBytes
	case bool:
		return cmpBool(x, l.b), l.cls == clsBool
	case time.Time:
		return x.Compare(l.t), l.cls == clsTime
	case time.Duration:
		return cmpOrdered(x, time.Duration(l.i)), l.cls == clsDur
	case uuid.UUID:
		return bytes.Compare(x[:], l.id[:]), l.cls == clsUUID
	}
	return 0, false
}

// cmpInteger turns the comparison of an integer value with the literal's floor into the
// comparison with the literal itself.
func (l *boundLit) cmpInteger(c int) int {
	switch {
	case l.above:
		return -1
	case l.below:
		return 1
	case c == 0 && l.frac:
		return -1
	}
	return c
}

// bindLiteral converts lit for comparisons with a column of type t; the error says why they
// cannot be compared.
func bindLiteral(lit Literal, t change.Type) (boundLit, error) {
	cls := classOf(t.Kind)
	b := boundLit{cls: cls}
	if lit.Kind == LitNull {
		b.null = true
		return b, nil
	}
	numeric := lit.Kind == LitInt || lit.Kind == LitDecimal
	mismatch := fmt.Errorf("a %s column cannot be compared with %s", t, lit.describe())
	switch cls {
	case clsInt, clsUint:
		if !numeric {
			return b, mismatch
		}
		d, err := decimal.NewFromString(lit.Text)
		if err != nil {
			return b, mismatch
		}
		fl := d.Floor()
		b.frac = !d.Equal(fl)
		lo, hi := decimal.NewFromInt(math.MinInt64), decimal.NewFromInt(math.MaxInt64)
		if cls == clsUint {
			lo, hi = decimal.Zero, decimal.NewFromUint64(math.MaxUint64)
		}
		switch {
		case fl.LessThan(lo):
			b.below = true
		case fl.GreaterThan(hi):
			b.above = true
		case cls == clsInt:
			b.i = fl.IntPart()
		default:
			b.u, _ = strconv.ParseUint(fl.String(), 10, 64)
		}
	case clsFloat:
		if !numeric {
			return b, mismatch
		}
		f, err := strconv.ParseFloat(lit.Text, 64)
		if err != nil {
			return b, mismatch
		}
		if t.Kind == change.Float32 {
			f = float64(float32(f))
		}
		b.f = f
	case clsDec:
		if !numeric {
			return b, mismatch
		}
		d, err := decimal.NewFromString(lit.Text)
		if err != nil {
			return b, mismatch
		}
		if t.Precision > 0 && d.Exponent() > -int32(t.Scale) {
			d = d.Round(int32(t.Scale)) // exact: only adds zeros, so that Cmp need not rescale
		}
		b.d = d
	case clsString, clsBytes:
		if lit.Kind != LitString {
			return b, mismatch
		}
		b.s = lit.Text
	case clsBool:
		if lit.Kind != LitBool {
			return b, mismatch
		}
		b.b = lit.Text == "TRUE"
	case clsTime:
		if lit.Kind != LitString {
			return b, mismatch
		}
		tm, err := parseTimeLiteral(lit.Text)
		if err != nil {
			return b, fmt.Errorf("%s is not a date or timestamp: use 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|+hh:mm]'", lit.describe())
		}
		b.t = tm
	case clsDur:
		if lit.Kind != LitString {
			return b, mismatch
		}
		d, err := parseTimeOfDay(lit.Text)
		if err != nil {
			return b, fmt.Errorf("%s is not a time of day: use 'HH:MM:SS[.ffffff]'", lit.describe())
		}
		b.i = int64(d)
	case clsUUID:
		if lit.Kind != LitString {
			return b, mismatch
		}
		id, err := uuid.Parse(lit.Text)
		if err != nil {
			return b, fmt.Errorf("%s is not a UUID", lit.describe())
		}
		b.id = id
	default:
		return b, fmt.Errorf("a %s column cannot be compared", t)
	}
	return b, nil
}

var timeLayouts = []string{
	"2006-01-02", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999 Z07:00",
}

// parseTimeLiteral reads a date or timestamp literal; without a zone it is UTC.
func parseTimeLiteral(s string) (time.Time, error) {
	var err error
	for _, layout := range timeLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// parseTimeOfDay reads 'HH:MM:SS[.ffffff]' as a duration since midnight.
func parseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		return 0, err
	}
	return t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)), nil
}

// bindPredicate compiles p against table t; resolve maps a column name to its index.
func bindPredicate(p Predicate, t *change.Table, resolve func(string) (int, error)) (cond, error) {
	switch x := p.(type) {
	case And, Or:
		var l, r Predicate
		if a, ok := x.(And); ok {
			l, r = a.Left, a.Right
		} else {
			l, r = x.(Or).Left, x.(Or).Right
		}
		lc, err := bindPredicate(l, t, resolve)
		if err != nil {
			return nil, err
		}
		rc, err := bindPredicate(r, t, resolve)
		if err != nil {
			return nil, err
		}
		if _, ok := x.(And); ok {
			return andCond{lc, rc}, nil
		}
		return orCond{lc, rc}, nil
	case Not:
		c, err := bindPredicate(x.X, t, resolve)
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	case IsNull:
		i, err := resolve(x.Column)
		if err != nil {
			return nil, err
		}
		return isNullCond{col: i, not: x.Not}, nil
	case Compare:
		i, err := resolve(x.Column)
		if err != nil {
			return nil, err
		}
		lit, err := bindLiteral(x.Value, t.Columns[i].Type)
		if err != nil {
			return nil, fmt.Errorf("where: column %q: %w", t.Columns[i].Name, err)
		}
		return &cmpCond{col: i, op: x.Op, lit: lit}, nil
	case Truth:
		i, err := resolve(x.Column)
		if err != nil {
			return nil, err
		}
		ty := t.Columns[i].Type
		lit, op := Literal{Kind: LitBool, Text: "TRUE"}, OpEq
		switch ty.Kind {
		case change.Bool:
		case change.Int8, change.Int16, change.Int32, change.Int64, change.UInt8, change.UInt16, change.UInt32, change.UInt64,
			change.Decimal, change.Float32, change.Float64:
			lit, op = Literal{Kind: LitInt, Text: "0"}, OpNe
		default:
			return nil, fmt.Errorf("where: column %q (%s) alone is not a condition: only a boolean or numeric column is; compare it with a value",
				t.Columns[i].Name, ty.Kind)
		}
		b, err := bindLiteral(lit, ty)
		if err != nil {
			return nil, fmt.Errorf("where: column %q: %w", t.Columns[i].Name, err)
		}
		return &cmpCond{col: i, op: op, lit: b}, nil
	case In:
		i, err := resolve(x.Column)
		if err != nil {
			return nil, err
		}
		c := &inCond{col: i, not: x.Not}
		for _, v := range x.Values {
			lit, err := bindLiteral(v, t.Columns[i].Type)
			if err != nil {
				return nil, fmt.Errorf("where: column %q: %w", t.Columns[i].Name, err)
			}
			c.lits = append(c.lits, lit)
		}
		return c, nil
	}
	return nil, fmt.Errorf("where: unknown predicate %T", p)
}
