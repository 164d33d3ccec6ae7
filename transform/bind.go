package transform

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// Output is the layout of an aggregation's ClickHouse table.
type Output struct {
	// Table is "agg_" + the aggregation's name.
	Table string
	// Columns are the group columns (the source's names and types, Nullable), then window_start
	// and window_end (TimestampTZ, not Nullable) when windowed, then one column per measure (see
	// the package doc for their types). The sink adds its own columns beside them: the group key
	// (Row.Group), the state (Row.State), the version and the deleted flag.
	Columns []change.Column
	// Groups is the number of group columns; Window reports whether the two window columns
	// follow them. Measures start at Groups (+2 when Window).
	Groups int
	Window bool
}

// binding is a Spec resolved against one schema generation of its table.
type binding struct {
	table    *change.Table
	group    []int // column index per group column
	window   int   // column index of the window column; -1 when not windowed
	hop      int64 // window hop and size in microseconds
	size     int64
	slotCol  []int   // column index per slot
	float    []bool  // per slot: the sum is over floats
	where    cond    // nil: every row
	used     []int   // every column the aggregation reads, once
	usedCls  []class // their classes
	measures []outMeasure
	out      *Output
}

// outMeasure says how a measure's value is rendered.
type outMeasure struct {
	fn    Func
	slot  int
	float bool  // sum/avg over floats
	scale int32 // sum/avg over decimals: output scale; -1: normalised (unconstrained output)
	round int32 // avg over an unconstrained decimal: the scale it is rounded to
}

// avgUnconstrainedScale is the scale an avg over an unconstrained decimal is rounded to.
const avgUnconstrainedScale = 16

// Bind checks the Spec against t, the schema in force of the Spec's table, and returns the output
// layout. Call it before the first Apply and again for each new schema generation; a failed Bind
// leaves the previous binding in force. It checks that the columns exist (exact names, or
// case-insensitively when that is unambiguous), that each measure's input type is allowed,
// that the where literals fit their columns' types, that the table sends whole old rows unless
// the aggregation is insert-only, and that no output column changes its type except by widening
// (a wider integer, float32 to float64, a decimal with more digits on both sides of the point).
func (a *Aggregation) Bind(t *change.Table) (*Output, error) {
	b, err := a.newBinding(t)
	if err != nil {
		return nil, fmt.Errorf("aggregation %q: %w", a.spec.Name, err)
	}
	a.bind = b
	return b.out, nil
}

func (a *Aggregation) newBinding(t *change.Table) (*binding, error) {
	s := a.spec
	tn := fmt.Sprintf("table %s of source %q", t.ID.SourceName(), t.ID.Source)
	if t.ID != s.From {
		return nil, fmt.Errorf("bound to %s, which is not %s", t.ID, s.From)
	}
	if !s.InsertOnly && !t.BeforeFull {
		name := t.ID.SourceName()
		return nil, fmt.Errorf("%s does not send whole old rows, so updates and deletes cannot be retracted: "+
			"run ALTER TABLE %s REPLICA IDENTITY FULL (PostgreSQL) or set binlog_row_image=FULL (MySQL), "+
			"or declare the aggregation insert_only: true", tn, name)
	}
	b := &binding{table: t, window: -1, out: &Output{Table: "agg_" + s.Name, Groups: len(s.GroupBy)}}
	used := map[int]bool{}
	resolve := func(name, usedBy string) (int, error) {
		i := t.ColumnIndex(name)
		if i < 0 {
			for j, c := range t.Columns {
				if strings.EqualFold(c.Name, name) {
					if i >= 0 {
						return -1, fmt.Errorf("%s has columns %q and %q; name one exactly (used by %s)", tn, t.Columns[i].Name, c.Name, usedBy)
					}
					i = j
				}
			}
		}
		if i < 0 {
			return -1, fmt.Errorf("%s has no column %q (used by %s)", tn, name, usedBy)
		}
		if !used[i] {
			used[i] = true
			b.used = append(b.used, i)
			b.usedCls = append(b.usedCls, classOf(t.Columns[i].Type.Kind))
		}
		return i, nil
	}
	for _, g := range s.GroupBy {
		i, err := resolve(g, "group_by")
		if err != nil {
			return nil, err
		}
		if classOf(t.Columns[i].Type.Kind) == clsNone {
			return nil, fmt.Errorf("group column %q has type %s, which cdcd cannot group by", g, t.Columns[i].Type)
		}
		b.group = append(b.group, i)
		b.out.Columns = append(b.out.Columns, change.Column{Name: t.Columns[i].Name, Type: t.Columns[i].Type, Nullable: true})
	}
	if w := s.Window; w != nil {
		i, err := resolve(w.Column, "window")
		if err != nil {
			return nil, err
		}
		switch k := t.Columns[i].Type.Kind; k {
		case change.Date, change.Timestamp, change.TimestampTZ:
		default:
			return nil, fmt.Errorf("window column %q has type %s: it must be a date, timestamp or timestamptz", w.Column, t.Columns[i].Type)
		}
		b.window, b.hop, b.size = i, w.Hop.Microseconds(), w.Size.Microseconds()
		ts := change.Type{Kind: change.TimestampTZ}
		b.out.Window = true
		b.out.Columns = append(b.out.Columns, change.Column{Name: "window_start", Type: ts}, change.Column{Name: "window_end", Type: ts})
	}
	b.slotCol = make([]int, len(a.slots))
	b.float = make([]bool, len(a.slots))
	for i, sl := range a.slots {
		col, err := resolve(sl.column, "a measure")
		if err != nil {
			return nil, err
		}
		b.slotCol[i] = col
		b.float[i] = classOf(t.Columns[col].Type.Kind) == clsFloat
	}
	for i, m := range s.Measures {
		om := outMeasure{fn: m.Func, slot: a.measureSlot[i]}
		var in change.Type
		if om.slot >= 0 {
			in = t.Columns[b.slotCol[om.slot]].Type
		}
		col, err := measureColumn(m, in, &om)
		if err != nil {
			return nil, fmt.Errorf("measure %s: %s(%s): %w", m.Name, m.Func, t.Columns[b.slotCol[om.slot]].Name, err)
		}
		b.measures = append(b.measures, om)
		b.out.Columns = append(b.out.Columns, col)
	}
	if s.Where != nil {
		w, err := bindPredicate(s.Where, t, func(name string) (int, error) { return resolve(name, "where") })
		if err != nil {
			return nil, err
		}
		b.where = w
	}
	if err := a.checkClasses(b); err != nil {
		return nil, err
	}
	if old := a.bind; old != nil {
		for i, c := range b.out.Columns {
			if o := old.out.Columns[i]; !widens(o.Type, c.Type) {
				return nil, fmt.Errorf("output column %s would change type from %s to %s, which cannot hold its values: "+
					"give the aggregation a new name to rebuild it from the source", c.Name, o.Type, c.Type)
			}
		}
	}
	return b, nil
}

// checkClasses checks a binding against the classes of the values already held, then records
// its classes.
func (a *Aggregation) checkClasses(b *binding) error {
	t := b.table
	for i, col := range b.group {
		if c, want := classOf(t.Columns[col].Type.Kind), a.cls.group[i]; want != clsNone && c != want {
			return fmt.Errorf("group column %q is now %s, but the groups held have %s values: give the aggregation a new name to rebuild it",
				t.Columns[col].Name, t.Columns[col].Type, want)
		}
	}
	for i, sl := range a.slots {
		col := t.Columns[b.slotCol[i]]
		c := classOf(col.Type.Kind)
		if sl.sum {
			f := int8(-1)
			if b.float[i] {
				f = 1
			}
			if a.cls.float[i] != 0 && a.cls.float[i] != f {
				return fmt.Errorf("column %q is now %s, but the sums held are over %s: give the aggregation a new name to rebuild it",
					col.Name, col.Type, map[int8]string{1: "floats", -1: "integers or decimals"}[a.cls.float[i]])
			}
		}
		if sl.set && a.cls.set[i] != clsNone && a.cls.set[i] != c {
			return fmt.Errorf("column %q is now %s, but the values held are %s: give the aggregation a new name to rebuild it",
				col.Name, col.Type, a.cls.set[i])
		}
	}
	for i, col := range b.group {
		a.cls.group[i] = classOf(t.Columns[col].Type.Kind)
	}
	for i, sl := range a.slots {
		if sl.sum {
			a.cls.float[i] = map[bool]int8{true: 1, false: -1}[b.float[i]]
		}
		if sl.set {
			a.cls.set[i] = classOf(t.Columns[b.slotCol[i]].Type.Kind)
		}
	}
	return nil
}

// measureColumn returns a measure's output column for input type in and fills om's rendering.
func measureColumn(m Measure, in change.Type, om *outMeasure) (change.Column, error) {
	col := change.Column{Name: m.Name, Nullable: true}
	cls := classOf(in.Kind)
	switch m.Func {
	case Count, CountNonNull:
		col.Type, col.Nullable = change.Type{Kind: change.UInt64}, false
		return col, nil
	case CountDistinct:
		if cls == clsArray || cls == clsNone {
			return col, fmt.Errorf("count_distinct takes any type but arrays, not %s", in)
		}
		col.Type, col.Nullable = change.Type{Kind: change.UInt64}, false
		return col, nil
	case Min, Max:
		switch cls {
		case clsArray, clsNone:
			return col, fmt.Errorf("min and max take an orderable type, not %s", in)
		}
		if in.Kind == change.JSON {
			return col, fmt.Errorf("min and max take an orderable type, not json")
		}
		col.Type = in
		return col, nil
	}
	// Sum, Avg.
	switch cls {
	case clsInt, clsUint:
		col.Type = change.Type{Kind: change.Decimal, Precision: 38}
		if m.Func == Avg {
			col.Type.Scale = 6
		}
	case clsDec:
		if in.Precision <= 0 || in.Precision > 38 {
			col.Type = change.Type{Kind: change.Decimal}
			om.scale, om.round = -1, avgUnconstrainedScale
			if in.Precision > 0 {
				om.round = int32(in.Scale) + 6
			}
			return col, nil
		}
		col.Type = change.Type{Kind: change.Decimal, Precision: 38, Scale: in.Scale}
		if m.Func == Avg {
			col.Type.Scale = min(in.Scale+6, 38-(in.Precision-in.Scale))
		}
	case clsFloat:
		om.float = true
		col.Type = change.Type{Kind: change.Float64}
		return col, nil
	default:
		return col, fmt.Errorf("sum and avg take integers, decimals or floats, not %s", in)
	}
	om.scale = int32(col.Type.Scale)
	return col, nil
}

// widens reports whether a column of type from can become to without losing a value held.
func widens(from, to change.Type) bool {
	if from.Equal(to) {
		return true
	}
	fc, tc := classOf(from.Kind), classOf(to.Kind)
	if fc != tc {
		return false
	}
	switch fc {
	case clsInt, clsUint, clsFloat:
		return to.Kind >= from.Kind
	case clsDec:
		if to.Precision == 0 {
			return true
		}
		return from.Precision > 0 && to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale
	case clsString:
		return true // string, json and enum are all ClickHouse String
	}
	return false
}
