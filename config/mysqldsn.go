package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MySQLDSN is a go-sql-driver/mysql data source name taken apart.
type MySQLDSN struct {
	User     string
	Password string // as written: go-sql-driver does not unescape it
	Net      string // always "tcp": binlog replication needs a TCP connection
	Addr     string // host:port, the port defaulting to 3306
	DB       string // the database, often empty
	Params   map[string]string
}

// ParseMySQLDSN parses user[:password]@tcp(host:port)/[db][?param=value&...] the way
// go-sql-driver/mysql does: the database follows the last '/', the user information ends at the
// last '@' before it and the password starts at the first ':'. So a password may hold '@', ':'
// and '/' unescaped, and a user may not hold ':'. Only the tcp network is accepted; a missing
// network and address mean tcp(127.0.0.1:3306).
func ParseMySQLDSN(dsn string) (*MySQLDSN, error) {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return nil, errors.New("no / before the database name; write user:password@tcp(host:port)/")
	}
	d := &MySQLDSN{Net: "tcp", Addr: "127.0.0.1:3306"}
	head, tail := dsn[:slash], dsn[slash+1:]

	netAddr := head
	if at := strings.LastIndexByte(head, '@'); at >= 0 {
		d.User, d.Password, _ = strings.Cut(head[:at], ":")
		netAddr = head[at+1:]
	}
	if d.User == "" {
		return nil, errors.New("the user is missing; write user:password@tcp(host:port)/")
	}
	if netAddr != "" {
		network, addr, hasAddr := strings.Cut(netAddr, "(")
		if hasAddr {
			var closed bool
			if addr, closed = strings.CutSuffix(addr, ")"); !closed {
				return nil, fmt.Errorf("the address %q is not closed with )", netAddr)
			}
		}
		if network != "tcp" {
			return nil, fmt.Errorf("network %q is not supported; use tcp(host:port)", network)
		}
		if hasAddr && addr != "" {
			d.Addr = addr
		}
	}
	if _, _, err := net.SplitHostPort(d.Addr); err != nil {
		d.Addr = net.JoinHostPort(d.Addr, "3306")
	}
	if reason := checkHostPort(d.Addr, true); reason != "" {
		return nil, fmt.Errorf("the address %q %s", d.Addr, reason)
	}

	db, query, _ := strings.Cut(tail, "?")
	var err error
	if d.DB, err = url.PathUnescape(db); err != nil {
		return nil, fmt.Errorf("the database %q: %w", db, err)
	}
	if query == "" {
		return d, nil
	}
	d.Params = map[string]string{}
	for _, pair := range strings.Split(query, "&") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("the parameter %q is not key=value", pair)
		}
		if d.Params[key], err = url.QueryUnescape(value); err != nil {
			return nil, fmt.Errorf("the parameter %q: %w", key, err)
		}
	}
	return d, nil
}

// checkHostPort returns why s is not host:port, or "". needHost says whether the host may be
// empty (":9187" listens on every interface).
func checkHostPort(s string, needHost bool) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "is not host:port"
	}
	if needHost && host == "" {
		return "has no host"
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return "has no valid port (1..65535)"
	}
	return ""
}
