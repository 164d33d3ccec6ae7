package mysql

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// counter is an Emitter that counts changes and commits.
type counter struct {
	changes, commits atomic.Int64
	last             atomic.Pointer[change.Position]
}

func (c *counter) Schema(context.Context, *change.Table) error { return nil }
func (c *counter) Change(context.Context, change.Event) error  { c.changes.Add(1); return nil }
func (c *counter) Commit(_ context.Context, p change.Position) error {
	c.commits.Add(1)
	c.last.Store(&p)
	return nil
}
func (c *counter) Idle(context.Context, change.Position) error { return nil }
func (c *counter) Snapshotted(context.Context, []change.TableID, uint64) error {
	return nil
}

// BenchmarkMariaDBStream measures the capture alone: binlog rows of the bench table (bigint,
// int, decimal(12,2), varchar, timestamp(6), 100-byte varchar) to change events, per row.
func BenchmarkMariaDBStream(b *testing.B) {
	srv := testenv.StartMariaDB(b)
	db := srv.NewDatabase(b)
	srv.Exec(b, db, `CREATE TABLE bench (id bigint PRIMARY KEY, n int, amount decimal(12,2), note varchar(100), at timestamp(6) NULL, pad varchar(100))`)
	start := srv.Query(b, "", "SELECT @@gtid_binlog_pos")
	from, _ := start.GetString(0, 0)
	rows := 200000
	for i := 0; i < rows; i += 1000 {
		srv.Exec(b, db, fmt.Sprintf(`INSERT INTO bench SELECT seq, seq %% 1000, (seq %% 100000) * 1.01, CONCAT('note ', seq),
			FROM_UNIXTIME(1704067200 + seq), REPEAT('x', 100) FROM seq_%d_to_%d`, i+1, i+1000))
	}
	b.ResetTimer()
	total := 0
	for b.Loop() {
		src := New(Config{Name: "bench", Addr: srv.Addr(), User: srv.User, Password: srv.Pass, ServerID: 9100,
			Tables: []TableName{{DB: db, Name: "bench"}}})
		c := &counter{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- src.Run(ctx, capture.Start{Position: change.Position{Token: from}}, c) }()
		for c.changes.Load() < int64(rows) {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(rows)/time.Since(t0).Seconds(), "rows/s")
		cancel()
		<-done
		total += rows
	}
}
