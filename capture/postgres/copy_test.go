package postgres

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// copyStream builds a binary COPY stream: header, one tuple per row (a nil field is NULL), trailer.
func copyStream(rows ...[][]byte) []byte {
	b := cat([]byte(copySignature), be32(0), be32(0))
	for _, row := range rows {
		b = append(b, copyTuple(row...)...)
	}
	return append(b, be16(0xFFFF)...)
}

func copyTuple(fields ...[]byte) []byte {
	b := be16(uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			b = append(b, be32(0xFFFFFFFF)...)
			continue
		}
		b = append(b, be32(uint32(len(f)))...)
		b = append(b, f...)
	}
	return b
}

// readAll reads every tuple, copying the fields (they alias the reader's buffer).
func readAll(c *CopyReader) ([][][]byte, error) {
	var rows [][][]byte
	for {
		fields, err := c.Next()
		if err != nil {
			return rows, err
		}
		row := make([][]byte, len(fields))
		for i, f := range fields {
			if f != nil {
				row[i] = append([]byte{}, f...)
			}
		}
		rows = append(rows, row)
	}
}

func equalRows(a, b [][][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if (a[i][j] == nil) != (b[i][j] == nil) || !bytes.Equal(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}

func TestCopyReader(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 3*copyMaxChunk+17)
	rows := [][][]byte{
		{be32(1), []byte("hello"), nil},
		{be32(2), []byte{}, []byte("a")},
		{},
		{nil, nil, big},
		{be32(3), []byte("after big"), nil},
	}
	stream := copyStream(rows...)
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(stream) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			c := NewCopyReader(r())
			got, err := readAll(c)
			if err != io.EOF {
				t.Fatalf("after %d tuples: error %v, want io.EOF", len(got), err)
			}
			if !equalRows(got, rows) {
				t.Fatalf("tuples differ: got %d tuples", len(got))
			}
			if _, err := c.Next(); err != io.EOF {
				t.Fatalf("Next after EOF: %v, want io.EOF", err)
			}
		})
	}
}

func TestCopyReaderEmptyAndExtension(t *testing.T) {
	// No tuples, and a header extension the reader must skip.
	stream := cat([]byte(copySignature), be32(0), be32(5), []byte("12345"), be16(0xFFFF))
	c := NewCopyReader(bytes.NewReader(stream))
	if _, err := c.Next(); err != io.EOF {
		t.Fatalf("Next: %v, want io.EOF", err)
	}
	// A non-critical flag bit (below 16) is ignored.
	stream = cat([]byte(copySignature), be32(1), be32(0), copyTuple(be32(7)), be16(0xFFFF))
	c = NewCopyReader(bytes.NewReader(stream))
	if f, err := c.Next(); err != nil || len(f) != 1 || !bytes.Equal(f[0], be32(7)) {
		t.Fatalf("Next: %q, %v", f, err)
	}
}

// TestCopyReaderReusesBuffers checks a tuple's fields alias one buffer that later tuples reuse.
func TestCopyReaderReusesBuffers(t *testing.T) {
	stream := copyStream([][]byte{[]byte("aaaa"), []byte("bbbb")}, [][]byte{[]byte("cccc"), []byte("dddd")})
	c := NewCopyReader(bytes.NewReader(stream))
	first, err := c.Next()
	if err != nil {
		t.Fatal(err)
	}
	a := &first[0][0]
	second, err := c.Next()
	if err != nil {
		t.Fatal(err)
	}
	if &second[0][0] != a || string(second[1]) != "dddd" {
		t.Fatalf("second tuple does not reuse the buffer: %q", second)
	}
	var many [][][]byte
	for i := 0; i < 1000; i++ {
		many = append(many, [][]byte{[]byte("abcdefgh"), nil, []byte("xy")})
	}
	c = NewCopyReader(bytes.NewReader(copyStream(many...)))
	c.Next()
	if n := testing.AllocsPerRun(500, func() {
		if _, err := c.Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Next allocates %v times per tuple in steady state, want 0", n)
	}
}

func TestCopyReaderErrors(t *testing.T) {
	header := cat([]byte(copySignature), be32(0), be32(0))
	cases := []struct {
		name     string
		stream   []byte
		want     string
		unexpEOF bool
	}{
		{"empty", nil, "copy: empty stream", true},
		{"short header", []byte("PGCOPY\n"), "copy: reading header", true},
		{"bad signature", cat([]byte("PGCOPY\n\377\r\n\001"), be32(0), be32(0)), "copy: stream does not start with the binary COPY signature", false},
		{"text COPY", []byte("1\thello\n2\tworld\n\\.\n"), "signature", false},
		{"oids", cat([]byte(copySignature), be32(1<<16), be32(0)), "copy: streams with OIDs are not supported", false},
		{"critical flag", cat([]byte(copySignature), be32(1<<20), be32(0)), "copy: unknown critical header flags 0x00100000", false},
		{"short extension", cat([]byte(copySignature), be32(0), be32(10), []byte("abc")), "copy: reading header extension", true},
		{"no trailer", header, "copy: reading tuple", true},
		{"no trailer after tuple", cat(header, copyTuple(be32(1))), "copy: reading tuple", true},
		{"half a field count", cat(header, []byte{0}), "copy: reading tuple", true},
		{"field count -2", cat(header, be16(0xFFFE)), "copy: invalid field count -2", false},
		{"short field length", cat(header, be16(1), []byte{0, 0}), "copy: reading field length", true},
		{"field length -2", cat(header, be16(1), be32(0xFFFFFFFE)), "copy: field 1 has invalid length -2", false},
		{"short field", cat(header, be16(1), be32(10), []byte("abc")), "copy: reading field", true},
		{"huge field", cat(header, be16(1), be32(0x7FFFFFFF), []byte("abc")), "copy: reading field", true},
		{"missing field", cat(header, be16(2), be32(1), []byte("a")), "copy: reading field length", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCopyReader(bytes.NewReader(tc.stream))
			_, err := readAll(c)
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != tc.unexpEOF {
				t.Fatalf("error %v: errors.Is(io.ErrUnexpectedEOF) = %v, want %v", err, !tc.unexpEOF, tc.unexpEOF)
			}
			if _, again := c.Next(); again != err {
				t.Fatalf("Next after error: %v, want the same error %v", again, err)
			}
		})
	}
}

// TestCopyReaderReadError checks an I/O error is passed on, wrapped.
func TestCopyReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	stream := copyStream([][]byte{be32(1)})
	c := NewCopyReader(io.MultiReader(bytes.NewReader(stream[:25]), iotest.ErrReader(boom)))
	_, err := readAll(c)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "copy: reading") {
		t.Fatalf("error %v, want a copy: error wrapping boom", err)
	}
}
