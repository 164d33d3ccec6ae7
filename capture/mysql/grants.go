package mysql

import (
	"fmt"
	"strings"
)

// grantSet is what SHOW GRANTS gives the user globally (ON *.*), and whether roles are granted
// (whose privileges SHOW GRANTS may not list: then only the server's own errors tell).
type grantSet struct {
	global map[string]bool // upper-case privilege names
	roles  bool
}

// parseGrants reads SHOW GRANTS lines: "GRANT SELECT, REPLICATION SLAVE ON *.* TO `u`@`%`",
// "GRANT ALL PRIVILEGES ON *.* TO ...", "GRANT `role` TO `u`@`%`".
func parseGrants(lines []string) grantSet {
	g := grantSet{global: map[string]bool{}}
	for _, line := range lines {
		toks, err := tokenize(line)
		if err != nil || len(toks) == 0 || !toks[0].is("grant") {
			continue
		}
		var privs []string
		var cur []string
		i := 1
		for ; i < len(toks) && !toks[i].is("on") && !toks[i].is("to"); i++ {
			t := toks[i]
			switch {
			case t.isPunct(','):
				privs = append(privs, strings.Join(cur, " "))
				cur = nil
			case t.isPunct('('): // column-level grants: SELECT (a, b)
				for i < len(toks) && !toks[i].isPunct(')') {
					i++
				}
			case t.kind == tkWord:
				cur = append(cur, strings.ToUpper(t.text))
			case t.kind == tkIdent || t.kind == tkString:
				g.roles = true // GRANT `role` TO user
			}
		}
		privs = append(privs, strings.Join(cur, " "))
		if i >= len(toks) || !toks[i].is("on") {
			continue
		}
		// ON *.*: the global level (MariaDB may write the PROXY and FUNCTION forms too).
		if i+3 < len(toks) && toks[i+1].isPunct('*') && toks[i+2].isPunct('.') && toks[i+3].isPunct('*') {
			for _, p := range privs {
				g.global[strings.TrimSuffix(p, " PRIVILEGES")] = true
			}
		}
	}
	return g
}

// has reports whether the user holds one of privs globally.
func (g grantSet) has(privs ...string) bool {
	if g.global["ALL"] {
		return true
	}
	for _, p := range privs {
		if g.global[p] {
			return true
		}
	}
	return false
}

// checkGrants checks the global privileges binlog capture needs. A user with roles is not refused
// here: the server refuses what is missing, and cdcd reports it then.
func checkGrants(lines []string, f Flavor) error {
	g := parseGrants(lines)
	if g.roles || len(lines) == 0 {
		return nil
	}
	if !g.has("REPLICATION SLAVE", "REPLICATION REPLICA", "SUPER") {
		return fmt.Errorf("cdcd's user lacks the REPLICATION SLAVE privilege, which reading the binlog needs: GRANT REPLICATION SLAVE ON *.* TO <cdcd user>")
	}
	if f == MariaDB {
		if !g.has("BINLOG MONITOR", "REPLICATION CLIENT", "SUPER") {
			return fmt.Errorf("cdcd's user lacks the BINLOG MONITOR privilege (REPLICATION CLIENT before MariaDB 10.5), which reading the binlog position needs: GRANT BINLOG MONITOR ON *.* TO <cdcd user>")
		}
	} else if !g.has("REPLICATION CLIENT", "SUPER") {
		return fmt.Errorf("cdcd's user lacks the REPLICATION CLIENT privilege, which reading the binlog position needs: GRANT REPLICATION CLIENT ON *.* TO <cdcd user>")
	}
	return nil
}
