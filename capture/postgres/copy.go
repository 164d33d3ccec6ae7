package postgres

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// copySignature starts every binary COPY stream.
const copySignature = "PGCOPY\n\377\r\n\000"

// copyMaxChunk bounds how much CopyReader allocates ahead of the data actually read, so a corrupt
// field length cannot make it allocate gigabytes.
const copyMaxChunk = 1 << 20

// CopyReader parses PostgreSQL's binary COPY format (COPY ... TO STDOUT (FORMAT binary)) from an
// io.Reader, one tuple at a time. Each field is in its type's binary format (see NewDecoder).
// A CopyReader is not safe for concurrent use.
type CopyReader struct {
	r       *bufio.Reader
	started bool  // the header has been read
	err     error // sticky: io.EOF after the trailer, or the first error
	buf     []byte
	fields  [][]byte
	ends    []int // end offset in buf of each field, -1 for NULL
	hdr     [4]byte
}

// NewCopyReader returns a CopyReader reading r.
func NewCopyReader(r io.Reader) *CopyReader {
	return &CopyReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next tuple's fields, a nil entry for NULL. The fields alias an internal buffer
// that is valid until the next call. Next returns io.EOF after the trailer; a stream that ends
// before its trailer is an error wrapping io.ErrUnexpectedEOF.
func (c *CopyReader) Next() ([][]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	fields, err := c.next()
	if err != nil {
		c.err = err
		return nil, err
	}
	return fields, nil
}

func (c *CopyReader) next() ([][]byte, error) {
	if !c.started {
		if err := c.readHeader(); err != nil {
			return nil, err
		}
		c.started = true
	}
	if _, err := io.ReadFull(c.r, c.hdr[:2]); err != nil {
		return nil, c.truncated("tuple", err)
	}
	n := int16(binary.BigEndian.Uint16(c.hdr[:2]))
	if n == -1 {
		return nil, io.EOF
	}
	if n < 0 {
		return nil, fmt.Errorf("copy: invalid field count %d", n)
	}
	c.buf = c.buf[:0]
	c.ends = c.ends[:0]
	for i := 0; i < int(n); i++ {
		if _, err := io.ReadFull(c.r, c.hdr[:4]); err != nil {
			return nil, c.truncated("field length", err)
		}
		l := int32(binary.BigEndian.Uint32(c.hdr[:4]))
		if l == -1 {
			c.ends = append(c.ends, -1)
			continue
		}
		if l < 0 {
			return nil, fmt.Errorf("copy: field %d has invalid length %d", i+1, l)
		}
		if err := c.readField(int(l)); err != nil {
			return nil, err
		}
		c.ends = append(c.ends, len(c.buf))
	}
	// Slice the fields only now: buf may have moved while it grew.
	c.fields = c.fields[:0]
	start := 0
	for _, end := range c.ends {
		if end < 0 {
			c.fields = append(c.fields, nil)
			continue
		}
		c.fields = append(c.fields, c.buf[start:end:end])
		start = end
	}
	return c.fields, nil
}

// readField appends l bytes from the stream to buf, growing buf no further ahead of the data
// read than copyMaxChunk.
func (c *CopyReader) readField(l int) error {
	for l > 0 {
		n := min(l, copyMaxChunk)
		start := len(c.buf)
		if cap(c.buf)-start < n {
			c.buf = append(c.buf[:cap(c.buf)], make([]byte, n-(cap(c.buf)-start))...)
		}
		c.buf = c.buf[:start+n]
		if _, err := io.ReadFull(c.r, c.buf[start:]); err != nil {
			return c.truncated("field", err)
		}
		l -= n
	}
	return nil
}

func (c *CopyReader) readHeader() error {
	var h [len(copySignature) + 8]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("copy: empty stream: %w", io.ErrUnexpectedEOF)
		}
		return c.truncated("header", err)
	}
	if string(h[:len(copySignature)]) != copySignature {
		return errors.New("copy: stream does not start with the binary COPY signature")
	}
	flags := binary.BigEndian.Uint32(h[len(copySignature):])
	if flags&(1<<16) != 0 {
		return errors.New("copy: streams with OIDs are not supported")
	}
	if flags>>17 != 0 {
		return fmt.Errorf("copy: unknown critical header flags 0x%08x", flags)
	}
	ext := binary.BigEndian.Uint32(h[len(copySignature)+4:])
	if _, err := c.r.Discard(int(min(ext, 1<<31-1))); err != nil {
		return c.truncated("header extension", err)
	}
	return nil
}

// truncated turns a read error into one that says what was being read; a clean EOF where data was
// due becomes io.ErrUnexpectedEOF.
func (c *CopyReader) truncated(what string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("copy: reading %s: %w", what, err)
}
