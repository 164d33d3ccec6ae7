package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/capture/postgres"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/offsets"
)

func init() {
	registerKind("postgres", sourceKind{
		new: func(s *config.Source, log *slog.Logger, _ *offsets.Store) capture.Source { return newPostgres(s, log) },
		tail: func(s *config.Source, log *slog.Logger) capture.Source {
			return newPostgresWith(s, log, func(c *postgres.Config) {
				c.Temporary, c.Snapshot, c.Slot = true, false, fmt.Sprintf("cdcd_tail_%d", os.Getpid())
			})
		},
		inspect: func(ctx context.Context, s *config.Source, log *slog.Logger) (sourceStatus, error) {
			src := newPostgres(s, log)
			st, err := src.Inspect(ctx)
			if err != nil {
				return nil, err
			}
			return &pgStatus{src: src, st: st}, nil
		},
		checkPosition: func(_ *config.Source, to string) error {
			_, err := postgres.ParsePosition(to)
			return err
		},
	})
}

func newPostgres(s *config.Source, log *slog.Logger) *postgres.Source {
	return newPostgresWith(s, log, nil)
}

func newPostgresWith(s *config.Source, log *slog.Logger, adjust func(*postgres.Config)) *postgres.Source {
	p := s.Postgres
	tables := make([]postgres.TableName, len(p.Tables))
	for i, t := range p.Tables {
		tables[i] = postgres.TableName{Schema: t.Schema, Name: t.Name}
	}
	c := postgres.Config{
		Name: s.Name, DSN: p.DSN, Tables: tables, Slot: p.Slot, Publication: p.Publication,
		Snapshot: p.Snapshot != "never", Binary: p.Binary, StatusInterval: time.Duration(p.StatusInterval), Log: log,
	}
	if adjust != nil {
		adjust(&c)
	}
	return postgres.New(c)
}

// pgStatus is a PostgreSQL source's operator view.
type pgStatus struct {
	src *postgres.Source
	st  postgres.Status
}

func (p *pgStatus) Current() string { return p.st.Current.String() }

func (p *pgStatus) Lag(stored change.Position) string {
	n, err := p.st.Lag(stored)
	if err != nil {
		return "?"
	}
	return formatBytes(n)
}

func (p *pgStatus) Detail() string {
	if !p.st.SlotExists {
		return "slot missing"
	}
	state := "idle"
	if p.st.Slot.Active {
		state = fmt.Sprintf("active pid %d", p.st.Slot.ActivePID)
	}
	return fmt.Sprintf("slot %s %s, confirmed %s, wal_status %s", p.st.Slot.Name, state, p.st.Slot.ConfirmedLSN, p.st.Slot.WALStatus)
}

func (p *pgStatus) InUse() (bool, string) {
	if p.st.SlotExists && p.st.Slot.Active {
		return true, fmt.Sprintf("replication slot %q is in use by process %d", p.st.Slot.Name, p.st.Slot.ActivePID)
	}
	return false, ""
}

func (p *pgStatus) ResolveReset(to string, stored change.Position, hasStored bool) (change.Position, string, error) {
	pos, err := p.src.ResolveReset(p.st, to)
	if err != nil {
		return pos, "", err
	}
	detail := ""
	if hasStored && !stored.IsZero() {
		switch {
		case pos.Version > stored.Version:
			before, _ := p.st.Lag(stored)
			after, _ := p.st.Lag(pos)
			detail = fmt.Sprintf("forward by %s: changes in between will not be delivered", formatBytes(before-after))
		case pos.Version < stored.Version:
			detail = "backward: the changes in between will be delivered again (rows converge; they are idempotent)"
		}
	}
	return pos, detail, nil
}
