package mysql

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// Temporal values: DATE, DATETIME, TIMESTAMP and TIME in the binlog's encodings (both the 5.6+
// "2" forms with fractional seconds and the old ones), and in the text the snapshot's protocol
// gives. Values MySQL accepts but that are not points in time (zero dates, a zero month or day,
// February 30 under ALLOW_INVALID_DATES) become BadValues.

// fracBytes is the size of the fractional-seconds part for fsp digits.
func fracBytes(fsp uint16) int { return int(fsp+1) / 2 }

// readFrac reads the fractional part of a DATETIME2/TIMESTAMP2 as microseconds.
func readFrac(b []byte, fsp uint16) int64 {
	switch fsp {
	case 1, 2:
		return int64(b[0]) * 10000
	case 3, 4:
		return int64(binary.BigEndian.Uint16(b)) * 100
	case 5, 6:
		return int64(b[0])<<16 | int64(b[1])<<8 | int64(b[2])
	}
	return 0
}

// fracFits reports whether microseconds us have no digits beyond fsp (MySQL never writes such a
// value; a corrupt one is not silently kept or cut).
func fracFits(us int64, fsp uint16) bool {
	unit := int64(1)
	for i := fsp; i < 6; i++ {
		unit *= 10
	}
	return us%unit == 0
}

// civil checks a calendar date and time and returns it as UTC, or an error naming the text.
func civil(y, mo, d, h, mi, s int, us int64) (time.Time, error) {
	if y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 || us < 0 || us > 999999 {
		return time.Time{}, fmt.Errorf("%04d-%02d-%02d %02d:%02d:%02d.%06d is not a valid date and time", y, mo, d, h, mi, s, us)
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, int(us)*1000, time.UTC), nil
}

func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// decodeDate decodes a 3-byte DATE: day | month << 5 | year << 9.
func decodeDate(b []byte) (any, int, error) {
	if len(b) < 3 {
		return nil, 0, errShort
	}
	v := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	t, err := civil(v>>9, v>>5&15, v&31, 0, 0, 0, 0)
	if err != nil {
		return bad(fmt.Sprintf("%04d-%02d-%02d", v>>9, v>>5&15, v&31), err), 3, nil
	}
	return t, 3, nil
}

// decodeDatetime2 decodes DATETIME(fsp): 5 big-endian bytes (sign, year*13+month, day, hour,
// minute, second) and the fraction.
func decodeDatetime2(b []byte, fsp uint16) (any, int, error) {
	n := 5 + fracBytes(fsp)
	if fsp > 6 {
		return nil, 0, errMalformed("DATETIME fsp %d", fsp)
	}
	if len(b) < n {
		return nil, 0, errShort
	}
	v := int64(b[0])<<32 | int64(binary.BigEndian.Uint32(b[1:])) - 0x8000000000
	us := readFrac(b[5:], fsp)
	if v < 0 {
		return bad(fmt.Sprintf("datetime %d", v), fmt.Errorf("negative DATETIME")), n, nil
	}
	ym := int(v >> 22 & (1<<17 - 1))
	y, mo, d := ym/13, ym%13, int(v>>17&31)
	h, mi, s := int(v>>12&31), int(v>>6&63), int(v&63)
	t, err := civil(y, mo, d, h, mi, s, us)
	if err == nil && !fracFits(us, fsp) {
		err = fmt.Errorf("fraction %d µs has digits beyond DATETIME(%d)", us, fsp)
	}
	if err != nil {
		return bad(fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, d, h, mi, s, us), err), n, nil
	}
	return t, n, nil
}

// decodeDatetime decodes the pre-5.6 DATETIME: a little-endian uint64 YYYYMMDDhhmmss.
func decodeDatetime(b []byte) (any, int, error) {
	if len(b) < 8 {
		return nil, 0, errShort
	}
	v := binary.LittleEndian.Uint64(b)
	d, t := v/1000000, v%1000000
	y, mo, day := int(d/10000), int(d/100%100), int(d%100)
	h, mi, s := int(t/10000), int(t/100%100), int(t%100)
	tm, err := civil(y, mo, day, h, mi, s, 0)
	if err != nil {
		return bad(strconv.FormatUint(v, 10), err), 8, nil
	}
	return tm, 8, nil
}

// decodeTimestamp2 decodes TIMESTAMP(fsp): big-endian seconds since the epoch and the fraction, an
// instant (the binlog holds it in UTC, whatever the session time zone).
func decodeTimestamp2(b []byte, fsp uint16) (any, int, error) {
	if fsp > 6 {
		return nil, 0, errMalformed("TIMESTAMP fsp %d", fsp)
	}
	n := 4 + fracBytes(fsp)
	if len(b) < n {
		return nil, 0, errShort
	}
	sec := int64(binary.BigEndian.Uint32(b))
	us := readFrac(b[4:], fsp)
	if us > 999999 || !fracFits(us, fsp) {
		return bad(fmt.Sprintf("%d.%d", sec, us), fmt.Errorf("TIMESTAMP(%d) fraction %d out of range", fsp, us)), n, nil
	}
	if sec == 0 && us == 0 {
		return bad("0000-00-00 00:00:00", fmt.Errorf("the zero TIMESTAMP is not an instant")), n, nil
	}
	return time.Unix(sec, us*1000).UTC(), n, nil
}

// decodeTimestamp decodes the pre-5.6 TIMESTAMP: little-endian seconds.
func decodeTimestamp(b []byte) (any, int, error) {
	if len(b) < 4 {
		return nil, 0, errShort
	}
	sec := int64(binary.LittleEndian.Uint32(b))
	if sec == 0 {
		return bad("0000-00-00 00:00:00", fmt.Errorf("the zero TIMESTAMP is not an instant")), 4, nil
	}
	return time.Unix(sec, 0).UTC(), 4, nil
}

// decodeTime2 decodes TIME(fsp) to a signed duration (MySQL's TIME is an interval: -838:59:59 to
// 838:59:59, fraction included).
func decodeTime2(b []byte, fsp uint16) (any, int, error) {
	if fsp > 6 {
		return nil, 0, errMalformed("TIME fsp %d", fsp)
	}
	n := 3 + fracBytes(fsp)
	if len(b) < n {
		return nil, 0, errShort
	}
	intPart := int64(b[0])<<16 | int64(b[1])<<8 | int64(b[2]) - 0x800000
	var packed int64 // hms << 24 | microseconds, signed
	switch fsp {
	case 1, 2:
		frac := int64(b[3])
		if intPart < 0 && frac != 0 {
			intPart++ // negative fractions are stored reversed, for sorting
			frac -= 0x100
		}
		packed = intPart<<24 + frac*10000
	case 3, 4:
		frac := int64(binary.BigEndian.Uint16(b[3:]))
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x10000
		}
		packed = intPart<<24 + frac*100
	case 5, 6:
		packed = (int64(b[0])<<40 | int64(b[1])<<32 | int64(binary.BigEndian.Uint32(b[2:]))) - 0x800000000000
	default:
		packed = intPart << 24
	}
	neg := packed < 0
	if neg {
		packed = -packed
	}
	hms := packed >> 24
	h, mi, s, us := hms>>12&1023, hms>>6&63, hms&63, packed&(1<<24-1)
	if mi > 59 || s > 59 || us > 999999 || !fracFits(us, fsp) {
		return bad(fmt.Sprintf("%d:%d:%d.%d", h, mi, s, us), fmt.Errorf("invalid TIME")), n, nil
	}
	d := time.Duration((h*3600+mi*60+s)*1e6+us) * time.Microsecond
	if neg {
		d = -d
	}
	return d, n, nil
}

// decodeTime decodes the pre-5.6 TIME: a signed little-endian 3-byte integer [-]HHHMMSS.
func decodeTime(b []byte) (any, int, error) {
	if len(b) < 3 {
		return nil, 0, errShort
	}
	v := int64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8)
	neg := v < 0
	if neg {
		v = -v
	}
	h, mi, s := v/10000, v/100%100, v%100
	if mi > 59 || s > 59 {
		return bad(strconv.FormatInt(v, 10), fmt.Errorf("invalid TIME")), 3, nil
	}
	d := time.Duration(h*3600+mi*60+s) * time.Second
	if neg {
		d = -d
	}
	return d, 3, nil
}

// parseDateTimeText parses the snapshot protocol's "YYYY-MM-DD[ hh:mm:ss[.ffffff]]".
func parseDateTimeText(s string) (time.Time, error) {
	bad := fmt.Errorf("%q is not a valid date and time", s)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, bad
	}
	y, e1 := strconv.Atoi(s[:4])
	mo, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:10])
	if e1 != nil || e2 != nil || e3 != nil {
		return time.Time{}, bad
	}
	var h, mi, sec int
	var us int64
	if len(s) > 10 {
		if len(s) < 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
			return time.Time{}, bad
		}
		var e4, e5, e6 error
		h, e4 = strconv.Atoi(s[11:13])
		mi, e5 = strconv.Atoi(s[14:16])
		sec, e6 = strconv.Atoi(s[17:19])
		if e4 != nil || e5 != nil || e6 != nil {
			return time.Time{}, bad
		}
		if len(s) > 19 {
			var err error
			if us, err = parseMicros(s[19:]); err != nil {
				return time.Time{}, bad
			}
		}
	}
	return civil(y, mo, d, h, mi, sec, us)
}

// parseMicros parses ".ffffff" (1 to 6 digits) as microseconds.
func parseMicros(s string) (int64, error) {
	if len(s) < 2 || len(s) > 7 || s[0] != '.' {
		return 0, fmt.Errorf("bad fraction %q", s)
	}
	v, err := strconv.ParseUint(s[1:], 10, 32)
	if err != nil {
		return 0, err
	}
	for i := len(s) - 1; i < 6; i++ {
		v *= 10
	}
	return int64(v), nil
}

// parseTimeText parses the snapshot protocol's TIME "[-]h+:mm:ss[.ffffff]".
func parseTimeText(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a valid TIME", s)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	c1 := indexByte(s, ':')
	if c1 < 1 || len(s) < c1+6 || s[c1+3] != ':' {
		return 0, bad
	}
	h, e1 := strconv.ParseInt(s[:c1], 10, 64)
	mi, e2 := strconv.ParseInt(s[c1+1:c1+3], 10, 64)
	sec, e3 := strconv.ParseInt(s[c1+4:c1+6], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || mi > 59 || sec > 59 || h > 1<<20 {
		return 0, bad
	}
	var us int64
	if rest := s[c1+6:]; rest != "" {
		var err error
		if us, err = parseMicros(rest); err != nil {
			return 0, bad
		}
	}
	d := time.Duration((h*3600+mi*60+sec)*1e6+us) * time.Microsecond
	if neg {
		d = -d
	}
	return d, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
