package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
)

// snapshot copies the tables of infos in a slot's exported snapshot, so the rows are exactly those
// of the slot's consistent point and streaming from it loses and repeats nothing. It first emits a
// truncate of each table, which clears anything an interrupted earlier snapshot left; its rows and
// truncates carry the consistent point's checkpoint version. It ends by reporting the tables
// snapshotted and a commit at commitAt: the consistent point for the source's first snapshot, the
// stored offset (which the snapshot does not move) for tables added later.
func (s *Source) snapshot(ctx context.Context, name string, cp pglogrepl.LSN, tables map[uint32]*change.Table, infos []tableInfo,
	e capture.Emitter, commitAt change.Position) error {
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return fmt.Errorf("postgres source %q: snapshot: %w", s.cfg.Name, err)
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(name)); err != nil {
		return fmt.Errorf("postgres source %q: import snapshot %s: %w", s.cfg.Name, name, err)
	}
	version := checkpoint(cp).Version
	for _, info := range infos {
		t := tables[info.oid]
		if err := e.Schema(ctx, t); err != nil {
			return err
		}
		if err := e.Change(ctx, change.Event{Op: change.Truncate, Table: t, Version: version, Snapshot: true}); err != nil {
			return err
		}
	}
	started := time.Now()
	var total int64
	for _, info := range infos {
		n, err := s.copyTable(ctx, conn.PgConn(), tables[info.oid], info, version, e)
		if err != nil {
			return err
		}
		total += n
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("postgres source %q: snapshot: %w", s.cfg.Name, err)
	}
	ids := make([]change.TableID, len(infos))
	for i, info := range infos {
		ids[i] = tables[info.oid].ID
	}
	if err := e.Snapshotted(ctx, ids, version); err != nil {
		return err
	}
	if err := e.Commit(ctx, commitAt); err != nil {
		return err
	}
	s.log.Info("snapshot read", "tables", len(infos), "rows", total, "took", time.Since(started).Round(time.Millisecond),
		"consistent_point", cp.String())
	return nil
}

// copyTable streams one table through binary COPY, emitting an insert per row. Columns whose type
// has no binary decoder are cast to text in the query.
func (s *Source) copyTable(ctx context.Context, conn *pgconn.PgConn, t *change.Table, info tableInfo, version uint64, e capture.Emitter) (int64, error) {
	decs := make([]Decoder, len(info.columns))
	sel := make([]string, len(info.columns))
	bin := make([]bool, len(info.columns)) // the column comes in binary, not as text
	for i, c := range info.columns {
		ty := t.Columns[i].Type
		binary := HasBinaryDecoder(c.oid, ty)
		bin[i] = binary
		dec, err := NewDecoder(c.oid, ty, binary)
		if err != nil {
			return 0, change.Terminal(fmt.Errorf("postgres source %q: table %s column %q: %w", s.cfg.Name, info.name, c.name, err))
		}
		decs[i] = dec
		sel[i] = quoteIdent(c.name)
		if !binary {
			sel[i] += "::text"
		}
	}
	query := "COPY (SELECT " + strings.Join(sel, ", ") + " FROM " + info.name.quoted() + ") TO STDOUT (FORMAT binary)"

	pr, pw := io.Pipe()
	copyErr := make(chan error, 1)
	go func() {
		_, err := conn.CopyTo(ctx, pw, query)
		pw.CloseWithError(err)
		copyErr <- err
	}()
	r := NewCopyReader(pr)
	var n int64
	started, lastLog := time.Now(), time.Now()
	for {
		fields, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			pr.CloseWithError(err)
			<-copyErr
			return n, fmt.Errorf("postgres source %q: copy table %s: %w", s.cfg.Name, info.name, err)
		}
		if len(fields) != len(decs) {
			pr.CloseWithError(io.ErrUnexpectedEOF)
			<-copyErr
			return n, fmt.Errorf("postgres source %q: copy table %s: %d fields, want %d", s.cfg.Name, info.name, len(fields), len(decs))
		}
		row := make([]any, len(fields))
		for i, f := range fields {
			if f == nil {
				continue
			}
			v, err := decs[i](f)
			if err != nil {
				raw := string(f)
				if bin[i] {
					raw = fmt.Sprintf("\\x%x", f) // as the stream shows a binary value
				}
				v = &change.BadValue{Raw: raw, Err: fmt.Errorf("table %s column %q: %w", info.name, info.columns[i].name, err)}
			}
			row[i] = v
		}
		// Seq 0 is the table's truncate: its rows come after it.
		ev := change.Event{Op: change.Insert, Table: t, After: row, Version: version, Seq: uint32(n) + 1, Snapshot: true}
		if err := e.Change(ctx, ev); err != nil {
			pr.CloseWithError(err)
			<-copyErr
			return n, err
		}
		n++
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			s.logProgress(info, n, started)
		}
	}
	if err := <-copyErr; err != nil {
		return n, fmt.Errorf("postgres source %q: copy table %s: %w", s.cfg.Name, info.name, err)
	}
	s.logProgress(info, n, started)
	return n, nil
}

func (s *Source) logProgress(info tableInfo, n int64, started time.Time) {
	elapsed := time.Since(started)
	rate := float64(n) / max(elapsed.Seconds(), 0.001)
	attrs := []any{"table", info.name.String(), "rows", n, "rows_per_s", int64(rate)}
	if info.rows > float64(n) && rate > 0 {
		attrs = append(attrs, "eta", (time.Duration((info.rows-float64(n))/rate) * time.Second).Round(time.Second))
	}
	s.log.Info("snapshot progress", attrs...)
}
