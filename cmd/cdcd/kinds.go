package main

import (
	"context"
	"log/slog"

	"github.com/cdcd-dev/cdcd/capture"
	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/offsets"
)

// sourceKind is one kind of source (postgres, mysql). Each registers itself from its own file's
// init, keyed by config.Source.Kind().
type sourceKind struct {
	// new builds the capture source of a configured entry; store keeps what the source keeps
	// beside its offsets (MySQL's schema history).
	new func(s *config.Source, log *slog.Logger, store *offsets.Store) capture.Source
	// inspect reads what the offsets CLI shows and needs of a configured source.
	inspect func(ctx context.Context, s *config.Source, log *slog.Logger) (sourceStatus, error)
	// tail builds a source that streams from now without touching the daemon's position (cdcd
	// tail); nil when the kind cannot.
	tail func(s *config.Source, log *slog.Logger) capture.Source
	// checkPosition checks the form of an operator's --to before anything is connected (so a
	// malformed position is bad input even with the servers down); nil where the form depends on
	// the server.
	checkPosition func(s *config.Source, to string) error
}

// sourceStatus is an operator's view of a source, read by inspect.
type sourceStatus interface {
	// Current is the source's current position, in its own text form.
	Current() string
	// Lag says how far stored is behind the current position ("12.3 MiB", "42 transactions").
	Lag(stored change.Position) string
	// Detail describes what holds the source's position (a replication slot, binlog files).
	Detail() string
	// InUse reports whether something streams from the source right now, and what.
	InUse() (bool, string)
	// ResolveReset turns an operator's --to (a position in the source's form, or "latest") into a
	// position the source can serve, with a sentence on what moving there means; a position it
	// cannot serve is an error saying why and what it can serve.
	ResolveReset(to string, stored change.Position, hasStored bool) (change.Position, string, error)
}

var sourceKinds = map[string]sourceKind{}

func registerKind(name string, k sourceKind) { sourceKinds[name] = k }

// kindOf returns a configured source's kind, or bad input when this build has none for it.
func kindOf(s *config.Source) (sourceKind, error) {
	k, ok := sourceKinds[s.Kind()]
	if !ok {
		return sourceKind{}, badInput("source %q: %s sources are not supported by this build", s.Name, s.Kind())
	}
	return k, nil
}
