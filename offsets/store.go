package offsets

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

// Table is the ClickHouse table holding every source's delivered position.
const Table = "_cdcd_offsets"

// LeasesTable records which daemon runs each source, so operators' tools can refuse to move a
// position under a running daemon and two daemons cannot run one source.
const LeasesTable = "_cdcd_leases"

// Offset is a source's stored position.
type Offset struct {
	Source   string
	Kind     string // "postgres" or "mysql"
	Position change.Position
	// Seq orders the rows of one source: the newest is the offset. Only a reset may store a
	// lower Version than the previous row.
	Seq     uint64
	Updated time.Time
	Note    string // "" for the daemon's commits; what an operator's reset said otherwise
}

// Store reads and writes offsets in ClickHouse beside the data. Commit may be called by one goroutine
// per source; the other methods are safe for concurrent use.
type Store struct {
	conn driver.Conn
	db   string

	mu   sync.Mutex
	last map[string]Offset // the newest offset this Store has read or written, per source
}

// NewStore returns a Store over database db.
func NewStore(conn driver.Conn, db string) *Store {
	return &Store{conn: conn, db: db, last: map[string]Offset{}}
}

// Ensure creates the offsets, leases, table snapshots and schema history tables when missing.
func (s *Store) Ensure(ctx context.Context) error {
	q := clickhouse.QuoteIdent
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + q(s.db) + "." + q(Table) + ` (
  source String, kind String, position String, version UInt64, seq UInt64, updated DateTime, note String
) ENGINE = ReplacingMergeTree(seq) ORDER BY source`,
		"CREATE TABLE IF NOT EXISTS " + q(s.db) + "." + q(LeasesTable) + ` (
  source String, owner String, host String, pid UInt32, beat UInt64, heartbeat DateTime, released UInt8
) ENGINE = ReplacingMergeTree(beat) ORDER BY source`,
	}
	for _, stmt := range stmts {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("offsets: create tables in %s: %w", s.db, err)
		}
	}
	if err := s.ensureSnapshots(ctx); err != nil {
		return fmt.Errorf("offsets: create tables in %s: %w", s.db, err)
	}
	if err := s.ensureHistory(ctx); err != nil {
		return fmt.Errorf("offsets: create tables in %s: %w", s.db, err)
	}
	return nil
}

// Load returns source's stored offset; ok is false when none is stored.
func (s *Store) Load(ctx context.Context, source string) (Offset, bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT kind, position, version, seq, updated, note FROM "+
		clickhouse.QuoteIdent(s.db)+"."+clickhouse.QuoteIdent(Table)+
		" WHERE source = "+clickhouse.QuoteString(source)+" ORDER BY seq DESC LIMIT 1")
	if err != nil {
		return Offset{}, false, fmt.Errorf("offsets: load %q: %w", source, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return Offset{}, false, rows.Err()
	}
	o := Offset{Source: source}
	if err := rows.Scan(&o.Kind, &o.Position.Token, &o.Position.Version, &o.Seq, &o.Updated, &o.Note); err != nil {
		return Offset{}, false, fmt.Errorf("offsets: load %q: %w", source, err)
	}
	s.remember(o)
	return o, true, nil
}

// List returns every source's stored offset.
func (s *Store) List(ctx context.Context) ([]Offset, error) {
	rows, err := s.conn.Query(ctx, "SELECT source, argMax(kind, seq), argMax(position, seq), argMax(version, seq), max(seq), argMax(updated, seq), argMax(note, seq) FROM "+
		clickhouse.QuoteIdent(s.db)+"."+clickhouse.QuoteIdent(Table)+" GROUP BY source ORDER BY source")
	if err != nil {
		return nil, fmt.Errorf("offsets: list: %w", err)
	}
	defer rows.Close()
	var out []Offset
	for rows.Next() {
		var o Offset
		if err := rows.Scan(&o.Source, &o.Kind, &o.Position.Token, &o.Position.Version, &o.Seq, &o.Updated, &o.Note); err != nil {
			return nil, fmt.Errorf("offsets: list: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *Store) remember(o Offset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.last[o.Source]; !ok || o.Seq >= prev.Seq {
		s.last[o.Source] = o
	}
}

// ErrRegress is returned by Commit when a position would move a source's offset backwards.
type ErrRegress struct {
	Source      string
	Stored, New change.Position
}

func (e *ErrRegress) Error() string {
	return fmt.Sprintf("offsets: refusing to move %q backwards from %s (version %d) to %s (version %d)",
		e.Source, e.Stored.Token, e.Stored.Version, e.New.Token, e.New.Version)
}

// Commit stores pos as source's offset. The caller must have written every row up to pos to
// ClickHouse first. Commit never moves an offset backwards (that is a bug upstream, reported as
// *ErrRegress); committing the stored position again is a no-op.
func (s *Store) Commit(ctx context.Context, source, kind string, pos change.Position) error {
	s.mu.Lock()
	prev, ok := s.last[source]
	s.mu.Unlock()
	if !ok {
		var err error
		if prev, ok, err = s.Load(ctx, source); err != nil {
			return err
		}
	}
	if ok {
		if pos.Version < prev.Position.Version {
			return &ErrRegress{Source: source, Stored: prev.Position, New: pos}
		}
		if pos == prev.Position {
			return nil
		}
	}
	return s.write(ctx, Offset{Source: source, Kind: kind, Position: pos, Seq: prev.Seq + 1})
}

// Reset stores pos as source's offset whatever the stored one is: the operator's reset. The caller
// has checked the source can serve pos and that no daemon runs the source.
func (s *Store) Reset(ctx context.Context, source, kind string, pos change.Position, note string) (Offset, error) {
	prev, _, err := s.Load(ctx, source)
	if err != nil {
		return Offset{}, err
	}
	o := Offset{Source: source, Kind: kind, Position: pos, Seq: prev.Seq + 1, Note: note}
	return o, s.write(ctx, o)
}

func (s *Store) write(ctx context.Context, o Offset) error {
	o.Updated = time.Now().UTC().Truncate(time.Second)
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+clickhouse.QuoteIdent(s.db)+"."+clickhouse.QuoteIdent(Table)+
		"(source, kind, position, version, seq, updated, note)")
	if err != nil {
		return fmt.Errorf("offsets: write %q: %w", o.Source, err)
	}
	if err := batch.Append(o.Source, o.Kind, o.Position.Token, o.Position.Version, o.Seq, o.Updated, o.Note); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("offsets: write %q: %w", o.Source, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("offsets: write %q at %s: %w", o.Source, o.Position.Token, err)
	}
	s.remember(o)
	return nil
}

// Lease is the newest claim of a daemon on a source.
type Lease struct {
	Source    string
	Owner     string // host:pid:start
	Host      string
	PID       int
	Heartbeat time.Time // ClickHouse's clock
	Age       time.Duration
	Released  bool
}

// LeaseTTL is how long a heartbeat keeps a lease alive; daemons beat every LeaseTTL/3.
const LeaseTTL = 15 * time.Second

// Alive reports whether the lease's daemon is running: released leases and stale heartbeats are
// not, nor is a daemon on this host whose process is gone (killed before it could release).
func (l Lease) Alive() bool {
	if l.Released || l.Age > LeaseTTL {
		return false
	}
	if host, _ := os.Hostname(); host == l.Host && l.PID > 0 {
		if err := syscall.Kill(l.PID, 0); err == syscall.ESRCH {
			return false
		}
		if l.PID == os.Getpid() {
			return false
		}
	}
	return true
}

func (l Lease) String() string {
	return fmt.Sprintf("cdcd pid %d on %s (heartbeat %s ago)", l.PID, l.Host, l.Age.Round(time.Second))
}

// CurrentLease returns the newest lease of source; ok is false when none was ever taken.
func (s *Store) CurrentLease(ctx context.Context, source string) (Lease, bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT owner, host, pid, heartbeat, toInt64(now()) - toInt64(heartbeat), released FROM "+
		clickhouse.QuoteIdent(s.db)+"."+clickhouse.QuoteIdent(LeasesTable)+
		" WHERE source = "+clickhouse.QuoteString(source)+" ORDER BY beat DESC LIMIT 1")
	if err != nil {
		return Lease{}, false, fmt.Errorf("offsets: lease of %q: %w", source, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return Lease{}, false, rows.Err()
	}
	l := Lease{Source: source}
	var pid uint32
	var age int64
	var released uint8
	if err := rows.Scan(&l.Owner, &l.Host, &pid, &l.Heartbeat, &age, &released); err != nil {
		return Lease{}, false, fmt.Errorf("offsets: lease of %q: %w", source, err)
	}
	l.PID, l.Age, l.Released = int(pid), time.Duration(age)*time.Second, released == 1
	return l, true, nil
}

// Owner identifies this process in leases.
func Owner() (owner, host string, pid int) {
	host, _ = os.Hostname()
	pid = os.Getpid()
	return fmt.Sprintf("%s:%d:%d", host, pid, time.Now().UnixNano()), host, pid
}

// Beat writes a heartbeat (released=false) or a release for source by owner.
func (s *Store) Beat(ctx context.Context, source, owner string, released bool) error {
	_, host, pid := Owner()
	if parts := strings.SplitN(owner, ":", 3); len(parts) == 3 {
		host = parts[0]
	}
	rel := 0
	if released {
		rel = 1
	}
	// The heartbeat takes ClickHouse's clock, so liveness does not depend on clocks agreeing.
	stmt := fmt.Sprintf("INSERT INTO %s.%s (source, owner, host, pid, beat, heartbeat, released) SELECT %s, %s, %s, %d, %d, now(), %d",
		clickhouse.QuoteIdent(s.db), clickhouse.QuoteIdent(LeasesTable), clickhouse.QuoteString(source),
		clickhouse.QuoteString(owner), clickhouse.QuoteString(host), pid, time.Now().UnixNano(), rel)
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("offsets: lease of %q: %w", source, err)
	}
	return nil
}
