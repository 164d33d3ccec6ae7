package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/offsets"
)

const offsetsUsage = `Usage:
  cdcd offsets list --config FILE
  cdcd offsets reset --config FILE --source NAME --to POSITION|latest|snapshot [--dry-run]

list shows, for each configured source, the position stored in ClickHouse, the source's current
position and how far behind the stored one is.

reset moves a source's stored position. POSITION is in the source's own form: PostgreSQL, an LSN
such as 16/B374D848; MariaDB, a GTID position such as 0-1-42 (one GTID per domain, comma-separated);
MySQL, an executed GTID set such as 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100, the transactions
already delivered. "latest" is the source's current position (skipping everything until now);
"snapshot" forgets the position so the next start takes a new snapshot. A position the source can
no longer serve is refused with the range it can; so is any reset while a daemon runs the source.
`

func cmdOffsets(args []string, stdout, stderr io.Writer) error {
	return subcommand("offsets", offsetsUsage, map[string]command{"list": cmdOffsetsList, "reset": cmdOffsetsReset},
		args, stdout, stderr)
}

// offsetsEnv is what both offsets commands open.
type offsetsEnv struct {
	cfg   *config.Config
	store *offsets.Store
	close func()
	log   *slog.Logger
}

func openOffsets(ctx context.Context, cfg *config.Config, stderr io.Writer) (*offsetsEnv, error) {
	log := newLogger(cfg, stderr)
	conn, _, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	db := cfg.ClickHouse.Database
	store := offsets.NewStore(conn, db)
	if err := store.Ensure(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return &offsetsEnv{cfg: cfg, store: store, close: func() { conn.Close() }, log: log}, nil
}

func cmdOffsetsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("offsets list", "cdcd offsets list --config FILE", stderr)
	path := fs.String("config", "", "the configuration `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, err := openOffsets(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tSTORED\tUPDATED\tCURRENT\tLAG\tDETAIL")
	var failed error
	for i := range env.cfg.Sources {
		s := &env.cfg.Sources[i]
		o, ok, err := env.store.Load(ctx, s.Name)
		if err != nil {
			return err
		}
		stored, updated := "-", "-"
		if ok && !o.Position.IsZero() {
			stored, updated = o.Position.Token, o.Updated.UTC().Format(time.RFC3339)
		} else if ok {
			stored = "(snapshot)"
		}
		current, lag, detail := "?", "?", ""
		if k, err := kindOf(s); err != nil {
			detail = err.Error()
		} else if st, err := k.inspect(ctx, s, env.log); err != nil {
			detail, failed = "unreachable: "+err.Error(), err
		} else {
			current, detail = st.Current(), st.Detail()
			if ok && !o.Position.IsZero() {
				lag = st.Lag(o.Position)
			}
		}
		if l, ok, err := env.store.CurrentLease(ctx, s.Name); err == nil && ok && l.Alive() {
			detail += "; running: " + l.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind(), stored, updated, current, lag, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("some sources could not be inspected")
	}
	return nil
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func cmdOffsetsReset(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("offsets reset", "cdcd offsets reset --config FILE --source NAME --to POSITION|latest|snapshot [--dry-run]", stderr)
	path := fs.String("config", "", "the configuration `file`")
	name := fs.String("source", "", "the source `name`")
	to := fs.String("to", "", "the new `position`: the source's own form, latest, or snapshot")
	dry := fs.Bool("dry-run", false, "say what would change and change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *to == "" {
		fs.Usage()
		return badInput("--source and --to are required")
	}
	// The source and the position's form are checked before connecting: bad input is exit 2
	// whether or not the servers are up.
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	s, k, err := sourceByName(cfg, *name)
	if err != nil {
		return err
	}
	if *to != "latest" && *to != "snapshot" && k.checkPosition != nil {
		if err := k.checkPosition(s, *to); err != nil {
			return badInput("source %q: %v", s.Name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, err := openOffsets(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if l, ok, err := env.store.CurrentLease(ctx, s.Name); err != nil {
		return err
	} else if ok && l.Alive() {
		return fmt.Errorf("source %q is being run by %s: stop the daemon first (a reset under a running daemon would be overwritten or replayed out of order)", s.Name, l)
	}
	prev, hadPrev, err := env.store.Load(ctx, s.Name)
	if err != nil {
		return err
	}

	st, err := k.inspect(ctx, s, env.log)
	if err != nil {
		return err
	}
	if busy, what := st.InUse(); busy {
		return fmt.Errorf("source %q: %s: stop the daemon first", s.Name, what)
	}
	var pos change.Position
	detail := "the next start takes a new snapshot (replacing the ClickHouse rows)"
	if *to != "snapshot" {
		if pos, detail, err = st.ResolveReset(*to, prev.Position, hadPrev); err != nil {
			return badInput("source %q: %v", s.Name, err)
		}
	}

	from := "(none)"
	if hadPrev {
		from = prev.Position.Token
		if prev.Position.IsZero() {
			from = "(snapshot)"
		}
	}
	target := pos.Token
	if *to == "snapshot" {
		target = "(snapshot)"
	}
	if *dry {
		fmt.Fprintf(stdout, "source %s: would move the offset from %s to %s (dry run: nothing changed)\n", s.Name, from, target)
		if detail != "" {
			fmt.Fprintf(stdout, "  %s\n", detail)
		}
		return nil
	}
	if *to == "snapshot" {
		// The new snapshot saves the schema history it reads; older records (of another server's
		// binlog, after a failover) must not be read instead.
		if err := env.store.ForgetHistory(ctx, s.Name); err != nil {
			return err
		}
	}
	if _, err := env.store.Reset(ctx, s.Name, s.Kind(), pos, fmt.Sprintf("reset from %s to %s by cdcd offsets reset", from, target)); err != nil {
		return err
	}
	if *to == "snapshot" {
		// Every table is snapshotted again: none keeps the version of its old snapshot.
		if err := env.store.ForgetSnapshots(ctx, s.Name); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "source %s: offset moved from %s to %s\n", s.Name, from, target)
	if detail != "" {
		fmt.Fprintf(stdout, "  %s\n", detail)
	}
	return nil
}
