package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// relation is what the stream knows of a relation (pgoutput Relation message).
type relation struct {
	name     TableName
	captured bool
	table    *change.Table
	oid      uint32    // the relation's
	oids     []uint32  // per column, its type
	typmods  []int32   // per column
	enums    []int     // the columns holding enum labels (see widenEnums)
	text     []Decoder // per column, for 't' values
	binary   []Decoder // per column, for 'b' values (nil entries: no binary decoder)
	// floor is the version of a snapshot of the table taken after the stream's start: its
	// changes at or below it are in that snapshot, and dropped. 0 for none.
	floor uint64
}

// stream runs START_REPLICATION from start and turns pgoutput messages into events. It reads on
// this goroutine only; a second goroutine sends standby status on a timer (and when Ack or the
// server asks), so a blocked pipeline never lets wal_sender_timeout end the connection.
func (s *Source) stream(ctx context.Context, conn *pgx.Conn, rc *pgconn.PgConn, start pglogrepl.LSN, binary bool,
	tables map[uint32]*change.Table, types *typeCatalog, floors map[TableName]uint64, e capture.Emitter) error {
	args := []string{"proto_version '1'", "publication_names " + quoteLiteral(s.cfg.Publication)}
	if binary {
		args = append(args, "binary 'true'")
	}
	if err := pglogrepl.StartReplication(ctx, rc, s.cfg.Slot, start, pglogrepl.StartReplicationOptions{PluginArgs: args}); err != nil {
		return fmt.Errorf("postgres source %q: start replication on slot %q at %s: %w", s.cfg.Name, s.cfg.Slot, start, err)
	}
	s.log.Info("streaming", "slot", s.cfg.Slot, "from", start.String(), "binary", binary)
	s.received.Store(uint64(start))

	// Stop reading when ctx ends: ReceiveMessage runs without a context (a context per call would
	// cost a goroutine per message), so unblock it through the socket's deadline.
	stopRead := context.AfterFunc(ctx, func() { _ = rc.Conn().SetReadDeadline(time.Now()) })
	defer stopRead()

	var wg sync.WaitGroup
	statusCtx, stopStatus := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sendStatus(statusCtx, rc)
	}()
	defer func() {
		stopStatus()
		wg.Wait()
	}()

	st := &streamState{s: s, conn: conn, types: types, catalog: tables, rels: map[uint32]*relation{}, e: e, binary: binary, floors: floors}
	// Announce every captured table's schema now, so later stages create their tables and check
	// their requirements at start rather than at each table's first change.
	for _, info := range s.cfg.Tables {
		for _, t := range tables {
			if t.ID.Namespace == info.Schema && t.ID.Name == info.Name {
				if err := e.Schema(ctx, t); err != nil {
					return err
				}
			}
		}
	}
	for {
		msg, err := rc.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("postgres source %q: receive: %w", s.cfg.Name, err)
		}
		switch msg := msg.(type) {
		case *pgproto3.CopyData:
			if err := st.handle(ctx, msg.Data); err != nil {
				return err
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("postgres source %q: replication: %w", s.cfg.Name, pgconn.ErrorResponseToPgError(msg))
		case *pgproto3.CopyDone:
			return fmt.Errorf("postgres source %q: the server ended replication", s.cfg.Name)
		}
	}
}

// sendStatus reports positions to the server every StatusInterval and whenever Ack advanced the
// confirmed position or a keepalive asked for a reply. The flush position is always the confirmed
// one: what ClickHouse has.
func (s *Source) sendStatus(ctx context.Context, rc *pgconn.PgConn) {
	t := time.NewTicker(s.cfg.StatusInterval)
	defer t.Stop()
	var sent uint64
	for {
		ask := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ask = true // ask for a keepalive: its WAL end lets an idle stream advance
		case <-s.statusNow:
			if s.confirmed.Load() == sent {
				continue
			}
		}
		confirmed := s.confirmed.Load()
		written := max(s.received.Load(), confirmed)
		err := pglogrepl.SendStandbyStatusUpdate(ctx, rc, pglogrepl.StandbyStatusUpdate{
			WALWritePosition: pglogrepl.LSN(written),
			WALFlushPosition: pglogrepl.LSN(confirmed),
			WALApplyPosition: pglogrepl.LSN(confirmed),
			ClientTime:       time.Now(),
			ReplyRequested:   ask,
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("standby status update failed", "error", err)
			}
			return
		}
		sent = confirmed
	}
}

// Lag returns how far the slot's confirmed position is behind the server's WAL end, in bytes, as
// last reported by the server.
func (s *Source) Lag() uint64 {
	end, c := s.serverEnd.Load(), s.confirmed.Load()
	if end > c {
		return end - c
	}
	return 0
}

// streamState is the reader goroutine's state.
type streamState struct {
	s       *Source
	conn    *pgx.Conn
	types   *typeCatalog
	catalog map[uint32]*change.Table // schemas read from the catalog at start, by relation OID
	rels    map[uint32]*relation
	e       capture.Emitter
	binary  bool
	floors  map[TableName]uint64 // tables snapshotted after the stream's start: see relation.floor

	row rowChange // reused by the row-change fast path

	inTxn      bool
	version    uint64
	commitTime time.Time
	seq        uint32
}

func (st *streamState) handle(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("postgres source %q: keepalive: %w", st.s.cfg.Name, err)
		}
		st.s.serverEnd.Store(uint64(ka.ServerWALEnd))
		if ka.ReplyRequested {
			select {
			case st.s.statusNow <- struct{}{}:
			default:
			}
		}
		if !st.inTxn && ka.ServerWALEnd > 0 {
			// Everything up to the server's WAL end has been sent: with no transaction open,
			// the offset may advance there even if nothing we capture changed.
			return st.e.Idle(ctx, checkpoint(ka.ServerWALEnd))
		}
		return nil
	case pglogrepl.XLogDataByteID:
		x, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("postgres source %q: xlogdata: %w", st.s.cfg.Name, err)
		}
		return st.message(ctx, x.WALData)
	}
	return nil
}

func (st *streamState) message(ctx context.Context, data []byte) error {
	if len(data) > 0 && (data[0] == 'I' || data[0] == 'U' || data[0] == 'D') {
		return st.rowChange(ctx, data)
	}
	m, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("postgres source %q: parse pgoutput message: %w", st.s.cfg.Name, err)
	}
	switch m := m.(type) {
	case *pglogrepl.BeginMessage:
		st.inTxn, st.version, st.commitTime, st.seq = true, uint64(m.FinalLSN), m.CommitTime.UTC(), 0
	case *pglogrepl.CommitMessage:
		st.inTxn = false
		st.s.received.Store(uint64(m.TransactionEndLSN))
		return st.e.Commit(ctx, checkpoint(m.TransactionEndLSN))
	case *pglogrepl.RelationMessage:
		return st.relation(ctx, m)
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if rel, ok := st.rels[id]; ok && rel.captured && st.version > rel.floor {
				if err := st.emit(ctx, change.Event{Op: change.Truncate, Table: rel.table}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// unknown is a change of a relation the stream has no Relation message for (a protocol error) or
// does not capture (a table of a shared publication: ignored).
func (st *streamState) unknown(id uint32) error {
	if _, ok := st.rels[id]; ok {
		return nil
	}
	return fmt.Errorf("postgres source %q: change of relation %d before its Relation message", st.s.cfg.Name, id)
}

func (st *streamState) emit(ctx context.Context, ev change.Event) error {
	ev.Version, ev.Seq, ev.CommitTime = st.version, st.seq, st.commitTime
	st.seq++
	return st.e.Change(ctx, ev)
}

// rowChange turns an Insert, Update or Delete message into an event.
func (st *streamState) rowChange(ctx context.Context, data []byte) error {
	m := &st.row
	if err := parseRowChange(data, m); err != nil {
		return fmt.Errorf("postgres source %q: parse pgoutput message: %w", st.s.cfg.Name, err)
	}
	rel, ok := st.rels[m.relation]
	if !ok || !rel.captured {
		return st.unknown(m.relation)
	}
	if st.version <= rel.floor {
		return nil // in the table's snapshot
	}
	ev := change.Event{Table: rel.table}
	var err error
	switch m.op {
	case 'I':
		ev.Op = change.Insert
		ev.After, err = st.tuple(rel, m.new)
	case 'U':
		ev.Op = change.Update
		if ev.After, err = st.tuple(rel, m.new); err == nil && m.oldKind != 0 {
			ev.Before, err = st.tuple(rel, m.old)
			ev.BeforeFull = m.oldKind == 'O'
		}
	case 'D':
		ev.Op = change.Delete
		ev.Before, err = st.tuple(rel, m.old)
		ev.BeforeFull = m.oldKind == 'O'
	}
	if err != nil {
		return err
	}
	if len(rel.enums) > 0 {
		if err := st.widenEnums(ctx, rel, ev.After, ev.Before); err != nil {
			return err
		}
		ev.Table = rel.table
	}
	return st.emit(ctx, ev)
}

// tuple decodes a pgoutput tuple. Values that cannot be converted exactly become BadValues (their
// row goes to the dead-letter table); unchanged TOAST values become change.Unchanged.
func (st *streamState) tuple(rel *relation, cols []tupleCol) ([]any, error) {
	if len(cols) != len(rel.table.Columns) {
		return nil, fmt.Errorf("postgres source %q: table %s: tuple of %d columns, relation has %d",
			st.s.cfg.Name, rel.name, len(cols), len(rel.table.Columns))
	}
	row := make([]any, len(cols))
	for i, c := range cols {
		var dec Decoder
		switch c.kind {
		case 'n':
			continue
		case 'u':
			row[i] = change.Unchanged
			continue
		case 't':
			dec = rel.text[i]
		case 'b':
			dec = rel.binary[i]
		}
		if dec == nil {
			return nil, fmt.Errorf("postgres source %q: table %s column %q: no decoder for format %q", st.s.cfg.Name, rel.name,
				rel.table.Columns[i].Name, c.kind)
		}
		v, err := dec(c.data)
		if err != nil {
			raw := string(c.data)
			if c.kind == 'b' {
				raw = fmt.Sprintf("\\x%x", c.data)
			}
			v = &change.BadValue{Raw: raw, Err: fmt.Errorf("table %s column %q (%s): %w", rel.name, rel.table.Columns[i].Name,
				rel.table.Columns[i].Type.Source, err)}
		}
		row[i] = v
	}
	return row, nil
}

// errTextMode restarts the stream in text mode.
var errTextMode = errors.New("a column type has no binary decoder: restarting the stream with text values")

// relation records a Relation message: the schema in force for the table from now on.
func (st *streamState) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	name := TableName{Schema: m.Namespace, Name: m.RelationName}
	captured := false
	for _, t := range st.s.cfg.Tables {
		if t == name {
			captured = true
		}
	}
	rel := &relation{name: name, captured: captured, floor: st.floors[name]}
	st.rels[m.RelationID] = rel
	if !captured {
		return nil
	}
	cols := make([]relColumn, len(m.Columns))
	for i, c := range m.Columns {
		cols[i] = relColumn{name: c.Name, oid: c.DataType, typmod: c.TypeModifier}
	}
	prev := st.catalog[m.RelationID]
	key, err := st.key(ctx, m.RelationID, prev)
	if err != nil {
		return err
	}
	gen := 0
	if prev != nil {
		gen = prev.Generation
	}
	t, err := st.s.buildTable(ctx, m.RelationID, name, key, cols, st.types, gen)
	if err != nil {
		return err
	}
	if t.BeforeFull, err = st.fullIdentity(ctx, m.RelationID); err != nil {
		return err
	}
	if prev != nil && prev.SameShape(t) {
		t = prev // the same schema: keep one pointer so later stages keep their caches
	} else {
		t.Generation = gen + 1
		st.catalog[m.RelationID] = t
		if prev != nil {
			st.s.log.Info("table schema changed", "table", name.String(), "columns", len(t.Columns))
		}
	}
	rel.table = t
	rel.oid, rel.enums = m.RelationID, enumColumns(t)
	rel.oids, rel.typmods = make([]uint32, len(cols)), make([]int32, len(cols))
	rel.text = make([]Decoder, len(cols))
	rel.binary = make([]Decoder, len(cols))
	for i, c := range cols {
		rel.oids[i], rel.typmods[i] = c.oid, c.typmod
		ty := t.Columns[i].Type
		if rel.text[i], err = NewDecoder(c.oid, ty, false); err != nil {
			return change.Terminal(fmt.Errorf("postgres source %q: table %s column %q: %w", st.s.cfg.Name, name, c.name, err))
		}
		if st.binary {
			if !HasBinaryDecoder(c.oid, ty) {
				st.s.textMode.Store(true)
				st.s.log.Warn("column type has no binary decoder: switching this source to text values", "table", name.String(), "column", c.name, "type", ty.Source)
				return errTextMode
			}
			if rel.binary[i], err = NewDecoder(c.oid, ty, true); err != nil {
				return err
			}
		}
	}
	return st.e.Schema(ctx, t)
}

// fullIdentity reports whether a relation has REPLICA IDENTITY FULL, as the catalog says now:
// pgoutput does not carry it, and an ALTER TABLE ... REPLICA IDENTITY reaches the stream as a new
// Relation message, at which point the catalog holds the new setting.
func (st *streamState) fullIdentity(ctx context.Context, oid uint32) (bool, error) {
	var identity byte
	if err := st.conn.QueryRow(ctx, "SELECT relreplident FROM pg_class WHERE oid = $1", oid).Scan(&identity); err != nil {
		return false, fmt.Errorf("postgres source %q: replica identity of relation %d: %w", st.s.cfg.Name, oid, err)
	}
	return identity == 'f', nil
}

// key returns the key columns of a relation: those read at start, or from the catalog now for a
// table whose relation is new to this run.
func (st *streamState) key(ctx context.Context, oid uint32, prev *change.Table) ([]string, error) {
	if prev != nil {
		key := make([]string, len(prev.Key))
		for i, k := range prev.Key {
			key[i] = prev.Columns[k].Name
		}
		return key, nil
	}
	var identity byte
	if err := st.conn.QueryRow(ctx, "SELECT relreplident FROM pg_class WHERE oid = $1", oid).Scan(&identity); err != nil {
		return nil, fmt.Errorf("postgres source %q: replica identity of relation %d: %w", st.s.cfg.Name, oid, err)
	}
	return keyColumns(ctx, st.conn, oid, identity)
}
