// Package clickhouse writes cdcd's change stream into ClickHouse: one ReplacingMergeTree row table
// per source table (source columns, _version, _is_deleted) with a view of its current rows, written
// idempotently so any replay of the stream converges on the same state.
//
// It owns ClickHouse DDL (create, add and widen columns), the type mapping (see ColumnType), the
// collapse of changes per key within a batch, the resolution of unchanged TOAST values, and the
// dead-letter table for rows ClickHouse cannot hold. It never stores or acknowledges positions:
// package offsets and the pipeline do that after Write returns.
package clickhouse

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
)

// Options say how to reach ClickHouse.
type Options struct {
	Addr        []string
	Database    string
	User        string
	Password    string
	TLS         *tls.Config
	DialTimeout time.Duration
	Logger      *slog.Logger
}

// Connect opens a clickhouse-go connection for opts (to the default database, so the target may not
// exist yet) and checks it answers.
func Connect(ctx context.Context, opts Options) (driver.Conn, error) {
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := ch.Open(&ch.Options{
		Addr:            opts.Addr,
		Auth:            ch.Auth{Database: "default", Username: opts.User, Password: opts.Password},
		TLS:             opts.TLS,
		DialTimeout:     opts.DialTimeout,
		ReadTimeout:     5 * time.Minute,
		MaxOpenConns:    8,
		MaxIdleConns:    4,
		ConnMaxLifetime: time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: %w", opts.Addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout+5*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %v: %w", opts.Addr, err)
	}
	return conn, nil
}

// DetectCapabilities asks the server its version.
func DetectCapabilities(ctx context.Context, conn driver.Conn) (Capabilities, error) {
	var s string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&s); err != nil {
		return Capabilities{}, fmt.Errorf("clickhouse: server version: %w", err)
	}
	v, err := ParseVersion(s)
	if err != nil {
		return Capabilities{}, err
	}
	return CapabilitiesOf(v), nil
}

// Sink writes row tables. One goroutine uses a Sink at a time.
type Sink struct {
	conn   driver.Conn
	db     string
	source string
	caps   Capabilities
	log    *slog.Logger
	tables map[change.TableID]*rowTable
	// pending holds each table's collapse state, reused from batch to batch.
	pending map[change.TableID]*pendingTable
	// aggs are the aggregate tables ensured, by name.
	aggs map[string]*aggTable
	// Encode, when set, encodes every row written as an Avro record in the Confluent wire format
	// (the pipeline's Avro stage) and returns the schema id. A row it cannot encode goes to the
	// dead-letter table instead of its table; the dead letters of rows ClickHouse cannot hold carry
	// their record. Without Encode, dead letters hold the row as JSON.
	Encode func(buf []byte, ev *change.Event, row []any) ([]byte, int, error)
	recBuf []byte
}

// New returns a Sink writing source's tables into database db (which must exist: see
// EnsureDatabase) over conn.
func New(conn driver.Conn, db, source string, caps Capabilities, log *slog.Logger) *Sink {
	if log == nil {
		log = slog.Default()
	}
	return &Sink{conn: conn, db: db, source: source, caps: caps, log: log, tables: map[change.TableID]*rowTable{},
		pending: map[change.TableID]*pendingTable{}}
}

// EnsureDatabase creates database db and cdcd's dead-letter table in it when missing.
func EnsureDatabase(ctx context.Context, conn driver.Conn, db string) error {
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+QuoteIdent(db)); err != nil {
		return fmt.Errorf("clickhouse: create database %q: %w", db, err)
	}
	if err := conn.Exec(ctx, createDeadLettersSQL(db)); err != nil {
		return fmt.Errorf("clickhouse: create %s.%s: %w", db, DeadLettersTable, err)
	}
	return nil
}

// Capabilities returns what the server offers.
func (s *Sink) Capabilities() Capabilities { return s.caps }

// rowTable is what the sink knows of one ClickHouse row table.
type rowTable struct {
	id     change.TableID
	name   string
	view   string
	cols   []ColumnDef    // as in ClickHouse, meta columns included
	byName map[string]int // column name -> index in cols
	key    []string
	// layouts maps each source schema seen to how its rows fill cols.
	layouts map[*change.Table]*layout
	// builders build cols' blocks; reused from batch to batch, rebuilt when cols change.
	builders []builder
	// defaults are the values rows that predate a column hold (change.Column.Default), by
	// column: written for rows of a schema that lacks the column.
	defaults map[string]any
}

// layout says, for each ClickHouse column, where a row of one source schema supplies its value.
type layout struct {
	schema *change.Table
	src    []int  // index into the row, or -1
	role   []role // what the column holds
}

type role uint8

const (
	roleValue role = iota
	roleNullFlag
	roleVersion
	roleDeleted
	// roleDateText is a source date in a String column (an operator widened a Date column to hold
	// dates outside its range): written as ClickHouse renders a Date, 2006-01-02.
	roleDateText
)

// EnsureTable makes the ClickHouse table and view of t's source table hold t's columns: it creates
// them, adds new columns and widens changed ones. It is idempotent and cheap for a schema it has
// seen. A change ClickHouse cannot apply losslessly is an error naming the column and both types.
func (s *Sink) EnsureTable(ctx context.Context, t *change.Table) error {
	rt, err := s.table(ctx, t.ID)
	if err != nil {
		return err
	}
	if _, ok := rt.layouts[t]; ok {
		return nil
	}
	want, err := DesiredColumns(t, s.caps)
	if err != nil {
		return err
	}
	if len(rt.cols) == 0 {
		if err := s.create(ctx, rt, t, want); err != nil {
			return err
		}
	} else if err := s.evolve(ctx, rt, t, want); err != nil {
		return err
	}
	for _, c := range t.Columns {
		if c.Default != nil {
			if rt.defaults == nil {
				rt.defaults = map[string]any{}
			}
			rt.defaults[c.Name] = c.Default
		}
	}
	rt.layouts[t] = newLayout(rt, t)
	return nil
}

// table loads what ClickHouse has for id.
func (s *Sink) table(ctx context.Context, id change.TableID) (*rowTable, error) {
	if rt, ok := s.tables[id]; ok {
		return rt, nil
	}
	rt := &rowTable{id: id, name: TableName(id), view: ViewName(id), layouts: map[*change.Table]*layout{}}
	cols, err := s.columns(ctx, rt.name)
	if err != nil {
		return nil, err
	}
	if len(cols) > 0 {
		rt.setColumns(cols)
		if _, ok := rt.byName[VersionColumn]; !ok {
			return nil, fmt.Errorf("clickhouse: table %s.%s exists but is not a cdcd table (it has no %s column); drop or rename it",
				s.db, rt.name, VersionColumn)
		}
		if _, ok := rt.byName[DeletedColumn]; !ok {
			return nil, fmt.Errorf("clickhouse: table %s.%s exists but is not a cdcd table (it has no %s column); drop or rename it",
				s.db, rt.name, DeletedColumn)
		}
	}
	s.tables[id] = rt
	return rt, nil
}

func (rt *rowTable) setColumns(cols []ColumnDef) {
	rt.cols = cols
	rt.builders = nil
	rt.byName = make(map[string]int, len(cols))
	for i, c := range cols {
		rt.byName[c.Name] = i
	}
	// Layouts index into cols: rebuild them against the new column list.
	for t := range rt.layouts {
		rt.layouts[t] = newLayout(rt, t)
	}
}

// reload reads rt's columns from ClickHouse again and reports whether they changed (an operator's
// ALTER): the builders, layouts and the current-rows view are then rebuilt for them.
func (s *Sink) reload(ctx context.Context, rt *rowTable) (bool, error) {
	cols, err := s.columns(ctx, rt.name)
	if err != nil {
		return false, err
	}
	if slices.Equal(cols, rt.cols) {
		return false, nil
	}
	s.log.Info("the table's columns changed in ClickHouse; writing under the new types", "table", rt.name)
	rt.setColumns(cols)
	return true, s.createView(ctx, rt) // a view keeps the column types it was created with
}

func (s *Sink) columns(ctx context.Context, table string) ([]ColumnDef, error) {
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+QuoteString(s.db)+
		" AND table = "+QuoteString(table)+" ORDER BY position")
	if err != nil {
		// 18.16's system.columns has no position column: its rows come in table order.
		if !strings.Contains(err.Error(), "position") {
			return nil, fmt.Errorf("clickhouse: columns of %s.%s: %w", s.db, table, err)
		}
		rows, err = s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+QuoteString(s.db)+
			" AND table = "+QuoteString(table))
		if err != nil {
			return nil, fmt.Errorf("clickhouse: columns of %s.%s: %w", s.db, table, err)
		}
	}
	defer rows.Close()
	var cols []ColumnDef
	for rows.Next() {
		var c ColumnDef
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

func (s *Sink) create(ctx context.Context, rt *rowTable, t *change.Table, want []ColumnDef) error {
	key := make([]string, len(t.Key))
	for i, k := range t.Key {
		key[i] = t.Columns[k].Name
	}
	if len(key) == 0 {
		return fmt.Errorf("clickhouse: table %s has no key columns", t.ID)
	}
	if err := s.conn.Exec(ctx, CreateTableSQL(s.db, rt.name, want, key, s.caps)); err != nil {
		return fmt.Errorf("clickhouse: create table %s.%s: %w", s.db, rt.name, err)
	}
	cols, err := s.columns(ctx, rt.name)
	if err != nil {
		return err
	}
	rt.setColumns(cols)
	rt.key = key
	return s.createView(ctx, rt)
}

func (s *Sink) createView(ctx context.Context, rt *rowTable) error {
	var names []string
	for _, c := range rt.cols {
		if c.Name != VersionColumn && c.Name != DeletedColumn {
			names = append(names, c.Name)
		}
	}
	for _, stmt := range CreateViewSQL(s.db, rt.view, rt.name, names, s.caps) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("clickhouse: create view %s.%s: %w", s.db, rt.view, err)
		}
	}
	return nil
}

// evolve brings an existing table up to want: new columns are added before the meta columns,
// narrower ones widened. Columns the source dropped stay (later rows hold their default).
func (s *Sink) evolve(ctx context.Context, rt *rowTable, t *change.Table, want []ColumnDef) error {
	changed := false
	for _, w := range want {
		i, ok := rt.byName[w.Name]
		if !ok {
			after := ""
			if idx := rt.byName[VersionColumn]; idx > 0 {
				after = rt.cols[idx-1].Name
			}
			if err := s.conn.Exec(ctx, AddColumnSQL(s.db, rt.name, w, after)); err != nil {
				return fmt.Errorf("clickhouse: add column %q to %s.%s: %w", w.Name, s.db, rt.name, err)
			}
			s.log.Info("added column", "table", rt.name, "column", w.Name, "type", w.Type)
			changed = true
			cols, err := s.columns(ctx, rt.name)
			if err != nil {
				return err
			}
			rt.setColumns(cols)
			continue
		}
		have := rt.cols[i].Type
		switch {
		case have == w.Type || Widens(w.Type, have):
			// Same, or ClickHouse already holds a wider type (the source narrowed): keep it.
		case Widens(have, w.Type):
			if err := s.conn.Exec(ctx, ModifyColumnSQL(s.db, rt.name, w)); err != nil {
				return fmt.Errorf("clickhouse: widen column %q of %s.%s from %s to %s: %w", w.Name, s.db, rt.name, have, w.Type, err)
			}
			s.log.Info("widened column", "table", rt.name, "column", w.Name, "from", have, "to", w.Type)
			rt.cols[i].Type = w.Type
			rt.builders = nil // built for the old type
			changed = true
		default:
			return fmt.Errorf("clickhouse: column %q of %s.%s is %s but table %s now needs %s, which ClickHouse cannot convert to losslessly; re-snapshot the table into a fresh ClickHouse table",
				w.Name, s.db, rt.name, have, t.ID, w.Type)
		}
	}
	if rt.key == nil {
		rt.key = make([]string, len(t.Key))
		for i, k := range t.Key {
			rt.key[i] = t.Columns[k].Name
		}
	}
	if changed {
		return s.createView(ctx, rt)
	}
	return nil
}

func newLayout(rt *rowTable, t *change.Table) *layout {
	l := &layout{schema: t, src: make([]int, len(rt.cols)), role: make([]role, len(rt.cols))}
	for i, c := range rt.cols {
		l.src[i] = -1
		switch c.Name {
		case VersionColumn:
			l.role[i] = roleVersion
			continue
		case DeletedColumn:
			l.role[i] = roleDeleted
			continue
		}
		if j := t.ColumnIndex(c.Name); j >= 0 {
			l.src[i] = j
			if inner, _ := unwrap(c.Type, "Nullable("); inner == "String" && t.Columns[j].Type.Kind == change.Date {
				l.role[i] = roleDateText
			}
			continue
		}
		if base, ok := strings.CutSuffix(c.Name, "_is_null"); ok {
			if j := t.ColumnIndex(base); j >= 0 && needsNullFlag(t.Columns[j]) {
				l.src[i], l.role[i] = j, roleNullFlag
			}
		}
	}
	return l
}

// Truncate empties the row table of id.
func (s *Sink) Truncate(ctx context.Context, id change.TableID) error {
	stmt := fmt.Sprintf("TRUNCATE TABLE %s.%s", QuoteIdent(s.db), QuoteIdent(TableName(id)))
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("clickhouse: truncate %s.%s: %w", s.db, TableName(id), err)
	}
	return nil
}
