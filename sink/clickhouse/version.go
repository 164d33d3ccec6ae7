package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a ClickHouse server version, major.minor.patch.
type Version struct{ Major, Minor, Patch int }

// ParseVersion parses what `SELECT version()` returns ("18.16.1", "24.8.4.13").
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("clickhouse version %q: want major.minor[.patch]", s)
	}
	var v Version
	var err error
	if v.Major, err = strconv.Atoi(parts[0]); err != nil {
		return Version{}, fmt.Errorf("clickhouse version %q: %w", s, err)
	}
	if v.Minor, err = strconv.Atoi(parts[1]); err != nil {
		return Version{}, fmt.Errorf("clickhouse version %q: %w", s, err)
	}
	if len(parts) > 2 {
		v.Patch, _ = strconv.Atoi(parts[2])
	}
	return v, nil
}

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Capabilities are the server features cdcd uses when present and falls back from when not.
type Capabilities struct {
	Version Version
	// IsDeleted: ReplacingMergeTree(ver, is_deleted) (23.2+). Without it the _current view
	// filters _is_deleted itself (it always does; with it, FINAL also leaves deleted rows out).
	IsDeleted bool
	// DateTime64: timestamps as DateTime64(6, 'UTC'); otherwise Int64 microseconds. Needs 22.8:
	// DateTime64 exists since 20.1 but until 22.8 silently clamped values outside 1925..2283.
	DateTime64 bool
	// Date32: dates as Date32 (1900..2299); otherwise Date (1970..2105). Needs 22.8 for the same
	// reason (Date32 exists since 21.9 with a clamped 1925..2283 range).
	Date32 bool
	// Bool: the Bool type (21.12+); otherwise UInt8.
	Bool bool
	// ReplaceView: CREATE OR REPLACE VIEW (20.1+); otherwise DROP and CREATE.
	ReplaceView bool
}

// CapabilitiesOf returns what a server of version v offers.
func CapabilitiesOf(v Version) Capabilities {
	return Capabilities{
		Version:     v,
		IsDeleted:   v.AtLeast(23, 2),
		DateTime64:  v.AtLeast(22, 8),
		Date32:      v.AtLeast(22, 8),
		Bool:        v.AtLeast(21, 12),
		ReplaceView: v.AtLeast(20, 1),
	}
}
