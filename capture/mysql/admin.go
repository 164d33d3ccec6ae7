package mysql

import (
	"context"
	"fmt"
	"strconv"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/change"
)

// Status is what operators' tools (cdcd offsets) need to know of a MySQL source's server.
type Status struct {
	Flavor  Flavor
	Current change.Position // the binlog's end: Version its coordinate, Token the GTID position there
	File    string          // the binlog file being written
	// Oldest is where the binlog starts: MariaDB's oldest binlog file's GTID position, MySQL's
	// gtid_purged. Empty when nothing was purged (or it could not be read).
	Oldest     string
	OldestFile string
	// Replica describes a replica registered with cdcd's server_id (SHOW SLAVE HOSTS), "" if none;
	// ReplicaKnown is false when the list could not be read.
	Replica      string
	ReplicaKnown bool

	maria            struct{ cur, oldest MariaPos }
	executed, purged *gomysql.MysqlGTIDSet
}

// Inspect reads the server's binlog position, its oldest served position and its replicas.
func (s *Source) Inspect(ctx context.Context) (Status, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return Status{}, err
	}
	defer conn.Close()
	defer unblockOnDone(ctx, conn)()
	si, err := readServer(conn)
	if err != nil {
		return Status{}, s.privilegeError("read the server", err)
	}
	if si.flavor, err = ResolveFlavor(s.cfg.Flavor, si.flavor, si.versionText); err != nil {
		return Status{}, fmt.Errorf("mysql source %q: %w", s.cfg.Name, err)
	}
	st := Status{Flavor: si.flavor}
	cur, err := currentPosition(conn, si)
	if err != nil {
		return st, s.privilegeError("read the binlog position", err)
	}
	st.Current, st.File = cur.Position, cur.File
	switch si.flavor {
	case MariaDB:
		st.maria.cur, _ = ParseMariaPos(cur.Token)
		st.maria.oldest, st.OldestFile, _ = oldestMariaPos(conn)
		st.Oldest = st.maria.oldest.String()
	case MySQL:
		if st.executed, st.purged, err = mysqlGTIDState(conn); err != nil {
			return st, s.privilegeError("read gtid_executed", err)
		}
		st.Oldest = st.purged.String()
	}
	hosts := "SHOW SLAVE HOSTS"
	if si.flavor == MySQL && si.version.atLeast(8, 0) && (si.version.Minor > 0 || si.version.Patch >= 22) {
		hosts = "SHOW REPLICAS" // SHOW SLAVE HOSTS is gone from MySQL 8.4
	}
	if r, err := conn.Execute(hosts); err == nil {
		st.ReplicaKnown = true
		for _, row := range strRows(r) {
			if id, _ := strconv.ParseUint(row[0], 10, 32); uint32(id) == s.cfg.ServerID {
				st.Replica = fmt.Sprintf("a replica with server_id %d (host %s) is streaming from the server "+
					"(after a crash the server drops it within seconds, at its next heartbeat)", id, row[1])
			}
		}
	}
	return st, nil
}

// mysqlGTIDState reads a MySQL server's executed and purged GTID sets.
func mysqlGTIDState(x execer) (executed, purged *gomysql.MysqlGTIDSet, err error) {
	r, err := x.Execute("SELECT @@GLOBAL.gtid_executed, @@GLOBAL.gtid_purged")
	if err != nil {
		return nil, nil, err
	}
	row := strRows(r)[0]
	if executed, err = parseMySQLSet(row[0]); err != nil {
		return nil, nil, err
	}
	purged, err = parseMySQLSet(row[1])
	return executed, purged, err
}

// Behind counts the transactions the server has committed that stored does not cover.
func (st Status) Behind(stored change.Position) (uint64, error) {
	switch st.Flavor {
	case MariaDB:
		p, err := ParseMariaPos(stored.Token)
		if err != nil {
			return 0, err
		}
		return p.Behind(st.maria.cur), nil
	case MySQL:
		set, err := parseMySQLSet(stored.Token)
		if err != nil {
			return 0, err
		}
		return mysqlBehind(set, st.executed), nil
	}
	return 0, fmt.Errorf("unknown flavor %q", st.Flavor)
}

// ResolveReset turns an operator's --to (a GTID position in the server's form, or "latest") into a
// position the server can stream from, or says why it cannot and what it can serve.
//
// "latest" is the binlog's end, with its coordinate as Version. An explicit GTID position gets
// Version 0: the GTID set alone says exactly where streaming resumes, and Version 0 skips no event,
// so every transaction after the position is delivered (with its own coordinate as version; rows
// ClickHouse holds at newer versions stay, as replays always converge).
func (s *Source) ResolveReset(st Status, to string) (change.Position, error) {
	if to == "latest" {
		return st.Current, nil
	}
	pos, err := ParsePosition(st.Flavor, to)
	if err != nil {
		return change.Position{}, err
	}
	var reason string
	switch st.Flavor {
	case MariaDB:
		p, _ := ParseMariaPos(pos.Token)
		reason = mariaServable(p, st.maria.oldest, st.maria.cur)
	case MySQL:
		set, _ := parseMySQLSet(pos.Token)
		reason = mysqlServable(set, st.executed, st.purged)
	}
	if reason != "" {
		oldest := st.Oldest
		if oldest == "" {
			oldest = "the start of the binlog"
		}
		return change.Position{}, fmt.Errorf("%s; valid positions are from %s to %s (the server's current GTID position)", reason, oldest, orNone(st.Current.Token))
	}
	return pos, nil
}
