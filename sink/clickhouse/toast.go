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
const lookupChunk = 1000

// stored is one version of a row as ClickHouse holds it.
type stored struct {
	version uint64
	deleted bool
	vals    []any // the looked-up columns, in lookup order
}

// resolveUnchanged fills the unchanged TOAST values that collapse could not resolve, from the rows
// ClickHouse holds, read in batched lookups. For a row at version V whose values come from the row
// of key L (its own key, or the old key of a moved row):
//
//  1. its own key's row at exactly V: an earlier attempt already wrote this event, resolved (a
//     replay after a crash);
//  2. otherwise L's newest live row below V: the row as it was before the event;
//  3. otherwise, when its own key already has a newer version, what is written at V is superseded
//     and never visible: the values are left NULL;
//  4. otherwise nothing knows the value: the row becomes a dead letter. Writing NULL or a default
//     would corrupt it.
//
// Rows are read without FINAL so older versions are seen until merges collapse them; the cases
// above hold whatever merges have done (a collapsed history only ever leaves newer versions).
func (s *Sink) resolveUnchanged(ctx context.Context, p *pendingTable) (int, []deadLetter, error) {
	var need []int
	cols := map[string]bool{}
	for i := range p.rows {
		r := &p.rows[i]
		if r.deleted || !hasUnchanged(r.vals) {
			continue
		}
		for j, v := range r.vals {
			if change.IsUnchanged(v) {
				cols[r.schema.Columns[j].Name] = true
			}
		}
		need = append(need, i)
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
	history := map[string][]stored{} // encoded key -> its versions in ClickHouse
	for start := 0; start < len(need); start += lookupChunk {
		end := min(start+lookupChunk, len(need))
		if err := s.lookup(ctx, p, need[start:end], names, history); err != nil {
			return 0, nil, err
		}
	}
	var dead []deadLetter
	keep := p.rows[:0]
	resolved := 0
	var own, from []byte
	for i := range p.rows {
		r := p.rows[i]
		if r.deleted || !hasUnchanged(r.vals) {
			keep = append(keep, r)
			continue
		}
		own = appendKey(own[:0], r.schema, r.vals)
		from = appendKey(from[:0], r.schema, r.lookupImage())
		vals, superseded := pick(history[string(own)], history[string(from)], r.version)
		switch {
		case vals != nil:
			r.vals = fillFrom(r.vals, r.schema, names, vals)
			resolved++
		case superseded:
			r.vals = fillFrom(r.vals, r.schema, names, make([]any, len(names)))
		default:
			dead = append(dead, s.newDeadLetter(&r, fmt.Errorf(
				"unchanged TOAST value: no earlier image of the row in this batch, in the event, or in ClickHouse (was the table snapshotted?)"), nil))
			continue
		}
		keep = append(keep, r)
	}
	p.rows = keep
	return resolved, dead, nil
}

// pick chooses the values of an event at version v from its own key's versions and from the
// versions of the key its values come from (see resolveUnchanged). superseded reports that its own
// key already has a newer version.
func pick(own, from []stored, v uint64) (vals []any, superseded bool) {
	for _, st := range own {
		if st.version == v && !st.deleted {
			return st.vals, false
		}
		if st.version > v {
			superseded = true
		}
	}
	var best *stored
	for i := range from {
		st := &from[i]
		if st.version < v && !st.deleted && (best == nil || st.version > best.version) {
			best = st
		}
	}
	if best != nil {
		return best.vals, false
	}
	return nil, superseded
}

// fillFrom returns a copy of row with its Unchanged values taken from vals (by column name).
func fillFrom(row []any, schema *change.Table, names []string, vals []any) []any {
	out := make([]any, len(row))
	copy(out, row)
	for j, v := range out {
		if !change.IsUnchanged(v) {
			continue
		}
		for k, n := range names {
			if n == schema.Columns[j].Name {
				out[j] = vals[k]
			}
		}
	}
	return out
}

// lookupImage is the row image whose key names the ClickHouse row holding r's unchanged values.
func (r *pendingRow) lookupImage() []any {
	if r.from != nil {
		return r.from
	}
	return r.vals
}

// lookup reads every stored version of the keys of rows idx (their own keys and the keys their
// values come from) into history.
func (s *Sink) lookup(ctx context.Context, p *pendingTable, idx []int, names []string, history map[string][]stored) error {
	rt := p.rt
	keyList := func() string {
		var b strings.Builder
		for i, k := range rt.key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteIdent(k))
		}
		return b.String()
	}()
	var q strings.Builder
	q.WriteString("SELECT ")
	q.WriteString(keyList)
	for _, n := range names {
		q.WriteString(", ")
		q.WriteString(QuoteIdent(n))
	}
	fmt.Fprintf(&q, ", %s, %s FROM %s.%s WHERE ", QuoteIdent(VersionColumn), QuoteIdent(DeletedColumn), QuoteIdent(s.db), QuoteIdent(rt.name))
	if len(rt.key) > 1 {
		q.WriteString("(" + keyList + ")")
	} else {
		q.WriteString(keyList)
	}
	q.WriteString(" IN (")
	first := true
	for _, i := range idx {
		r := &p.rows[i]
		images := [][]any{r.vals}
		if r.from != nil {
			images = append(images, r.from)
		}
		for _, img := range images {
			if !first {
				q.WriteString(", ")
			}
			first = false
			if len(rt.key) > 1 {
				q.WriteString("(")
			}
			for j, k := range rt.key {
				if j > 0 {
					q.WriteString(", ")
				}
				lit, err := literal(img[r.schema.ColumnIndex(k)], rt.cols[rt.byName[k]].Type)
				if err != nil {
					return fmt.Errorf("clickhouse: look up unchanged values in %s.%s: key %q: %w", s.db, rt.name, k, err)
				}
				q.WriteString(lit)
			}
			if len(rt.key) > 1 {
				q.WriteString(")")
			}
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
	nk, nn := len(rt.key), len(names)
	var key []byte
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("clickhouse: look up unchanged values in %s.%s: %w", s.db, rt.name, err)
		}
		vals := make([]any, nk+nn)
		for i := 0; i < nk+nn; i++ {
			name := ""
			if i < nk {
				name = rt.key[i]
			} else {
				name = names[i-nk]
			}
			col := schema.ColumnIndex(name)
			if col < 0 {
				continue // a column the current schema dropped: its old values stay NULL
			}
			v, err := fromClickHouse(reflect.ValueOf(dest[i]).Elem(), schema.Columns[col].Type)
			if err != nil {
				return fmt.Errorf("clickhouse: read back column %q of %s.%s: %w", name, s.db, rt.name, err)
			}
			vals[i] = v
		}
		version := *(dest[nk+nn].(*uint64))
		deleted := *(dest[nk+nn+1].(*uint8)) == 1
		key = appendKey(key[:0], keyTable, vals[:nk])
		history[string(key)] = append(history[string(key)], stored{version: version, deleted: deleted, vals: vals[nk:]})
	}
	return rows.Err()
}

// literal renders a value as a ClickHouse literal of column type chType (keys in lookups, column
// defaults). A Nullable type takes its inner type's literal.
func literal(v any, chType string) (string, error) {
	if inner, ok := unwrap2(chType, "Nullable("); ok {
		chType = inner
	}
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
		switch tm := x.(type) {
		case time.Time:
			return time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC), nil
		case string: // a Date column an operator widened to String (see roleDateText)
			return time.Parse(time.DateOnly, tm)
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
