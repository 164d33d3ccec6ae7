package transform

import (
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Row is one group's output: a row of the aggregate table.
type Row struct {
	// Group is the _group key (the table's ORDER BY): a format byte, then a deterministic
	// binary encoding of the group values, then the window start. Equal groups have equal bytes
	// (decimals normalised, so 1.5 and 1.50 group together; NULL distinct from every value).
	// It is never empty.
	Group []byte
	// Values are aligned with Output.Columns, canonical values as in package change, nil for
	// NULL. A Deleted row has its group and window columns set, counts 0 and the rest NULL.
	Values []any
	// Version and Seq are the position of the last event applied to the group. Version is the
	// row's _version.
	Version uint64
	Seq     uint32
	// Deleted marks a group whose count reached 0: it is no longer in the _current view.
	Deleted bool
	// State is everything Restore needs to continue the group exactly; its first byte is the
	// format version. For a Deleted row it only identifies the aggregation's spec.
	State []byte
}

// Flush returns one Row per group changed since the last Flush, ordered by Group, and forgets
// the change set. A group whose count reached 0 is returned Deleted and dropped from memory.
// Call it at transaction boundaries (the pipeline's batch seal), so that rows of one Version are
// whole transactions. It needs a binding (Bind).
func (a *Aggregation) Flush() []Row {
	if len(a.dirty) == 0 {
		return nil
	}
	slices.SortFunc(a.dirty, func(x, y *group) int { return strings.Compare(x.key, y.key) })
	rows := make([]Row, len(a.dirty))
	for i, g := range a.dirty {
		rows[i] = a.row(g)
		g.dirty = false
		if g.count == 0 {
			delete(a.groups, g.key)
		}
	}
	clear(a.dirty)
	a.dirty = a.dirty[:0]
	return rows
}

// row renders a group.
func (a *Aggregation) row(g *group) Row {
	b := a.bind
	r := Row{Group: []byte(g.key), Version: g.pos.version, Seq: g.pos.seq, Deleted: g.count == 0}
	r.Values = make([]any, len(b.out.Columns))
	d := decoder{b: r.Group[1:]} // after groupKeyFormat
	n := 0
	for range b.group {
		r.Values[n] = d.value()
		n++
	}
	if b.window >= 0 {
		ws := d.varint()
		r.Values[n] = time.UnixMicro(ws).UTC()
		r.Values[n+1] = time.UnixMicro(ws + b.size).UTC()
		n += 2
	}
	for i, m := range b.measures {
		r.Values[n+i] = a.measureValue(g, m)
	}
	r.State = a.encodeState(g)
	return r
}

// measureValue renders one measure of a group (see the package doc for the types).
func (a *Aggregation) measureValue(g *group, m outMeasure) any {
	var s *slot
	if m.slot >= 0 {
		s = &g.slots[m.slot]
	}
	switch m.fn {
	case Count:
		return uint64(g.count)
	case CountNonNull:
		return uint64(s.nn)
	case CountDistinct:
		if s.set == nil {
			return uint64(0)
		}
		return uint64(s.set.distinct)
	case Min, Max:
		if s.set == nil {
			return nil
		}
		k, _ := s.set.min()
		if m.fn == Max {
			k, _ = s.set.max()
		}
		v, _ := decodeKey(a.cls.set[m.slot], k)
		return v
	}
	if s.nn <= 0 {
		return nil // sum and avg of no values are NULL
	}
	if m.float {
		if f, ok := s.floatSpecial(); ok {
			return f
		}
		if m.fn == Sum {
			f, _ := new(big.Float).SetMantExp(new(big.Float).SetInt(s.sum.coef()), int(s.sum.exp)).Float64()
			return f
		}
		f, _ := new(big.Rat).Quo(s.sum.rat(base2), new(big.Rat).SetInt64(s.nn)).Float64()
		return f
	}
	if m.fn == Sum {
		return s.sum.decimal(m.scale)
	}
	if m.scale < 0 {
		q := s.sum.quoRound(s.nn, m.round)
		return normalize(q.Coefficient(), q.Exponent())
	}
	return s.sum.quoRound(s.nn, m.scale)
}

// floatSpecial returns the sum of a float slot holding NaN or infinities: NaN when it holds a NaN
// or both infinities, else the infinity it holds.
func (s *slot) floatSpecial() (float64, bool) {
	if s.special == nil {
		return 0, false
	}
	nan, pinf, ninf := s.special[0], s.special[1], s.special[2]
	switch {
	case nan > 0 || pinf > 0 && ninf > 0:
		return math.NaN(), true
	case pinf > 0:
		return math.Inf(1), true
	case ninf > 0:
		return math.Inf(-1), true
	}
	return 0, false
}
