package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/cdcd-dev/cdcd/change"
)

// Status is what operators' tools need to know of a PostgreSQL source.
type Status struct {
	Current    pglogrepl.LSN // pg_current_wal_insert_lsn(): the end of the WAL written so far
	Slot       SlotInfo
	SlotExists bool
}

// Inspect reads the server's current WAL position and the slot's state.
func (s *Source) Inspect(ctx context.Context) (Status, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return Status{}, err
	}
	defer conn.Close(context.Background())
	var st Status
	var cur string
	// The insert position, not pg_current_wal_lsn(): with asynchronous commit the write position
	// can lag transactions that have already committed.
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&cur); err != nil {
		return st, fmt.Errorf("postgres source %q: current WAL position: %w", s.cfg.Name, err)
	}
	if st.Current, err = pglogrepl.ParseLSN(cur); err != nil {
		return st, err
	}
	if st.Slot, st.SlotExists, err = readSlot(ctx, conn, s.cfg.Slot); err != nil {
		return st, fmt.Errorf("postgres source %q: %w", s.cfg.Name, err)
	}
	return st, nil
}

// Lag is how many bytes of WAL the stored position is behind the current one.
func (st Status) Lag(stored change.Position) (uint64, error) {
	lsn, err := resumeLSN(stored)
	if err != nil {
		return 0, err
	}
	if st.Current > lsn {
		return uint64(st.Current - lsn), nil
	}
	return 0, nil
}

// ResolveReset turns an operator's --to value (an LSN, or "latest") into a position the slot can
// stream from, or explains why it cannot: PostgreSQL silently starts a slot at its confirmed
// position when asked for an earlier one, so earlier positions are refused, as are positions past
// the current WAL end.
func (s *Source) ResolveReset(st Status, to string) (change.Position, error) {
	var pos change.Position
	if to != "latest" {
		var err error
		if pos, err = ParsePosition(to); err != nil {
			return change.Position{}, err
		}
	}
	if !st.SlotExists {
		return change.Position{}, fmt.Errorf("replication slot %q does not exist, so no position can be streamed; use --to snapshot to take a new snapshot", s.cfg.Slot)
	}
	if st.Slot.Lost() {
		return change.Position{}, fmt.Errorf("replication slot %q was invalidated (wal_status = lost); use --to snapshot to take a new snapshot", s.cfg.Slot)
	}
	if to == "latest" {
		return checkpoint(st.Current), nil
	}
	lsn, _ := resumeLSN(pos)
	if lsn < st.Slot.ConfirmedLSN || lsn > st.Current {
		return change.Position{}, fmt.Errorf("%s is outside what replication slot %q can stream: valid positions are %s (its confirmed_flush_lsn: it cannot go back further) to %s (the current WAL end)",
			lsn, s.cfg.Slot, st.Slot.ConfirmedLSN, st.Current)
	}
	return pos, nil
}
