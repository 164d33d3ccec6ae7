package postgres

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// frame builds a pgoutput message from parts: bytes, strings, uint32 (relid), int16 (ncols) and
// col (a column: kind plus data).
type col struct {
	kind byte
	data string
}

func frame(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case int16:
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		case col:
			b = append(b, v.kind)
			if v.kind == 't' || v.kind == 'b' {
				b = binary.BigEndian.AppendUint32(b, uint32(len(v.data)))
				b = append(b, v.data...)
			}
		}
	}
	return b
}

func TestParseRowChange(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    rowChange
		wantErr bool
	}{
		{"insert", frame(byte('I'), uint32(16385), byte('N'), int16(3), col{'t', "42"}, col{'n', ""}, col{'b', "\x00\x01"}),
			rowChange{op: 'I', relation: 16385, new: []tupleCol{{'t', []byte("42")}, {'n', nil}, {'b', []byte{0, 1}}}}, false},
		{"update without old", frame(byte('U'), uint32(7), byte('N'), int16(2), col{'t', "1"}, col{'u', ""}),
			rowChange{op: 'U', relation: 7, new: []tupleCol{{'t', []byte("1")}, {'u', nil}}}, false},
		{"update with key", frame(byte('U'), uint32(7), byte('K'), int16(2), col{'t', "1"}, col{'n', ""}, byte('N'), int16(2), col{'t', "2"}, col{'t', "x"}),
			rowChange{op: 'U', relation: 7, oldKind: 'K', old: []tupleCol{{'t', []byte("1")}, {'n', nil}}, new: []tupleCol{{'t', []byte("2")}, {'t', []byte("x")}}}, false},
		{"update with old row", frame(byte('U'), uint32(7), byte('O'), int16(1), col{'t', ""}, byte('N'), int16(1), col{'t', "y"}),
			rowChange{op: 'U', relation: 7, oldKind: 'O', old: []tupleCol{{'t', []byte{}}}, new: []tupleCol{{'t', []byte("y")}}}, false},
		{"delete", frame(byte('D'), uint32(9), byte('O'), int16(1), col{'t', "5"}),
			rowChange{op: 'D', relation: 9, oldKind: 'O', old: []tupleCol{{'t', []byte("5")}}}, false},
		{"empty tuple", frame(byte('I'), uint32(1), byte('N'), int16(0)), rowChange{op: 'I', relation: 1}, false},
		{"short", []byte{'I', 0, 0}, rowChange{}, true},
		{"bad marker", frame(byte('I'), uint32(1), byte('X'), int16(0)), rowChange{}, true},
		{"delete without old", frame(byte('D'), uint32(1), byte('N'), int16(0)), rowChange{}, true},
		{"length past the end", append(frame(byte('I'), uint32(1), byte('N'), int16(1), byte('t')), 0, 0, 0, 9, 'a'), rowChange{}, true},
		{"negative length", append(frame(byte('I'), uint32(1), byte('N'), int16(1), byte('t')), 0xff, 0xff, 0xff, 0xff), rowChange{}, true},
		{"negative count", frame(byte('I'), uint32(1), byte('N'), int16(-1)), rowChange{}, true},
		{"unknown kind", frame(byte('I'), uint32(1), byte('N'), int16(1), byte('z')), rowChange{}, true},
		{"trailing bytes", append(frame(byte('I'), uint32(1), byte('N'), int16(0)), 'x'), rowChange{}, true},
		{"truncated columns", frame(byte('I'), uint32(1), byte('N'), int16(2), col{'n', ""}), rowChange{}, true},
		{"not a row change", frame(byte('B'), uint32(1), byte('N')), rowChange{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got rowChange
			err := parseRowChange(tt.in, &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			norm := func(c []tupleCol) []tupleCol {
				if len(c) == 0 {
					return nil
				}
				return c
			}
			got.old, got.new = norm(got.old), norm(got.new)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRowChangeReusesBuffers(t *testing.T) {
	msg := frame(byte('U'), uint32(7), byte('K'), int16(2), col{'t', "1"}, col{'n', ""}, byte('N'), int16(2), col{'t', "2"}, col{'t', "x"})
	var m rowChange
	if err := parseRowChange(msg, &m); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = parseRowChange(msg, &m) }); n != 0 {
		t.Fatalf("%v allocations per message, want 0", n)
	}
}

// FuzzParseRowChange: any bytes parse or fail cleanly, and columns never reach past the message.
func FuzzParseRowChange(f *testing.F) {
	f.Add(frame(byte('I'), uint32(16385), byte('N'), int16(3), col{'t', "42"}, col{'n', ""}, col{'b', "\x00\x01"}))
	f.Add(frame(byte('U'), uint32(7), byte('K'), int16(2), col{'t', "1"}, col{'n', ""}, byte('N'), int16(2), col{'t', "2"}, col{'u', ""}))
	f.Add(frame(byte('D'), uint32(9), byte('O'), int16(1), col{'t', "5"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m rowChange
		if err := parseRowChange(b, &m); err != nil {
			return
		}
		total := 0
		for _, c := range append(append([]tupleCol{}, m.old...), m.new...) {
			total += len(c.data)
		}
		if total > len(b) {
			t.Fatalf("columns hold %d bytes of a %d-byte message", total, len(b))
		}
	})
}
