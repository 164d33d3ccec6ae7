package postgres

import (
	"encoding/binary"
	"fmt"
)

// decodeBinaryArray decodes array_send's format: int32 ndim, int32 has-nulls flag, int32 element
// type OID, per dimension int32 length and int32 lower bound, then each element as int32 length
// (-1 for NULL) and its bytes. Only one-dimensional (and empty) arrays are supported.
func decodeBinaryArray(data []byte, elem Decoder) (any, error) {
	if len(data) < 12 {
		return nil, fmt.Errorf("array: binary value of %d bytes is shorter than its header", len(data))
	}
	ndim := int32(binary.BigEndian.Uint32(data))
	switch {
	case ndim == 0:
		if len(data) != 12 {
			return nil, fmt.Errorf("array: empty binary array has %d bytes after its header", len(data)-12)
		}
		return []any{}, nil
	case ndim < 0:
		return nil, fmt.Errorf("array: invalid number of dimensions %d", ndim)
	case ndim > 1:
		return nil, multiDimError(int(ndim))
	}
	if len(data) < 20 {
		return nil, fmt.Errorf("array: binary value of %d bytes is shorter than its header", len(data))
	}
	n := int32(binary.BigEndian.Uint32(data[12:]))
	if n < 0 {
		return nil, fmt.Errorf("array: invalid length %d", n)
	}
	p := 20
	// Each element takes at least 4 bytes: do not trust n further than the data goes.
	out := make([]any, 0, min(int(n), (len(data)-p)/4))
	for i := 0; i < int(n); i++ {
		if len(data)-p < 4 {
			return nil, fmt.Errorf("array: binary value ends before element %d of %d", i+1, n)
		}
		l := int32(binary.BigEndian.Uint32(data[p:]))
		p += 4
		if l == -1 {
			out = append(out, nil)
			continue
		}
		if l < 0 || int(l) > len(data)-p {
			return nil, fmt.Errorf("array: element %d has invalid length %d (%d bytes left)", i+1, l, len(data)-p)
		}
		v, err := elem(data[p : p+int(l)])
		if err != nil {
			return nil, fmt.Errorf("array: element %d: %w", i+1, err)
		}
		out = append(out, v)
		p += int(l)
	}
	if p != len(data) {
		return nil, fmt.Errorf("array: %d bytes after the last element", len(data)-p)
	}
	return out, nil
}

func multiDimError(ndim int) error {
	return fmt.Errorf("array: multi-dimensional arrays are not supported (value has %d dimensions)", ndim)
}

// decodeTextArray decodes array_out's format for a one-dimensional array: {1,2,NULL,"a b","x\"y"},
// optionally preceded by its bounds ([0:2]={...}) when they do not start at 1. An element is
// double-quoted when it is empty, NULL as a string, or holds a brace, quote, comma, backslash or
// white space; inside quotes, and outside, a backslash escapes the next byte. Unquoted elements
// have white space around them ignored; an unquoted NULL is SQL NULL.
func decodeTextArray(data []byte, elem Decoder) (any, error) {
	i := 0
	if len(data) > 0 && data[0] == '[' {
		ndim := 0
		for i < len(data) && data[i] == '[' {
			for i < len(data) && data[i] != ']' {
				i++
			}
			i++
			ndim++
		}
		if ndim > 1 {
			return nil, multiDimError(ndim)
		}
		if i >= len(data) || data[i] != '=' {
			return nil, fmt.Errorf("array: %q has malformed bounds", clip(data))
		}
		i++
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != '{' {
		return nil, fmt.Errorf("array: %q does not start with {", clip(data))
	}
	i++
	if j := skipSpace(data, i); j < len(data) && data[j] == '{' {
		ndim := 1
		for j < len(data) && data[j] == '{' {
			ndim++
			j = skipSpace(data, j+1)
		}
		return nil, multiDimError(ndim)
	}
	if j := skipSpace(data, i); j < len(data) && data[j] == '}' {
		if skipSpace(data, j+1) != len(data) {
			return nil, fmt.Errorf("array: %q has data after its closing brace", clip(data))
		}
		return []any{}, nil
	}
	n := 1
	for _, c := range data[i:] {
		if c == ',' {
			n++
		}
	}
	out := make([]any, 0, n)
	var scratch []byte // unescaped elements; the element decoder copies what it keeps
	for {
		i = skipSpace(data, i)
		var e []byte
		var null bool
		var err error
		if e, null, scratch, i, err = textArrayElement(data, i, scratch); err != nil {
			return nil, err
		}
		if null {
			out = append(out, nil)
		} else {
			v, err := elem(e)
			if err != nil {
				return nil, fmt.Errorf("array: element %d: %w", len(out)+1, err)
			}
			out = append(out, v)
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, fmt.Errorf("array: %q ends before its closing brace", clip(data))
		}
		if data[i] == '}' {
			break
		}
		if data[i] != ',' {
			return nil, fmt.Errorf("array: %q has %q after element %d, want , or }", clip(data), data[i], len(out))
		}
		i++
	}
	if skipSpace(data, i+1) != len(data) {
		return nil, fmt.Errorf("array: %q has data after its closing brace", clip(data))
	}
	return out, nil
}

// textArrayElement reads the element at data[i:] (white space skipped). It returns the element's
// bytes, which alias data or scratch, whether it is an unquoted NULL, scratch (possibly grown) and
// the index after the element.
func textArrayElement(data []byte, i int, scratch []byte) (e []byte, null bool, _ []byte, next int, err error) {
	if i < len(data) && data[i] == '"' {
		i++
		start := i
		for i < len(data) && data[i] != '"' && data[i] != '\\' {
			i++
		}
		if i < len(data) && data[i] == '"' {
			return data[start:i], false, scratch, i + 1, nil
		}
		// Escapes: unescape into scratch.
		scratch = append(scratch[:0], data[start:i]...)
		for i < len(data) && data[i] != '"' {
			if data[i] == '\\' {
				i++
				if i >= len(data) {
					break
				}
			}
			scratch = append(scratch, data[i])
			i++
		}
		if i >= len(data) {
			return nil, false, scratch, i, fmt.Errorf("array: %q has an unterminated quoted element", clip(data))
		}
		return scratch, false, scratch, i + 1, nil
	}
	start := i
	escaped := false
	for i < len(data) && data[i] != ',' && data[i] != '}' {
		switch data[i] {
		case '\\':
			escaped = true
			i++
		case '"', '{':
			return nil, false, scratch, i, fmt.Errorf("array: %q has an unexpected %q in element %q", clip(data), data[i], clip(data[start:i]))
		}
		i++
	}
	if i >= len(data) {
		return nil, false, scratch, len(data), fmt.Errorf("array: %q ends before its closing brace", clip(data))
	}
	if !escaped {
		e = data[start:i]
		end := len(e)
		for end > 0 && isArraySpace(e[end-1]) {
			end--
		}
		e = e[:end]
		if len(e) == 0 {
			return nil, false, scratch, i, fmt.Errorf("array: %q has an empty unquoted element", clip(data))
		}
		return e, len(e) == 4 && (e[0]|0x20) == 'n' && (e[1]|0x20) == 'u' && (e[2]|0x20) == 'l' && (e[3]|0x20) == 'l', scratch, i, nil
	}
	// Unescape, dropping trailing white space that was not escaped.
	scratch = scratch[:0]
	keep := 0 // length of scratch up to its last escaped or non-space byte
	for j := start; j < i; j++ {
		c := data[j]
		if c == '\\' {
			j++
			scratch = append(scratch, data[j])
			keep = len(scratch)
			continue
		}
		scratch = append(scratch, c)
		if !isArraySpace(c) {
			keep = len(scratch)
		}
	}
	return scratch[:keep], false, scratch, i, nil
}

// isArraySpace is array_isspace: the white space array_in ignores around elements.
func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isArraySpace(data[i]) {
		i++
	}
	return i
}
