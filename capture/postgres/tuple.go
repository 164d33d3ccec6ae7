package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The hot path parses pgoutput's Insert, Update and Delete messages itself instead of through
// pglogrepl.Parse, which allocates a struct per column: these three messages are nearly all of a
// busy stream. Their layout (PostgreSQL's logicalrep_write_insert/update/delete):
//
//	Insert  'I' relid:uint32 'N' tuple
//	Update  'U' relid:uint32 [('K'|'O') tuple] 'N' tuple
//	Delete  'D' relid:uint32 ('K'|'O') tuple
//	tuple   ncols:int16 { kind:byte ['t'|'b' len:int32 bytes] }   kind: 'n' null, 'u' unchanged TOAST
//
// Column bytes alias the message buffer: decoders copy what they keep.

// tupleCol is one column of a tuple: its kind and, for 't' and 'b', its bytes.
type tupleCol struct {
	kind byte
	data []byte
}

// rowChange is a parsed Insert, Update or Delete.
type rowChange struct {
	op       byte
	relation uint32
	oldKind  byte // 'K' (key columns) or 'O' (whole old row), 0 when absent
	old      []tupleCol
	new      []tupleCol
}

var errShortMessage = errors.New("message too short")

// parseRowChange parses an Insert, Update or Delete message into m, reusing m's column slices.
func parseRowChange(data []byte, m *rowChange) error {
	if len(data) < 6 {
		return errShortMessage
	}
	m.op, m.relation, m.oldKind = data[0], binary.BigEndian.Uint32(data[1:5]), 0
	m.old, m.new = m.old[:0], m.new[:0]
	rest := data[5:]
	var err error
	switch m.op {
	case 'I':
		if rest[0] != 'N' {
			return fmt.Errorf("insert: tuple marker %q, want 'N'", rest[0])
		}
		m.new, rest, err = parseTuple(rest[1:], m.new)
	case 'U':
		if rest[0] == 'K' || rest[0] == 'O' {
			m.oldKind = rest[0]
			if m.old, rest, err = parseTuple(rest[1:], m.old); err != nil {
				return fmt.Errorf("update old tuple: %w", err)
			}
			if len(rest) == 0 {
				return errShortMessage
			}
		}
		if rest[0] != 'N' {
			return fmt.Errorf("update: tuple marker %q, want 'N'", rest[0])
		}
		m.new, rest, err = parseTuple(rest[1:], m.new)
	case 'D':
		if rest[0] != 'K' && rest[0] != 'O' {
			return fmt.Errorf("delete: tuple marker %q, want 'K' or 'O'", rest[0])
		}
		m.oldKind = rest[0]
		m.old, rest, err = parseTuple(rest[1:], m.old)
	default:
		return fmt.Errorf("not a row change: %q", m.op)
	}
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d trailing bytes after the tuple", len(rest))
	}
	return nil
}

// parseTuple parses one tuple into cols (reused), returning the bytes after it.
func parseTuple(b []byte, cols []tupleCol) ([]tupleCol, []byte, error) {
	if len(b) < 2 {
		return cols, nil, errShortMessage
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	b = b[2:]
	if n < 0 {
		return cols, nil, fmt.Errorf("negative column count %d", n)
	}
	for i := 0; i < n; i++ {
		if len(b) < 1 {
			return cols, nil, errShortMessage
		}
		c := tupleCol{kind: b[0]}
		b = b[1:]
		switch c.kind {
		case 'n', 'u':
		case 't', 'b':
			if len(b) < 4 {
				return cols, nil, errShortMessage
			}
			l := int(int32(binary.BigEndian.Uint32(b)))
			b = b[4:]
			if l < 0 || l > len(b) {
				return cols, nil, fmt.Errorf("column %d: length %d exceeds the message", i, l)
			}
			c.data = b[:l:l]
			b = b[l:]
		default:
			return cols, nil, fmt.Errorf("column %d: unknown kind %q", i, c.kind)
		}
		cols = append(cols, c)
	}
	return cols, b, nil
}
