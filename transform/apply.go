package transform

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// BadValueError is Apply's error for an event whose row holds a value the aggregation cannot
// use in a column it reads: a *change.BadValue, or a value of the wrong Go type. The state is
// unchanged; the pipeline decides whether to stop or to skip the event.
type BadValueError struct {
	Aggregation string
	Table       change.TableID
	Column      string
	Version     uint64
	Value       any
}

func (e *BadValueError) Error() string {
	what := fmt.Sprintf("a %T", e.Value)
	if bv, ok := e.Value.(*change.BadValue); ok {
		what = fmt.Sprintf("a value cdcd cannot convert (%q: %v)", bv.Raw, bv.Err)
	}
	return fmt.Sprintf("aggregation %q: event at version %d of table %s: column %q holds %s",
		e.Aggregation, e.Version, e.Table.SourceName(), e.Column, what)
}

// Unwrap returns the *change.BadValue, if that is what the column held.
func (e *BadValueError) Unwrap() error {
	if bv, ok := e.Value.(*change.BadValue); ok {
		return bv
	}
	return nil
}

// RetractError is Apply's error for an update or delete that cannot be retracted because the
// event has no whole old row. The state is unchanged.
type RetractError struct {
	Aggregation string
	Table       change.TableID
	Op          change.Op
	Version     uint64
	Column      string // set when the old row lacks only this column's value (TOAST)
}

func (e *RetractError) Error() string {
	why := "has no whole old row"
	if e.Column != "" {
		why = fmt.Sprintf("has no old value of column %q", e.Column)
	}
	return fmt.Sprintf("aggregation %q: %s at version %d of table %s %s, so it cannot be retracted: "+
		"run ALTER TABLE %s REPLICA IDENTITY FULL (PostgreSQL) or set binlog_row_image=FULL (MySQL)",
		e.Aggregation, e.Op, e.Version, e.Table.SourceName(), why, e.Table.SourceName())
}

// GroupLimitError is Apply's (or Restore's) error when a new group would exceed Spec.MaxGroups.
// The state is unchanged. It is terminal: dropping a group would make the aggregate wrong.
type GroupLimitError struct {
	Aggregation string
	MaxGroups   int
}

func (e *GroupLimitError) Error() string {
	return fmt.Sprintf("aggregation %q: more than max_groups %d groups: raise max_groups (each group takes the bytes per group "+
		"that cdcd logs), or make the groups coarser (fewer group_by columns, a larger window)", e.Aggregation, e.MaxGroups)
}

// target is one group an event touches: retracting (sign -1) or adding (+1) a row.
type target struct {
	g          *group // nil: the group does not exist yet
	start, end int    // the key in keybuf
	sign       int64
	row        []any
	skip       bool
}

// Apply applies one change event of the Spec's table, in stream order. Events of other tables are
// ignored. Insert adds After; Delete retracts Before; Update retracts Before and adds After (with
// Unchanged values of After taken from Before); Truncate empties every group. A row the where
// predicate does not pass contributes nothing, so an update can move a row in or out of the
// filter, from one group or window to another. Each group the event touches is skipped when its
// position is at or past the event's (Version, Seq), and so is every group when the Version is at
// or below the horizon, or when the event is not after the last one this process applied:
// replaying events is a no-op. Events must therefore come in strictly increasing (Version, Seq)
// order, backfill rows included.
//
// Updates and deletes need the whole old row (Event.BeforeFull), else Apply returns a
// *RetractError. A value the aggregation reads that is a *change.BadValue gives a *BadValueError.
// A new group beyond Spec.MaxGroups gives a *GroupLimitError. These three leave the state as it
// was. Bind must have been called with the event's schema generation.
func (a *Aggregation) Apply(ev *change.Event) error {
	if ev.Table == nil || ev.Table.ID != a.spec.From {
		return nil
	}
	b := a.bind
	if b == nil || ev.Table != b.table {
		if b == nil || ev.Table.Generation != b.table.Generation || !ev.Table.SameShape(b.table) {
			return fmt.Errorf("aggregation %q: event at version %d has schema generation %d of table %s, which was not bound: call Bind first",
				a.spec.Name, ev.Version, ev.Table.Generation, ev.Table.ID.SourceName())
		}
		b.table = ev.Table
	}
	pos := position{ev.Version, ev.Seq}
	if ev.Version <= a.horizon || !pos.after(a.applied) {
		return nil // at or below the horizon, or delivered again in this process
	}
	if len(a.tombs) > 0 && ev.Version > a.tombMax {
		clear(a.tombs) // no later event can be at or below them
	}
	err := a.apply(ev, pos)
	if err == nil {
		a.applied = pos
	}
	return err
}

func (a *Aggregation) apply(ev *change.Event, pos position) error {
	switch ev.Op {
	case change.Insert:
		return a.applyRows(ev, pos, nil, ev.After)
	case change.Delete, change.Update:
		if !ev.BeforeFull || ev.Before == nil {
			return &RetractError{Aggregation: a.spec.Name, Table: ev.Table.ID, Op: ev.Op, Version: ev.Version}
		}
		if ev.Op == change.Delete {
			return a.applyRows(ev, pos, ev.Before, nil)
		}
		return a.applyRows(ev, pos, ev.Before, ev.After)
	case change.Truncate:
		a.truncate(pos)
		return nil
	}
	return fmt.Errorf("aggregation %q: event at version %d has unknown op %v", a.spec.Name, ev.Version, ev.Op)
}

// check validates the columns the aggregation reads in row. For the After of an update
// (before != nil) it resolves Unchanged values from before, returning the resolved row.
func (a *Aggregation) check(ev *change.Event, row, before []any, isBefore bool) ([]any, error) {
	b := a.bind
	copied := false
	for k, i := range b.used {
		v := row[i]
		if v == nil || classOfValue(v) == b.usedCls[k] {
			continue
		}
		if change.IsUnchanged(v) {
			if isBefore || before == nil {
				return nil, &RetractError{Aggregation: a.spec.Name, Table: ev.Table.ID, Op: ev.Op, Version: ev.Version, Column: b.table.Columns[i].Name}
			}
			if !copied {
				a.resolve = append(a.resolve[:0], row...)
				row, copied = a.resolve, true
			}
			row[i] = before[i] // before was checked already
			continue
		}
		return nil, &BadValueError{Aggregation: a.spec.Name, Table: ev.Table.ID, Column: b.table.Columns[i].Name, Version: ev.Version, Value: v}
	}
	return row, nil
}

// applyRows retracts old and adds new (either may be nil) in two phases: first every check
// that can fail and the decision to skip each group (made before any change, so that an update
// whose old and new rows fall in one group applies both), then the changes.
func (a *Aggregation) applyRows(ev *change.Event, pos position, old, new []any) error {
	var err error
	if old != nil {
		if old, err = a.check(ev, old, nil, true); err != nil {
			return err
		}
	}
	if new != nil {
		if new, err = a.check(ev, new, old, false); err != nil {
			return err
		}
	}
	a.keybuf, a.targets = a.keybuf[:0], a.targets[:0]
	a.addTargets(old, -1)
	a.addTargets(new, 1)
	created := 0
	for i := range a.targets {
		t := &a.targets[i]
		if t.g == nil {
			if tp, ok := a.tombs[string(a.keybuf[t.start:t.end])]; ok && !pos.after(tp) {
				t.skip = true
				continue
			}
			if t.sign < 0 {
				return fmt.Errorf("aggregation %q: %s at version %d of table %s retracts a row from a group that holds none: "+
					"the aggregation's state does not match the stream (it must be rebuilt)", a.spec.Name, ev.Op, ev.Version, ev.Table.ID.SourceName())
			}
			created++
		} else if !pos.after(t.g.pos) {
			t.skip = true
		} else if t.sign < 0 && t.g.count <= 0 {
			return fmt.Errorf("aggregation %q: %s at version %d of table %s retracts a row from an empty group: "+
				"the aggregation's state does not match the stream (it must be rebuilt)", a.spec.Name, ev.Op, ev.Version, ev.Table.ID.SourceName())
		}
	}
	if max := a.spec.MaxGroups; created > 0 && max > 0 && len(a.groups)+created > max {
		return &GroupLimitError{Aggregation: a.spec.Name, MaxGroups: max}
	}
	for i := range a.targets {
		t := &a.targets[i]
		if t.skip {
			continue
		}
		g := t.g
		if g == nil {
			key := string(a.keybuf[t.start:t.end])
			g = &group{key: key, slots: make([]slot, len(a.slots))}
			a.groups[key] = g
			delete(a.tombs, key)
		}
		g.pos = pos
		if err := a.add(g, t.row, t.sign); err != nil {
			return err
		}
		if !g.dirty {
			g.dirty = true
			a.dirty = append(a.dirty, g)
		}
	}
	return nil
}

// addTargets appends the groups row belongs to: none when the filter fails or the window
// column is NULL, one per window otherwise.
func (a *Aggregation) addTargets(row []any, sign int64) {
	b := a.bind
	if row == nil || b.where != nil && b.where.eval(row) != tTrue {
		return
	}
	start := len(a.keybuf)
	a.keybuf = append(a.keybuf, groupKeyFormat)
	for _, i := range b.group {
		a.keybuf, _ = appendValue(a.keybuf, row[i]) // classes checked: cannot fail
	}
	if b.window < 0 {
		a.target(start, sign, row)
		return
	}
	tv, ok := row[b.window].(time.Time)
	if !ok {
		return // NULL: the row is in no window
	}
	groupEnd := len(a.keybuf)
	last := floorDiv(tv.UnixMicro(), b.hop) * b.hop
	for ws := last; ws > last-b.size; ws -= b.hop {
		s := start
		if ws != last {
			s = len(a.keybuf)
			a.keybuf = append(a.keybuf, a.keybuf[start:groupEnd]...)
		}
		a.keybuf = binary.AppendVarint(a.keybuf, ws)
		a.target(s, sign, row)
	}
}

func (a *Aggregation) target(start int, sign int64, row []any) {
	key := a.keybuf[start:]
	a.targets = append(a.targets, target{g: a.groups[string(key)], start: start, end: len(a.keybuf), sign: sign, row: row})
}

func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y != 0 && (x < 0) != (y < 0) {
		q--
	}
	return q
}

// add adds (sign +1) or retracts (-1) row in g.
func (a *Aggregation) add(g *group, row []any, sign int64) error {
	g.count += sign
	b := a.bind
	for i := range g.slots {
		v := row[b.slotCol[i]]
		if v == nil {
			continue
		}
		s := &g.slots[i]
		s.nn += sign
		def := a.slots[i]
		if def.sum {
			switch x := v.(type) {
			case decimal.Decimal:
				s.sum.addDecimal(x, sign, &a.tmp)
			case int64:
				s.sum.addInt(x, sign, &a.tmp)
			case uint64:
				s.sum.addUint(x, sign, &a.tmp)
			case float64:
				s.addFloat(x, sign, &a.tmp)
			}
		}
		if def.set {
			a.setbuf, _ = appendKey(a.setbuf[:0], v)                      // classes checked: cannot fail
			k := unsafe.String(unsafe.SliceData(a.setbuf), len(a.setbuf)) // copied if kept
			if sign > 0 {
				if s.set == nil {
					s.set = &mset{}
				}
				s.set.add(k, 1)
			} else if s.set == nil || !s.set.remove(k) {
				return fmt.Errorf("aggregation %q: retracting value %v of column %q that the group does not hold: "+
					"the aggregation's state does not match the stream (it must be rebuilt)", a.spec.Name, v, a.slots[i].column)
			}
			if s.set != nil && s.set.distinct == 0 {
				s.set = nil
			}
		}
	}
	return nil
}

// addFloat adds sign × v to a float sum: finite values exactly, NaN and infinities counted.
func (s *slot) addFloat(v float64, sign int64, tmp *big.Int) {
	k := -1
	switch {
	case math.IsNaN(v):
		k = 0
	case math.IsInf(v, 1):
		k = 1
	case math.IsInf(v, -1):
		k = 2
	}
	if k < 0 {
		s.sum.addFloat(v, sign, tmp)
		return
	}
	if s.special == nil {
		s.special = new([3]int64)
	}
	s.special[k] += sign
	if *s.special == [3]int64{} {
		s.special = nil
	}
}

// truncate empties every group that holds rows and whose position is before pos.
func (a *Aggregation) truncate(pos position) {
	for _, g := range a.groups {
		if g.count == 0 || !pos.after(g.pos) {
			continue
		}
		g.reset()
		g.pos = pos
		if !g.dirty {
			g.dirty = true
			a.dirty = append(a.dirty, g)
		}
	}
}
