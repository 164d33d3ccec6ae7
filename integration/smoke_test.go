package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSmokePostgres proves the harness's PostgreSQL is ready for logical replication.
func TestSmokePostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	db, dsn := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE orders (id bigint PRIMARY KEY, note text)",
		"INSERT INTO orders VALUES (1, 'a')")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var walLevel string
	if err := c.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		t.Fatal(err)
	}
	if walLevel != "logical" {
		t.Fatalf("wal_level = %q, want logical", walLevel)
	}

	rc, err := pgconn.Connect(ctx, dsn+"&replication=database")
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	defer rc.Close(ctx)
	res, err := pglogrepl.CreateReplicationSlot(ctx, rc, "smoke_"+db, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication})
	if err != nil {
		t.Fatalf("create logical slot: %v", err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil || lsn == 0 {
		t.Fatalf("consistent point %q: %v", res.ConsistentPoint, err)
	}
}

// TestSmokeMariaDB proves the harness's MariaDB writes a row-based binlog with GTIDs.
func TestSmokeMariaDB(t *testing.T) {
	my := testenv.StartMariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE orders (id bigint PRIMARY KEY, note text)",
		"INSERT INTO orders VALUES (1, 'a')")
	want := map[string]string{
		"@@binlog_format":       "ROW",
		"@@binlog_row_image":    "FULL",
		"@@binlog_row_metadata": "FULL",
		"@@log_bin":             "1",
	}
	for expr, v := range want {
		r := my.Query(t, db, "SELECT "+expr)
		got, _ := r.GetString(0, 0)
		if !strings.EqualFold(got, v) {
			t.Errorf("%s = %q, want %q", expr, got, v)
		}
	}
	r := my.Query(t, db, "SELECT @@gtid_binlog_pos")
	pos, _ := r.GetString(0, 0)
	if !strings.HasPrefix(pos, "0-1-") {
		t.Fatalf("gtid_binlog_pos = %q, want a 0-1-N position after a write", pos)
	}
}

// TestSmokeClickHouse proves the harness's ClickHouse takes a ReplacingMergeTree table through
// clickhouse-go and that the last version wins under FINAL.
func TestSmokeClickHouse(t *testing.T) {
	ch := testenv.StartClickHouse(t)
	db := ch.NewDatabase(t)
	ch.Exec(t, "CREATE DATABASE `"+db+"`",
		"CREATE TABLE `"+db+"`.orders (id Int64, note String, _version UInt64) ENGINE = ReplacingMergeTree(_version) ORDER BY id")
	conn := ch.Conn(t, db)
	ctx := context.Background()
	for _, v := range []struct {
		note string
		ver  uint64
	}{{"new", 2}, {"old", 1}} {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO orders (id, note, _version)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(int64(1), v.note, v.ver); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	var note string
	if err := conn.QueryRow(ctx, "SELECT note FROM orders FINAL WHERE id = 1").Scan(&note); err != nil {
		t.Fatal(err)
	}
	if note != "new" {
		t.Fatalf("FINAL note = %q, want the highest version's %q", note, "new")
	}
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clickhouse server %s", v)
}
