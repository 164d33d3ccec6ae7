package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/deadletters"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

const deadLettersUsage = `Usage:
  cdcd dead-letters list --config FILE [--source NAME] [--table SCHEMA.TABLE] [--all] [--limit N]
  cdcd dead-letters replay --config FILE --source NAME [--table SCHEMA.TABLE] [--dry-run]
  cdcd dead-letters discard --config FILE --source NAME [--table SCHEMA.TABLE] [--version V] [--key KEY] [--dry-run]

Rows ClickHouse could not take are kept in _cdcd_dead_letters with the reason and their record.

list prints the letters still dead (with --all, also those replayed or discarded) as JSON lines,
each record decoded through the schema registry.

replay writes a source's dead letters into their tables after you have fixed what rejected them
(for example ALTER TABLE ... MODIFY COLUMN to a type that holds the value), at their original
versions, so newer changes of the same rows still win. A letter rejected again stays dead with the
new reason. Letters held as JSON (a value Avro cannot hold, such as a zero date) cannot be
replayed: write those rows by hand, then discard them. Exit status 1 if any letter was rejected
again.

discard marks the selected dead letters as dealt with; KEY is the letter's key as list shows it.
`

func cmdDeadLetters(args []string, stdout, stderr io.Writer) error {
	return subcommand("dead-letters", deadLettersUsage, map[string]command{
		"list": cmdDeadLettersList, "replay": cmdDeadLettersReplay, "discard": cmdDeadLettersDiscard}, args, stdout, stderr)
}

// deadLettersEnv is a connection to the dead-letter table and the registry of its records.
type deadLettersEnv struct {
	cfg   *config.Config
	store *deadletters.Store
	caps  clickhouse.Capabilities
	close func()
}

func openDeadLetters(ctx context.Context, cfg *config.Config, stderr io.Writer) (*deadLettersEnv, error) {
	log := newLogger(cfg, stderr)
	conn, caps, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	db := cfg.ClickHouse.Database
	reg, _, err := registryClient(ctx, cfg, conn, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &deadLettersEnv{cfg: cfg, caps: caps, close: func() { conn.Close() },
		store: &deadletters.Store{Conn: conn, Database: db, Registry: reg, Log: log}}, nil
}

// letterFlags are the flags that select letters.
type letterFlags struct {
	path, source, table *string
}

func addLetterFlags(fs interface {
	String(name, value, usage string) *string
}) letterFlags {
	return letterFlags{
		path:   fs.String("config", "", "the configuration `file`"),
		source: fs.String("source", "", "the source `name`"),
		table:  fs.String("table", "", "only this `table` (schema.table, as the letters name it)"),
	}
}

// open loads the configuration, checks --source when sourceRequired (it must name a configured
// source) and opens the dead-letter table.
func (f letterFlags) open(ctx context.Context, sourceRequired bool, stderr io.Writer) (*deadLettersEnv, error) {
	cfg, err := loadConfig(*f.path)
	if err != nil {
		return nil, err
	}
	if sourceRequired {
		if *f.source == "" {
			return nil, badInput("--source is required")
		}
		if _, _, err := sourceByName(cfg, *f.source); err != nil {
			return nil, err
		}
	}
	return openDeadLetters(ctx, cfg, stderr)
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func cmdDeadLettersList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dead-letters list", "cdcd dead-letters list --config FILE [--source NAME] [--table SCHEMA.TABLE] [--all] [--limit N]", stderr)
	f := addLetterFlags(fs)
	all := fs.Bool("all", false, "also letters already replayed or discarded")
	limit := fs.Int("limit", 0, "at most `n` letters (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return badInput("--limit must not be negative")
	}
	ctx, stop := signalContext()
	defer stop()
	// A source no longer configured may still have letters: list accepts any name.
	env, err := f.open(ctx, false, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	filter := clickhouse.DeadLetterFilter{Source: *f.source, Table: *f.table, All: *all, Limit: *limit}
	return env.store.List(ctx, filter, func(d deadletters.Shown) error { return enc.Encode(d) })
}

func cmdDeadLettersReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dead-letters replay", "cdcd dead-letters replay --config FILE --source NAME [--table SCHEMA.TABLE] [--dry-run]", stderr)
	f := addLetterFlags(fs)
	dry := fs.Bool("dry-run", false, "decode the letters and say what would be replayed, writing nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	env, err := f.open(ctx, true, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	start := time.Now()
	rep, err := env.store.Replay(ctx, *f.source, *f.table, env.caps, *dry)
	verb := "replayed"
	if *dry {
		verb = "would replay"
	}
	fmt.Fprintf(stdout, "%s %d dead letters of source %s", verb, rep.Replayed, *f.source)
	if *f.table != "" {
		fmt.Fprintf(stdout, " table %s", *f.table)
	}
	fmt.Fprintf(stdout, " (%v)\n", time.Since(start).Round(time.Millisecond))
	for _, id := range rep.Again {
		fmt.Fprintf(stdout, "rejected again: %s version %d seq %d key %s (cdcd dead-letters list shows the reason)\n", id.Table, id.Version, id.Seq, id.Key)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "not replayable: %s version %d seq %d key %s: %s\n", s.Table, s.Version, s.Seq, s.Key, s.Reason)
	}
	if err != nil {
		return err
	}
	if len(rep.Again) > 0 {
		return fmt.Errorf("%d dead letters were rejected again and stay dead", len(rep.Again))
	}
	return nil
}

func cmdDeadLettersDiscard(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dead-letters discard", "cdcd dead-letters discard --config FILE --source NAME [--table SCHEMA.TABLE] [--version V] [--key KEY] [--dry-run]", stderr)
	f := addLetterFlags(fs)
	version := fs.Uint64("version", 0, "only letters of this `version` (as list shows it)")
	key := fs.String("key", "", "only letters of this `key` (the JSON array list shows)")
	dry := fs.Bool("dry-run", false, "count the letters, change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var keyVals []any
	if *key != "" && json.Unmarshal([]byte(*key), &keyVals) != nil {
		return badInput("--key %q is not the JSON array dead-letters list shows (for example '[\"42\"]')", *key)
	}
	ctx, stop := signalContext()
	defer stop()
	env, err := f.open(ctx, true, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	filter := clickhouse.DeadLetterFilter{Source: *f.source, Table: *f.table, Version: *version, Key: *key}
	n, err := env.store.Discard(ctx, filter, "discarded by the operator", *dry)
	if err != nil {
		return err
	}
	verb := "discarded"
	if *dry {
		verb = "would discard"
	}
	fmt.Fprintf(stdout, "%s %d dead letters of source %s\n", verb, n, *f.source)
	return nil
}
