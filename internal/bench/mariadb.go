package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/cdcd-dev/cdcd/capture/mysql"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// The MariaDB run: the same 6-column table (bigint key, int, decimal(12,2), varchar,
// timestamp(6), 100-byte varchar) written as a binlog backlog while cdcd is stopped, then drained.

const mariaBenchDDL = `CREATE TABLE bench (id bigint PRIMARY KEY, n int, amount decimal(12,2), note varchar(100),
  at timestamp(6) NULL, pad varchar(100))`

// mariaDrain measures rows/s draining a backlog of rows written to MariaDB's binlog while cdcd was
// stopped (after it stored a first offset).
func (s *servers) mariaDrain(ctx context.Context, rows int) (float64, int64, error) {
	my, err := testenv.MariaDBServer()
	if err != nil {
		return 0, 0, err
	}
	const db = "bench_mariadb"
	c, err := client.ConnectWithTimeout(my.Addr(), my.User, my.Pass, "", 10*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	for _, q := range []string{"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db, "USE " + db, mariaBenchDDL} {
		if _, err := c.Execute(q); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	cfg := filepath.Join(s.dir, db+".yaml")
	text := fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: %s
  batch: {rows: %d}
registry:
  listen: ""
sources:
  - name: %s
    mysql:
      dsn: %q
      tables: [%s.bench]
      server_id: 4242
`, s.ch.Addr(), db, batchRows, db, my.DSN(""), db)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		return 0, 0, err
	}
	// A first run snapshots the empty table, which stores an offset, then stops.
	d, err := s.start(cfg)
	if err != nil {
		return 0, 0, err
	}
	if err := s.waitGTID(ctx, db, mariaGTIDSeq(c), time.Minute); err != nil {
		d.stop()
		return 0, 0, fmt.Errorf("first start: %w (see %s.log)", err, cfg)
	}
	d.stop()

	fmt.Printf("writing a MariaDB binlog backlog of %d rows in transactions of 1000 ...\n", rows)
	t0 := time.Now()
	for i := 0; i < rows; i += 1000 {
		q := fmt.Sprintf(`INSERT INTO bench SELECT seq, seq %% 1000, (seq %% 100000) * 1.01, CONCAT('note ', seq),
			FROM_UNIXTIME(1704067200 + seq) + INTERVAL (seq %% 1000000) MICROSECOND, REPEAT('x', 100) FROM seq_%d_to_%d`, i+1, min(i+1000, rows))
		if _, err := c.Execute(q); err != nil {
			return 0, 0, err
		}
	}
	target := mariaGTIDSeq(c)
	fmt.Printf("backlog written in %v\n", time.Since(t0).Round(time.Millisecond))

	d, err = s.start(cfg)
	if err != nil {
		return 0, 0, err
	}
	t1 := time.Now()
	if err := s.waitGTID(ctx, db, target, 10*time.Minute); err != nil {
		d.stop()
		return 0, 0, err
	}
	took := time.Since(t1)
	rss := d.stop()
	conn, err := s.clickhouse(ctx)
	if err != nil {
		return 0, 0, err
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM `"+db+"`.`"+db+"_"+db+"_bench`").Scan(&n); err != nil {
		return 0, 0, err
	}
	if int(n) != rows {
		return 0, 0, fmt.Errorf("clickhouse holds %d rows, want %d", n, rows)
	}
	rate := float64(rows) / took.Seconds()
	fmt.Printf("drained %d binlog rows in %v: %.0f rows/s, peak RSS %d MB\n", rows, took.Round(time.Millisecond), rate, rss>>20)
	return rate, rss, nil
}

// mariaGTIDSeq is the server's current GTID sequence number (domain 0).
func mariaGTIDSeq(c *client.Conn) uint64 {
	r, err := c.Execute("SELECT @@gtid_binlog_pos")
	if err != nil {
		return 0
	}
	s, _ := r.GetString(0, 0)
	p, _ := mysql.ParseMariaPos(s)
	g, _ := p.Get(0)
	return g.Seq
}

// waitGTID waits until the stored offset of source db reaches GTID sequence number seq.
func (s *servers) waitGTID(ctx context.Context, db string, seq uint64, timeout time.Duration) error {
	conn, err := s.clickhouse(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var pos string
		err := conn.QueryRow(ctx, "SELECT position FROM `"+db+"`.`_cdcd_offsets` WHERE source = '"+db+"' ORDER BY seq DESC LIMIT 1").Scan(&pos)
		if err == nil {
			p, _ := mysql.ParseMariaPos(pos)
			if g, _ := p.Get(0); g.Seq >= seq && pos != "" {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("offset did not reach GTID sequence %d within %v", seq, timeout)
}
