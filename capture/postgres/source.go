// Package postgres captures a PostgreSQL database's changes through logical replication (pgoutput,
// via github.com/jackc/pglogrepl), after a consistent initial snapshot taken in the replication
// slot's exported snapshot.
//
// It owns the publication and the replication slot, the catalog checks that make start-up errors
// clear, the mapping of PostgreSQL types to cdcd's (types.go) and the decoding of values
// (values.go). The slot advances only through Ack, which the pipeline calls once ClickHouse has
// the data and the offset: the standby status's flush position is always that acknowledged
// position, never what was merely received.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// Config is a PostgreSQL source.
type Config struct {
	Name        string // the source's name
	DSN         string
	Tables      []TableName
	Slot        string // default cdcd_<name>
	Publication string // default cdcd_<name>
	// Snapshot copies the tables' rows before streaming when no offset is stored.
	Snapshot bool
	// Binary asks pgoutput for binary values when every captured column's type allows.
	Binary bool
	// StatusInterval is the standby status cadence (default 10s).
	StatusInterval time.Duration
	Log            *slog.Logger
	// Temporary streams from now through a temporary slot that PostgreSQL drops when the
	// connection ends, without snapshot or offsets (cdcd tail): the configured slot is untouched.
	Temporary bool
}

// Source is a PostgreSQL change stream. It implements capture.Source.
type Source struct {
	cfg Config
	log *slog.Logger

	confirmed atomic.Uint64 // the LSN ClickHouse has: the slot's flush position
	received  atomic.Uint64 // the newest commit end received
	serverEnd atomic.Uint64 // the server's WAL end, from keepalives: for lag
	statusNow chan struct{}
	textMode  atomic.Bool // set once a column type without a binary decoder was seen

	warnMu sync.Mutex
	warned map[string]bool // columns already warned about as fallbacks
}

var _ capture.Source = (*Source)(nil)

// New returns a PostgreSQL source; nothing is contacted until Run.
func New(cfg Config) *Source {
	if cfg.Slot == "" {
		cfg.Slot = "cdcd_" + cfg.Name
	}
	if cfg.Publication == "" {
		cfg.Publication = "cdcd_" + cfg.Name
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Source{cfg: cfg, log: cfg.Log.With("source", cfg.Name), statusNow: make(chan struct{}, 1), warned: map[string]bool{}}
}

// Kind is "postgres".
func (s *Source) Kind() string { return "postgres" }

// Ack records that ClickHouse has everything up to pos; the next standby status reports it as the
// slot's flush position (immediately, not waiting for the timer).
func (s *Source) Ack(pos change.Position) {
	lsn, err := resumeLSN(pos)
	if err != nil {
		return
	}
	for {
		cur := s.confirmed.Load()
		if uint64(lsn) <= cur || s.confirmed.CompareAndSwap(cur, uint64(lsn)) {
			break
		}
	}
	select {
	case s.statusNow <- struct{}{}:
	default:
	}
}

// sessionParams make text-format values come out in the forms values.go parses.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, MDY",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"IntervalStyle":      "postgres",
	"bytea_output":       "hex",
}

func (s *Source) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.cfg.DSN)
	if err != nil {
		return nil, change.Terminal(fmt.Errorf("postgres source %q: dsn: %w", s.cfg.Name, err))
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["application_name"] = "cdcd_" + s.cfg.Name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: connect: %w", s.cfg.Name, err)
	}
	return conn, nil
}

func (s *Source) replicationConnect(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(s.cfg.DSN)
	if err != nil {
		return nil, change.Terminal(fmt.Errorf("postgres source %q: dsn: %w", s.cfg.Name, err))
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["replication"] = "database"
	cfg.RuntimeParams["application_name"] = "cdcd_" + s.cfg.Name
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: replication connection: %w", s.cfg.Name, err)
	}
	return conn, nil
}

// Run snapshots (when no offset is stored and the source is configured to) and streams. With a
// stored offset, tables ClickHouse has no snapshot of (added to a running source) are snapshotted
// on their own first.
func (s *Source) Run(ctx context.Context, begin capture.Start, e capture.Emitter) error {
	from := begin.Position
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	infos, err := preflight(ctx, conn, s.cfg.Name, s.cfg.Tables)
	if err != nil {
		return err
	}
	added, err := ensurePublication(ctx, conn, s.cfg.Name, s.cfg.Publication, s.cfg.Tables)
	if err != nil {
		return err
	}
	if len(added) > 0 && !from.IsZero() && !s.cfg.Snapshot {
		s.log.Warn("tables were added to the publication of a running source with snapshot: never: their changes stream from now on, "+
			"but rows they held before are not copied", "tables", fmt.Sprint(added))
	}
	types := &typeCatalog{conn: conn, cache: map[uint32]TypeInfo{}}
	tables, err := s.catalogTables(ctx, infos, types)
	if err != nil {
		return err
	}
	slot, exists, err := readSlot(ctx, conn, s.cfg.Slot)
	if err != nil {
		return fmt.Errorf("postgres source %q: %w", s.cfg.Name, err)
	}
	if exists && (slot.Plugin != "pgoutput" || slot.Database != conn.Config().Database) {
		return change.Terminal(fmt.Errorf("postgres source %q: replication slot %q exists but is for plugin %q in database %q, not pgoutput in %q; "+
			"choose another slot name (postgres.slot) or drop it", s.cfg.Name, s.cfg.Slot, slot.Plugin, slot.Database, conn.Config().Database))
	}

	binary := s.cfg.Binary && !s.textMode.Load() && allBinary(tables)
	rc, err := s.replicationConnect(ctx)
	if err != nil {
		return err
	}
	defer rc.Close(context.Background())

	var start pglogrepl.LSN
	var floors map[TableName]uint64
	switch {
	case s.cfg.Temporary:
		res, err := pglogrepl.CreateReplicationSlot(ctx, rc, s.cfg.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
		if err != nil {
			return fmt.Errorf("postgres source %q: create temporary replication slot: %w", s.cfg.Name, err)
		}
		if start, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
			return fmt.Errorf("postgres source %q: slot consistent point %q: %w", s.cfg.Name, res.ConsistentPoint, err)
		}
	case from.IsZero() && s.cfg.Snapshot:
		if exists {
			if slot.Active {
				return fmt.Errorf("postgres source %q: replication slot %q is in use by process %d; waiting for it to be released", s.cfg.Name, s.cfg.Slot, slot.ActivePID)
			}
			s.log.Warn("no offset is stored but the replication slot exists (an interrupted snapshot, or a reset): dropping it to take a new consistent snapshot",
				"slot", s.cfg.Slot)
			if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", s.cfg.Slot); err != nil {
				return fmt.Errorf("postgres source %q: drop replication slot %q: %w", s.cfg.Name, s.cfg.Slot, err)
			}
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, rc, s.cfg.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
		if err != nil {
			return fmt.Errorf("postgres source %q: create replication slot %q: %w", s.cfg.Name, s.cfg.Slot, err)
		}
		if start, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
			return fmt.Errorf("postgres source %q: slot consistent point %q: %w", s.cfg.Name, res.ConsistentPoint, err)
		}
		s.log.Info("created replication slot", "slot", s.cfg.Slot, "consistent_point", start.String())
		if err := s.snapshot(ctx, res.SnapshotName, start, tables, infos, e, checkpoint(start)); err != nil {
			return err
		}
	case from.IsZero():
		if exists {
			start = slot.ConfirmedLSN
		} else {
			res, err := pglogrepl.CreateReplicationSlot(ctx, rc, s.cfg.Slot, "pgoutput",
				pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
			if err != nil {
				return fmt.Errorf("postgres source %q: create replication slot %q: %w", s.cfg.Name, s.cfg.Slot, err)
			}
			if start, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
				return fmt.Errorf("postgres source %q: slot consistent point %q: %w", s.cfg.Name, res.ConsistentPoint, err)
			}
			s.log.Info("created replication slot (snapshot: never)", "slot", s.cfg.Slot, "consistent_point", start.String())
		}
	default:
		if !exists || slot.Lost() {
			return slotGone(s.cfg.Name, s.cfg.Slot, slot, exists, from)
		}
		if start, err = resumeLSN(from); err != nil {
			return change.Terminal(fmt.Errorf("postgres source %q: %w", s.cfg.Name, err))
		}
		if start < slot.ConfirmedLSN {
			return change.Terminal(fmt.Errorf("postgres source %q: the stored offset %s is behind replication slot %q's confirmed position %s: "+
				"PostgreSQL can no longer stream the changes between them, which ClickHouse should already hold (was ClickHouse restored from a backup?). "+
				"Re-snapshot with `cdcd offsets reset --source %s --to snapshot`, or accept the gap with `--to %s`",
				s.cfg.Name, start, s.cfg.Slot, slot.ConfirmedLSN, s.cfg.Name, slot.ConfirmedLSN))
		}
		if floors, err = s.catchUp(ctx, begin, infos, tables, e); err != nil {
			return err
		}
	}
	s.confirmed.Store(uint64(start))
	return s.stream(ctx, conn, rc, start, binary, tables, types, floors, e)
}

// catchUp snapshots, each on its own, the captured tables ClickHouse holds no snapshot of (tables
// added to a running source), in the exported snapshot of a temporary replication slot, while the
// stored offset stays where it is. It returns, for the stream, the version of every table snapshot
// newer than the offset: the stream drops a table's changes at or below it, which its snapshot
// already holds, so nothing is applied twice (aggregations included).
func (s *Source) catchUp(ctx context.Context, begin capture.Start, infos []tableInfo, tables map[uint32]*change.Table,
	e capture.Emitter) (map[TableName]uint64, error) {
	from := begin.Position
	floors := map[TableName]uint64{}
	for id, v := range begin.Tables {
		if v > from.Version {
			floors[TableName{Schema: id.Namespace, Name: id.Name}] = v
		}
	}
	if !s.cfg.Snapshot {
		return floors, nil
	}
	if begin.Tables == nil {
		// An offset stored before cdcd recorded table snapshots: its tables were snapshotted then.
		ids := make([]change.TableID, 0, len(infos))
		for _, info := range infos {
			ids = append(ids, tables[info.oid].ID)
		}
		return floors, e.Snapshotted(ctx, ids, 0)
	}
	var missing []tableInfo
	var names []string
	for _, info := range infos {
		if _, ok := begin.Tables[tables[info.oid].ID]; !ok {
			missing = append(missing, info)
			names = append(names, info.name.String())
		}
	}
	if len(missing) == 0 {
		return floors, nil
	}
	rc, err := s.replicationConnect(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close(context.Background())
	slot := s.cfg.Slot
	if len(slot) > 59 {
		slot = slot[:59]
	}
	slot += "_add"
	res, err := pglogrepl.CreateReplicationSlot(ctx, rc, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: snapshot of tables new to the source (%s): create temporary replication slot %q "+
			"(it needs one free slot, max_replication_slots, and one WAL sender, max_wal_senders): %w",
			s.cfg.Name, strings.Join(names, ", "), slot, err)
	}
	cp, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: slot consistent point %q: %w", s.cfg.Name, res.ConsistentPoint, err)
	}
	if checkpoint(cp).Version <= from.Version {
		// The snapshot's rows must be newer than the offset (the pipeline skips what is not), and
		// every change after the snapshot newer than them. Creating the slot writes WAL, so the
		// next attempt's consistent point is further on.
		return nil, fmt.Errorf("postgres source %q: the consistent point %s of the new tables' snapshot is not past the stored offset %s; retrying",
			s.cfg.Name, cp, from.Token)
	}
	s.log.Info("snapshotting tables new to the source while the others stream", "tables", strings.Join(names, ", "),
		"consistent_point", cp.String(), "offset", from.Token)
	if err := s.snapshot(ctx, res.SnapshotName, cp, tables, missing, e, from); err != nil {
		return nil, err
	}
	for _, info := range missing {
		floors[info.name] = checkpoint(cp).Version
	}
	return floors, nil
}

// catalogTables builds the schemas of the captured tables from the catalog, as the snapshot reads
// them; the stream's Relation messages confirm or replace them.
func (s *Source) catalogTables(ctx context.Context, infos []tableInfo, types *typeCatalog) (map[uint32]*change.Table, error) {
	out := make(map[uint32]*change.Table, len(infos))
	for _, info := range infos {
		cols := make([]relColumn, len(info.columns))
		for i, c := range info.columns {
			cols[i] = relColumn{name: c.name, oid: c.oid, typmod: c.typmod}
		}
		t, err := s.buildTable(ctx, info.oid, info.name, info.key, cols, types, 0)
		if err != nil {
			return nil, err
		}
		t.BeforeFull = info.identity == 'f'
		out[info.oid] = t
	}
	return out, nil
}

type relColumn struct {
	name   string
	oid    uint32
	typmod int32
}

// buildTable maps a table's columns to a change.Table keyed by key, with the values that rows
// predating a column hold (the catalog's missing values).
func (s *Source) buildTable(ctx context.Context, oid uint32, name TableName, key []string, cols []relColumn, types *typeCatalog, gen int) (*change.Table, error) {
	t := &change.Table{ID: change.TableID{Source: s.cfg.Name, Namespace: name.Schema, Name: name.Name}, Generation: gen}
	lookup := types.lookup(ctx)
	for _, c := range cols {
		ty := MapType(c.oid, c.typmod, lookup)
		t.Columns = append(t.Columns, change.Column{Name: c.name, Type: ty, Nullable: true})
		if ty.Fallback {
			s.warnFallback(name, c.name, ty)
		}
	}
	if types.err != nil {
		err := types.err
		types.err = nil
		return nil, fmt.Errorf("postgres source %q: table %s: %w", s.cfg.Name, name, err)
	}
	for _, k := range key {
		i := t.ColumnIndex(k)
		if i < 0 {
			return nil, change.Terminal(fmt.Errorf("postgres source %q: key column %q of table %s is not among its published columns", s.cfg.Name, k, name))
		}
		t.Key = append(t.Key, i)
		t.Columns[i].Nullable = false
	}
	if err := s.missingValues(ctx, types.conn, oid, t); err != nil {
		return nil, err
	}
	return t, nil
}

// missingValues sets the Default of columns added with a constant default: PostgreSQL shows that
// value (pg_attribute.attmissingval) for rows written before the column existed, and so must
// ClickHouse. A volatile default (now(), random()) rewrites the table instead, without logging the
// rewritten rows: those rows need a re-snapshot (see the README).
func (s *Source) missingValues(ctx context.Context, conn *pgx.Conn, oid uint32, t *change.Table) error {
	rows, err := conn.Query(ctx, `SELECT attname, attmissingval::text FROM pg_attribute
WHERE attrelid = $1 AND atthasmissing AND NOT attisdropped`, oid)
	if err != nil {
		return fmt.Errorf("postgres source %q: missing values of table %s: %w", s.cfg.Name, t.ID.SourceName(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			return err
		}
		i := t.ColumnIndex(name)
		if i < 0 {
			continue
		}
		c := &t.Columns[i]
		dec, err := NewDecoder(0, change.Type{Kind: change.Array, Elem: &c.Type}, false)
		if err != nil {
			s.log.Warn("cannot read the default of a column added with one: rows predating it show NULL in ClickHouse",
				"table", t.ID.SourceName(), "column", name, "error", err)
			continue
		}
		v, err := dec([]byte(text))
		if vals, ok := v.([]any); err == nil && ok && len(vals) == 1 {
			c.Default = vals[0]
		} else {
			s.log.Warn("cannot read the default of a column added with one: rows predating it show NULL in ClickHouse",
				"table", t.ID.SourceName(), "column", name, "value", text, "error", err)
		}
	}
	return rows.Err()
}

func (s *Source) warnFallback(t TableName, col string, ty change.Type) {
	s.warnMu.Lock()
	defer s.warnMu.Unlock()
	k := t.String() + "." + col
	if s.warned[k] {
		return
	}
	s.warned[k] = true
	s.log.Warn("column type has no exact mapping: captured as its text in a String", "table", t.String(), "column", col, "type", ty.Source)
}

// allBinary reports whether every column of every table has a binary decoder.
func allBinary(tables map[uint32]*change.Table) bool {
	for _, t := range tables {
		for _, c := range t.Columns {
			if c.Type.Fallback {
				return false
			}
		}
	}
	return true
}
