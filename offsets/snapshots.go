package offsets

import (
	"context"
	"fmt"
	"time"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

// SnapshotsTable records, per source, the tables whose snapshot ClickHouse holds in full and the
// version each was taken at. A table a source captures without such a record (one added to a
// running source) is snapshotted on its own while the others stream; a recorded table's changes
// at or below its version are already in its snapshot.
const SnapshotsTable = "_cdcd_snapshots"

func (s *Store) ensureSnapshots(ctx context.Context) error {
	q := clickhouse.QuoteIdent
	return s.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+q(s.db)+"."+q(SnapshotsTable)+` (
  source String, namespace String, name String, version UInt64, seq UInt64, at DateTime, forgotten UInt8
) ENGINE = ReplacingMergeTree(seq) ORDER BY (source, namespace, name)`)
}

// Snapshots returns source's snapshotted tables with the version of each snapshot. It returns nil
// when the source has never recorded one (its offset predates these records); an empty map when
// its records were forgotten.
func (s *Store) Snapshots(ctx context.Context, source string) (map[change.TableID]uint64, error) {
	rows, err := s.conn.Query(ctx, "SELECT namespace, name, argMax(version, seq), argMax(forgotten, seq) FROM "+
		s.snapshotsTable()+" WHERE source = "+clickhouse.QuoteString(source)+" GROUP BY namespace, name")
	if err != nil {
		return nil, fmt.Errorf("offsets: table snapshots of %q: %w", source, err)
	}
	defer rows.Close()
	var out map[change.TableID]uint64
	for rows.Next() {
		var id change.TableID
		var version uint64
		var forgotten uint8
		if err := rows.Scan(&id.Namespace, &id.Name, &version, &forgotten); err != nil {
			return nil, fmt.Errorf("offsets: table snapshots of %q: %w", source, err)
		}
		if out == nil {
			out = map[change.TableID]uint64{}
		}
		if forgotten == 0 {
			id.Source = source
			out[id] = version
		}
	}
	return out, rows.Err()
}

// RecordSnapshots records that ClickHouse holds the snapshot of each table, taken at its version.
// The caller has written every row of those snapshots first.
func (s *Store) RecordSnapshots(ctx context.Context, source string, tables map[change.TableID]uint64) error {
	if len(tables) == 0 {
		return nil
	}
	seq, err := s.nextSnapshotSeq(ctx, source)
	if err != nil {
		return err
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.snapshotsTable()+" (source, namespace, name, version, seq, at, forgotten)")
	if err != nil {
		return fmt.Errorf("offsets: record table snapshots of %q: %w", source, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for id, v := range tables {
		if err := batch.Append(source, id.Namespace, id.Name, v, seq, now, uint8(0)); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("offsets: record table snapshots of %q: %w", source, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("offsets: record table snapshots of %q: %w", source, err)
	}
	return nil
}

// ForgetSnapshots forgets every table snapshot of source (a reset to a new snapshot).
func (s *Store) ForgetSnapshots(ctx context.Context, source string) error {
	have, err := s.Snapshots(ctx, source)
	if err != nil || len(have) == 0 {
		return err
	}
	seq, err := s.nextSnapshotSeq(ctx, source)
	if err != nil {
		return err
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.snapshotsTable()+" (source, namespace, name, version, seq, at, forgotten)")
	if err != nil {
		return fmt.Errorf("offsets: forget table snapshots of %q: %w", source, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for id := range have {
		if err := batch.Append(source, id.Namespace, id.Name, uint64(0), seq, now, uint8(1)); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("offsets: forget table snapshots of %q: %w", source, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("offsets: forget table snapshots of %q: %w", source, err)
	}
	return nil
}

// nextSnapshotSeq orders a new write after every earlier one of the source, whatever the clocks of
// the hosts that wrote them.
func (s *Store) nextSnapshotSeq(ctx context.Context, source string) (uint64, error) {
	var seq uint64
	err := s.conn.QueryRow(ctx, "SELECT max(seq) FROM "+s.snapshotsTable()+" WHERE source = "+clickhouse.QuoteString(source)).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("offsets: table snapshots of %q: %w", source, err)
	}
	return seq + 1, nil
}

func (s *Store) snapshotsTable() string {
	return clickhouse.QuoteIdent(s.db) + "." + clickhouse.QuoteIdent(SnapshotsTable)
}
