package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/capture/mysql"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/offsets"
)

func init() {
	registerKind("mysql", sourceKind{
		new: func(s *config.Source, log *slog.Logger, store *offsets.Store) capture.Source {
			return newMySQLWith(s, log, func(c *mysql.Config) {
				if store != nil {
					c.History = store // schema history survives restarts
				}
			})
		},
		tail: func(s *config.Source, log *slog.Logger) capture.Source {
			// From now, no snapshot, and under a replica id of its own: the server would drop the
			// daemon's connection for a second replica with its id.
			return newMySQLWith(s, log, func(c *mysql.Config) { c.Snapshot, c.ServerID = false, tailServerID(c.ServerID) })
		},
		inspect: func(ctx context.Context, s *config.Source, log *slog.Logger) (sourceStatus, error) {
			src := newMySQL(s, log)
			st, err := src.Inspect(ctx)
			if err != nil {
				return nil, err
			}
			return &myStatus{src: src, st: st}, nil
		},
		checkPosition: func(s *config.Source, to string) error {
			switch f := mysql.Flavor(s.MySQL.Flavor); f {
			case mysql.MySQL, mysql.MariaDB:
				_, err := mysql.ParsePosition(f, to)
				return err
			}
			return nil // flavor auto: the server says which form applies
		},
	})
}

// newMySQL builds the capture source of a mysql entry (its DSN was validated with the config).
func newMySQL(s *config.Source, log *slog.Logger) *mysql.Source { return newMySQLWith(s, log, nil) }

// tailServerID is the replica id of cdcd tail: 2000000000 plus the process id, never the source's.
func tailServerID(source uint32) uint32 {
	id := 2_000_000_000 + uint32(os.Getpid()%1_000_000)
	if id == source {
		id++
	}
	return id
}

func newMySQLWith(s *config.Source, log *slog.Logger, adjust func(*mysql.Config)) *mysql.Source {
	m := s.MySQL
	cfg := mysql.Config{Name: s.Name, ServerID: m.ServerID, Flavor: m.Flavor, Snapshot: m.Snapshot != "never", Log: log}
	if dsn, err := config.ParseMySQLDSN(m.DSN); err == nil {
		cfg.Addr, cfg.User, cfg.Password = dsn.Addr, dsn.User, dsn.Password
		cfg.TLS = mysqlTLS(dsn.Addr, dsn.Params["tls"])
	}
	for _, t := range m.Tables {
		cfg.Tables = append(cfg.Tables, mysql.TableName{DB: t.Schema, Name: t.Name})
	}
	if adjust != nil {
		adjust(&cfg)
	}
	return mysql.New(cfg)
}

// mysqlTLS maps the DSN's tls parameter (go-sql-driver/mysql's values) to a TLS configuration.
func mysqlTLS(addr, mode string) *tls.Config {
	host, _, _ := net.SplitHostPort(addr)
	switch strings.ToLower(mode) {
	case "true", "verify":
		return &tls.Config{ServerName: host}
	case "skip-verify", "preferred":
		return &tls.Config{ServerName: host, InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice
	}
	return nil
}

// myStatus is a MySQL source's operator view.
type myStatus struct {
	src *mysql.Source
	st  mysql.Status
}

func (p *myStatus) Current() string {
	if p.st.Current.Token == "" {
		return "(no GTID yet)"
	}
	return p.st.Current.Token
}

func (p *myStatus) Lag(stored change.Position) string {
	n, err := p.st.Behind(stored)
	if err != nil {
		return "?"
	}
	if n == 1 {
		return "1 transaction"
	}
	return fmt.Sprintf("%d transactions", n)
}

func (p *myStatus) Detail() string {
	d := fmt.Sprintf("%s binlog at %s (%s)", p.st.Flavor, p.st.File, mysql.CoordOf(p.st.Current.Version))
	switch {
	case p.st.OldestFile != "" && p.st.Oldest != "":
		d += fmt.Sprintf(", oldest binlog %s starts after %s", p.st.OldestFile, p.st.Oldest)
	case p.st.Oldest != "":
		d += ", purged " + p.st.Oldest
	}
	if p.st.Replica != "" {
		d += "; " + p.st.Replica
	}
	return d
}

func (p *myStatus) InUse() (bool, string) {
	return p.st.Replica != "", p.st.Replica
}

func (p *myStatus) ResolveReset(to string, stored change.Position, hasStored bool) (change.Position, string, error) {
	pos, err := p.src.ResolveReset(p.st, to)
	if err != nil {
		return pos, "", err
	}
	detail := ""
	if hasStored && !stored.IsZero() {
		before, err1 := p.st.Behind(stored)
		after, err2 := p.st.Behind(pos)
		switch {
		case err1 != nil || err2 != nil:
		case after < before:
			detail = fmt.Sprintf("forward by %d transactions: changes in between will not be delivered", before-after)
		case after > before:
			detail = fmt.Sprintf("backward by %d transactions: they will be delivered again (rows converge; they are idempotent)", after-before)
		}
	}
	return pos, detail, nil
}
