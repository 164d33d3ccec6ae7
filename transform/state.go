package transform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// The state format (Row.State), version 1:
//
//	byte     format version (1)
//	8 bytes  spec fingerprint, little-endian
//	byte     flags: 1 = deleted (nothing follows)
//	varint   count
//	uvarint  number of slots, then per slot:
//	  byte     1 = sum, 2 = the sum is over floats, 4 = multiset
//	  varint   non-NULL values
//	  sum:     varint exponent; 0 and a varint coefficient, or 1, sign+1 and the magnitude
//	  floats:  uvarint NaN, +Inf and -Inf counts
//	  set:     byte class of the values, uvarint distinct values, then each value's sort key
//	           (keys.go) and its uvarint count, in key order; keys of a fixed width (keyWidth)
//	           as that many bytes, others as uvarint length and bytes
//
// The group values and the window start are in Row.Group, not in the state.
const stateFormat = 1

// groupKeyFormat is the first byte of every group key (Row.Group), so that no key is empty.
const groupKeyFormat = 1

const (
	slotSum   = 1
	slotFloat = 2
	slotSet   = 4
)

// encodeState renders g's state.
func (a *Aggregation) encodeState(g *group) []byte {
	size := 16 + len(g.slots)*(40+binary.MaxVarintLen64*4)
	for i := range g.slots {
		if g.slots[i].set != nil {
			size += g.slots[i].set.encodedSize()
		}
	}
	buf := make([]byte, 0, size)
	buf = append(buf, stateFormat)
	buf = binary.LittleEndian.AppendUint64(buf, a.fingerprint)
	if g.count == 0 {
		return append(buf, 1)
	}
	buf = append(buf, 0)
	buf = binary.AppendVarint(buf, g.count)
	buf = binary.AppendUvarint(buf, uint64(len(g.slots)))
	for i := range g.slots {
		s, def := &g.slots[i], a.slots[i]
		var flags byte
		if def.sum {
			flags |= slotSum
			if a.bind != nil && a.bind.float[i] || a.bind == nil && a.cls.float[i] > 0 {
				flags |= slotFloat
			}
		}
		if def.set {
			flags |= slotSet
		}
		buf = append(buf, flags)
		buf = binary.AppendVarint(buf, s.nn)
		if def.sum {
			buf = binary.AppendVarint(buf, int64(s.sum.exp))
			if !s.sum.isBig {
				buf = binary.AppendVarint(append(buf, 0), s.sum.small)
			} else {
				mag := s.sum.big.Bytes()
				buf = append(buf, 1, byte(s.sum.big.Sign()+1))
				buf = append(binary.AppendUvarint(buf, uint64(len(mag))), mag...)
			}
			if flags&slotFloat != 0 {
				var sp [3]int64
				if s.special != nil {
					sp = *s.special
				}
				for _, n := range sp {
					buf = binary.AppendUvarint(buf, uint64(n))
				}
			}
		}
		if def.set {
			buf = append(buf, byte(a.cls.set[i]))
			if s.set == nil {
				buf = append(buf, 0)
				continue
			}
			buf = binary.AppendUvarint(buf, uint64(s.set.distinct))
			buf = s.set.appendTo(buf, keyWidth(a.cls.set[i]))
		}
	}
	return buf
}

// ErrSpecChanged is wrapped by Restore's error for a state written under a different spec
// (group columns, window, where or measure inputs changed): the aggregate must be rebuilt.
var ErrSpecChanged = errors.New("the aggregation's definition changed since its state was written")

// Restore loads a group persisted by an earlier Flush: Group, State, Version and Deleted are
// read (Values and Seq are not needed). The pipeline reads the aggregate table back at start (the
// latest row per group): every live group, plus the Deleted rows whose Version is above the
// stored offset, so that replayed events at or below them stay no-ops (a Deleted row keeps only
// its position, until the stream passes it). Since rows are flushed at transaction boundaries,
// a restored group counts as having applied every event of its Version. Restoring a group
// already held keeps the later position. Call it before the first Apply, with or without Bind.
func (a *Aggregation) Restore(r Row) error {
	if err := a.restore(r); err != nil {
		return fmt.Errorf("aggregation %q: restore group at version %d: %w", a.spec.Name, r.Version, err)
	}
	return nil
}

func (a *Aggregation) restore(r Row) error {
	d := decoder{b: r.State}
	if v := d.byte(); v != stateFormat {
		return fmt.Errorf("state format %d is not %d", v, stateFormat)
	}
	fp := d.bytes(8)
	if len(fp) == 8 && binary.LittleEndian.Uint64(fp) != a.fingerprint {
		return fmt.Errorf("%w: give the aggregation a new name to rebuild it from the source", ErrSpecChanged)
	}
	flags := d.byte()
	if d.err != nil {
		return d.err
	}
	// A row is written at a transaction boundary, so it reflects every event of its Version:
	// the restored position is the end of that transaction, whatever Seq says.
	pos := position{r.Version, math.MaxUint32}
	key := string(r.Group)
	if flags&1 != 0 || r.Deleted {
		if g, ok := a.groups[key]; ok && !pos.after(g.pos) {
			return nil
		}
		delete(a.groups, key)
		if tp, ok := a.tombs[key]; !ok || pos.after(tp) {
			a.tombs[key] = pos
		}
		a.tombMax = max(a.tombMax, r.Version)
		return nil
	}
	groupCls, err := a.checkKey(r.Group)
	if err != nil {
		return err
	}
	g := &group{key: key, pos: pos, count: d.varint(), slots: make([]slot, len(a.slots))}
	if n := d.uvarint(); d.err == nil && n != uint64(len(a.slots)) {
		return fmt.Errorf("%w: %d inputs in the state, %d in the spec", ErrSpecChanged, n, len(a.slots))
	}
	floats := make([]int8, len(a.slots))
	sets := make([]class, len(a.slots))
	for i := range g.slots {
		if floats[i], sets[i], err = a.restoreSlot(&d, i, &g.slots[i]); err != nil {
			return err
		}
	}
	if d.err != nil || len(d.b) != 0 || g.count <= 0 {
		return errCorrupt
	}
	// The state is whole: check its classes against what is known, then keep it.
	for i, c := range groupCls {
		if c != clsNull && a.cls.group[i] != clsNone && a.cls.group[i] != c {
			return fmt.Errorf("group column %q holds %s values, not %s", a.spec.GroupBy[i], c, a.cls.group[i])
		}
	}
	for i := range a.slots {
		if floats[i] != 0 && a.cls.float[i] != 0 && floats[i] != a.cls.float[i] {
			return fmt.Errorf("the sum over %q mixes floats and exact values", a.slots[i].column)
		}
		if sets[i] != clsNone && a.cls.set[i] != clsNone && sets[i] != a.cls.set[i] {
			return fmt.Errorf("column %q holds %s values, not %s", a.slots[i].column, sets[i], a.cls.set[i])
		}
	}
	if old, ok := a.groups[key]; ok && !pos.after(old.pos) {
		return nil
	} else if !ok && a.spec.MaxGroups > 0 && len(a.groups) >= a.spec.MaxGroups {
		return &GroupLimitError{Aggregation: a.spec.Name, MaxGroups: a.spec.MaxGroups}
	}
	for i, c := range groupCls {
		if c != clsNull {
			a.cls.group[i] = c
		}
	}
	for i := range a.slots {
		if floats[i] != 0 {
			a.cls.float[i] = floats[i]
		}
		if sets[i] != clsNone {
			a.cls.set[i] = sets[i]
		}
	}
	delete(a.tombs, key)
	a.groups[key] = g
	return nil
}

// checkKey decodes a group key and returns the classes of its values.
func (a *Aggregation) checkKey(key []byte) ([]class, error) {
	if len(key) == 0 || key[0] != groupKeyFormat {
		return nil, fmt.Errorf("%w: the group key is not of format %d", ErrSpecChanged, groupKeyFormat)
	}
	d := decoder{b: key[1:]}
	cls := make([]class, len(a.spec.GroupBy))
	for i := range cls {
		cls[i] = classOfValue(d.value())
	}
	if a.spec.Window != nil {
		if ws := d.varint(); d.err == nil && ws%a.spec.Window.Hop.Microseconds() != 0 {
			return nil, fmt.Errorf("window start %d is not on a hop boundary", ws)
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, fmt.Errorf("%w: the group key does not hold the group columns and window", ErrSpecChanged)
	}
	return cls, nil
}

// restoreSlot reads slot i of a state.
func (a *Aggregation) restoreSlot(d *decoder, i int, s *slot) (float int8, set class, err error) {
	def := a.slots[i]
	flags := d.byte()
	if (flags&slotSum != 0) != def.sum || (flags&slotSet != 0) != def.set {
		return 0, clsNone, fmt.Errorf("%w: the inputs of column %q differ", ErrSpecChanged, def.column)
	}
	s.nn = d.varint()
	set = clsNone
	if def.sum {
		float = -1
		exp, limit := d.varint(), int64(maxDecimalExp)
		if flags&slotFloat != 0 {
			limit = 1100 // float sums' exponents lie within [-1074, 971]
		}
		if exp < -limit || exp > limit {
			d.fail()
		}
		s.sum.exp = int32(exp)
		switch d.byte() {
		case 0:
			s.sum.small = d.varint()
		case 1:
			sign := int(d.byte()) - 1
			s.sum.big, s.sum.isBig = new(big.Int).SetBytes(d.bytes(d.uvarint())), true
			if sign < 0 {
				s.sum.big.Neg(s.sum.big)
			}
			s.sum.settle()
		default:
			d.fail()
		}
		if flags&slotFloat != 0 {
			float = 1
			var sp [3]int64
			for k := range sp {
				sp[k] = int64(d.uvarint())
			}
			if sp != [3]int64{} {
				s.special = &sp
			}
		}
	}
	if def.set {
		set = class(d.byte())
		n := d.uvarint()
		if n > uint64(len(d.b)) || set == clsNull || set >= clsArray {
			d.fail()
		}
		prev := ""
		width := uint64(keyWidth(set))
		for k := uint64(0); k < n && d.err == nil; k++ {
			kl := width
			if kl == 0 {
				kl = d.uvarint()
			}
			key := string(d.bytes(kl))
			c := d.uvarint()
			if _, ok := decodeKey(set, key); !ok || c == 0 || c > math.MaxInt64 || k > 0 && key <= prev {
				d.fail()
				break
			}
			if s.set == nil {
				s.set = &mset{}
			}
			s.set.add(key, int64(c))
			prev = key
		}
		if n == 0 {
			set = clsNone
		}
	}
	return float, set, d.err
}
