package decode

import (
	"errors"
	"math"
	"testing"
)

func TestParseWire(t *testing.T) {
	cases := []struct {
		in      []byte
		id      int
		payload string
		err     bool
	}{
		{[]byte{0, 0, 0, 1, 0, 'x'}, 256, "x", false},
		{[]byte{0, 0x7f, 0xff, 0xff, 0xff}, math.MaxInt32, "", false},
		{[]byte{0, 0x80, 0, 0, 0}, 0, "", true},
		{[]byte{1, 0, 0, 0, 1}, 0, "", true},
		{[]byte{0, 0, 0, 1}, 0, "", true},
		{nil, 0, "", true},
	}
	for _, c := range cases {
		id, payload, err := ParseWire(c.in)
		if (err != nil) != c.err || id != c.id || string(payload) != c.payload {
			t.Errorf("ParseWire(%x) = %d, %q, %v", c.in, id, payload, err)
		}
		if err != nil && !errors.Is(err, ErrNotWireFormat) {
			t.Errorf("ParseWire(%x): %v does not wrap ErrNotWireFormat", c.in, err)
		}
	}
	if _, err := AppendWireHeader(nil, math.MaxInt32+1); err == nil {
		t.Error("AppendWireHeader(2^31): no error")
	}
}
