package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// PostgreSQL counts dates and timestamps from 2000-01-01 00:00:00 UTC.
const (
	pgEpochUnix     = 946684800 // seconds from 1970-01-01 to 2000-01-01
	pgEpochUnixDays = 10957     // days from 1970-01-01 to 2000-01-01
	microsPerDay    = 86400 * 1000000
)

func decodeBinaryDate(data []byte) (any, error) {
	if len(data) != 4 {
		return nil, lengthError("date", len(data), 4)
	}
	switch d := int32(binary.BigEndian.Uint32(data)); d {
	case math.MaxInt32:
		return nil, &NotFiniteError{Type: "date", Value: "infinity"}
	case math.MinInt32:
		return nil, &NotFiniteError{Type: "date", Value: "-infinity"}
	default:
		return time.Unix((int64(d)+pgEpochUnixDays)*86400, 0).UTC(), nil
	}
}

func decodeBinaryTimestamp(data []byte) (any, error) { return binaryTimestamp(data, "timestamp") }

func decodeBinaryTimestamptz(data []byte) (any, error) { return binaryTimestamp(data, "timestamptz") }

// binaryTimestamp decodes int64 microseconds since 2000-01-01 00:00:00 (UTC for timestamptz, the
// wall clock for timestamp: both become a UTC time.Time).
func binaryTimestamp(data []byte, typ string) (any, error) {
	if len(data) != 8 {
		return nil, lengthError(typ, len(data), 8)
	}
	us := int64(binary.BigEndian.Uint64(data))
	switch us {
	case math.MaxInt64:
		return nil, &NotFiniteError{Type: typ, Value: "infinity"}
	case math.MinInt64:
		return nil, &NotFiniteError{Type: typ, Value: "-infinity"}
	}
	sec, rem := us/1000000, us%1000000
	if rem < 0 {
		sec, rem = sec-1, rem+1000000
	}
	return time.Unix(sec+pgEpochUnix, rem*1000).UTC(), nil
}

func decodeBinaryTime(data []byte) (any, error) {
	if len(data) != 8 {
		return nil, lengthError("time", len(data), 8)
	}
	us := int64(binary.BigEndian.Uint64(data))
	if us < 0 || us > microsPerDay {
		return nil, fmt.Errorf("time: binary value %d is not between 00:00:00 and 24:00:00", us)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// decodeTextDate decodes date's ISO text form: 2024-03-10, 0044-03-15 BC, 12345-01-01.
func decodeTextDate(data []byte) (any, error) {
	if err := textInfinity(data, "date"); err != nil {
		return nil, err
	}
	y, m, d, i, ok := parseYMD(data, 0)
	if ok {
		if y, i, ok = bcSuffix(data, i, y); ok && i == len(data) && d <= daysIn(m, y) {
			return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return nil, fmt.Errorf("date: %q is not an ISO date (YYYY-MM-DD)", clip(data))
}

func decodeTextTimestamp(data []byte) (any, error) { return textTimestamp(data, "timestamp", false) }

func decodeTextTimestamptz(data []byte) (any, error) { return textTimestamp(data, "timestamptz", true) }

// textTimestamp decodes a timestamp's ISO text form, YYYY-MM-DD HH:MM:SS[.ffffff] followed, for
// timestamptz, by the UTC offset ±HH[:MM[:SS]], then " BC" for dates before year 1.
func textTimestamp(data []byte, typ string, tz bool) (any, error) {
	if err := textInfinity(data, typ); err != nil {
		return nil, err
	}
	if t, ok := parseTimestamp(data, tz); ok {
		return t, nil
	}
	want := "YYYY-MM-DD HH:MM:SS[.ffffff]"
	if tz {
		want += "±HH[:MM[:SS]]"
	}
	return nil, fmt.Errorf("%s: %q is not an ISO timestamp (%s)", typ, clip(data), want)
}

func parseTimestamp(data []byte, tz bool) (time.Time, bool) {
	y, mo, d, i, ok := parseYMD(data, 0)
	if !ok || i >= len(data) || data[i] != ' ' {
		return time.Time{}, false
	}
	h, mi, s, us, i, ok := parseHMS(data, i+1)
	if !ok || h > 23 {
		return time.Time{}, false
	}
	offset := 0
	if tz {
		if offset, i, ok = parseOffset(data, i); !ok {
			return time.Time{}, false
		}
	}
	if y, i, ok = bcSuffix(data, i, y); !ok || i != len(data) || d > daysIn(mo, y) {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, us*1000, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

// decodeTextTime decodes time's text form HH:MM:SS[.ffffff] (24:00:00 included) to the duration
// since midnight.
func decodeTextTime(data []byte) (any, error) {
	h, m, s, us, i, ok := parseHMS(data, 0)
	if ok && i == len(data) && (h < 24 || h == 24 && m == 0 && s == 0 && us == 0) {
		return time.Duration(((h*60+m)*60+s)*1000000+us) * time.Microsecond, nil
	}
	return nil, fmt.Errorf("time: %q is not a time of day (HH:MM:SS[.ffffff])", clip(data))
}

// textInfinity returns the error for the text forms of ±infinity, nil for any other value.
func textInfinity(data []byte, typ string) error {
	switch string(data) {
	case "infinity":
		return &NotFiniteError{Type: typ, Value: "infinity"}
	case "-infinity":
		return &NotFiniteError{Type: typ, Value: "-infinity"}
	}
	return nil
}

// digits parses exactly n decimal digits at data[i:].
func digits(data []byte, i, n int) (int, bool) {
	if i+n > len(data) {
		return 0, false
	}
	v := 0
	for _, c := range data[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseYMD parses YYYY-MM-DD at data[i:], with 4 to 7 digits of year. The caller checks the day
// exists (daysIn) once bcSuffix has told the year.
func parseYMD(data []byte, i int) (y, m, d, next int, ok bool) {
	n := 0
	for i+n < len(data) && n < 8 && data[i+n] >= '0' && data[i+n] <= '9' {
		n++
	}
	if n < 4 || n > 7 {
		return 0, 0, 0, 0, false
	}
	y, _ = digits(data, i, n)
	i += n
	if i >= len(data) || data[i] != '-' {
		return 0, 0, 0, 0, false
	}
	if m, ok = digits(data, i+1, 2); !ok || i+3 >= len(data) || data[i+3] != '-' {
		return 0, 0, 0, 0, false
	}
	if d, ok = digits(data, i+4, 2); !ok || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, 0, 0, 0, false
	}
	return y, m, d, i + 6, true
}

// bcSuffix consumes " BC" at data[i:] and turns the year y into an astronomical year (1 BC is
// year 0); without the suffix, y must not be 0.
func bcSuffix(data []byte, i, y int) (int, int, bool) {
	if len(data)-i >= 3 && string(data[i:i+3]) == " BC" {
		if y == 0 {
			return 0, 0, false
		}
		return 1 - y, i + 3, true
	}
	return y, i, y != 0
}

// daysIn returns the number of days in month m of the astronomical year y (proleptic Gregorian).
func daysIn(m, y int) int {
	switch m {
	case 2:
		return 28 + leap(y)
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func leap(y int) int {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 1
	}
	return 0
}

// parseHMS parses HH:MM:SS[.f{1,6}] at data[i:] and returns the microseconds of the fraction.
func parseHMS(data []byte, i int) (h, m, s, us, next int, ok bool) {
	h, ok1 := digits(data, i, 2)
	m, ok2 := digits(data, i+3, 2)
	s, ok3 := digits(data, i+6, 2)
	if !ok1 || !ok2 || !ok3 || data[i+2] != ':' || data[i+5] != ':' || h > 24 || m > 59 || s > 59 {
		return 0, 0, 0, 0, 0, false
	}
	i += 8
	if i < len(data) && data[i] == '.' {
		i++
		n := 0
		for ; n < 6 && i < len(data) && data[i] >= '0' && data[i] <= '9'; n, i = n+1, i+1 {
			us = us*10 + int(data[i]-'0')
		}
		if n == 0 || i < len(data) && data[i] >= '0' && data[i] <= '9' {
			return 0, 0, 0, 0, 0, false
		}
		for ; n < 6; n++ {
			us *= 10
		}
	}
	return h, m, s, us, i, true
}

// parseOffset parses a UTC offset ±HH[:MM[:SS]] at data[i:] and returns it in seconds east of UTC.
func parseOffset(data []byte, i int) (int, int, bool) {
	if i >= len(data) || data[i] != '+' && data[i] != '-' {
		return 0, 0, false
	}
	sign := 1
	if data[i] == '-' {
		sign = -1
	}
	h, ok := digits(data, i+1, 2)
	if !ok || h > 15 {
		return 0, 0, false
	}
	off, i := h*3600, i+3
	for unit := 60; unit >= 1 && i < len(data) && data[i] == ':'; unit /= 60 {
		v, ok := digits(data, i+1, 2)
		if !ok || v > 59 {
			return 0, 0, false
		}
		off, i = off+v*unit, i+3
	}
	return sign * off, i, true
}
