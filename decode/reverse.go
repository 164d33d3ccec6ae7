package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/linkedin/goavro/v2"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// Decode reads a record back: payload (Avro binary, without the wire header) under schemaJSON, a
// schema Schema built. It returns the table as the schema describes it (from its cdcd.*
// properties: original names, kinds, key) and the event the record holds, with canonical values
// (see package change). It is how dead letters are replayed.
func Decode(schemaJSON string, payload []byte) (*change.Table, change.Event, error) {
	var rec struct {
		Source string            `json:"cdcd.source"`
		Schema string            `json:"cdcd.schema"`
		Table  string            `json:"cdcd.table"`
		Key    []string          `json:"cdcd.key"`
		Fields []json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schemaJSON), &rec); err != nil {
		return nil, change.Event{}, fmt.Errorf("decode: schema: %w", err)
	}
	if rec.Table == "" {
		return nil, change.Event{}, errors.New("decode: the schema is not a cdcd table schema (no cdcd.table)")
	}
	codec, err := goavro.NewCodec(schemaJSON)
	if err != nil {
		return nil, change.Event{}, fmt.Errorf("decode: schema: %w", err)
	}
	native, _, err := codec.NativeFromBinary(payload)
	if err != nil {
		return nil, change.Event{}, fmt.Errorf("decode: record: %w", err)
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, change.Event{}, errors.New("decode: the record is not a record")
	}
	t := &change.Table{ID: change.TableID{Source: rec.Source, Namespace: rec.Schema, Name: rec.Table}}
	var names []string // Avro field names of the columns, in order
	for _, raw := range rec.Fields {
		var f struct {
			Name     string          `json:"name"`
			Type     json.RawMessage `json:"type"`
			Column   string          `json:"cdcd.column"`
			Kind     string          `json:"cdcd.kind"`
			Fallback bool            `json:"cdcd.fallback"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, change.Event{}, fmt.Errorf("decode: schema field: %w", err)
		}
		if f.Column == "" {
			continue // a metadata field
		}
		ty, err := typeOf(f.Kind, f.Type)
		if err != nil {
			return nil, change.Event{}, fmt.Errorf("decode: column %q: %w", f.Column, err)
		}
		ty.Fallback = f.Fallback
		t.Columns = append(t.Columns, change.Column{Name: f.Column, Type: ty, Nullable: true})
		names = append(names, f.Name)
	}
	for _, k := range rec.Key {
		i := t.ColumnIndex(k)
		if i < 0 {
			return nil, change.Event{}, fmt.Errorf("decode: key column %q is not a field", k)
		}
		t.Key = append(t.Key, i)
		t.Columns[i].Nullable = false
	}
	row := make([]any, len(t.Columns))
	for i, n := range names {
		v, err := canonical(t.Columns[i].Type, m[n])
		if err != nil {
			return nil, change.Event{}, fmt.Errorf("decode: column %q: %w", t.Columns[i].Name, err)
		}
		row[i] = v
	}
	ev := change.Event{Table: t}
	switch op := unwrapUnion(m[FieldOp]); op {
	case "insert":
		ev.Op, ev.After = change.Insert, row
	case "update":
		ev.Op, ev.After = change.Update, row
	case "delete":
		ev.Op, ev.Before = change.Delete, row
	default:
		return nil, change.Event{}, fmt.Errorf("decode: op %v", op)
	}
	if v, ok := m[FieldVersion].(int64); ok {
		ev.Version = uint64(v)
	}
	if v, ok := m[FieldSeq].(int64); ok {
		ev.Seq = uint32(v)
	}
	if ts, ok := unwrapUnion(m[FieldCommitTime]).(time.Time); ok {
		ev.CommitTime = ts.UTC()
	}
	ev.Snapshot, _ = m[FieldSnapshot].(bool)
	return t, ev, nil
}

// typeOf rebuilds a column's type from its cdcd.kind and its Avro type.
func typeOf(kind string, avro json.RawMessage) (change.Type, error) {
	k, ok := change.ParseKind(kind)
	if !ok {
		return change.Type{}, fmt.Errorf("unknown cdcd.kind %q", kind)
	}
	t := change.Type{Kind: k}
	spec := nonNull(avro)
	switch k {
	case change.Decimal:
		if spec.LogicalType == "decimal" {
			t.Precision, t.Scale = spec.Precision, spec.Scale
		}
	case change.Enum:
		t.Symbols = spec.Symbols
	case change.Array:
		if spec.Items == nil {
			return t, errors.New("array without items")
		}
		elem := elemType(nonNull(spec.Items))
		t.Elem = &elem
	}
	return t, nil
}

// avroType is the part of an Avro type this file reads.
type avroType struct {
	Type        string          `json:"type"`
	LogicalType string          `json:"logicalType"`
	Precision   int             `json:"precision"`
	Scale       int             `json:"scale"`
	Symbols     []string        `json:"symbols"`
	Items       json.RawMessage `json:"items"`
}

// nonNull returns the non-null branch of a ["null", T] union, or the type itself.
func nonNull(raw json.RawMessage) avroType {
	var union []json.RawMessage
	if json.Unmarshal(raw, &union) == nil {
		for _, b := range union {
			if string(b) != `"null"` {
				return nonNull(b)
			}
		}
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return avroType{Type: name}
	}
	var t avroType
	_ = json.Unmarshal(raw, &t)
	return t
}

// elemType maps an array element's Avro type to a cdcd type (array elements carry no cdcd.kind).
func elemType(a avroType) change.Type {
	switch {
	case a.LogicalType == "decimal":
		return change.Type{Kind: change.Decimal, Precision: a.Precision, Scale: a.Scale}
	case a.LogicalType == "date":
		return change.Type{Kind: change.Date}
	case a.LogicalType == "timestamp-micros":
		return change.Type{Kind: change.TimestampTZ}
	case a.LogicalType == "local-timestamp-micros":
		return change.Type{Kind: change.Timestamp}
	case a.LogicalType == "time-micros":
		return change.Type{Kind: change.Time}
	case a.LogicalType == "uuid":
		return change.Type{Kind: change.UUID}
	}
	switch a.Type {
	case "int":
		return change.Type{Kind: change.Int32}
	case "long":
		return change.Type{Kind: change.Int64}
	case "float":
		return change.Type{Kind: change.Float32}
	case "double":
		return change.Type{Kind: change.Float64}
	case "boolean":
		return change.Type{Kind: change.Bool}
	case "bytes":
		return change.Type{Kind: change.Bytes}
	case "enum":
		return change.Type{Kind: change.Enum, Symbols: a.Symbols}
	}
	return change.Type{Kind: change.String}
}

// unwrapUnion returns the value of a goavro union ({"branch": value}), or v itself.
func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

// canonical turns a goavro native value into the canonical value of type t.
func canonical(t change.Type, v any) (any, error) {
	v = unwrapUnion(v)
	if v == nil {
		return nil, nil
	}
	switch t.Kind {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		switch x := v.(type) {
		case int32:
			return int64(x), nil
		case int64:
			return x, nil
		}
	case change.UInt8, change.UInt16, change.UInt32:
		switch x := v.(type) {
		case int32:
			return uint64(x), nil
		case int64:
			return uint64(x), nil
		}
	case change.UInt64:
		if r, ok := v.(*big.Rat); ok && r.IsInt() && r.Num().IsUint64() {
			return r.Num().Uint64(), nil
		}
	case change.Float32:
		if x, ok := v.(float32); ok {
			return float64(x), nil
		}
	case change.Float64:
		if x, ok := v.(float64); ok {
			return x, nil
		}
	case change.Decimal:
		switch x := v.(type) {
		case *big.Rat:
			d := decimal.NewFromBigRat(x, int32(t.Scale))
			if d.Rat().Cmp(x) != 0 {
				return nil, fmt.Errorf("decimal %s is not exact at scale %d", x.RatString(), t.Scale)
			}
			return d, nil
		case string:
			return decimal.NewFromString(x)
		}
	case change.String, change.JSON, change.Enum:
		if x, ok := v.(string); ok {
			return x, nil
		}
	case change.Bytes:
		if x, ok := v.([]byte); ok {
			return append([]byte(nil), x...), nil
		}
	case change.Bool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case change.Date:
		if x, ok := v.(time.Time); ok {
			x = x.UTC()
			return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	case change.Timestamp, change.TimestampTZ:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case int64:
			return time.UnixMicro(x).UTC(), nil
		}
	case change.Time:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case int64:
			return time.Duration(x) * time.Microsecond, nil
		}
	case change.UUID:
		if x, ok := v.(string); ok {
			return uuid.Parse(x)
		}
	case change.Array:
		if xs, ok := v.([]any); ok && t.Elem != nil {
			out := make([]any, len(xs))
			for i, e := range xs {
				c, err := canonical(*t.Elem, e)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = c
			}
			return out, nil
		}
	}
	if t.Fallback {
		if x, ok := v.(string); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("a %T cannot be a %s", v, t)
}
