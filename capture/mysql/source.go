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

// Run snapshots (when no offset is stored and the source is configured to) and streams.
func (s *Source) Run(ctx context.Context, begin capture.Start, e capture.Emitter) error {
	announced := map[TableName]*change.Table{}
	srv, start, defs, err := s.prepare(ctx, begin.Position, e, announced)
	if err != nil {
		return ctxErr(ctx, err)
	}
	return s.stream(ctx, srv, start, newHistory(defs), announced, e)
}

// prepare checks the server and the tables, and finds where streaming starts: after a snapshot,
// at the server's current position (snapshot: never), or at the stored offset once the server is
// known to still serve it. It returns the table definitions that seed schema history.
func (s *Source) prepare(ctx context.Context, from change.Position, e capture.Emitter, announced map[TableName]*change.Table) (serverInfo, change.Position, []*tableDef, error) {
	var start change.Position
	conn, err := s.connect(ctx)
	if err != nil {
		return serverInfo{}, start, nil, err
	}
	defer conn.Close()
	defer unblockOnDone(ctx, conn)()
	srv, err := s.preflight(conn)
	if err != nil {
		return srv, start, nil, err
	}
	defs, err := s.describeTables(conn, srv.flavor)
	if err != nil {
		return srv, start, nil, err
	}
	switch {
	case from.IsZero() && s.cfg.Snapshot:
		start, defs, err = s.snapshot(ctx, srv, e, announced)
	case from.IsZero():
		var cur serverPos
		if cur, err = currentPosition(conn, srv); err != nil {
			err = fmt.Errorf("mysql source %q: %w", s.cfg.Name, err)
		}
		start = cur.Position
		s.log.Info("no offset stored and snapshot: never; streaming from the current position", "gtid", start.Token)
	default:
		start, err = from, s.checkResume(conn, srv, from)
	}
	return srv, start, defs, err
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
