package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouseTable is the table, in the database given to NewClickHouseStore, that holds the
// embedded registry's log beside the data.
const ClickHouseTable = "_cdcd_schemas"

// ClickHouseStore is a Store in a ClickHouse MergeTree table, one row per record, so the
// registry's ids live and are backed up with the data they describe.
type ClickHouseStore struct {
	conn  driver.Conn
	table string // quoted db.table
}

var _ Store = (*ClickHouseStore)(nil)

// NewClickHouseStore returns a Store over table _cdcd_schemas of database db, creating both when
// missing. conn stays the caller's.
func NewClickHouseStore(ctx context.Context, conn driver.Conn, db string) (*ClickHouseStore, error) {
	s := &ClickHouseStore{conn: conn, table: quoteIdent(db) + "." + quoteIdent(ClickHouseTable)}
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS " + quoteIdent(db),
		"CREATE TABLE IF NOT EXISTS " + s.table + ` (
  seq UInt64, ts UInt64, kind String, subject String, version Int64, id Int64, schema String,
  permanent UInt8, level String
) ENGINE = MergeTree() ORDER BY (seq, ts)`,
	}
	for _, stmt := range stmts {
		if err := conn.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("schema store: create %s: %w", s.table, err)
		}
	}
	return s, nil
}

// Load implements Store.
func (s *ClickHouseStore) Load(ctx context.Context) ([]Record, error) {
	rows, err := s.conn.Query(ctx, "SELECT seq, kind, subject, version, id, schema, permanent, level FROM "+
		s.table+" ORDER BY seq, ts")
	if err != nil {
		return nil, fmt.Errorf("schema store: load %s: %w", s.table, err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var (
			r           Record
			kind, level string
			version, id int64
			permanent   uint8
		)
		if err := rows.Scan(&r.Seq, &kind, &r.Subject, &version, &id, &r.Schema, &permanent, &level); err != nil {
			return nil, fmt.Errorf("schema store: load %s: %w", s.table, err)
		}
		r.Kind, r.Level = RecordKind(kind), Level(level)
		r.Version, r.ID, r.Permanent = int(version), int(id), permanent != 0
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("schema store: load %s: %w", s.table, err)
	}
	return recs, nil
}

// Append implements Store: one row in one native block.
func (s *ClickHouseStore) Append(ctx context.Context, r Record) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.table+
		" (seq, ts, kind, subject, version, id, schema, permanent, level)")
	if err != nil {
		return fmt.Errorf("schema store: append record %d to %s: %w", r.Seq, s.table, err)
	}
	var permanent uint8
	if r.Permanent {
		permanent = 1
	}
	// ts orders two rows with one seq (see Record.Seq): the later append wins.
	ts := uint64(time.Now().UnixNano())
	if err := batch.Append(r.Seq, ts, string(r.Kind), r.Subject, int64(r.Version), int64(r.ID), r.Schema,
		permanent, string(r.Level)); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("schema store: append record %d to %s: %w", r.Seq, s.table, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("schema store: append record %d to %s: %w", r.Seq, s.table, err)
	}
	return nil
}

// quoteIdent quotes a ClickHouse identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}
