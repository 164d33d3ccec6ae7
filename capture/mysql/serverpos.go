package mysql

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
)

// serverPos is a server's current binlog end: its coordinate and GTID position, read consistently.
type serverPos struct {
	change.Position
	File  string
	Coord Coord
}

// currentPosition reads the end of the server's binlog and the GTID position there.
func currentPosition(x execer, srv serverInfo) (serverPos, error) {
	f := srv.flavor
	file, c, gtid, err := masterStatus(x, srv.version)
	if err != nil {
		return serverPos{}, err
	}
	if f == MariaDB {
		r, err := x.Execute("SELECT BINLOG_GTID_POS(?, ?)", file, uint64(c.Pos))
		if err != nil {
			return serverPos{}, fmt.Errorf("BINLOG_GTID_POS(%s, %d): %w", file, c.Pos, err)
		}
		gtid = strRows(r)[0][0]
	}
	token, err := normalizeGTID(f, gtid)
	if err != nil {
		return serverPos{}, err
	}
	return serverPos{Position: checkpoint(c, token), File: file, Coord: c}, nil
}

// oldestMariaPos returns the GTID position at the start of the server's oldest binlog file (its
// Gtid_list event): transactions at or before it are no longer in the binlog.
func oldestMariaPos(x execer) (MariaPos, string, error) {
	r, err := x.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, "", err
	}
	rows := strRows(r)
	if len(rows) == 0 {
		return nil, "", fmt.Errorf("SHOW BINARY LOGS lists no file")
	}
	first := rows[0][0]
	r, err = x.Execute("SHOW BINLOG EVENTS IN " + quoteString(first) + " LIMIT 4")
	if err != nil {
		return nil, first, err
	}
	for _, row := range strRows(r) {
		if len(row) > 5 && row[2] == "Gtid_list" {
			p, err := ParseMariaPos(strings.Trim(row[5], "[]"))
			return p, first, err
		}
	}
	return nil, first, fmt.Errorf("binlog %s has no Gtid_list event", first)
}

// checkResume checks, before streaming from a stored position, that the server still serves it:
// its GTIDs not purged nor ahead of the server, and its binlog coordinate not beyond the server's
// (which a RESET MASTER or a failover to another server would cause). Each failure is terminal,
// with the recovery. It returns the server's binlog end.
func (s *Source) checkResume(x execer, srv serverInfo, from change.Position) (Coord, error) {
	cur, err := currentPosition(x, srv)
	if err != nil {
		return Coord{}, s.privilegeError("read the binlog position", err)
	}
	var reason string
	switch srv.flavor {
	case MariaDB:
		p, err := ParseMariaPos(from.Token)
		if err != nil {
			return Coord{}, change.Terminal(fmt.Errorf("mysql source %q: the stored offset %q is not a MariaDB GTID position (was the source's flavor changed?): %v", s.cfg.Name, from.Token, err))
		}
		curPos, _ := ParseMariaPos(cur.Token)
		oldest, file, err := oldestMariaPos(x)
		if err != nil {
			s.log.Warn("cannot read the oldest binlog's GTID position; relying on the server to refuse a purged position", "error", err, "file", file)
		}
		reason = mariaServable(p, oldest, curPos)
	case MySQL:
		set, err := parseMySQLSet(from.Token)
		if err != nil {
			return Coord{}, change.Terminal(fmt.Errorf("mysql source %q: the stored offset %q is not a MySQL GTID set (was the source's flavor changed?): %v", s.cfg.Name, from.Token, err))
		}
		executed, purged, err := mysqlGTIDState(x)
		if err != nil {
			return Coord{}, s.privilegeError("read gtid_executed and gtid_purged", err)
		}
		reason = mysqlServable(set, executed, purged)
	}
	if reason != "" {
		return Coord{}, purgedError(s.cfg.Name, from.Token, fmt.Errorf("%s", reason))
	}
	if from.Version > cur.Coord.Version() {
		return Coord{}, purgedError(s.cfg.Name, from.Token, fmt.Errorf("the stored binlog coordinate %s is past the server's binlog end %s (RESET MASTER, or a failover to another server: binlog coordinates are per server)",
			CoordOf(from.Version), cur.Coord))
	}
	return cur.Coord, nil
}
