// Command cdcd is the change-data-capture daemon and its operator CLI. It only wires the stages
// together: each package owns its part (see README.md).
//
// Exit status: 0 success; 1 a failure at run time (a server unreachable, a terminal pipeline error,
// an operation refused because a daemon runs the source); 2 bad input (usage, configuration, an
// unknown source, a position that is malformed or that the source cannot serve).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `cdcd streams PostgreSQL and MySQL/MariaDB changes into ClickHouse, exactly once.

Usage:
  cdcd run --config FILE                 run the daemon
  cdcd check --config FILE               validate a configuration file (no server needed)
  cdcd offsets list --config FILE        show stored positions, source positions and lag
  cdcd offsets reset --config FILE --source NAME --to POSITION|latest|snapshot [--dry-run]
                                         move a source's stored position (daemon stopped)
  cdcd tail --config FILE --source NAME [--table T] [--limit N]
                                         print live changes as JSON, decoded through the registry
  cdcd dead-letters list|replay|discard --config FILE [--source NAME] ...
                                         show rows ClickHouse rejected, replay them after a fix
  cdcd version                           print the version

Every command takes --help. Secrets come from the environment (${VAR} in the file) or files,
never from the command line.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks an error as bad input: exit status 2.
func badInput(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(args[1:], stdout, stderr)
	case "offsets":
		err = cmdOffsets(args[1:], stdout, stderr)
	case "tail":
		err = cmdTail(args[1:], stdout, stderr)
	case "dead-letters":
		err = cmdDeadLetters(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "cdcd", version)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		err = badInput("unknown command %q (see cdcd --help)", args[0])
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ee.code // already reported (--help, flag errors)
	}
	fmt.Fprintln(stderr, "cdcd:", err)
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
