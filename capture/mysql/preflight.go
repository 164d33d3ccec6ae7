package mysql

import (
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/change"
)

// execer runs statements: a *client.Conn, or a fake in tests.
type execer interface {
	Execute(query string, args ...any) (*gomysql.Result, error)
}

// serverInfo is what cdcd learns of the server at start.
type serverInfo struct {
	flavor      Flavor
	version     serverVersion
	versionText string
	serverID    uint32
	vars        map[string]string // global variables, lower-case names
	grants      []string          // SHOW GRANTS
	collations  collationCharsets
}

// checkedVars are the global variables the checks read.
var checkedVars = []string{"log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata", "gtid_mode",
	"enforce_gtid_consistency", "binlog_row_value_options", "binlog_transaction_compression", "gtid_strict_mode"}

// readServer reads the server's version, id, settings and the user's grants.
func readServer(x execer) (serverInfo, error) {
	var si serverInfo
	r, err := x.Execute("SELECT @@version, @@version_comment, @@server_id")
	if err != nil {
		return si, fmt.Errorf("read server version: %w", err)
	}
	row := strRows(r)[0]
	si.versionText = row[0]
	si.flavor = DetectFlavor(row[0], row[1])
	si.version = parseVersion(row[0])
	id, _ := strconv.ParseUint(row[2], 10, 32)
	si.serverID = uint32(id)
	quoted := make([]string, len(checkedVars))
	for i, v := range checkedVars {
		quoted[i] = "'" + v + "'"
	}
	if r, err = x.Execute("SHOW GLOBAL VARIABLES WHERE Variable_name IN (" + strings.Join(quoted, ", ") + ")"); err != nil {
		return si, fmt.Errorf("read server variables: %w", err)
	}
	si.vars = map[string]string{}
	for _, row := range strRows(r) {
		si.vars[strings.ToLower(row[0])] = row[1]
	}
	if r, err = x.Execute("SHOW GRANTS"); err != nil {
		return si, fmt.Errorf("read the user's grants: %w", err)
	}
	for _, row := range strRows(r) {
		si.grants = append(si.grants, row[0])
	}
	si.collations = collationCharsets{}
	if r, err = x.Execute("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS"); err == nil {
		for _, row := range strRows(r) {
			if id, err := strconv.ParseUint(row[0], 10, 64); err == nil {
				si.collations[id] = strings.ToLower(row[1])
			}
		}
	}
	return si, nil
}

// preflight reads the server and checks what binlog capture needs; every failure names the
// setting or privilege at fault and how to fix it.
func (s *Source) preflight(x execer) (serverInfo, error) {
	si, err := readServer(x)
	if err != nil {
		return si, s.privilegeError("start-up checks", err)
	}
	if si.flavor, err = ResolveFlavor(s.cfg.Flavor, si.flavor, si.versionText); err != nil {
		return si, change.Terminal(fmt.Errorf("mysql source %q: %w", s.cfg.Name, err))
	}
	if err := checkServer(si, s.cfg.ServerID); err != nil {
		return si, change.Terminal(fmt.Errorf("mysql source %q: %w", s.cfg.Name, err))
	}
	if md := strings.ToUpper(si.vars["binlog_row_metadata"]); md != "FULL" {
		s.log.Warn("binlog_row_metadata is not FULL: column names, ENUM/SET labels and keys come from cdcd's schema history "+
			"(kept in ClickHouse); set binlog_row_metadata=FULL so every row event carries its own", "binlog_row_metadata", md)
	}
	return si, nil
}

// checkServer checks a server's settings, id and the user's privileges.
func checkServer(si serverInfo, serverID uint32) error {
	v := func(name string) string { return strings.ToUpper(si.vars[name]) }
	switch {
	case v("log_bin") != "ON" && v("log_bin") != "1":
		return fmt.Errorf("log_bin is %s: the server writes no binary log; start it with log-bin (log-bin=mysql-bin in my.cnf) and restart it", orNone(si.vars["log_bin"]))
	case v("binlog_format") != "ROW":
		return fmt.Errorf("binlog_format is %s but cdcd needs ROW: SET GLOBAL binlog_format = 'ROW' (and binlog-format=ROW in my.cnf); sessions opened before keep the old format",
			orNone(si.vars["binlog_format"]))
	case v("binlog_row_image") != "FULL":
		return fmt.Errorf("binlog_row_image is %s but cdcd needs FULL (whole old and new rows): SET GLOBAL binlog_row_image = 'FULL' (and binlog-row-image=FULL in my.cnf)",
			orNone(si.vars["binlog_row_image"]))
	}
	if si.flavor == MySQL {
		switch {
		case v("gtid_mode") != "ON":
			return fmt.Errorf("gtid_mode is %s: cdcd resumes from GTID sets, so GTIDs must be on (gtid_mode=ON and enforce_gtid_consistency=ON)", orNone(si.vars["gtid_mode"]))
		case strings.Contains(v("binlog_row_value_options"), "PARTIAL_JSON"):
			return fmt.Errorf("binlog_row_value_options is PARTIAL_JSON: JSON updates would be logged as diffs cdcd cannot apply; SET GLOBAL binlog_row_value_options = ''")
		case v("binlog_transaction_compression") == "ON":
			return fmt.Errorf("binlog_transaction_compression is ON, which cdcd does not read; SET GLOBAL binlog_transaction_compression = OFF")
		}
	} else if !si.version.atLeast(10, 0) {
		return fmt.Errorf("MariaDB %s has no GTIDs; cdcd needs MariaDB 10.0 or later", si.versionText)
	}
	if serverID == si.serverID {
		return fmt.Errorf("mysql.server_id %d is the server's own server_id; choose another, unique among its replicas", serverID)
	}
	return checkGrants(si.grants, si.flavor)
}

func orNone(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}
