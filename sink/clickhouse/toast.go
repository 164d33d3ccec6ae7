package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// lookupChunk bounds the keys of one lookup query.
const lookupChunk = 2000

// resolveUnchanged fills the unchanged TOAST values that collapse could not resolve from the current
// ClickHouse rows, read in batched lookups. ClickHouse may hold a newer version of a row than the
// event being replayed after a crash; that newer row wins over what is written here anyway, so the
// final state is the same. A row ClickHouse does not have becomes a dead letter: its value cannot be
// known, and writing NULL or a default would corrupt it.
func (s *Sink) resolveUnchanged(ctx context.Context, p *pendingTable) (int, []deadLetter, error) {
	var need []int
	cols := map[string]bool{}
	for i := range p.rows {
		r := &p.rows[i]
		if r.deleted {
			continue
		}
		found := false
		for j, v := range r.vals {
			if change.IsUnchanged(v) {
				cols[r.schema.Columns[j].Name] = true
				found = true
			}
		}
		if found {
			need = append(need, i)
		}
	}
	if len(need) == 0 {
		return 0, nil, nil
	}
	rt := p.rt
	var names []string
	for c := range cols {
		if _, ok := rt.byName[c]; ok {
			names = append(names, c)
		}
	}
	current := map[string][]any{} // encoded key -> values of names
	for start := 0; start < len(need); start += lookupChunk {
		end := min(start+lookupChunk, len(need))
		if err := s.lookup(ctx, p, need[start:end], names, current); err != nil {
			return 0, nil, err
		}
	}
	var dead []deadLetter
	keep := p.rows[:0]
	resolved := 0
	var key []byte
	for i := range p.rows {
		r := p.rows[i]
		if !r.deleted && hasUnchanged(r.vals) {
			key = appendKey(key[:0], r.schema, r.lookupImage())
			if vals, ok := current[string(key)]; ok {
				out := make([]any, len(r.vals))
				copy(out, r.vals)
				for j, v := range out {
					if !change.IsUnchanged(v) {
						continue
					}
					for k, n := range names {
						if n == r.schema.Columns[j].Name {
							out[j] = vals[k]
						}
					}
				}
				r.vals = out
				resolved++
			}
			if hasUnchanged(r.vals) {
				dead = append(dead, s.newDeadLetter(&r, fmt.Errorf(
					"unchanged TOAST value: no earlier image of the row in this batch, in the event, or in ClickHouse (was the table snapshotted?)")))
				continue
			}
		}
		keep = append(keep, r)
	}
	p.rows = keep
	return resolved, dead, nil
}

// lookupImage is the row image whose key names the ClickHouse row holding r's unchanged values.
func (r *pendingRow) lookupImage() []any {
	if r.from != nil {
		return r.from
	}
	return r.vals
}

// lookup reads the current values of names for the keys of rows idx into current.
func (s *Sink) lookup(ctx context.Context, p *pendingTable, idx []int, names []string, current map[string][]any) error {
	rt := p.rt
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, k := range rt.key {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(QuoteIdent(k))
	}
	for _, n := range names {
		q.WriteString(", ")
		q.WriteString(QuoteIdent(n))
	}
	fmt.Fprintf(&q, " FROM %s.%s FINAL WHERE %s = 0 AND ", QuoteIdent(s.db), QuoteIdent(rt.name), QuoteIdent(DeletedColumn))
	if len(rt.key) > 1 {
		q.WriteString("(")
	}
	for i, k := range rt.key {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(QuoteIdent(k))
	}
	if len(rt.key) > 1 {
		q.WriteString(")")
	}
	q.WriteString(" IN (")
	for n, i := range idx {
		r := &p.rows[i]
		if n > 0 {
			q.WriteString(", ")
		}
		if len(rt.key) > 1 {
			q.WriteString("(")
		}
		for j, k := range rt.key {
			if j > 0 {
				q.WriteString(", ")
			}
			lit, err := literal(r.lookupImage()[r.schema.ColumnIndex(k)], rt.cols[rt.byName[k]].Type)
			if err != nil {
				return fmt.Errorf("clickhouse: look up unchanged values in %s.%s: key %q: %w", s.db, rt.name, k, err)
			}
			q.WriteString(lit)
		}
		if len(rt.key) > 1 {
			q.WriteString(")")
		}
	}
	q.WriteString(")")

	rows, err := s.conn.Query(ctx, q.String())
	if err != nil {
		return fmt.Errorf("clickhouse: look up unchanged values in %s.%s: %w", s.db, rt.name, err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	schema := p.schema
	keyTable := &change.Table{ID: schema.ID}
	for i := range rt.key {
		keyTable.Key = append(keyTable.Key, i)
	}
	var key []byte
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("clickhouse: look up unchanged values in %s.%s: %w", s.db, rt.name, err)
		}
		all := make([]any, len(dest))
		for i, d := range dest {
			name := rt.key[0]
			if i < len(rt.key) {
				name = rt.key[i]
			} else {
				name = names[i-len(rt.key)]
			}
			col := schema.ColumnIndex(name)
			if col < 0 {
				continue
			}
			v, err := fromClickHouse(reflect.ValueOf(d).Elem(), schema.Columns[col].Type)
			if err != nil {
				return fmt.Errorf("clickhouse: read back column %q of %s.%s: %w", name, s.db, rt.name, err)
			}
			all[i] = v
		}
		key = appendKey(key[:0], keyTable, all)
		current[string(key)] = all[len(rt.key):]
	}
	return rows.Err()
}

// literal renders a key value as a ClickHouse literal of column type chType.
func literal(v any, chType string) (string, error) {
	switch chType {
	case "Int8", "Int16", "Int32", "Int64":
		n, err := toInt64(v)
		return strconv.FormatInt(n, 10), err
	case "UInt8", "UInt16", "UInt32", "UInt64":
		n, err := toUint[uint64](^uint64(0))(v)
		return strconv.FormatUint(n, 10), err
	case "Float32", "Float64":
		f, err := toFloat64(v)
		return strconv.FormatFloat(f, 'g', -1, 64), err
	case "String":
		s, err := toString(v)
		return QuoteString(s), err
	case "UUID":
		s, err := toUUIDString(v)
		return "toUUID(" + QuoteString(s) + ")", err
	case "Bool":
		b, err := toBool(v)
		return strconv.FormatBool(b), err
	case "Date", "Date32":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("cannot use %T as a date", v)
		}
		return "to" + chType + "(" + QuoteString(t.Format("2006-01-02")) + ")", nil
	case "DateTime64(6, 'UTC')":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("cannot use %T as a timestamp", v)
		}
		return "toDateTime64(" + QuoteString(t.UTC().Format("2006-01-02 15:04:05.000000")) + ", 6, 'UTC')", nil
	}
	if p, sc, ok := parseDecimal(chType); ok {
		d, err := toDecimal(p, sc)(v)
		return fmt.Sprintf("CAST(%s AS Decimal(%d, %d))", QuoteString(DecimalText(d)), p, sc), err
	}
	return "", fmt.Errorf("no literal form for ClickHouse type %s", chType)
}

// fromClickHouse turns a value scanned from ClickHouse back into the canonical value of type t.
func fromClickHouse(v reflect.Value, t change.Type) (any, error) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	x := v.Interface()
	switch t.Kind {
	case change.Int8, change.Int16, change.Int32, change.Int64:
		if v.CanInt() {
			return v.Int(), nil
		}
		if v.CanUint() {
			return int64(v.Uint()), nil
		}
	case change.UInt8, change.UInt16, change.UInt32, change.UInt64:
		if v.CanUint() {
			return v.Uint(), nil
		}
	case change.Float32, change.Float64:
		if v.CanFloat() {
			return v.Float(), nil
		}
	case change.Bool:
		if b, ok := x.(bool); ok {
			return b, nil
		}
		if v.CanUint() {
			return v.Uint() != 0, nil
		}
	case change.Decimal:
		switch d := x.(type) {
		case decimal.Decimal:
			return d, nil
		case string:
			return decimal.NewFromString(d)
		}
	case change.String, change.JSON, change.Enum:
		if s, ok := x.(string); ok {
			return s, nil
		}
	case change.Bytes:
		if s, ok := x.(string); ok {
			return []byte(s), nil
		}
	case change.UUID:
		if u, ok := x.(uuid.UUID); ok {
			return u, nil
		}
	case change.Date:
		if tm, ok := x.(time.Time); ok {
			return time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	case change.Timestamp, change.TimestampTZ:
		switch tm := x.(type) {
		case time.Time:
			return tm.UTC(), nil
		case int64:
			return time.UnixMicro(tm).UTC(), nil
		}
	case change.Time:
		if n, ok := x.(int64); ok {
			return time.Duration(n) * time.Microsecond, nil
		}
	case change.Array:
		if t.Elem != nil && v.Kind() == reflect.Slice {
			out := make([]any, v.Len())
			for i := range out {
				e, err := fromClickHouse(v.Index(i), *t.Elem)
				if err != nil {
					return nil, err
				}
				out[i] = e
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("cannot read %T back as %s", x, t)
}
