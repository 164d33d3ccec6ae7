package transform

import (
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
	"unsafe"
)

// Aggregation maintains the groups of one Spec in memory. It is not safe for concurrent use:
// one goroutine (the pipeline's) calls all its methods.
//
// Lifecycle: New; Restore each persisted row (if any); Bind the table's schema (again at each new
// schema generation); then Apply events in stream order and Flush at transaction boundaries. A
// backfill applies the source's current rows as inserts, then calls SetHorizon.
//
// Exactness: every group remembers the position (Version, Seq) of the last event applied to it,
// and applying an event at or below that position is a no-op for the group. After Apply returns
// an error other than a *BadValueError, *RetractError or *GroupLimitError (which leave the state
// as it was), the state no longer matches the stream: discard the Aggregation and rebuild it.
type Aggregation struct {
	spec        *Spec
	slots       []slotDef
	measureSlot []int // per measure: its slot, -1 for Count
	fingerprint uint64

	bind *binding
	cls  classes // classes of values held, from Bind or Restore

	groups  map[string]*group
	dirty   []*group
	tombs   map[string]position // deleted groups restored from their persisted tombstones
	tombMax uint64              // the highest Version in tombs
	horizon uint64              // events at or below it are no-ops
	applied position            // the last event applied by this process: later ones only

	keybuf  []byte   // group keys of the event being applied
	tmp     big.Int  // scratch for exact sums
	setbuf  []byte   // the sort key of a value added to or retracted from a multiset
	targets []target // groups the event being applied touches
	resolve []any    // After of an update with Unchanged values resolved from Before
}

// slotDef is the state kept per input column of the measures: non-NULL count always, an exact
// sum when a sum or avg reads it, a multiset when min, max or count_distinct read it.
type slotDef struct {
	column string
	sum    bool
	set    bool
}

// slot is a slotDef's state in one group.
type slot struct {
	nn  int64 // non-NULL values
	sum fixed
	// special counts a float sum's NaN, +Inf and -Inf values, which have no exact sum; nil when
	// it never saw one.
	special *[3]int64
	set     *mset
}

// group is one group's state.
type group struct {
	key   string // the _group key: format byte, encoded group values, window start
	count int64  // rows in the group
	pos   position
	dirty bool // changed since the last Flush
	slots []slot
}

// position is a point in the stream: an event's Version and Seq.
type position struct {
	version uint64
	seq     uint32
}

// after reports whether p comes after q.
func (p position) after(q position) bool {
	return p.version > q.version || p.version == q.version && p.seq > q.seq
}

// classes records the class of the values the state holds, to refuse a schema or a persisted
// state that would mix classes: clsNone when not known yet.
type classes struct {
	group []class // per group column
	float []int8  // per slot: 1 float sum, -1 exact sum, 0 unknown
	set   []class // per slot
}

// New returns an empty Aggregation of spec, which must be valid (from ParseSpec, or built in code
// with the same rules).
func New(spec *Spec) *Aggregation {
	a := &Aggregation{
		spec:   spec,
		groups: map[string]*group{},
		tombs:  map[string]position{},
	}
	for _, m := range spec.Measures {
		if m.Func == Count {
			a.measureSlot = append(a.measureSlot, -1)
			continue
		}
		i := -1
		for j := range a.slots {
			if a.slots[j].column == m.Column {
				i = j
			}
		}
		if i < 0 {
			i = len(a.slots)
			a.slots = append(a.slots, slotDef{column: m.Column})
		}
		switch m.Func {
		case Sum, Avg:
			a.slots[i].sum = true
		case Min, Max, CountDistinct:
			a.slots[i].set = true
		}
		a.measureSlot = append(a.measureSlot, i)
	}
	a.cls = classes{
		group: make([]class, len(spec.GroupBy)),
		float: make([]int8, len(a.slots)),
		set:   make([]class, len(a.slots)),
	}
	for i := range a.cls.group {
		a.cls.group[i] = clsNone
	}
	for i := range a.cls.set {
		a.cls.set[i] = clsNone
	}
	a.fingerprint = fingerprint(spec, a.slots)
	return a
}

// Spec returns the aggregation's spec.
func (a *Aggregation) Spec() *Spec { return a.spec }

// fingerprint identifies what the persisted state means: group columns, window, filter and the
// slots. A state written under another fingerprint cannot be continued (Restore refuses it).
// Measure names, InsertOnly and MaxGroups are not part of it.
func fingerprint(s *Spec, slots []slotDef) uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "v1\x00%s\x00%q\x00", s.From, s.GroupBy)
	if w := s.Window; w != nil {
		fmt.Fprintf(&b, "%q %d %d", w.Column, w.Size, w.Hop)
	}
	b.WriteByte(0)
	if s.Where != nil {
		b.WriteString(s.Where.String())
	}
	b.WriteByte(0)
	for _, sl := range slots {
		fmt.Fprintf(&b, "%q %t %t\x00", sl.column, sl.sum, sl.set)
	}
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	return h.Sum64()
}

// SetHorizon makes every event at or below Version v a no-op for every group. Call it after a
// backfill that reflects the source up to v. It is not persisted: by then the pipeline's offset
// covers v.
func (a *Aggregation) SetHorizon(v uint64) {
	a.horizon = max(a.horizon, v)
}

// Stats is the memory figure of an Aggregation.
type Stats struct {
	// Groups is the number of groups held, including emptied ones the next Flush drops.
	Groups int
	// Tombstones is the number of restored tombstones held (positions of deleted groups).
	Tombstones int
	// Bytes approximates the heap the state holds: groups, their keys, sums, multisets and the
	// map entries.
	Bytes int64
	// BytesPerGroup is Bytes / Groups.
	BytesPerGroup float64
}

// mapEntrySize approximates a map[string]*group entry: the key header, the pointer, the
// control byte and the table's spare capacity.
const mapEntrySize = 40

// Stats walks the state and returns its size; O(groups + distinct values held), so call it
// periodically, not per event.
func (a *Aggregation) Stats() Stats {
	s := Stats{Groups: len(a.groups), Tombstones: len(a.tombs)}
	var n int64
	for _, g := range a.groups {
		n += int64(g.size())
	}
	n += int64(len(a.tombs)) * (mapEntrySize + 16)
	s.Bytes = n
	if s.Groups > 0 {
		s.BytesPerGroup = float64(n) / float64(s.Groups)
	}
	return s
}

// allocSize rounds n up to the Go allocator's size class (approximately).
func allocSize(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 16:
		return (n + 7) &^ 7
	case n <= 128:
		return (n + 15) &^ 15
	}
	return (n + 63) &^ 63
}

func (g *group) size() int {
	n := allocSize(int(unsafe.Sizeof(*g))) + allocSize(len(g.key)) + mapEntrySize
	n += allocSize(len(g.slots) * int(unsafe.Sizeof(slot{})))
	for i := range g.slots {
		s := &g.slots[i]
		n += s.sum.size()
		if s.special != nil {
			n += 24
		}
		if s.set != nil {
			n += s.set.size()
		}
	}
	return n
}

// reset empties the group (truncate).
func (g *group) reset() {
	g.count = 0
	for i := range g.slots {
		g.slots[i] = slot{}
	}
}
