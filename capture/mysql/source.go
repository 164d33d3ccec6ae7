package mysql

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// Config is a MySQL or MariaDB source.
type Config struct {
	Name     string // the source's name
	Addr     string // host:port
	User     string
	Password string
	TLS      *tls.Config // nil: no TLS
	Tables   []TableName
	// ServerID is the replica server id cdcd registers with: unique among the server's replicas.
	ServerID uint32
	// Flavor is "auto" (ask the server), "mysql" or "mariadb".
	Flavor string
	// Snapshot copies the tables' rows before streaming when no offset is stored.
	Snapshot bool
	// Heartbeat is how often an idle server sends a heartbeat (default 1s): the offset advances on
	// them, and a silent connection is noticed after ReadTimeout (default 30s).
	Heartbeat   time.Duration
	ReadTimeout time.Duration
	Log         *slog.Logger
	// History keeps schema history across restarts; nil keeps none (a restart then starts it from
	// today's catalog, see the package doc).
	History HistoryStore
}

// Source is a MySQL or MariaDB binlog stream. It implements capture.Source.
type Source struct {
	cfg      Config
	log      *slog.Logger
	captured map[TableName]bool

	mu        sync.Mutex
	confirmed change.Position // what ClickHouse has (Ack)
	received  change.Position // the newest commit read from the binlog
	end       atomic.Uint64   // the newest binlog coordinate read (events and heartbeats), as a version
}

var _ capture.Source = (*Source)(nil)

// New returns a MySQL source; nothing is contacted until Run.
func New(cfg Config) *Source {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Source{cfg: cfg, log: cfg.Log.With("source", cfg.Name), captured: map[TableName]bool{}}
	for _, t := range cfg.Tables {
		s.captured[t] = true
	}
	return s
}

// Kind is "mysql".
func (s *Source) Kind() string { return "mysql" }

// Ack records that ClickHouse has everything up to pos. MySQL keeps its binlog by its own retention
// rules, so nothing is sent to the server: the position only feeds Lag.
func (s *Source) Ack(pos change.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pos.Version >= s.confirmed.Version {
		s.confirmed = pos
	}
}

// Positions returns the newest position ClickHouse confirmed and the newest commit read.
func (s *Source) Positions() (confirmed, received change.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed, s.received
}

// Lag returns how many bytes of binlog the acknowledged position is behind the newest binlog
// coordinate read: exact within one binlog file; across files, the bytes of the newest file.
func (s *Source) Lag() uint64 {
	confirmed, _ := s.Positions()
	end, c := CoordOf(s.end.Load()), CoordOf(confirmed.Version)
	switch {
	case end.Version() <= c.Version():
		return 0
	case end.File == c.File:
		return uint64(end.Pos - c.Pos)
	}
	return uint64(end.Pos)
}

func (s *Source) setReceived(p change.Position) {
	s.mu.Lock()
	s.received = p
	s.mu.Unlock()
}

// connect opens a client connection with the session settings cdcd's queries and value parsing
// assume: utf8mb4 text and TIMESTAMPs in UTC.
func (s *Source) connect(ctx context.Context) (*client.Conn, error) {
	var opts []client.Option
	if s.cfg.TLS != nil {
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(s.cfg.TLS); return nil })
	}
	c, err := client.ConnectWithContext(ctx, s.cfg.Addr, s.cfg.User, s.cfg.Password, "", 10*time.Second, opts...)
	if err != nil {
		return nil, s.privilegeError("connect to "+s.cfg.Addr, err)
	}
	for _, q := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'"} {
		if _, err := c.Execute(q); err != nil {
			c.Close()
			return nil, fmt.Errorf("mysql source %q: %s: %w", s.cfg.Name, q, err)
		}
	}
	return c, nil
}

// unblockOnDone makes c's pending and future I/O fail once ctx ends (go-mysql's client calls take
// no context); call the returned function to stop.
func unblockOnDone(ctx context.Context, c *client.Conn) func() bool {
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
}

// Run snapshots (when no offset is stored and the source is configured to) and streams. With a
// stored offset, tables ClickHouse holds no snapshot of (added to a running source) are snapshotted
// on their own first.
func (s *Source) Run(ctx context.Context, begin capture.Start, e capture.Emitter) error {
	announced := map[TableName]*change.Table{}
	p, err := s.prepare(ctx, begin, e, announced)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defs := p.defs
	if !begin.Position.IsZero() {
		if defs, err = s.resumeHistory(ctx, p.start.Version, p.defs, p.floors); err != nil {
			return ctxErr(ctx, err)
		}
	}
	if err := s.saveHistory(ctx, p.start.Version, defs); err != nil {
		return ctxErr(ctx, err)
	}
	return s.stream(ctx, p.srv, p.start, newHistory(defs), p.floors, announced, e)
}

// prepared is where and how streaming starts.
type prepared struct {
	srv   serverInfo
	start change.Position // the GTID position streaming resumes after
	defs  []*tableDef     // the captured tables' definitions: schema history's start
	// floors are the versions of table snapshots newer than start: the stream drops a table's
	// changes at or below its floor, which its snapshot already holds.
	floors map[TableName]uint64
}

// prepare checks the server and the tables, and finds where streaming starts: after a snapshot,
// at the server's current position (snapshot: never), or at the stored offset once the server is
// known to still serve it (after snapshotting the tables new to the source).
func (s *Source) prepare(ctx context.Context, begin capture.Start, e capture.Emitter, announced map[TableName]*change.Table) (prepared, error) {
	var p prepared
	from := begin.Position
	conn, err := s.connect(ctx)
	if err != nil {
		return p, err
	}
	defer conn.Close()
	defer unblockOnDone(ctx, conn)()
	if p.srv, err = s.preflight(conn); err != nil {
		return p, err
	}
	if p.defs, err = s.describeTables(conn, p.srv.flavor, s.cfg.Tables); err != nil {
		return p, err
	}
	switch {
	case from.IsZero() && s.cfg.Snapshot:
		p.start, p.defs, err = s.snapshot(ctx, p.srv, s.cfg.Tables, change.Position{}, e, announced)
	case from.IsZero():
		var cur serverPos
		if cur, err = currentPosition(conn, p.srv); err != nil {
			err = fmt.Errorf("mysql source %q: %w", s.cfg.Name, err)
		}
		p.start = cur.Position
		s.log.Info("no offset stored and snapshot: never; streaming from the current position", "gtid", p.start.Token)
	default:
		p.start = from
		var end Coord
		if end, err = s.checkResume(conn, p.srv, from); err == nil {
			err = s.catchUp(ctx, begin, end, &p, e, announced)
		}
	}
	return p, err
}

// catchUp sets the floors of the table snapshots ClickHouse holds that are newer than the stored
// offset, and, when the source is configured to snapshot, snapshots on their own the captured
// tables ClickHouse holds no snapshot of (tables added to a running source), in a consistent
// snapshot of their own while the offset stays where it is. Their changes between the offset and
// that snapshot still arrive in the stream (the binlog carries every table), at or below the new
// floor, and are dropped: nothing is applied twice, aggregations included. end is the server's
// binlog end.
func (s *Source) catchUp(ctx context.Context, begin capture.Start, end Coord, p *prepared, e capture.Emitter, announced map[TableName]*change.Table) error {
	from := begin.Position
	p.floors = map[TableName]uint64{}
	for id, v := range begin.Tables {
		name := TableName{DB: id.Namespace, Name: id.Name}
		if v <= from.Version || !s.captured[name] {
			continue
		}
		// A catch-up at the binlog end of an offset there is versioned one past it (snapshot).
		if v > end.Version()+1 {
			return purgedError(s.cfg.Name, from.Token, fmt.Errorf("table %s was snapshotted at binlog coordinate %s, past the server's binlog end %s "+
				"(RESET MASTER, or a failover to another server: binlog coordinates are per server, and its changes would be dropped as already snapshotted)",
				name, CoordOf(v), end))
		}
		p.floors[name] = v
	}
	if !s.cfg.Snapshot {
		return nil
	}
	if begin.Tables == nil {
		// An offset stored before cdcd recorded table snapshots: its tables were snapshotted then.
		ids := make([]change.TableID, len(s.cfg.Tables))
		for i, t := range s.cfg.Tables {
			ids[i] = s.tableID(t)
		}
		return e.Snapshotted(ctx, ids, 0)
	}
	var missing []TableName
	for _, t := range s.cfg.Tables {
		if _, ok := begin.Tables[s.tableID(t)]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	at, defs, err := s.snapshot(ctx, p.srv, missing, from, e, announced)
	if err != nil {
		return err
	}
	// Schema history starts with the definitions the snapshot read, as its announcements did.
	for _, d := range defs {
		p.floors[d.Name] = at.Version
		for i := range p.defs {
			if p.defs[i].Name == d.Name {
				p.defs[i] = d
			}
		}
	}
	return nil
}

// tableID is the change.TableID of a table of the source.
func (s *Source) tableID(t TableName) change.TableID {
	return change.TableID{Source: s.cfg.Name, Namespace: t.DB, Name: t.Name}
}

// ctxErr prefers ctx's error when ctx ended (the error is then a consequence of shutdown).
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// splitAddr splits host:port for the binlog syncer.
func splitAddr(addr string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	var p uint16
	if _, err := fmt.Sscan(port, &p); err != nil {
		return "", 0, fmt.Errorf("port %q: %w", port, err)
	}
	return host, p, nil
}

// result rows as strings, for small catalog queries.
func strRows(r *gomysql.Result) [][]string {
	if r == nil || r.Resultset == nil {
		return nil
	}
	out := make([][]string, r.RowNumber())
	for i := range out {
		row := make([]string, r.ColumnNumber())
		for j := range row {
			if null, _ := r.IsNull(i, j); null {
				row[j] = "\x00NULL"
				continue
			}
			row[j], _ = r.GetString(i, j)
		}
		out[i] = row
	}
	return out
}

// isNull reports whether a strRows cell was SQL NULL.
func isNull(s string) bool { return s == "\x00NULL" }
