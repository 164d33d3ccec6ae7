package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/change"
)

// TableName is a captured table, schema-qualified.
type TableName struct{ Schema, Name string }

func (t TableName) String() string { return t.Schema + "." + t.Name }

// quoted is the table as SQL: "schema"."name".
func (t TableName) quoted() string { return quoteIdent(t.Schema) + "." + quoteIdent(t.Name) }

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tableInfo is what the catalog says about a captured table at start.
type tableInfo struct {
	name     TableName
	oid      uint32
	identity byte     // pg_class.relreplident: d(efault), f(ull), i(ndex), n(othing)
	key      []string // primary key (or replica identity index) columns, in key order
	rows     float64  // pg_class.reltuples: the snapshot's ETA estimate
	columns  []catalogColumn
}

type catalogColumn struct {
	name   string
	oid    uint32
	typmod int32
}

// preflight checks what replication needs and returns the captured tables' catalog facts. Every
// failure names the setting, privilege or table at fault and how to fix it.
func preflight(ctx context.Context, conn *pgx.Conn, source string, tables []TableName) ([]tableInfo, error) {
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return nil, fmt.Errorf("postgres source %q: read wal_level: %w", source, err)
	}
	if walLevel != "logical" {
		return nil, change.Terminal(fmt.Errorf("postgres source %q: wal_level is %q but logical replication needs wal_level = logical "+
			"(ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)", source, walLevel))
	}
	var user string
	var super, repl bool
	if err := conn.QueryRow(ctx, "SELECT current_user, rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user").Scan(&user, &super, &repl); err != nil {
		return nil, fmt.Errorf("postgres source %q: read role attributes: %w", source, err)
	}
	if !super && !repl {
		return nil, change.Terminal(fmt.Errorf("postgres source %q: role %q lacks the REPLICATION attribute (ALTER ROLE %s REPLICATION)",
			source, user, quoteIdent(user)))
	}
	infos := make([]tableInfo, 0, len(tables))
	for _, t := range tables {
		info, err := describeTable(ctx, conn, source, t)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func describeTable(ctx context.Context, conn *pgx.Conn, source string, t TableName) (tableInfo, error) {
	info := tableInfo{name: t}
	var kind byte
	var canSelect bool
	err := conn.QueryRow(ctx, `
SELECT c.oid, c.relreplident, c.relkind, greatest(c.reltuples, 0), has_table_privilege(c.oid, 'SELECT')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`, t.Schema, t.Name).Scan(&info.oid, &info.identity, &kind, &info.rows, &canSelect)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, change.Terminal(fmt.Errorf("postgres source %q: table %s does not exist", source, t))
	}
	if err != nil {
		return info, fmt.Errorf("postgres source %q: describe table %s: %w", source, t, err)
	}
	if kind != 'r' {
		return info, change.Terminal(fmt.Errorf("postgres source %q: %s is not an ordinary table (relkind %q); cdcd captures ordinary tables", source, t, kind))
	}
	if !canSelect {
		return info, change.Terminal(fmt.Errorf("postgres source %q: no SELECT privilege on table %s (GRANT SELECT ON %s TO <cdcd role>)", source, t, t.quoted()))
	}
	if info.identity == 'n' {
		return info, change.Terminal(fmt.Errorf("postgres source %q: table %s has REPLICA IDENTITY NOTHING, so its updates and deletes cannot be captured "+
			"(ALTER TABLE %s REPLICA IDENTITY DEFAULT)", source, t, t.quoted()))
	}
	if info.key, err = keyColumns(ctx, conn, info.oid, info.identity); err != nil {
		return info, fmt.Errorf("postgres source %q: key of table %s: %w", source, t, err)
	}
	if len(info.key) == 0 {
		return info, change.Terminal(fmt.Errorf("postgres source %q: table %s has no primary key; cdcd needs one to key its rows in ClickHouse "+
			"(add a primary key, or ALTER TABLE %s REPLICA IDENTITY USING INDEX <a unique index on NOT NULL columns>)", source, t, t.quoted()))
	}
	rows, err := conn.Query(ctx, `
SELECT attname, atttypid, atttypmod FROM pg_attribute
WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
ORDER BY attnum`, info.oid)
	if err != nil {
		return info, fmt.Errorf("postgres source %q: columns of table %s: %w", source, t, err)
	}
	info.columns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalogColumn, error) {
		var c catalogColumn
		err := r.Scan(&c.name, &c.oid, &c.typmod)
		return c, err
	})
	if err != nil {
		return info, fmt.Errorf("postgres source %q: columns of table %s: %w", source, t, err)
	}
	return info, nil
}

// keyColumns returns the columns that key a table's rows: the replica identity index's when the
// identity is USING INDEX, the primary key's otherwise.
func keyColumns(ctx context.Context, conn *pgx.Conn, oid uint32, identity byte) ([]string, error) {
	cond := "i.indisprimary"
	if identity == 'i' {
		cond = "i.indisreplident"
	}
	rows, err := conn.Query(ctx, `
SELECT a.attname FROM pg_index i
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND `+cond+` ORDER BY k.ord`, oid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// typeCatalog resolves non-builtin type OIDs (enums, domains, arrays of them) through pg_type,
// caching what it learns. It is used from the stream's goroutine only.
type typeCatalog struct {
	conn  *pgx.Conn
	cache map[uint32]TypeInfo
	err   error // the first lookup failure, reported by the caller
}

func (c *typeCatalog) lookup(ctx context.Context) TypeLookup {
	return func(oid uint32) (TypeInfo, bool) {
		if ti, ok := c.cache[oid]; ok {
			return ti, true
		}
		var ti TypeInfo
		var labels []string
		err := c.conn.QueryRow(ctx, `
SELECT t.oid, format('%I.%I', n.nspname, t.typname), t.typtype, t.typelem, t.typbasetype, t.typtypmod, t.typcategory,
       coalesce((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1`, oid).Scan(
			&ti.OID, &ti.Name, &ti.Type, &ti.Elem, &ti.BaseType, &ti.BaseTypmod, &ti.Category, &labels)
		if errors.Is(err, pgx.ErrNoRows) {
			return TypeInfo{}, false
		}
		if err != nil {
			if c.err == nil {
				c.err = fmt.Errorf("look up type %d: %w", oid, err)
			}
			return TypeInfo{}, false
		}
		ti.Labels = labels
		c.cache[oid] = ti
		return ti, true
	}
}
