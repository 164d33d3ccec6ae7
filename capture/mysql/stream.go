package mysql

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// streamState is the binlog reader's state; one goroutine uses it.
type streamState struct {
	s      *Source
	srv    serverInfo
	hist   *history
	e      capture.Emitter
	byID   map[uint64]*shape           // table maps seen, by table id (nil: not captured)
	tables map[TableName]*change.Table // the schema announced for each captured table
	// floors are the versions of table snapshots newer than the stream's start: a table's
	// changes at or below its floor are in its snapshot, and dropped.
	floors map[TableName]uint64

	file uint32 // the binlog file being read (its sequence number)
	last change.Position

	inTxn      bool
	begun      bool // a BEGIN (MySQL) or non-standalone GTID event (MariaDB) opened the transaction
	version    uint64
	seq        uint32
	commitTime time.Time
}

// stream reads the binlog from start (a GTID position) and turns its events into change events
// until ctx ends or an error stops it. A table's changes at or below its floor are dropped.
func (s *Source) stream(ctx context.Context, srv serverInfo, start change.Position, hist *history, floors map[TableName]uint64,
	announced map[TableName]*change.Table, e capture.Emitter) error {
	host, port, err := splitAddr(s.cfg.Addr)
	if err != nil {
		return change.Terminal(fmt.Errorf("mysql source %q: address %q: %w", s.cfg.Name, s.cfg.Addr, err))
	}
	gset, err := gomysql.ParseGTIDSet(string(srv.flavor), start.Token)
	if err != nil {
		return change.Terminal(fmt.Errorf("mysql source %q: start position %q: %w", s.cfg.Name, start.Token, err))
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: s.cfg.ServerID, Flavor: string(srv.flavor), Host: host, Port: port,
		User: s.cfg.User, Password: s.cfg.Password, TLSConfig: s.cfg.TLS,
		Localhost:        "cdcd-" + s.cfg.Name,
		HeartbeatPeriod:  s.cfg.Heartbeat,
		ReadTimeout:      s.cfg.ReadTimeout,
		DisableRetrySync: true, // a lost connection ends Run: the pipeline resumes from the stored offset
		UseDecimal:       true,
		EventCacheCount:  4096,
		// Row events are decoded by rowImages, straight to cdcd's values, on this goroutine.
		RowsEventDecodeFunc: deferRows,
		Logger:              slog.New(quietHandler{s.log.Handler()}),
	})
	defer syncer.Close()
	streamer, err := syncer.StartSyncGTID(gset)
	if err != nil {
		return s.privilegeError("start binlog replication", err)
	}
	s.log.Info("streaming", "flavor", srv.flavor, "gtid", start.Token, "server_id", s.cfg.ServerID)
	for t, v := range floors {
		s.log.Info("dropping a table's changes its snapshot holds", "table", t.String(), "through", CoordOf(v).String())
	}

	st := &streamState{s: s, srv: srv, hist: hist, e: e, byID: map[uint64]*shape{}, tables: map[TableName]*change.Table{}, floors: floors, last: start}
	s.setReceived(start)
	// Announce every captured table's schema now, so later stages create their tables and check
	// their requirements at start; the binlog's table maps confirm or replace them.
	for _, t := range s.cfg.Tables {
		if def := hist.get(t); def != nil {
			sh, err := s.defShape(def, srv.flavor)
			if err != nil {
				return err
			}
			if prev := announced[t]; prev != nil && prev.SameShape(sh.table) {
				sh.table = prev
			}
			st.tables[t] = sh.table
			if err := e.Schema(ctx, sh.table); err != nil {
				return err
			}
		}
	}
	if err := e.Idle(ctx, start); err != nil {
		return err
	}
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.streamError(st.last.Token, err)
		}
		if err := st.handle(ctx, ev); err != nil {
			return err
		}
	}
}

func (st *streamState) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	if h.LogPos > 0 && st.file > 0 {
		if v := (Coord{File: st.file, Pos: h.LogPos}).Version(); v > st.s.end.Load() {
			st.s.end.Store(v)
		}
	}
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		seq, err := fileSeq(string(e.NextLogName))
		if err != nil {
			return fmt.Errorf("mysql source %q: %w", st.s.cfg.Name, err)
		}
		st.file = seq
	case *replication.MariadbGTIDEvent:
		// Only Flags is read: go-mysql mutates the event's GTID in place later.
		st.begun = e.Flags&replication.BINLOG_MARIADB_FL_STANDALONE == 0
		return st.begin(h)
	case *replication.GTIDEvent:
		st.begun = false // MySQL: a Query BEGIN follows, unless the transaction is one DDL statement
		return st.begin(h)
	case *replication.GtidTaggedLogEvent:
		return change.Terminal(fmt.Errorf("mysql source %q: the binlog holds tagged GTIDs (MySQL 8.3+), which cdcd does not support", st.s.cfg.Name))
	case *replication.QueryEvent:
		return st.query(ctx, h, e)
	case *replication.XIDEvent:
		return st.commit(ctx, h, e.GSet)
	case *replication.TableMapEvent:
		return st.tableMap(ctx, e)
	case *replication.RowsEvent:
		return st.rows(ctx, h, e)
	case *replication.GenericEvent:
		if (h.EventType == replication.HEARTBEAT_EVENT || h.EventType == replication.HEARTBEAT_LOG_EVENT_V2) && !st.inTxn {
			// Nothing is pending: the offset may advance to the last commit read.
			return st.e.Idle(ctx, st.last)
		}
	}
	return nil
}

// begin opens a transaction at the event ending at h: its events carry that coordinate.
func (st *streamState) begin(h *replication.EventHeader) error {
	if err := st.positioned(h); err != nil {
		return err
	}
	st.inTxn, st.seq = true, 0
	st.version = Coord{File: st.file, Pos: h.LogPos}.Version()
	st.commitTime = time.Unix(int64(h.Timestamp), 0).UTC()
	return nil
}

// positioned checks an event that versions a transaction carries its binlog position: without it
// versions would go backwards and the pipeline would drop transactions as already delivered.
func (st *streamState) positioned(h *replication.EventHeader) error {
	if h.LogPos == 0 || st.file == 0 {
		return change.Terminal(fmt.Errorf("mysql source %q: a %s event without its binlog position (file %d, position %d); cdcd versions rows by binlog coordinates and cannot go on",
			st.s.cfg.Name, h.EventType, st.file, h.LogPos))
	}
	return nil
}

// commit closes the open transaction at the event ending at h, with the GTID set after it.
func (st *streamState) commit(ctx context.Context, h *replication.EventHeader, gset gomysql.GTIDSet) error {
	if err := st.positioned(h); err != nil {
		return err
	}
	st.inTxn, st.begun = false, false
	token := st.last.Token
	switch g := gset.(type) {
	case *gomysql.MariadbGTIDSet:
		token = mariaPosOf(g).String()
	case *gomysql.MysqlGTIDSet:
		token = g.String()
	}
	st.last = checkpoint(Coord{File: st.file, Pos: h.LogPos}, token)
	st.s.setReceived(st.last)
	return st.e.Commit(ctx, st.last)
}

// inSnapshot reports whether the open transaction's changes of table t are in t's snapshot (at or
// below its floor), and so dropped.
func (st *streamState) inSnapshot(t TableName) bool {
	return len(st.floors) > 0 && st.version <= st.floors[t]
}

func (st *streamState) emit(ctx context.Context, ev change.Event) error {
	ev.Version, ev.Seq, ev.CommitTime = st.version, st.seq, st.commitTime
	st.seq++
	return st.e.Change(ctx, ev)
}

// tableMap records a table map: the shape of the table's rows that follow.
func (st *streamState) tableMap(ctx context.Context, tm *replication.TableMapEvent) error {
	name := TableName{DB: string(tm.Schema), Name: string(tm.Table)}
	if !st.s.captured[name] || st.inSnapshot(name) {
		// Not captured, or rows its snapshot holds: no schema to announce for them either.
		st.byID[tm.TableID] = nil
		return nil
	}
	def := st.hist.get(name)
	gen := 0
	if def != nil {
		gen = def.Gen
	}
	sig := tmSignature(tm, gen)
	if sh := st.byID[tm.TableID]; sh != nil && sh.sig == sig && sh.name == name {
		return nil
	}
	cols, key, err := tmColumns(tm, def, st.srv.flavor, st.srv.collations.charsetOf)
	if err != nil {
		return change.Terminal(fmt.Errorf("mysql source %q: table %s: %w", st.s.cfg.Name, name, err))
	}
	t := st.s.buildTable(name, cols, key, def)
	if prev := st.tables[name]; prev != nil && prev.SameShape(t) {
		t = prev // the same schema: one pointer, so later stages keep their caches
	} else {
		if prev != nil {
			t.Generation = prev.Generation + 1
			st.s.log.Info("table schema changed", "table", name.String(), "columns", len(t.Columns))
		}
		st.tables[name] = t
		if err := st.e.Schema(ctx, t); err != nil {
			return err
		}
	}
	st.byID[tm.TableID] = &shape{name: name, table: t, cols: cols, sig: sig}
	return nil
}

// rows decodes a rows event of a captured table into change events.
func (st *streamState) rows(ctx context.Context, h *replication.EventHeader, ev *replication.RowsEvent) error {
	sh := st.byID[ev.TableID]
	if sh == nil || st.inSnapshot(sh.name) {
		return nil // a table cdcd does not capture, or rows its snapshot holds
	}
	data, ok := deferredData(ev)
	if !ok {
		return fmt.Errorf("mysql source %q: rows event of %s without its data", st.s.cfg.Name, sh.name)
	}
	op, compressed, partial := rowsKind(h.EventType)
	if partial {
		return change.Terminal(fmt.Errorf("mysql source %q: table %s: a partial JSON update (binlog_row_value_options=PARTIAL_JSON in some session), which cdcd cannot apply", st.s.cfg.Name, sh.name))
	}
	if op == 0 {
		return fmt.Errorf("mysql source %q: unknown rows event type %s", st.s.cfg.Name, h.EventType)
	}
	if compressed {
		var err error
		if data, err = decompressRows(data); err != nil {
			return fmt.Errorf("mysql source %q: table %s: %w", st.s.cfg.Name, sh.name, err)
		}
	}
	if int(ev.ColumnCount) != len(sh.cols) {
		return fmt.Errorf("mysql source %q: table %s: rows event of %d columns, its table map has %d", st.s.cfg.Name, sh.name, ev.ColumnCount, len(sh.cols))
	}
	err := rowImages(sh, op, data, ev.ColumnBitmap1, ev.ColumnBitmap2, func(c change.Event) error { return st.emit(ctx, c) })
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("mysql source %q: table %s: rows event at %s: %w", st.s.cfg.Name, sh.name, Coord{st.file, h.LogPos}, err)
	}
	return err
}

func deferredData(ev *replication.RowsEvent) ([]byte, bool) {
	if len(ev.Rows) != 1 || len(ev.Rows[0]) != 1 {
		return nil, false
	}
	d, ok := ev.Rows[0][0].(deferredRows)
	return d, ok
}

// quietHandler passes go-mysql's warnings and errors to cdcd's log and drops its chatter.
type quietHandler struct{ slog.Handler }

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{q.Handler.WithAttrs(attrs)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.Handler.WithGroup(name)}
}
