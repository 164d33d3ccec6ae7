package offsets

import (
	"context"
	"fmt"
	"time"

	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

// HistoryTable keeps the schema history of sources whose row events may lack their own schema
// (MySQL and MariaDB without binlog_row_metadata=FULL): per source, records of the history in force
// after a binlog version. The Store implements capture/mysql's HistoryStore with it.
const HistoryTable = "_cdcd_schema_history"

func (s *Store) ensureHistory(ctx context.Context) error {
	return s.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.historyTable()+` (
  source String, version UInt64, seq UInt64, at DateTime, forgotten UInt8, record String
) ENGINE = ReplacingMergeTree(seq) ORDER BY (source, version)`)
}

func (s *Store) historyTable() string {
	return clickhouse.QuoteIdent(s.db) + "." + clickhouse.QuoteIdent(HistoryTable)
}

// SaveHistory records source's schema history as it stands after version.
func (s *Store) SaveHistory(ctx context.Context, source string, version uint64, record []byte) error {
	return s.insertHistory(ctx, source, version, 0, string(record))
}

// ForgetHistory forgets every schema history record of source (a reset to a new snapshot, which
// saves its own): records saved before are never read again.
func (s *Store) ForgetHistory(ctx context.Context, source string) error {
	return s.insertHistory(ctx, source, 0, 1, "")
}

func (s *Store) insertHistory(ctx context.Context, source string, version uint64, forgotten uint8, record string) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.historyTable()+" (source, version, seq, at, forgotten, record)")
	if err != nil {
		return fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	now := time.Now().UTC()
	if err := batch.Append(source, version, uint64(now.UnixNano()), now.Truncate(time.Second), forgotten, record); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	return nil
}

// LoadHistory returns the newest schema history record of source at or below version saved since
// the last ForgetHistory; ok is false when there is none.
func (s *Store) LoadHistory(ctx context.Context, source string, version uint64) ([]byte, bool, error) {
	src := clickhouse.QuoteString(source)
	var since uint64
	if err := s.conn.QueryRow(ctx, "SELECT max(seq) FROM "+s.historyTable()+" WHERE source = "+src+" AND forgotten = 1").Scan(&since); err != nil {
		return nil, false, fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT record FROM %s WHERE source = %s AND forgotten = 0 AND version <= %d AND seq > %d "+
		"ORDER BY version DESC, seq DESC LIMIT 1", s.historyTable(), src, version, since))
	if err != nil {
		return nil, false, fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	var record string
	if err := rows.Scan(&record); err != nil {
		return nil, false, fmt.Errorf("offsets: schema history of %q: %w", source, err)
	}
	return []byte(record), true, nil
}
