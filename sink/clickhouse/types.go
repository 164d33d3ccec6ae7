package clickhouse

import (
	"fmt"

	"github.com/cdcd-dev/cdcd/change"
)

// ColumnType returns the ClickHouse type that holds a column of type t exactly on a server with
// caps. Non-key columns are Nullable, except arrays (ClickHouse has no Nullable(Array)): a nullable
// array column gets a companion UInt8 column (see NullFlagColumn).
//
// The mapping (18.16 fallback / newer servers):
//
//	int8..int64, uint8..uint64   Int8..Int64, UInt8..UInt64
//	float32, float64             Float32, Float64
//	decimal(p,s), p <= 38        Decimal(p, s)
//	decimal unconstrained / >38  String (the exact decimal text)
//	string, json, enum, bytes    String
//	bool                         UInt8 / Bool (21.12+)
//	date                         Date (1970..2105) / Date32 (21.9+, 1900..2299)
//	timestamp, timestamptz       Int64 microseconds since 1970-01-01 UTC / DateTime64(6, 'UTC') (20.1+)
//	time                         Int64 microseconds since midnight
//	uuid                         UUID
//	T[]                          Array(Nullable(T))
func ColumnType(t change.Type, nullable bool, caps Capabilities) string {
	base := baseType(t, caps)
	if t.Kind == change.Array || !nullable {
		return base
	}
	return "Nullable(" + base + ")"
}

func baseType(t change.Type, caps Capabilities) string {
	switch t.Kind {
	case change.Int8:
		return "Int8"
	case change.Int16:
		return "Int16"
	case change.Int32:
		return "Int32"
	case change.Int64:
		return "Int64"
	case change.UInt8:
		return "UInt8"
	case change.UInt16:
		return "UInt16"
	case change.UInt32:
		return "UInt32"
	case change.UInt64:
		return "UInt64"
	case change.Float32:
		return "Float32"
	case change.Float64:
		return "Float64"
	case change.Decimal:
		if t.Precision <= 0 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return "String"
		}
		return fmt.Sprintf("Decimal(%d, %d)", t.Precision, t.Scale)
	case change.Bool:
		if caps.Bool {
			return "Bool"
		}
		return "UInt8"
	case change.Date:
		if caps.Date32 {
			return "Date32"
		}
		return "Date"
	case change.Timestamp, change.TimestampTZ:
		if caps.DateTime64 {
			return "DateTime64(6, 'UTC')"
		}
		return "Int64"
	case change.Time:
		return "Int64"
	case change.UUID:
		return "UUID"
	case change.Array:
		if t.Elem == nil || t.Elem.Kind == change.Array {
			return "String"
		}
		return "Array(Nullable(" + baseType(*t.Elem, caps) + "))"
	default: // String, JSON, Enum, Bytes, fallbacks
		return "String"
	}
}

// NullFlagColumn is the name of the UInt8 companion column that records whether a nullable array
// column is NULL (1) rather than an empty array.
func NullFlagColumn(name string) string { return name + "_is_null" }

// needsNullFlag reports whether a column gets a NullFlagColumn.
func needsNullFlag(c change.Column) bool { return c.Nullable && c.Type.Kind == change.Array }

// Widens reports whether ClickHouse column type from can be changed to to with MODIFY COLUMN
// without losing any value: same type, wider integers, Float32 to Float64, a Decimal with more
// integer digits and at least the scale, Date to Date32, anything to String, and Nullable or array
// forms of these.
func Widens(from, to string) bool {
	if from == to {
		return true
	}
	fi, fn := unwrap(from, "Nullable(")
	ti, tn := unwrap(to, "Nullable(")
	if fn && !tn {
		return false
	}
	if fa, ok := unwrap2(fi, "Array("); ok {
		ta, ok := unwrap2(ti, "Array(")
		return ok && Widens(fa, ta)
	}
	if ti == "String" {
		_, isArr := unwrap2(fi, "Array(")
		return !isArr
	}
	rank := map[string]int{"Int8": 1, "Int16": 2, "Int32": 3, "Int64": 4}
	urank := map[string]int{"UInt8": 1, "UInt16": 2, "UInt32": 3, "UInt64": 4}
	switch {
	case rank[fi] > 0 && rank[ti] > 0:
		return rank[ti] >= rank[fi]
	case urank[fi] > 0 && urank[ti] > 0:
		return urank[ti] >= urank[fi]
	case urank[fi] > 0 && rank[ti] > 0:
		return rank[ti] > urank[fi]
	case fi == "Float32" && ti == "Float64":
		return true
	case fi == "Date" && ti == "Date32":
		return true
	}
	var fp, fs, tp, ts int
	if n, _ := fmt.Sscanf(fi, "Decimal(%d, %d)", &fp, &fs); n == 2 {
		if n, _ := fmt.Sscanf(ti, "Decimal(%d, %d)", &tp, &ts); n == 2 {
			return ts >= fs && tp-ts >= fp-fs
		}
	}
	return false
}

func unwrap(t, prefix string) (string, bool) {
	if inner, ok := unwrap2(t, prefix); ok {
		return inner, true
	}
	return t, false
}

func unwrap2(t, prefix string) (string, bool) {
	if len(t) > len(prefix) && t[:len(prefix)] == prefix && t[len(t)-1] == ')' {
		return t[len(prefix) : len(t)-1], true
	}
	return "", false
}
