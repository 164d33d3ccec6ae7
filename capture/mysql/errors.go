package mysql

import (
	"errors"
	"fmt"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	pingcap "github.com/pingcap/errors"

	"github.com/cdcd-dev/cdcd/change"
)

// Server error codes cdcd reacts to.
const (
	erAccessDenied        = 1045 // wrong user or password
	erDBAccessDenied      = 1044
	erTableAccessDenied   = 1142 // SELECT command denied to user
	erSpecificAccess      = 1227 // you need (at least one of) the X privilege(s)
	erMasterFatalReading  = 1236 // the binlog cannot be served from the requested position
	erParse               = 1064
	erTableDefChanged     = 1412
	erUnknownSystemVar    = 1193
	erNoSuchTable         = 1146
	erMasterHasPurgedGTID = 1789 // MySQL: the source purged GTIDs the replica needs
)

// serverError returns the MySQL error inside err, if any.
func serverError(err error) (*gomysql.MyError, bool) {
	var me *gomysql.MyError
	if errors.As(err, &me) {
		return me, true
	}
	if me, ok := pingcap.Cause(err).(*gomysql.MyError); ok {
		return me, true
	}
	return nil, false
}

// errorCode returns the MySQL error code inside err, or 0.
func errorCode(err error) uint16 {
	if me, ok := serverError(err); ok {
		return me.Code
	}
	return 0
}

// privilegeError turns an access-denied error into a terminal one that says what to grant.
func (s *Source) privilegeError(what string, err error) error {
	switch errorCode(err) {
	case erAccessDenied:
		return change.Terminal(fmt.Errorf("mysql source %q: %s: %w (check the user and password of mysql.dsn)", s.cfg.Name, what, err))
	case erSpecificAccess, erTableAccessDenied, erDBAccessDenied:
		return change.Terminal(fmt.Errorf("mysql source %q: %s: %w (grant the privilege to cdcd's user)", s.cfg.Name, what, err))
	}
	return fmt.Errorf("mysql source %q: %s: %w", s.cfg.Name, what, err)
}

// streamError classifies an error of the binlog stream: a binlog the server cannot serve, or a
// replica id already in use, is terminal (with the recovery); a lost connection is retried by the
// pipeline from the stored offset.
func (s *Source) streamError(from string, err error) error {
	me, ok := serverError(err)
	if !ok {
		return fmt.Errorf("mysql source %q: binlog stream: %w", s.cfg.Name, err)
	}
	msg := strings.ToLower(me.Message)
	switch {
	case me.Code == erMasterFatalReading && (strings.Contains(msg, "same server_uuid/server_id") || strings.Contains(msg, "same server_id")):
		return change.Terminal(fmt.Errorf("mysql source %q: another replica connected with server_id %d: %w. Each replica of the server, cdcd sources included, needs its own mysql.server_id",
			s.cfg.Name, s.cfg.ServerID, err))
	case me.Code == erMasterFatalReading || me.Code == erMasterHasPurgedGTID:
		return purgedError(s.cfg.Name, from, err)
	case me.Code == erSpecificAccess || me.Code == erAccessDenied:
		return change.Terminal(fmt.Errorf("mysql source %q: reading the binlog: %w (cdcd's user needs REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO <cdcd user>)", s.cfg.Name, err))
	}
	return fmt.Errorf("mysql source %q: binlog stream: %w", s.cfg.Name, err)
}

// purgedError is the terminal error for a stored position the server can no longer stream from.
func purgedError(source, from string, cause error) error {
	return change.Terminal(fmt.Errorf("mysql source %q: the server cannot stream the binlog from the stored GTID position %q: %v. "+
		"The changes since then are gone from its binlog (purged, or the server was reset or replaced), and cdcd will not skip them silently. "+
		"To recover, re-snapshot: run `cdcd offsets reset --config <file> --source %s --to snapshot` and start cdcd again; "+
		"it takes a new snapshot that replaces the ClickHouse rows",
		source, from, cause, source))
}
