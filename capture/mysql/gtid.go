package mysql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// MariaGTID is one MariaDB GTID: domain-server-sequence.
type MariaGTID struct {
	Domain, Server uint32
	Seq            uint64
}

func (g MariaGTID) String() string {
	return strconv.FormatUint(uint64(g.Domain), 10) + "-" + strconv.FormatUint(uint64(g.Server), 10) + "-" +
		strconv.FormatUint(g.Seq, 10)
}

// MariaPos is a MariaDB GTID position (@@gtid_binlog_pos, @@slave_connect_state): the last GTID of
// each replication domain, at most one per domain, sorted by domain.
type MariaPos []MariaGTID

// ParseMariaPos parses "0-1-42,1-2-7" (spaces and newlines around entries allowed; "" is the empty
// position). Two GTIDs of one domain (a gtid_binlog_state after a failover) keep the higher
// sequence number, which is the later one in gtid_strict_mode.
func ParseMariaPos(s string) (MariaPos, error) {
	var p MariaPos
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, "-")
		if len(f) != 3 {
			return nil, fmt.Errorf("MariaDB GTID %q is not domain-server-sequence", part)
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		sv, err2 := strconv.ParseUint(f[1], 10, 32)
		q, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("MariaDB GTID %q is not domain-server-sequence (unsigned numbers)", part)
		}
		p = p.with(MariaGTID{Domain: uint32(d), Server: uint32(sv), Seq: q})
	}
	return p, nil
}

// with returns p with g as its domain's GTID, unless p holds a later one.
func (p MariaPos) with(g MariaGTID) MariaPos {
	for i := range p {
		if p[i].Domain == g.Domain {
			if g.Seq >= p[i].Seq {
				p[i] = g
			}
			return p
		}
	}
	p = append(p, g)
	sort.Slice(p, func(i, j int) bool { return p[i].Domain < p[j].Domain })
	return p
}

// Get returns the GTID of a domain.
func (p MariaPos) Get(domain uint32) (MariaGTID, bool) {
	for _, g := range p {
		if g.Domain == domain {
			return g, true
		}
	}
	return MariaGTID{}, false
}

func (p MariaPos) String() string {
	parts := make([]string, len(p))
	for i, g := range p {
		parts[i] = g.String()
	}
	return strings.Join(parts, ",")
}

// mariaPosOf normalises a go-mysql MariaDB GTID set (which keeps one GTID per domain and server)
// to a position.
func mariaPosOf(set *gomysql.MariadbGTIDSet) MariaPos {
	var p MariaPos
	for _, servers := range set.Sets {
		for _, g := range servers {
			p = p.with(MariaGTID{Domain: g.DomainID, Server: g.ServerID, Seq: g.SequenceNumber})
		}
	}
	return p
}

// Behind counts the transactions of cur that p has not reached: per domain, the difference of
// sequence numbers (exact in gtid_strict_mode, where each domain's numbers grow by one).
func (p MariaPos) Behind(cur MariaPos) uint64 {
	var n uint64
	for _, c := range cur {
		have, _ := p.Get(c.Domain)
		if c.Seq > have.Seq {
			n += c.Seq - have.Seq
		}
	}
	return n
}

// mariaServable says why a MariaDB server whose binlogs start at oldest (the Gtid_list of its
// oldest binlog file) and end at cur cannot stream from p, or "" when it can.
func mariaServable(p, oldest, cur MariaPos) string {
	for _, g := range p {
		c, ok := cur.Get(g.Domain)
		if !ok || g.Seq > c.Seq {
			return fmt.Sprintf("GTID %s is ahead of the server, whose binlog ends at %q", g, cur.String())
		}
	}
	for _, o := range oldest {
		g, ok := p.Get(o.Domain)
		if !ok || g.Seq < o.Seq {
			return fmt.Sprintf("the server no longer has the binlog after %s: its oldest binlog file starts at %q (the files before were purged)",
				describeDomain(p, o.Domain), oldest.String())
		}
	}
	return ""
}

func describeDomain(p MariaPos, domain uint32) string {
	if g, ok := p.Get(domain); ok {
		return "GTID " + g.String()
	}
	return fmt.Sprintf("the start of domain %d", domain)
}

// parseMySQLSet parses a MySQL GTID set ("uuid:1-100,uuid:1-5"; gtid_executed's newlines allowed).
func parseMySQLSet(s string) (*gomysql.MysqlGTIDSet, error) {
	s = strings.Join(strings.Fields(s), "")
	set, err := gomysql.ParseMysqlGTIDSet(s)
	if err != nil {
		return nil, fmt.Errorf("MySQL GTID set %q: %v", s, err)
	}
	return set.(*gomysql.MysqlGTIDSet), nil
}

// mysqlCount counts the GTIDs of a set.
func mysqlCount(set *gomysql.MysqlGTIDSet) uint64 {
	var n uint64
	for _, u := range set.Sets {
		for _, in := range u.Intervals {
			if in.Stop > in.Start {
				n += uint64(in.Stop - in.Start) // Stop is exclusive
			}
		}
	}
	return n
}

// mysqlBehind counts the GTIDs of cur that stored lacks.
func mysqlBehind(stored, cur *gomysql.MysqlGTIDSet) uint64 {
	diff := cur.Clone().(*gomysql.MysqlGTIDSet)
	_ = diff.Minus(*stored)
	return mysqlCount(diff)
}

// mysqlServable says why a MySQL server that executed executed and purged purged cannot stream
// from set, or "" when it can.
func mysqlServable(set, executed, purged *gomysql.MysqlGTIDSet) string {
	if !executed.Contain(set) {
		return fmt.Sprintf("GTID set %s holds transactions the server has not executed (gtid_executed is %s)", set, executed)
	}
	if !set.Contain(purged) {
		return fmt.Sprintf("the server purged transactions that GTID set %s lacks (gtid_purged is %s)", set, purged)
	}
	return ""
}
