package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/change"
)

// SlotInfo is a replication slot's state, from pg_replication_slots.
type SlotInfo struct {
	Name         string
	Plugin       string
	Database     string
	Active       bool
	ActivePID    int32
	ConfirmedLSN pglogrepl.LSN // confirmed_flush_lsn: the oldest point the slot can still stream from
	RestartLSN   pglogrepl.LSN
	WALStatus    string // reserved, extended, unreserved, lost
}

// Lost reports whether the slot was invalidated (its WAL removed): it can never stream again.
func (s SlotInfo) Lost() bool { return s.WALStatus == "lost" }

// readSlot returns the slot's state; ok is false when it does not exist.
func readSlot(ctx context.Context, conn *pgx.Conn, slot string) (SlotInfo, bool, error) {
	var s SlotInfo
	var confirmed, restart *string
	var walStatus *string
	var plugin, db *string
	var pid *int32
	err := conn.QueryRow(ctx, `
SELECT slot_name, plugin, database, active, active_pid, confirmed_flush_lsn::text, restart_lsn::text, wal_status
FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s.Name, &plugin, &db, &s.Active, &pid, &confirmed, &restart, &walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("read replication slot %q: %w", slot, err)
	}
	s.Plugin, s.Database = deref(plugin), deref(db)
	s.WALStatus = deref(walStatus)
	if pid != nil {
		s.ActivePID = *pid
	}
	if confirmed != nil {
		s.ConfirmedLSN, _ = pglogrepl.ParseLSN(*confirmed)
	}
	if restart != nil {
		s.RestartLSN, _ = pglogrepl.ParseLSN(*restart)
	}
	return s, true, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ensurePublication creates the publication for the captured tables, or adds the tables an
// existing one lacks. A publication that does not publish every operation is an error.
func ensurePublication(ctx context.Context, conn *pgx.Conn, source, pub string, tables []TableName) (added []TableName, err error) {
	var all, ins, upd, del, trunc bool
	err = conn.QueryRow(ctx, "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication WHERE pubname = $1", pub).
		Scan(&all, &ins, &upd, &del, &trunc)
	if errors.Is(err, pgx.ErrNoRows) {
		names := make([]string, len(tables))
		for i, t := range tables {
			names[i] = t.quoted()
		}
		stmt := "CREATE PUBLICATION " + quoteIdent(pub) + " FOR TABLE " + strings.Join(names, ", ")
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return nil, change.Terminal(fmt.Errorf("postgres source %q: create publication %q: %w (cdcd's role needs CREATE on the database and ownership of the tables, or create the publication yourself: %s)",
				source, pub, err, stmt))
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: read publication %q: %w", source, pub, err)
	}
	if !ins || !upd || !del || !trunc {
		return nil, change.Terminal(fmt.Errorf("postgres source %q: publication %q does not publish every operation (insert %v, update %v, delete %v, truncate %v); "+
			"ALTER PUBLICATION %s SET (publish = 'insert, update, delete, truncate')", source, pub, ins, upd, del, trunc, quoteIdent(pub)))
	}
	if all {
		return nil, nil
	}
	rows, err := conn.Query(ctx, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", pub)
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: tables of publication %q: %w", source, pub, err)
	}
	have, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableName, error) {
		var t TableName
		err := r.Scan(&t.Schema, &t.Name)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres source %q: tables of publication %q: %w", source, pub, err)
	}
	in := map[TableName]bool{}
	for _, t := range have {
		in[t] = true
	}
	for _, t := range tables {
		if in[t] {
			continue
		}
		if _, err := conn.Exec(ctx, "ALTER PUBLICATION "+quoteIdent(pub)+" ADD TABLE "+t.quoted()); err != nil {
			return nil, change.Terminal(fmt.Errorf("postgres source %q: add table %s to publication %q: %w", source, t, pub, err))
		}
		added = append(added, t)
	}
	return added, nil
}

// slotGone is the error for a stored offset whose slot is missing or invalidated.
func slotGone(source, slot string, info SlotInfo, exists bool, from change.Position) error {
	why := "does not exist"
	if exists {
		why = "was invalidated (wal_status = lost: PostgreSQL removed WAL it still needed)"
	}
	return change.Terminal(fmt.Errorf("postgres source %q: replication slot %q %s, but ClickHouse holds this source's offset %s. "+
		"The changes since then cannot be streamed, and cdcd will not create a new slot silently because that would skip them. "+
		"To recover, re-snapshot: run `cdcd offsets reset --config <file> --source %s --to snapshot` and start cdcd again; "+
		"it drops what is left of the slot, creates a new one and takes a new snapshot that replaces the ClickHouse rows",
		source, slot, why, from.Token, source))
}
