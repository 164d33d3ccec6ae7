package decode

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Native decodes an Avro binary record of s through goavro, as goavro's native map (decimals are
// *big.Rat, timestamp-micros time.Time, date time.Time, time-micros time.Duration, a non-null
// union value a one-entry map keyed by its branch's type name). It is for tools and tests, not
// for the hot path.
func (s *TableSchema) Native(avroBinary []byte) (map[string]any, error) {
	v, rest, err := s.codec.NativeFromBinary(avroBinary)
	if err != nil {
		return nil, fmt.Errorf("decode: record of table %s: %w", s.where, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode: record of table %s: %d bytes after the record", s.where, len(rest))
	}
	return v.(map[string]any), nil
}

// DecodeToJSON decodes an Avro binary record written under schemaJSON and renders it as JSON
// for people to read (what `cdcd tail` prints). See Renderer for the form. To render many records
// of one schema, make a Renderer once.
func DecodeToJSON(schemaJSON string, payload []byte) ([]byte, error) {
	r, err := NewRenderer(schemaJSON)
	if err != nil {
		return nil, err
	}
	return r.Render(payload)
}

// Renderer renders Avro binary records of one schema as JSON for people to read.
//
// A record of a cdcd schema becomes {"op":…,"version":…,"seq":…,"commit_ts":…,"snapshot":…,
// "row":{…}}: the metadata fields without their "__cdcd_" prefix, then the columns under their
// original source names (the fields' "cdcd.column" properties). Other records become an object of
// their fields. Values: decimals as exact strings at their scale ("12.50"); timestamp-micros as
// RFC 3339 UTC with six fraction digits; local-timestamp-micros the same without a zone; dates as
// "2006-01-02"; time-micros as "15:04:05.000000"; bytes and fixed as base64; floats that JSON
// cannot hold (NaN, ±Inf) as strings; __cdcd_version as an unsigned number.
//
// A Renderer is safe for concurrent use.
type Renderer struct {
	codec *goavro.Codec
	root  *node
}

// NewRenderer parses schemaJSON (any Avro schema) for rendering.
func NewRenderer(schemaJSON string) (*Renderer, error) {
	codec, err := goavro.NewCodec(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("decode: parse schema: %w", err)
	}
	var tree any
	if err := json.Unmarshal([]byte(schemaJSON), &tree); err != nil {
		return nil, fmt.Errorf("decode: parse schema: %w", err)
	}
	p := &schemaParser{named: map[string]*node{}}
	root, err := p.parse(tree, "")
	if err != nil {
		return nil, fmt.Errorf("decode: parse schema: %w", err)
	}
	return &Renderer{codec: codec, root: root}, nil
}

// Render decodes one Avro binary record and renders it.
func (r *Renderer) Render(payload []byte) ([]byte, error) {
	v, rest, err := r.codec.NativeFromBinary(payload)
	if err != nil {
		return nil, fmt.Errorf("decode: decode record: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode: decode record: %d bytes after the record", len(rest))
	}
	if r.root.kind == "record" && r.root.hasMeta() {
		return r.root.appendCDCD(nil, v)
	}
	return r.root.appendJSON(nil, v)
}

// node is what rendering needs to know of one Avro type.
type node struct {
	kind     string // the Avro type: "null", "int", ..., "record", "enum", "array", "map", "fixed", "union"
	logical  string
	scale    int
	unsigned bool   // render a long as uint64 (__cdcd_version)
	fullName string // of a named type
	fields   []fieldNode
	items    *node   // array items, map values
	branches []*node // union branches
}

type fieldNode struct {
	name   string // the Avro field name
	column string // the "cdcd.column" property, else name
	typ    *node
}

type schemaParser struct{ named map[string]*node }

func (p *schemaParser) parse(v any, ns string) (*node, error) {
	switch t := v.(type) {
	case string:
		switch t {
		case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
			return &node{kind: t}, nil
		}
		full := t
		if !strings.Contains(t, ".") && ns != "" {
			full = ns + "." + t
		}
		for _, n := range []string{full, t} {
			if nd, ok := p.named[n]; ok {
				return nd, nil
			}
		}
		return nil, fmt.Errorf("unknown type %q", t)
	case []any:
		u := &node{kind: "union"}
		for _, b := range t {
			bn, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, bn)
		}
		return u, nil
	case map[string]any:
		return p.parseMap(t, ns)
	}
	return nil, fmt.Errorf("bad schema element of Go type %T", v)
}

func (p *schemaParser) parseMap(m map[string]any, ns string) (*node, error) {
	kind, _ := m["type"].(string)
	n := &node{kind: kind}
	n.logical, _ = m["logicalType"].(string)
	if sc, ok := m["scale"].(float64); ok {
		n.scale = int(sc)
	}
	switch kind {
	case "record", "error", "enum", "fixed":
		if kind == "error" {
			n.kind = "record"
		}
		name, _ := m["name"].(string)
		if space, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
			ns = space
		}
		n.fullName = name
		if !strings.Contains(name, ".") && ns != "" {
			n.fullName = ns + "." + name
		}
		if i := strings.LastIndexByte(n.fullName, '.'); i >= 0 {
			ns = n.fullName[:i]
		}
		p.named[n.fullName] = n
		if n.kind != "record" {
			return n, nil
		}
		fields, _ := m["fields"].([]any)
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				return nil, errors.New("record field is not an object")
			}
			name, _ := fm["name"].(string)
			typ, err := p.parse(fm["type"], ns)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			col, ok := fm["cdcd.column"].(string)
			if !ok {
				col = name
			}
			if name == FieldVersion && typ.kind == "long" {
				typ = &node{kind: "long", unsigned: true}
			}
			n.fields = append(n.fields, fieldNode{name: name, column: col, typ: typ})
		}
		return n, nil
	case "array":
		items, err := p.parse(m["items"], ns)
		n.items = items
		return n, err
	case "map":
		values, err := p.parse(m["values"], ns)
		n.items = values
		return n, err
	case "":
		return p.parse(m["type"], ns) // {"type": {...}}
	}
	return n, nil // a primitive with attributes, e.g. a logical type
}

func (n *node) hasMeta() bool {
	for _, f := range n.fields {
		if strings.HasPrefix(f.name, metaPrefix) {
			return true
		}
	}
	return false
}

// appendCDCD renders a cdcd record: metadata first, then the columns under "row".
func (n *node) appendCDCD(b []byte, v any) ([]byte, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("record decoded as %T", v)
	}
	b = append(b, '{')
	var err error
	for _, f := range n.fields {
		if strings.HasPrefix(f.name, metaPrefix) {
			b = appendJSONString(b, strings.TrimPrefix(f.name, metaPrefix))
			b = append(b, ':')
			if b, err = f.typ.appendJSON(b, m[f.name]); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.name, err)
			}
			b = append(b, ',')
		}
	}
	b = append(b, `"row":{`...)
	first := true
	for _, f := range n.fields {
		if strings.HasPrefix(f.name, metaPrefix) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f.column)
		b = append(b, ':')
		if b, err = f.typ.appendJSON(b, m[f.name]); err != nil {
			return nil, fmt.Errorf("column %q: %w", f.column, err)
		}
	}
	return append(b, '}', '}'), nil
}

// appendJSON renders goavro's native value v of type n.
func (n *node) appendJSON(b []byte, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	var err error
	switch n.kind {
	case "union":
		return n.appendUnion(b, v)
	case "record":
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		b = append(b, '{')
		for i, f := range n.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.column)
			b = append(b, ':')
			if b, err = f.typ.appendJSON(b, m[f.name]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case "array":
		a, ok := v.([]any)
		if !ok {
			break
		}
		b = append(b, '[')
		for i, e := range a {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = n.items.appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			if b, err = n.items.appendJSON(b, m[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return appendScalar(b, n, v)
}

// appendUnion renders a union's value: goavro gives a non-null one as {branch type name: value}.
func (n *node) appendUnion(b []byte, v any) ([]byte, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, fmt.Errorf("union value decoded as %T", v)
	}
	for key, val := range m {
		var nonNull []*node
		for _, br := range n.branches {
			if br.goavroName() == key {
				return br.appendJSON(b, val)
			}
			if br.kind != "null" {
				nonNull = append(nonNull, br)
			}
		}
		if len(nonNull) == 1 {
			return nonNull[0].appendJSON(b, val)
		}
		return nil, fmt.Errorf("union value of unknown branch %q", key)
	}
	return b, nil
}

// goavroName is the key goavro gives a union value of this branch.
func (n *node) goavroName() string {
	switch {
	case n.fullName != "":
		return n.fullName
	case n.kind == "long" && (n.logical == "timestamp-millis" || n.logical == "timestamp-micros" || n.logical == "time-micros"),
		n.kind == "int" && (n.logical == "date" || n.logical == "time-millis"),
		n.kind == "bytes" && n.logical == "decimal":
		return n.kind + "." + n.logical // the logical types goavro knows
	}
	return n.kind
}

func appendScalar(b []byte, n *node, v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(b, x), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		switch {
		case n.unsigned:
			return strconv.AppendUint(b, uint64(x), 10), nil
		case n.logical == "local-timestamp-micros":
			return appendTime(b, time.UnixMicro(x).UTC(), "2006-01-02T15:04:05.000000"), nil
		case n.logical == "local-timestamp-millis":
			return appendTime(b, time.UnixMilli(x).UTC(), "2006-01-02T15:04:05.000"), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		return appendJSONString(b, base64.StdEncoding.EncodeToString(x)), nil
	case *big.Rat:
		return appendJSONString(b, x.FloatString(n.scale)), nil
	case time.Time:
		switch n.logical {
		case "date":
			return appendTime(b, x.UTC(), time.DateOnly), nil
		case "timestamp-millis":
			return appendTime(b, x.UTC(), "2006-01-02T15:04:05.000Z07:00"), nil
		}
		return appendTime(b, x.UTC(), "2006-01-02T15:04:05.000000Z07:00"), nil
	case time.Duration:
		us := x / time.Microsecond
		h, m, s, f := us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000
		text := fmt.Sprintf("%02d:%02d:%02d.%06d", h, m, s, f)
		if n.logical == "time-millis" {
			text = text[:len(text)-3]
		}
		return appendJSONString(b, text), nil
	}
	return nil, fmt.Errorf("value of Go type %T for Avro type %s", v, n.kind)
}

func appendTime(b []byte, t time.Time, layout string) []byte {
	b = append(b, '"')
	return append(t.AppendFormat(b, layout), '"')
}

func appendFloat(b []byte, f float64, size int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, size)
}
