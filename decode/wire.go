package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// WireHeaderLen is the length of the Confluent wire format's header: the magic byte 0 and the
// 4-byte big-endian schema id.
const WireHeaderLen = 5

// ErrNotWireFormat is ParseWire's error for bytes that are not in the Confluent wire format.
var ErrNotWireFormat = errors.New("decode: not in the Confluent wire format")

// AppendWireHeader appends the Confluent wire format's header for schema id: the magic byte 0 and
// id as 4 big-endian bytes. The Avro binary record follows it. Registries give ids from 0 to
// 2^31-1; any other id is an error.
func AppendWireHeader(buf []byte, id int) ([]byte, error) {
	if id < 0 || id > math.MaxInt32 {
		return buf, fmt.Errorf("decode: schema id %d out of the range of the Confluent wire format", id)
	}
	return binary.BigEndian.AppendUint32(append(buf, 0), uint32(id)), nil
}

// ParseWire splits a record in the Confluent wire format into its schema id and its Avro binary
// payload, which aliases b. It fails (wrapping ErrNotWireFormat) when b is shorter than the
// header, its first byte is not 0, or the id is above 2^31-1.
func ParseWire(b []byte) (id int, payload []byte, err error) {
	if len(b) < WireHeaderLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrNotWireFormat, len(b), WireHeaderLen)
	}
	if b[0] != 0 {
		return 0, nil, fmt.Errorf("%w: magic byte %d, want 0", ErrNotWireFormat, b[0])
	}
	u := binary.BigEndian.Uint32(b[1:WireHeaderLen])
	if u > math.MaxInt32 {
		return 0, nil, fmt.Errorf("%w: schema id %d above 2^31-1", ErrNotWireFormat, u)
	}
	return int(u), b[WireHeaderLen:], nil
}
