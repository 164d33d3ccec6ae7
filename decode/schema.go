package decode

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/linkedin/goavro/v2"

	"github.com/cdcd-dev/cdcd/change"
)

// The metadata fields every record ends with (see the package doc). No column maps to these names.
const (
	FieldOp         = metaPrefix + "op"
	FieldVersion    = metaPrefix + "version"
	FieldSeq        = metaPrefix + "seq"
	FieldCommitTime = metaPrefix + "commit_ts"
	FieldSnapshot   = metaPrefix + "snapshot"
)

// opSymbols are the symbols of the __cdcd_op enum, in index order.
var opSymbols = [...]string{"insert", "update", "delete"}

// Options adjust the schemas Schema builds. The zero value is ready to use.
type Options struct {
	// Namespace, when set, is put before every record's namespace: "com.example" gives
	// "com.example.shop.public". It must be a dot-separated list of valid Avro names.
	Namespace string
}

// TableSchema is the Avro schema of one source table at one point of its stream, with the encoder
// of its records. It is immutable and safe for concurrent use.
type TableSchema struct {
	// Table is the source table the schema was built from.
	Table *change.Table
	// Name is the record's full Avro name, e.g. "shop.public.orders".
	Name string
	// JSON is the schema text: compact and deterministic (the same table gives the same bytes).
	JSON string
	// Fields maps the record's column fields, in order, to the table's columns. The metadata
	// fields follow them in the record and are not listed here.
	Fields []FieldMap

	codec *goavro.Codec
	cols  []fieldEnc // the encoders of Fields, in order
	where string     // the table, for errors: "shop.public.orders"
}

// FieldMap links an Avro field to the source column it holds.
type FieldMap struct {
	Name   string // the Avro field name
	Column string // the source column name, verbatim
	Index  int    // the column's index in Table.Columns
}

// Codec returns the goavro codec of the schema, for decoding and validation. Encoding goes
// through Append, which is many times faster.
func (s *TableSchema) Codec() *goavro.Codec { return s.codec }

// Schema builds the Avro record schema of table t, as the package doc describes. It fails for a
// table or column whose name is empty, two columns of the same name, or a type that has no Avro
// mapping (KindInvalid, an array without an element type, a negative decimal precision).
func Schema(t *change.Table, opts Options) (*TableSchema, error) {
	if t == nil {
		return nil, errors.New("decode: schema of a nil table")
	}
	where := t.ID.String()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("decode: schema of table %s: "+format, append([]any{where}, args...)...)
	}

	var nsParts []string
	if opts.Namespace != "" {
		for _, p := range strings.Split(opts.Namespace, ".") {
			if !isAvroName(p) {
				return nil, fail("option Namespace %q is not a dot-separated list of Avro names", opts.Namespace)
			}
		}
		nsParts = append(nsParts, opts.Namespace)
	}
	for _, p := range []string{t.ID.Source, t.ID.Namespace} {
		if p == "" {
			continue
		}
		n, _ := AvroName(p) // p is not empty
		nsParts = append(nsParts, n)
	}
	name, err := AvroName(t.ID.Name)
	if err != nil {
		return nil, fail("table name: %w", err)
	}
	ns := strings.Join(nsParts, ".")
	full := name
	if ns != "" {
		full = ns + "." + name
	}

	s := &TableSchema{Table: t, Name: full, where: where}
	w := &jsonWriter{}
	w.raw(`{"type":"record","name":`)
	w.str(name)
	if ns != "" {
		w.raw(`,"namespace":`)
		w.str(ns)
	}
	w.prop("cdcd.source", t.ID.Source)
	w.prop("cdcd.schema", t.ID.Namespace)
	w.prop("cdcd.table", t.ID.Name)
	w.raw(`,"cdcd.key":[`)
	for i, k := range t.Key {
		if k < 0 || k >= len(t.Columns) {
			return nil, fail("key column index %d out of range", k)
		}
		if i > 0 {
			w.raw(",")
		}
		w.str(t.Columns[k].Name)
	}
	w.raw(`],"fields":[`)

	seen := make(map[string]int, len(t.Columns))
	for i, c := range t.Columns {
		fname, err := AvroName(c.Name)
		if err != nil {
			return nil, fail("column %d: %w", i, err)
		}
		if j, dup := seen[fname]; dup {
			// AvroName is injective, so only equal source names can get here.
			return nil, fail("columns %d and %d both map to Avro name %q", j, i, fname)
		}
		seen[fname] = i
		optional := !t.IsKey(i)
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"name":`)
		w.str(fname)
		w.raw(`,"type":`)
		if optional {
			w.raw(`["null",`)
		}
		enc, err := w.valueType(c.Type, full, fname)
		if err != nil {
			return nil, fail("column %q (%s): %w", c.Name, c.Type, err)
		}
		if optional {
			w.raw(`],"default":null`)
		}
		w.prop("cdcd.column", c.Name)
		src := c.Type.Source
		if src == "" {
			src = c.Type.String()
		}
		w.prop("cdcd.type", src)
		w.prop("cdcd.kind", c.Type.Kind.String())
		if c.Type.Fallback {
			w.raw(`,"cdcd.fallback":true`)
		}
		w.raw("}")
		enc.nullable = optional
		enc.col = i
		s.cols = append(s.cols, enc)
		s.Fields = append(s.Fields, FieldMap{Name: fname, Column: c.Name, Index: i})
	}
	if len(t.Columns) > 0 {
		w.raw(",")
	}
	w.metadataFields(full)
	w.raw("]}")
	s.JSON = string(w.b)

	if s.codec, err = goavro.NewCodec(s.JSON); err != nil {
		return nil, fail("goavro rejects the schema: %w", err)
	}
	return s, nil
}

// metadataFields writes the fields that follow the columns.
func (w *jsonWriter) metadataFields(full string) {
	w.raw(`{"name":"` + FieldOp + `","type":{"type":"enum","name":"` + FieldOp + `","namespace":`)
	w.str(full)
	w.raw(`,"symbols":["insert","update","delete"]},` +
		`"doc":"cdcd: the change: insert or update (the row after it), delete (the row before it)"},`)
	w.raw(`{"name":"` + FieldVersion + `","type":"long",` +
		`"doc":"cdcd: the source position of the event's transaction, an unsigned 64-bit number in the bits of a long"},`)
	w.raw(`{"name":"` + FieldSeq + `","type":"long","doc":"cdcd: the event's index within its transaction"},`)
	w.raw(`{"name":"` + FieldCommitTime + `","type":["null",{"type":"long","logicalType":"timestamp-micros"}],` +
		`"default":null,"doc":"cdcd: the source's commit time of the transaction, null when the source gives none"},`)
	w.raw(`{"name":"` + FieldSnapshot + `","type":"boolean","doc":"cdcd: true for rows read by the initial snapshot"}`)
}

// valueType writes the Avro type of a non-null value of t and returns its encoder. A named type
// (an enum) is called name in namespace ns; an array's element types live in namespace ns.name.
func (w *jsonWriter) valueType(t change.Type, ns, name string) (fieldEnc, error) {
	if t.Fallback {
		w.raw(`"string"`)
		return fieldEnc{op: opString}, nil
	}
	switch t.Kind {
	case change.Int8:
		w.raw(`"int"`)
		return fieldEnc{op: opInt, min: math.MinInt8, max: math.MaxInt8}, nil
	case change.Int16:
		w.raw(`"int"`)
		return fieldEnc{op: opInt, min: math.MinInt16, max: math.MaxInt16}, nil
	case change.Int32:
		w.raw(`"int"`)
		return fieldEnc{op: opInt, min: math.MinInt32, max: math.MaxInt32}, nil
	case change.Int64:
		w.raw(`"long"`)
		return fieldEnc{op: opInt, min: math.MinInt64, max: math.MaxInt64}, nil
	case change.UInt8:
		w.raw(`"int"`)
		return fieldEnc{op: opUint, umax: math.MaxUint8}, nil
	case change.UInt16:
		w.raw(`"int"`)
		return fieldEnc{op: opUint, umax: math.MaxUint16}, nil
	case change.UInt32:
		w.raw(`"long"`)
		return fieldEnc{op: opUint, umax: math.MaxUint32}, nil
	case change.UInt64:
		w.decimal(20, 0)
		return fieldEnc{op: opUint64Decimal}, nil
	case change.Float32:
		w.raw(`"float"`)
		return fieldEnc{op: opFloat32}, nil
	case change.Float64:
		w.raw(`"double"`)
		return fieldEnc{op: opFloat64}, nil
	case change.Decimal:
		if t.Precision < 0 {
			return fieldEnc{}, fmt.Errorf("negative decimal precision %d", t.Precision)
		}
		if t.Precision == 0 {
			w.raw(`"string"`)
			return fieldEnc{op: opDecimalText}, nil
		}
		prec, scale := decimalShape(t.Precision, t.Scale)
		w.decimal(prec, scale)
		return fieldEnc{op: opDecimal, prec: int32(prec), scale: int32(scale),
			precLimit: new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil)}, nil
	case change.String, change.JSON:
		w.raw(`"string"`)
		return fieldEnc{op: opString}, nil
	case change.Enum:
		if !enumSymbolsOK(t.Symbols) {
			w.raw(`"string"`)
			return fieldEnc{op: opString}, nil
		}
		w.raw(`{"type":"enum","name":`)
		w.str(name)
		w.raw(`,"namespace":`)
		w.str(ns)
		w.raw(`,"symbols":[`)
		idx := make(map[string]int32, len(t.Symbols))
		for i, sym := range t.Symbols {
			if i > 0 {
				w.raw(",")
			}
			w.str(sym)
			idx[sym] = int32(i)
		}
		w.raw("]}")
		return fieldEnc{op: opEnum, symbols: idx}, nil
	case change.Bytes:
		w.raw(`"bytes"`)
		return fieldEnc{op: opBytes}, nil
	case change.Bool:
		w.raw(`"boolean"`)
		return fieldEnc{op: opBool}, nil
	case change.Date:
		w.raw(`{"type":"int","logicalType":"date"}`)
		return fieldEnc{op: opDate}, nil
	case change.Timestamp:
		w.raw(`{"type":"long","logicalType":"local-timestamp-micros"}`)
		return fieldEnc{op: opTimestamp}, nil
	case change.TimestampTZ:
		w.raw(`{"type":"long","logicalType":"timestamp-micros"}`)
		return fieldEnc{op: opTimestamp}, nil
	case change.Time:
		w.raw(`{"type":"long","logicalType":"time-micros"}`)
		return fieldEnc{op: opTime}, nil
	case change.UUID:
		w.raw(`{"type":"string","logicalType":"uuid"}`)
		return fieldEnc{op: opUUID}, nil
	case change.Array:
		if t.Elem == nil {
			return fieldEnc{}, errors.New("array without an element type")
		}
		w.raw(`{"type":"array","items":["null",`)
		elem, err := w.valueType(*t.Elem, ns+"."+name, "element")
		if err != nil {
			return fieldEnc{}, fmt.Errorf("array element: %w", err)
		}
		w.raw("]}")
		elem.nullable = true
		return fieldEnc{op: opArray, elem: &elem}, nil
	}
	return fieldEnc{}, fmt.Errorf("no Avro mapping for kind %s", t.Kind)
}

// decimalShape returns the Avro precision and scale that hold every value of a decimal(p,s)
// column, p > 0. PostgreSQL 15 allows s > p (numeric(2,5) holds 0.00012) and s < 0
// (numeric(5,-2) holds 1234500): Avro needs 0 <= scale <= precision, so the scale is max(s,0)
// and the precision max(p-s,0) + max(s,0), which is p when 0 <= s <= p.
func decimalShape(p, s int) (prec, scale int) {
	return max(p-s, 0) + max(s, 0), max(s, 0)
}

// enumSymbolsOK reports whether symbols can be an Avro enum's: at least one, each a valid Avro
// name, no two equal.
func enumSymbolsOK(symbols []string) bool {
	if len(symbols) == 0 {
		return false
	}
	seen := make(map[string]bool, len(symbols))
	for _, s := range symbols {
		if !isAvroName(s) || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

// jsonWriter builds schema text.
type jsonWriter struct{ b []byte }

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }
func (w *jsonWriter) str(s string) { w.b = appendJSONString(w.b, s) }

// prop writes ,"key":"value".
func (w *jsonWriter) prop(key, value string) {
	w.raw(",")
	w.str(key)
	w.raw(":")
	w.str(value)
}

func (w *jsonWriter) decimal(prec, scale int) {
	w.raw(`{"type":"bytes","logicalType":"decimal","precision":` + strconv.Itoa(prec) +
		`,"scale":` + strconv.Itoa(scale) + "}")
}

// appendJSONString appends s as a JSON string. Bytes that are not UTF-8 become U+FFFD, as
// encoding/json does; HTML characters are left as they are.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
