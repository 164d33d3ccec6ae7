package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The file is decoded by walking yaml.v3's node tree alongside the Go value rather than with
// yaml.v3's own decoder, so that every error, unknown keys and type mismatches included, names
// the field's path, and so that ${VAR} is expanded in scalar values only, after parsing.
//
// The rules: a struct is decoded from a mapping whose keys are its fields' yaml names; a key
// that is absent or null keeps the default; a pointer to a struct is allocated with its defaults
// when its key is present; a list of strings or table names also accepts a single value; an
// integer or boolean is read from the scalar's text, quoted or not, after expansion; a type that
// implements yaml.Unmarshaler receives an expanded copy of its node.

// maxNodes bounds the nodes visited, so that aliases cannot make decoding explode.
const maxNodes = 100_000

// defaulter is implemented by the types whose zero value is not their default.
type defaulter interface{ setDefaults() }

var (
	_ defaulter = (*Config)(nil)
	_ defaulter = (*Postgres)(nil)
	_ defaulter = (*MySQL)(nil)

	_ yaml.Unmarshaler = (*Duration)(nil)
	_ yaml.Unmarshaler = (*ByteSize)(nil)
	_ yaml.Unmarshaler = (*TableName)(nil)
	_ yaml.Unmarshaler = (*Aggregation)(nil)
)

// decodeFile parses data as one YAML document and decodes it over the defaults.
func decodeFile(name string, data []byte) (*Config, error) {
	c := &Config{origin: &origin{file: name, lines: map[string]int{}}}
	c.setDefaults()

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil // an empty file: Validate says what is missing
		}
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, &Error{File: name, Message: fmt.Sprintf("line %d: a second YAML document; the file must hold one", next.Line)}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d := &decoder{file: name, lines: c.origin.lines, inside: map[*yaml.Node]bool{}}
	if err := d.decode("", root, reflect.ValueOf(c).Elem()); err != nil {
		return nil, err
	}
	return c, nil
}

func yamlError(name string, err error) *Error {
	return &Error{File: name, Message: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
}

type decoder struct {
	file   string
	lines  map[string]int // field path -> line, filled while decoding
	nodes  int
	inside map[*yaml.Node]bool // the collections being decoded, to catch an alias to itself
}

func (d *decoder) errorf(path string, format string, args ...any) *Error {
	return &Error{File: d.file, Field: path, Message: fmt.Sprintf(format, args...)}
}

// wrap turns an error from an UnmarshalYAML method into an *Error at path.
func (d *decoder) wrap(path string, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return &Error{File: d.file, Field: join(path, e.Field), Message: e.Message, Err: e.Err}
	}
	return &Error{File: d.file, Field: path, Message: err.Error(), Err: err}
}

// visit resolves an alias and counts the node against maxNodes.
func (d *decoder) visit(path string, n *yaml.Node) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.nodes++; d.nodes > maxNodes {
		return nil, d.errorf(path, "more than %d values; check the file's aliases", maxNodes)
	}
	return n, nil
}

// enter marks the collection n as being decoded until leave is called. Meeting it again before
// that means an alias refers to a node that contains it.
func (d *decoder) enter(path string, n *yaml.Node) (leave func(), err error) {
	if d.inside[n] {
		return nil, d.errorf(path, "line %d: an alias refers to a value that contains it", n.Line)
	}
	d.inside[n] = true
	return func() { delete(d.inside, n) }, nil
}

func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) error {
	n, err := d.visit(path, n)
	if err != nil {
		return err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // keep the default
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		x, err := d.expandTree(path, n)
		if err != nil {
			return err
		}
		if err := u.UnmarshalYAML(x); err != nil {
			return d.wrap(path, err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			p := reflect.New(v.Type().Elem())
			if df, ok := p.Interface().(defaulter); ok {
				df.setDefaults()
			}
			v.Set(p)
		}
		return d.decode(path, n, v.Elem())
	case reflect.Struct:
		return d.decodeStruct(path, n, v)
	case reflect.Slice:
		return d.decodeSlice(path, n, v)
	}
	return d.decodeScalar(path, n, v)
}

func (d *decoder) decodeStruct(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(path, "expected a mapping, got %s", describe(n))
	}
	leave, err := d.enter(path, n)
	if err != nil {
		return err
	}
	defer leave()
	names, index := fieldsOf(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errorf(path, "line %d: a key must be a name, got %s", k.Line, describe(k))
		}
		field := join(path, k.Value)
		if k.ShortTag() == "!!merge" {
			return d.errorf(field, "merge keys are not supported")
		}
		idx, ok := index[k.Value]
		if !ok {
			return d.errorf(field, "unknown key; allowed: %s", strings.Join(names, ", "))
		}
		if line, dup := seen[k.Value]; dup {
			return d.errorf(field, "is set twice (lines %d and %d)", line, k.Line)
		}
		seen[k.Value] = k.Line
		d.lines[field] = k.Line
		if err := d.decode(field, val, v.Field(idx)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeSlice(path string, n *yaml.Node, v reflect.Value) error {
	items := n.Content
	switch elem := v.Type().Elem(); {
	case n.Kind == yaml.SequenceNode:
	case n.Kind == yaml.ScalarNode && (elem.Kind() == reflect.String || elem == reflect.TypeFor[TableName]()):
		items = []*yaml.Node{n}
	default:
		return d.errorf(path, "expected a list, got %s", describe(n))
	}
	leave, err := d.enter(path, n)
	if err != nil {
		return err
	}
	defer leave()
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		field := fmt.Sprintf("%s[%d]", path, i)
		d.lines[field] = item.Line
		e := s.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		if err := d.decode(field, item, e); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func (d *decoder) decodeScalar(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.ScalarNode {
		return d.errorf(path, "expected a single value, got %s", describe(n))
	}
	s, err := d.expand(path, n.Value)
	if err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return d.errorf(path, "%q is not a boolean; use true or false", s)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		i, err := strconv.ParseInt(s, 0, bits)
		if errors.Is(err, strconv.ErrRange) {
			return d.errorf(path, "%s is out of range %d..%d", s, int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
		}
		if err != nil {
			return d.errorf(path, "%q is not an integer", s)
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		u, err := strconv.ParseUint(s, 0, bits)
		if err != nil {
			_, ierr := strconv.ParseInt(s, 0, 64) // a negative number is out of range too
			if errors.Is(err, strconv.ErrRange) || ierr == nil {
				return d.errorf(path, "%s is out of range 0..%d", s, uint64(1)<<bits-1)
			}
			return d.errorf(path, "%q is not an integer", s)
		}
		v.SetUint(u)
	default:
		panic(fmt.Sprintf("config: no decoding for %s at %s", v.Type(), path))
	}
	return nil
}

// expand expands the ${VAR} references of one scalar value.
func (d *decoder) expand(path, s string) (string, error) {
	out, err := expandEnv(s, lookupEnv)
	if err != nil {
		return "", d.wrap(path, err)
	}
	return out, nil
}

// expandTree returns a copy of n with aliases resolved and every scalar value (not key)
// expanded. An expanded plain scalar loses its resolved tag, so that a later decode resolves
// the expanded text ("${ON}" that became "true" is a bool). Quoted scalars stay strings.
func (d *decoder) expandTree(path string, n *yaml.Node) (*yaml.Node, error) {
	n, err := d.visit(path, n)
	if err != nil {
		return nil, err
	}
	c := *n
	c.Anchor = ""
	switch n.Kind {
	case yaml.ScalarNode:
		if c.Value, err = d.expand(path, n.Value); err != nil {
			return nil, err
		}
		if c.Value != n.Value && n.Style == 0 {
			c.Tag = ""
		}
	case yaml.MappingNode, yaml.SequenceNode:
		leave, err := d.enter(path, n)
		if err != nil {
			return nil, err
		}
		defer leave()
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				if c.Content[i], err = d.visit(path, child); err != nil {
					return nil, err
				}
				continue
			}
			field := fmt.Sprintf("%s[%d]", path, i)
			if n.Kind == yaml.MappingNode {
				field = join(path, c.Content[i-1].Value)
			}
			if c.Content[i], err = d.expandTree(field, child); err != nil {
				return nil, err
			}
		}
	}
	return &c, nil
}

// fieldsOf returns the yaml names of t's fields in order, and each one's field index.
func fieldsOf(t reflect.Type) ([]string, map[string]int) {
	var names []string
	index := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// join appends a key to a field path.
func join(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	case strings.HasPrefix(key, "["):
		return path + key
	}
	return path + "." + key
}
