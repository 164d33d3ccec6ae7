package postgres

import (
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/cdcd-dev/cdcd/change"
)

// Positions of a PostgreSQL source.
//
// A transaction's events carry Version = its commit record's LSN (pgoutput's Begin.FinalLSN, known
// before the first event). A checkpoint after a transaction resumes at the commit's end LSN R and
// has Version R-1: every transaction streamed from R commits at R or later, so "Version <= offset"
// identifies exactly what is already delivered. The snapshot is a checkpoint at the slot's
// consistent point, and its rows carry that checkpoint's Version.

// checkpoint returns the position that resumes at lsn.
func checkpoint(lsn pglogrepl.LSN) change.Position {
	return change.Position{Version: uint64(lsn) - 1, Token: lsn.String()}
}

// ParsePosition parses an offset or an operator's --to value: an LSN such as 16/B374D848.
func ParsePosition(s string) (change.Position, error) {
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil || lsn == 0 {
		return change.Position{}, fmt.Errorf("%q is not a PostgreSQL LSN (like 16/B374D848)", s)
	}
	return checkpoint(lsn), nil
}

// resumeLSN returns the LSN a stored position resumes from.
func resumeLSN(p change.Position) (pglogrepl.LSN, error) {
	lsn, err := pglogrepl.ParseLSN(p.Token)
	if err != nil {
		return 0, fmt.Errorf("stored offset %q is not an LSN: %w", p.Token, err)
	}
	return lsn, nil
}
