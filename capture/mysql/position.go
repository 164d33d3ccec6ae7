package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// Coord is a binlog coordinate: the sequence number of a binlog file (mysql-bin.000042 is 42) and
// a byte position in it. Coordinates of one server's binlog grow monotonically: a new file has a
// higher number, and every event ends after the one before it.
type Coord struct {
	File uint32 // the file's sequence number
	Pos  uint32 // the byte position in the file
}

// Version is the coordinate as a change.Position Version: File << 32 | Pos.
func (c Coord) Version() uint64 { return uint64(c.File)<<32 | uint64(c.Pos) }

// CoordOf is the inverse of Version.
func CoordOf(v uint64) Coord { return Coord{File: uint32(v >> 32), Pos: uint32(v)} }

func (c Coord) String() string { return fmt.Sprintf("%06d:%d", c.File, c.Pos) }

// fileSeq returns the sequence number of a binlog file name: the digits after its last dot.
func fileSeq(name string) (uint32, error) {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || dot == len(name)-1 {
		return 0, fmt.Errorf("binlog file name %q has no .NNNNNN sequence number", name)
	}
	n, err := strconv.ParseUint(name[dot+1:], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("binlog file name %q has no .NNNNNN sequence number", name)
	}
	return uint32(n), nil
}

// coordOf returns the coordinate of a file name and position, as SHOW MASTER STATUS gives them.
func coordOf(file string, pos uint64) (Coord, error) {
	seq, err := fileSeq(file)
	if err != nil {
		return Coord{}, err
	}
	if pos > 1<<32-1 {
		return Coord{}, fmt.Errorf("binlog position %d of %s does not fit 32 bits", pos, file)
	}
	return Coord{File: seq, Pos: uint32(pos)}, nil
}

// checkpoint is the position after a commit ending at c, with the GTID set token after it.
func checkpoint(c Coord, token string) change.Position {
	return change.Position{Version: c.Version(), Token: token}
}

// ParsePosition parses an operator's GTID set (the --to of offsets reset) in the flavor's form and
// returns it normalised, as a position with Version 0: a GTID set is an exact resume point, and
// Version 0 skips nothing, so every transaction after the set is delivered with its own version.
func ParsePosition(f Flavor, s string) (change.Position, error) {
	switch f {
	case MariaDB:
		p, err := ParseMariaPos(s)
		if err != nil || len(p) == 0 {
			return change.Position{}, fmt.Errorf("%q is not a MariaDB GTID position (domain-server-sequence[,...], like 0-1-42)", s)
		}
		return change.Position{Token: p.String()}, nil
	case MySQL:
		set, err := parseMySQLSet(s)
		if err != nil || set.IsEmpty() {
			return change.Position{}, fmt.Errorf("%q is not a MySQL GTID set (uuid:interval[,...], like 3E11FA47-71CA-11E1-9E33-C80AA9429562:1-100)", s)
		}
		return change.Position{Token: set.String()}, nil
	}
	return change.Position{}, fmt.Errorf("unknown flavor %q", f)
}
