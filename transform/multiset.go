package transform

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"unsafe"
)

// mset is a multiset of the non-NULL values of one column, held as sort keys (keys.go): a treap
// of (key, count) nodes ordered by the keys' bytes. It serves min, max and count_distinct over the
// column at once: insert and remove are O(log n) expected, min and max walk one spine (O(log n)),
// the distinct count is kept. Memory is one node and one key per distinct value, freed when the
// value's count returns to zero; nothing of the events is retained.
type mset struct {
	root     *mnode
	distinct int
	keyBytes int // the length of all keys
}

type mnode struct {
	key         string
	n           int64
	left, right *mnode
	prio        uint32
}

// mnodeSize is the heap size of an mnode: 16 + 8 + 16 + 4, in the allocator's 48-byte class.
const mnodeSize = 48

// add adds n (> 0) occurrences of the value whose key is k; k may be a transient buffer: a new
// key is copied.
func (s *mset) add(k string, n int64) {
	if t := s.find(k); t != nil {
		t.n += n // the common case: no pointer written on the path
		return
	}
	s.root = s.insert(s.root, k, n)
}

// find returns the node of key k, nil when there is none.
func (s *mset) find(k string) *mnode {
	t := s.root
	for t != nil {
		switch c := strings.Compare(k, t.key); {
		case c == 0:
			return t
		case c < 0:
			t = t.left
		default:
			t = t.right
		}
	}
	return nil
}

func (s *mset) insert(t *mnode, k string, n int64) *mnode {
	if t == nil {
		s.distinct++
		s.keyBytes += len(k)
		return &mnode{key: strings.Clone(k), n: n, prio: rand.Uint32()}
	}
	switch c := strings.Compare(k, t.key); {
	case c == 0:
		t.n += n
	case c < 0:
		t.left = s.insert(t.left, k, n)
		if t.left.prio > t.prio {
			l := t.left
			t.left, l.right = l.right, t
			return l
		}
	default:
		t.right = s.insert(t.right, k, n)
		if t.right.prio > t.prio {
			r := t.right
			t.right, r.left = r.left, t
			return r
		}
	}
	return t
}

// remove removes one occurrence of the value whose key is k and reports whether there was one.
func (s *mset) remove(k string) bool {
	t := s.find(k)
	if t == nil {
		return false
	}
	if t.n > 1 {
		t.n--
		return true
	}
	var ok bool
	s.root, ok = s.delete(s.root, k)
	return ok
}

func (s *mset) delete(t *mnode, k string) (*mnode, bool) {
	if t == nil {
		return nil, false
	}
	var ok bool
	switch c := strings.Compare(k, t.key); {
	case c < 0:
		t.left, ok = s.delete(t.left, k)
	case c > 0:
		t.right, ok = s.delete(t.right, k)
	default:
		t.n--
		if t.n > 0 {
			return t, true
		}
		s.distinct--
		s.keyBytes -= len(k)
		return merge(t.left, t.right), true
	}
	return t, ok
}

// merge joins two treaps whose keys are all ordered a before b.
func merge(a, b *mnode) *mnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		return a
	}
	b.left = merge(a, b.left)
	return b
}

// min returns the smallest key; "" and false when empty.
func (s *mset) min() (string, bool) {
	t := s.root
	if t == nil {
		return "", false
	}
	for t.left != nil {
		t = t.left
	}
	return t.key, true
}

// max returns the largest key; "" and false when empty.
func (s *mset) max() (string, bool) {
	t := s.root
	if t == nil {
		return "", false
	}
	for t.right != nil {
		t = t.right
	}
	return t.key, true
}

// appendTo appends every key in ascending order with its count: uvarint length (unless width,
// the fixed length of every key, is not 0), key, uvarint count.
func (s *mset) appendTo(buf []byte, width int) []byte {
	var stack [64]*mnode // a treap's depth stays far below 64 in practice; deeper nodes use append
	path := stack[:0]
	for t := s.root; t != nil || len(path) > 0; {
		for ; t != nil; t = t.left {
			path = append(path, t)
		}
		t = path[len(path)-1]
		path = path[:len(path)-1]
		if width == 0 {
			buf = binary.AppendUvarint(buf, uint64(len(t.key)))
		}
		buf = append(buf, t.key...)
		buf = binary.AppendUvarint(buf, uint64(t.n))
		t = t.right
	}
	return buf
}

// encodedSize bounds the bytes appendTo appends.
func (s *mset) encodedSize() int { return s.keyBytes + 2*binary.MaxVarintLen64*s.distinct }

// size approximates the heap bytes of the set.
func (s *mset) size() int {
	n := allocSize(int(unsafe.Sizeof(*s)))
	var walk func(t *mnode)
	walk = func(t *mnode) {
		for ; t != nil; t = t.right {
			walk(t.left)
			n += mnodeSize + allocSize(len(t.key))
		}
	}
	walk(s.root)
	return n
}
