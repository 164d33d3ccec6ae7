package mysql

import (
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// Flavor is the server family: its GTIDs, binlog events and snapshot locking differ.
type Flavor string

// The flavors.
const (
	MySQL   Flavor = gomysql.MySQLFlavor   // "mysql": uuid:interval GTID sets
	MariaDB Flavor = gomysql.MariaDBFlavor // "mariadb": domain-server-sequence GTIDs
)

// DetectFlavor tells the flavor from a server's version string (SELECT @@version, or the handshake's,
// which MariaDB prefixes with "5.5.5-") and version comment.
func DetectFlavor(version, comment string) Flavor {
	if strings.Contains(strings.ToLower(version), "mariadb") || strings.Contains(strings.ToLower(comment), "mariadb") {
		return MariaDB
	}
	return MySQL
}

// ResolveFlavor applies a configured flavor ("auto", "", "mysql", "mariadb") to a detected one: a
// configured flavor must match the server, since the two speak different binlog dialects.
func ResolveFlavor(configured string, detected Flavor, version string) (Flavor, error) {
	switch strings.ToLower(configured) {
	case "", "auto":
		return detected, nil
	case string(MySQL), string(MariaDB):
		if Flavor(strings.ToLower(configured)) != detected {
			return "", fmt.Errorf("mysql.flavor is %q but the server (version %s) is %s; set flavor: auto or %s", configured, version, detected, detected)
		}
		return detected, nil
	}
	return "", fmt.Errorf("mysql.flavor %q is not auto, mysql or mariadb", configured)
}

// serverVersion is a server's major.minor.patch, parsed from a version string.
type serverVersion struct{ Major, Minor, Patch int }

// parseVersion reads the leading x.y.z of a version string, skipping MariaDB's "5.5.5-" prefix.
func parseVersion(s string) serverVersion {
	s = strings.TrimPrefix(s, "5.5.5-")
	var v serverVersion
	fields := strings.SplitN(s, ".", 3)
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, f := range fields {
		end := 0
		for end < len(f) && f[end] >= '0' && f[end] <= '9' {
			end++
		}
		*nums[i], _ = strconv.Atoi(f[:end])
		if end < len(f) {
			break
		}
	}
	return v
}

// atLeast reports whether v >= major.minor.
func (v serverVersion) atLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}
