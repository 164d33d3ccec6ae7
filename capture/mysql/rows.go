package mysql

import (
	"fmt"
	"math/bits"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/cdcd-dev/cdcd/change"
)

// shape is a captured table as one table map (or the snapshot's catalog) describes it: its schema
// and how to decode its columns.
type shape struct {
	name  TableName
	table *change.Table
	cols  []colInfo
	sig   string // the table map's signature (tmSignature)
}

// deferredRows is the undecoded row data of a rows event. go-mysql's parser hands rows events to
// the syncer's RowsEventDecodeFunc, which decodes only the header (table and column bitmaps) and
// leaves this in RowsEvent.Rows[0][0]: the stream's goroutine decodes the rows with the table's
// shape, once, straight to canonical values.
type deferredRows []byte

// deferRows is the syncer's RowsEventDecodeFunc.
func deferRows(e *replication.RowsEvent, data []byte) error {
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	e.Rows = [][]any{{deferredRows(data[pos:])}}
	return nil
}

// rowsKind tells a rows event's operation from its type.
func rowsKind(t replication.EventType) (op change.Op, compressed, partial bool) {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2:
		return change.Insert, false, false
	case replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return change.Insert, true, false
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2:
		return change.Update, false, false
	case replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		return change.Update, true, false
	case replication.PARTIAL_UPDATE_ROWS_EVENT:
		return change.Update, false, true
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2:
		return change.Delete, false, false
	case replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return change.Delete, true, false
	}
	return 0, false, false
}

// rowImages decodes the row images of one rows event for table sh and calls fn for each change.
// A column missing from an image (a session with binlog_row_image other than FULL) is
// change.Unchanged in an update's new row and NULL, with BeforeFull false, in an old row.
func rowImages(sh *shape, op change.Op, data, bitmap1, bitmap2 []byte, fn func(ev change.Event) error) error {
	n := len(sh.cols)
	if len(bitmap1) < (n+7)/8 || (op == change.Update && len(bitmap2) < (n+7)/8) {
		return fmt.Errorf("rows event has column bitmaps for fewer than %d columns", n)
	}
	images := 1
	if op == change.Update {
		images = 2
	}
	var slab []any
	pos, done := 0, 0 // bytes and images decoded
	for pos < len(data) {
		ev := change.Event{Op: op, Table: sh.table}
		for img := 0; img < images; img++ {
			if len(slab) < n {
				// Values of many rows in one allocation: sized from the bytes left and the first row's size.
				est := 4
				if done > 0 && pos > 0 {
					est = min((len(data)-pos)*done/pos+1, 8192)
				}
				slab = make([]any, n*est)
			}
			row := slab[:n:n]
			slab = slab[n:]
			bm := bitmap1
			if img == 1 {
				bm = bitmap2
			}
			used, full, err := decodeImage(sh.cols, data[pos:], bm, row)
			if err != nil {
				return err
			}
			pos += used
			done++
			switch {
			case op == change.Insert:
				if !full {
					markAbsent(row, bm, func(c int) any {
						return bad("", fmt.Errorf("column %q is not in the row image (binlog_row_image is not FULL)", sh.cols[c].Name))
					})
				}
				ev.After = row
			case op == change.Delete || img == 0:
				if !full {
					markAbsent(row, bm, func(int) any { return nil })
				}
				ev.Before, ev.BeforeFull = row, full
			default:
				if !full {
					markAbsent(row, bm, func(int) any { return change.Unchanged })
				}
				ev.After = row
			}
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

// markAbsent sets the columns an image lacks.
func markAbsent(row []any, bitmap []byte, v func(col int) any) {
	for i := range row {
		if bitmap[i>>3]&(1<<(i&7)) == 0 {
			row[i] = v(i)
		}
	}
}

// decodeImage decodes one row image into row: a NULL bitmap over the columns present (bitmap),
// then their values. It returns the bytes read and whether every column was present.
func decodeImage(cols []colInfo, data, bitmap []byte, row []any) (int, bool, error) {
	n := len(cols)
	present := 0
	for i := 0; i < n/8; i++ {
		present += bits.OnesCount8(bitmap[i])
	}
	if r := n % 8; r != 0 {
		present += bits.OnesCount8(bitmap[n/8] & (1<<r - 1))
	}
	nb := (present + 7) / 8
	if len(data) < nb {
		return 0, false, errShort
	}
	nulls := data[:nb]
	pos, ni := nb, 0
	for i := range cols {
		if bitmap[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		null := nulls[ni>>3]&(1<<(ni&7)) != 0
		ni++
		if null {
			row[i] = nil
			continue
		}
		v, used, err := decodeValue(&cols[i], data[pos:])
		if err != nil {
			return 0, false, fmt.Errorf("column %q (%s): %w", cols[i].Name, cols[i].Source, err)
		}
		row[i] = v
		pos += used
	}
	return pos, present == n, nil
}

// decompressRows undoes MariaDB's binlog compression (log_bin_compress) of a rows event's data.
func decompressRows(data []byte) ([]byte, error) {
	out, err := gomysql.DecompressMariadbData(data)
	if err != nil {
		return nil, fmt.Errorf("decompress rows event: %w", err)
	}
	return out, nil
}
