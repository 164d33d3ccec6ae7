// Command cdcd is the change-data-capture daemon and its operator CLI.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `cdcd: stream PostgreSQL and MySQL/MariaDB changes into ClickHouse.

Usage:
  cdcd version     print the version
  cdcd help        this text
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, "cdcd dev")
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "cdcd: unknown command %q\n\n%s", args[0], usage)
	return 2
}
