package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cdcd-dev/cdcd/config"
)

// newFlags returns a FlagSet whose errors and --help are reported on stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args: --help exits 0, a bad flag or a stray argument exits 2 (the FlagSet has
// already said why).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: 0}
		}
		return &exitError{code: 2}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return &exitError{code: 2}
	}
	return nil
}

// command is one CLI command: its arguments after its name, and where it writes.
type command func(args []string, stdout, stderr io.Writer) error

// subcommand runs the command of group (offsets, dead-letters) that args name: none is bad input
// with the group's usage, --help prints it.
func subcommand(group, usage string, cmds map[string]command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		slices.Sort(names)
		return badInput("unknown %s command %q (%s)", group, args[0], strings.Join(names, ", "))
	}
	return cmd(args[1:], stdout, stderr)
}

// loadConfig loads the --config file; a missing flag or a bad file is bad input.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, badInput("--config is required")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "cdcd check --config FILE", stderr)
	path := fs.String("config", "", "the configuration `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if _, err := checkConfig(cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d aggregations)\n", *path, len(cfg.Sources), len(cfg.Aggregations))
	return nil
}
