package clickhouse

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cdcd-dev/cdcd/change"
)

// WriteStats counts what one Write did.
type WriteStats struct {
	Rows        int // rows inserted into row tables (after collapsing)
	DeadLetters int // rows sent to the dead-letter table instead
	Truncates   int
	Lookups     int // rows whose unchanged TOAST values were read back from ClickHouse
	// Dead identifies the rows sent to the dead-letter table.
	Dead []DeadLetterID
}

// pendingRow is the last change of one key within a batch.
type pendingRow struct {
	schema  *change.Table
	vals    []any
	version uint64
	deleted bool
	ev      *change.Event
	// from is the row image whose key names the ClickHouse row to read unchanged values from: the
	// old image when an update moved the row to a new key, nil otherwise (vals' key).
	from []any
}

// pendingTable collects one table's changes of a batch.
type pendingTable struct {
	rt       *rowTable
	schema   *change.Table // the newest schema seen
	truncate bool
	truncVer uint64 // the version of the last truncate, when truncate
	rows     []pendingRow
	index    map[string]int // encoded key -> index in rows
	inBatch  bool           // the table has changes in the batch being collapsed
}

// release empties a table's collapse state for the next batch, keeping its capacity and dropping
// its references to the batch's rows.
func (p *pendingTable) release() {
	clear(p.rows)
	p.rows = p.rows[:0]
	clear(p.index)
	p.truncate, p.inBatch, p.schema, p.rt = false, false, nil, nil
}

// Write applies events, in stream order, to the row tables. Per table, changes collapse to the last
// one per key; a truncate discards the table's earlier changes and empties it first; unchanged TOAST
// values are resolved from an earlier change in the batch, the event's old row, or the current
// ClickHouse row; then each table's rows go in as one block. Rows ClickHouse cannot hold go to the
// dead-letter table with the reason. Write is idempotent: writing the same events again, or any
// suffix of the stream, converges on the same table contents.
func (s *Sink) Write(ctx context.Context, events []change.Event) (WriteStats, error) {
	var st WriteStats
	order := s.collapse(events)
	defer func() {
		for _, p := range order {
			p.release()
		}
	}()
	var dead []deadLetter
	for _, p := range order {
		rt, err := s.table(ctx, p.schema.ID)
		if err != nil {
			return st, err
		}
		p.rt = rt
		if err := s.EnsureTable(ctx, p.schema); err != nil {
			return st, err
		}
		for i := range p.rows {
			if err := s.EnsureTable(ctx, p.rows[i].schema); err != nil {
				return st, err
			}
		}
		n, d, err := s.resolveUnchanged(ctx, p)
		if err != nil {
			return st, err
		}
		st.Lookups += n
		dead = append(dead, d...)
	}
	for _, p := range order {
		if p.truncate {
			if err := s.Truncate(ctx, p.schema.ID); err != nil {
				return st, err
			}
			if err := s.discardTruncated(ctx, p.schema.ID, p.truncVer); err != nil {
				return st, err
			}
			st.Truncates++
		}
		n, d, err := s.insert(ctx, p)
		if err != nil || len(d) > 0 {
			// An operator may have changed the columns (to hold such rows): write under the
			// types ClickHouse has now.
			if changed, rerr := s.reload(ctx, p.rt); rerr == nil && changed {
				n, d, err = s.insert(ctx, p)
			}
		}
		if err != nil {
			// The next attempt reads the table's columns again: an operator may have changed them.
			delete(s.tables, p.schema.ID)
			return st, err
		}
		st.Rows += n
		dead = append(dead, d...)
	}
	if len(dead) > 0 {
		if err := s.writeDeadLetters(ctx, dead); err != nil {
			return st, err
		}
		st.DeadLetters = len(dead)
		for _, d := range dead {
			st.Dead = append(st.Dead, d.DeadLetterID)
		}
	}
	return st, nil
}

// collapse groups events by table, keeping the last change per key.
func (s *Sink) collapse(events []change.Event) []*pendingTable {
	var order []*pendingTable
	var key []byte
	for i := range events {
		ev := &events[i]
		p := s.pending[ev.Table.ID]
		if p == nil {
			if s.pending == nil {
				s.pending = map[change.TableID]*pendingTable{}
			}
			p = &pendingTable{index: map[string]int{}}
			s.pending[ev.Table.ID] = p
		}
		if !p.inBatch {
			p.inBatch = true
			order = append(order, p)
		}
		p.schema = ev.Table
		if ev.Op == change.Truncate {
			p.truncate, p.truncVer = true, ev.Version
			p.rows = p.rows[:0]
			clear(p.index)
			continue
		}
		row := pendingRow{schema: ev.Table, vals: ev.After, version: ev.Version, ev: ev}
		if ev.Op == change.Delete {
			row.vals, row.deleted = ev.Before, true
		}
		var prev *pendingRow // an earlier image of the row in this batch
		if ev.Op == change.Update && ev.Before != nil {
			// An update that changes the key moves the row: delete the old key.
			old := appendKey(nil, ev.Table, ev.Before)
			key = appendKey(key[:0], ev.Table, row.vals)
			if string(old) != string(key) {
				if j, ok := p.index[string(old)]; ok && !p.rows[j].deleted {
					moved := p.rows[j]
					prev = &moved
				}
				row.from = ev.Before
				p.put(string(old), pendingRow{schema: ev.Table, vals: ev.Before, version: ev.Version, deleted: true, ev: ev})
			}
		}
		key = appendKey(key[:0], ev.Table, row.vals)
		if j, ok := p.index[string(key)]; ok && !p.rows[j].deleted && prev == nil {
			prev = &p.rows[j]
		}
		if ev.Op == change.Update && hasUnchanged(row.vals) {
			switch {
			case prev != nil:
				row.vals = fillUnchanged(row.vals, ev.Table, prev.vals, prev.schema)
				if prev.from != nil {
					row.from = prev.from
				}
			case ev.BeforeFull && ev.Before != nil:
				row.vals = fillUnchanged(row.vals, ev.Table, ev.Before, ev.Table)
			}
		}
		p.put(string(key), row)
	}
	return order
}

// put records row as the latest change of key.
func (p *pendingTable) put(key string, row pendingRow) {
	if j, ok := p.index[key]; ok {
		p.rows[j] = row
		return
	}
	p.index[key] = len(p.rows)
	p.rows = append(p.rows, row)
}

func hasUnchanged(vals []any) bool {
	for _, v := range vals {
		if change.IsUnchanged(v) {
			return true
		}
	}
	return false
}

// fillUnchanged returns a copy of vals with Unchanged values taken, by column name, from an earlier
// image of the row (prev, of schema ps). Values prev does not have stay Unchanged.
func fillUnchanged(vals []any, schema *change.Table, prev []any, ps *change.Table) []any {
	out := make([]any, len(vals))
	copy(out, vals)
	for i, v := range out {
		if !change.IsUnchanged(v) {
			continue
		}
		j := i
		if ps != schema {
			j = ps.ColumnIndex(schema.Columns[i].Name)
		}
		if j >= 0 && j < len(prev) && !change.IsUnchanged(prev[j]) {
			out[i] = prev[j]
		}
	}
	return out
}

// insert writes one table's collapsed rows as one block.
func (s *Sink) insert(ctx context.Context, p *pendingTable) (int, []deadLetter, error) {
	if len(p.rows) == 0 {
		return 0, nil, nil
	}
	rt := p.rt
	if rt.builders == nil {
		rt.builders = make([]builder, len(rt.cols))
		for i, c := range rt.cols {
			b, err := newBuilder(c.Type)
			if err != nil {
				rt.builders = nil
				return 0, nil, fmt.Errorf("clickhouse: column %q of %s.%s: %w", c.Name, s.db, rt.name, err)
			}
			rt.builders[i] = b
		}
	}
	builders := rt.builders
	defer func() {
		for _, b := range builders {
			b.reset()
		}
	}()
	var dead []deadLetter
	n := 0
	for i := range p.rows {
		r := &p.rows[i]
		var rec []byte
		if s.Encode != nil {
			ev := *r.ev
			if r.deleted {
				ev.Op = change.Delete // also the old key of a row an update moved
			}
			var err error
			if s.recBuf, _, err = s.Encode(s.recBuf[:0], &ev, r.vals); err != nil {
				dead = append(dead, s.newDeadLetter(r, err, nil))
				continue
			}
			rec = s.recBuf
		}
		l := rt.layouts[r.schema]
		if err := addRow(builders, rt, l, r); err != nil {
			dead = append(dead, s.newDeadLetter(r, err, rec))
			continue
		}
		n++
	}
	if n == 0 {
		return 0, dead, nil
	}
	stmt := insertSQL(s.db, rt.name, rt.cols)
	batch, err := s.conn.PrepareBatch(ctx, stmt)
	if err != nil {
		return 0, nil, fmt.Errorf("clickhouse: insert into %s.%s: %w", s.db, rt.name, err)
	}
	for i, b := range builders {
		if err := b.appendTo(batch.Column(i)); err != nil {
			_ = batch.Abort()
			return 0, nil, fmt.Errorf("clickhouse: insert into %s.%s: column %q: %w", s.db, rt.name, rt.cols[i].Name, err)
		}
	}
	if err := batch.Send(); err != nil {
		return 0, nil, fmt.Errorf("clickhouse: insert %d rows into %s.%s: %w", n, s.db, rt.name, err)
	}
	return n, dead, nil
}

// addRow appends one row to every column builder, or to none: on error the row's values already
// appended are taken back.
func addRow(builders []builder, rt *rowTable, l *layout, r *pendingRow) error {
	for i, b := range builders {
		var err error
		switch l.role[i] {
		case roleVersion:
			err = b.add(r.version)
		case roleDeleted:
			if r.deleted {
				err = b.add(uint64(1))
			} else {
				err = b.add(uint64(0))
			}
		case roleNullFlag:
			if !r.deleted && r.vals[l.src[i]] == nil {
				err = b.add(uint64(1))
			} else {
				err = b.add(uint64(0))
			}
		default:
			src := l.src[i]
			switch {
			case src < 0 && !r.deleted && rt.defaults[rt.cols[i].Name] != nil:
				err = b.add(rt.defaults[rt.cols[i].Name]) // a row from before the column existed
			case src < 0 || (r.deleted && !l.schema.IsKey(src)):
				b.zero()
			default:
				switch v := r.vals[src].(type) {
				case *change.BadValue:
					err = v
				default:
					switch d, isTime := v.(time.Time); {
					case change.IsUnchanged(v):
						err = fmt.Errorf("unchanged TOAST value with no earlier image of the row")
					case isTime && l.role[i] == roleDateText:
						err = b.add(d.Format(time.DateOnly))
					default:
						err = b.add(v)
					}
				}
			}
		}
		if err != nil {
			for _, done := range builders[:i] {
				done.pop()
			}
			return fmt.Errorf("column %q: %w", rt.cols[i].Name, err)
		}
	}
	return nil
}

func insertSQL(db, table string, cols []ColumnDef) string {
	// No space before "(": clickhouse-go then sends the column list as written instead of
	// re-parsing names (which it cannot do for every identifier).
	b := make([]byte, 0, 64+16*len(cols))
	b = append(b, "INSERT INTO "...)
	b = append(b, QuoteIdent(db)...)
	b = append(b, '.')
	b = append(b, QuoteIdent(table)...)
	b = append(b, '(')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, QuoteIdent(c.Name)...)
	}
	b = append(b, ')')
	return string(b)
}

// appendKey encodes the key values of row (of schema t) so equal keys encode equally.
func appendKey(b []byte, t *change.Table, row []any) []byte {
	for _, k := range t.Key {
		b = appendValue(b, row[k])
	}
	return b
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case int64:
		b = append(b, 'i')
		return binary.BigEndian.AppendUint64(b, uint64(x))
	case uint64:
		b = append(b, 'u')
		return binary.BigEndian.AppendUint64(b, x)
	case string:
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	case []byte:
		b = append(b, 'b')
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	case uuid.UUID:
		b = append(b, 'g')
		return append(b, x[:]...)
	case time.Time:
		b = append(b, 't')
		return binary.BigEndian.AppendUint64(b, uint64(x.UnixMicro()))
	case time.Duration:
		b = append(b, 'd')
		return binary.BigEndian.AppendUint64(b, uint64(x))
	case bool:
		if x {
			return append(b, 'T')
		}
		return append(b, 'F')
	case float64:
		b = append(b, 'f')
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x))
	case decimal.Decimal:
		s := x.String() // normalised: 1.50 and 1.5 are one key, as in the source
		b = append(b, 'D')
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
	s := fmt.Sprint(v)
	b = append(b, '?')
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
