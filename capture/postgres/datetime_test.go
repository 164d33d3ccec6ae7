package postgres

import (
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

func utc(y int, mo time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
}

// pgMicros returns t as PostgreSQL's binary timestamp: microseconds since 2000-01-01 UTC.
func pgMicros(t time.Time) uint64 {
	return uint64((t.Unix()-946684800)*1000000 + int64(t.Nanosecond()/1000))
}

func TestDecodeBinaryDateTime(t *testing.T) {
	neg := func(v int64) uint64 { return uint64(v) }
	runDecodeCases(t, []decodeCase{
		{name: "date epoch", oid: pgtype.DateOID, binary: true, data: be32(0), want: utc(2000, 1, 1, 0, 0, 0, 0)},
		{name: "date -1", oid: pgtype.DateOID, binary: true, data: be32(uint32(neg(-1))), want: utc(1999, 12, 31, 0, 0, 0, 0)},
		{name: "date unix epoch", oid: pgtype.DateOID, binary: true, data: be32(uint32(neg(-10957))), want: utc(1970, 1, 1, 0, 0, 0, 0)},
		{name: "date 2024-03-10", oid: pgtype.DateOID, binary: true, data: be32(8835), want: utc(2024, 3, 10, 0, 0, 0, 0)},
		// 4714-11-24 BC (proleptic Gregorian) is PostgreSQL's first date: Julian day 0, 2451545 days
		// before 2000-01-01.
		{name: "date 4714 BC", oid: pgtype.DateOID, binary: true, data: be32(uint32(neg(-2451545))), want: utc(-4713, 11, 24, 0, 0, 0, 0)},
		{name: "date infinity", oid: pgtype.DateOID, binary: true, data: be32(math.MaxInt32), wantErr: "date: value is infinity"},
		{name: "date -infinity", oid: pgtype.DateOID, binary: true, data: be32(1 << 31), wantErr: "date: value is -infinity"},
		{name: "date short", oid: pgtype.DateOID, binary: true, data: be16(1), wantErr: "date: binary value of 2 bytes"},

		{name: "timestamp epoch", oid: pgtype.TimestampOID, binary: true, data: be64(0), want: utc(2000, 1, 1, 0, 0, 0, 0)},
		{name: "timestamp -1us", oid: pgtype.TimestampOID, binary: true, data: be64(neg(-1)), want: utc(1999, 12, 31, 23, 59, 59, 999999)},
		{name: "timestamp -1s", oid: pgtype.TimestampOID, binary: true, data: be64(neg(-1000000)), want: utc(1999, 12, 31, 23, 59, 59, 0)},
		{name: "timestamp unix epoch", oid: pgtype.TimestampOID, binary: true, data: be64(neg(-946684800000000)), want: utc(1970, 1, 1, 0, 0, 0, 0)},
		{name: "timestamp micros", oid: pgtype.TimestampOID, binary: true, data: be64(763353000123456), want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		// 294276-12-31 23:59:59.999999 is PostgreSQL's last timestamp.
		{name: "timestamp max", oid: pgtype.TimestampOID, binary: true, data: be64(pgMicros(utc(294276, 12, 31, 23, 59, 59, 999999))), want: utc(294276, 12, 31, 23, 59, 59, 999999)},
		{name: "timestamp infinity", oid: pgtype.TimestampOID, binary: true, data: be64(math.MaxInt64), wantErr: "timestamp: value is infinity"},
		{name: "timestamp -infinity", oid: pgtype.TimestampOID, binary: true, data: be64(1 << 63), wantErr: "timestamp: value is -infinity"},
		{name: "timestamptz micros", oid: pgtype.TimestamptzOID, binary: true, data: be64(763353000123456), want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		{name: "timestamptz infinity", oid: pgtype.TimestamptzOID, binary: true, data: be64(math.MaxInt64), wantErr: "timestamptz: value is infinity"},
		{name: "timestamptz short", oid: pgtype.TimestamptzOID, binary: true, data: be32(0), wantErr: "timestamptz: binary value of 4 bytes"},

		{name: "time midnight", oid: pgtype.TimeOID, binary: true, data: be64(0), want: time.Duration(0)},
		{name: "time", oid: pgtype.TimeOID, binary: true, data: be64(45296789012), want: 12*time.Hour + 34*time.Minute + 56*time.Second + 789012*time.Microsecond},
		{name: "time 24:00", oid: pgtype.TimeOID, binary: true, data: be64(86400000000), want: 24 * time.Hour},
		{name: "time too late", oid: pgtype.TimeOID, binary: true, data: be64(86400000001), wantErr: "time: binary value 86400000001"},
		{name: "time negative", oid: pgtype.TimeOID, binary: true, data: be64(neg(-1)), wantErr: "time:"},
	})
}

func TestDecodeTextDateTime(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "date", oid: pgtype.DateOID, data: []byte("2024-03-10"), want: utc(2024, 3, 10, 0, 0, 0, 0)},
		{name: "date BC", oid: pgtype.DateOID, data: []byte("0044-03-15 BC"), want: utc(-43, 3, 15, 0, 0, 0, 0)},
		{name: "date 1 BC", oid: pgtype.DateOID, data: []byte("0001-12-31 BC"), want: utc(0, 12, 31, 0, 0, 0, 0)},
		{name: "date leap 1 BC", oid: pgtype.DateOID, data: []byte("0001-02-29 BC"), want: utc(0, 2, 29, 0, 0, 0, 0)},
		{name: "date leap 5 BC", oid: pgtype.DateOID, data: []byte("0005-02-29 BC"), want: utc(-4, 2, 29, 0, 0, 0, 0)},
		{name: "date no leap 4 BC", oid: pgtype.DateOID, data: []byte("0004-02-29 BC"), wantErr: "date:"},
		{name: "date 5 digits", oid: pgtype.DateOID, data: []byte("12345-06-07"), want: utc(12345, 6, 7, 0, 0, 0, 0)},
		{name: "date max", oid: pgtype.DateOID, data: []byte("5874897-12-31"), want: utc(5874897, 12, 31, 0, 0, 0, 0)},
		{name: "date leap", oid: pgtype.DateOID, data: []byte("2024-02-29"), want: utc(2024, 2, 29, 0, 0, 0, 0)},
		{name: "date no leap", oid: pgtype.DateOID, data: []byte("2023-02-29"), wantErr: `date: "2023-02-29" is not an ISO date`},
		{name: "date 1900 no leap", oid: pgtype.DateOID, data: []byte("1900-02-29"), wantErr: "date:"},
		{name: "date 2000 leap", oid: pgtype.DateOID, data: []byte("2000-02-29"), want: utc(2000, 2, 29, 0, 0, 0, 0)},
		{name: "date April 31", oid: pgtype.DateOID, data: []byte("2024-04-31"), wantErr: "date:"},
		{name: "date month 13", oid: pgtype.DateOID, data: []byte("2024-13-01"), wantErr: "date:"},
		{name: "date year 0", oid: pgtype.DateOID, data: []byte("0000-01-01"), wantErr: "date:"},
		{name: "date 3 digit year", oid: pgtype.DateOID, data: []byte("202-01-01"), wantErr: "date:"},
		{name: "date US style", oid: pgtype.DateOID, data: []byte("03/10/2024"), wantErr: "date:"},
		{name: "date trailing", oid: pgtype.DateOID, data: []byte("2024-03-10x"), wantErr: "date:"},
		{name: "date infinity", oid: pgtype.DateOID, data: []byte("infinity"), wantErr: "date: value is infinity"},
		{name: "date -infinity", oid: pgtype.DateOID, data: []byte("-infinity"), wantErr: "date: value is -infinity"},

		{name: "timestamp", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00.123456"), want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		{name: "timestamp whole", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00"), want: utc(2024, 3, 10, 2, 30, 0, 0)},
		{name: "timestamp tenths", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00.5"), want: utc(2024, 3, 10, 2, 30, 0, 500000)},
		{name: "timestamp 1969", oid: pgtype.TimestampOID, data: []byte("1969-07-20 20:17:40.000001"), want: utc(1969, 7, 20, 20, 17, 40, 1)},
		{name: "timestamp BC", oid: pgtype.TimestampOID, data: []byte("0044-03-15 10:00:00 BC"), want: utc(-43, 3, 15, 10, 0, 0, 0)},
		{name: "timestamp 5 digits", oid: pgtype.TimestampOID, data: []byte("12345-01-01 00:00:00"), want: utc(12345, 1, 1, 0, 0, 0, 0)},
		{name: "timestamp max", oid: pgtype.TimestampOID, data: []byte("294276-12-31 23:59:59.999999"), want: utc(294276, 12, 31, 23, 59, 59, 999999)},
		{name: "timestamp with offset", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00+00"), wantErr: `timestamp: "2024-03-10 02:30:00+00" is not an ISO timestamp`},
		{name: "timestamp 7 digits", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00.1234567"), wantErr: "timestamp:"},
		{name: "timestamp empty fraction", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:00."), wantErr: "timestamp:"},
		{name: "timestamp T", oid: pgtype.TimestampOID, data: []byte("2024-03-10T02:30:00"), wantErr: "timestamp:"},
		{name: "timestamp hour 24", oid: pgtype.TimestampOID, data: []byte("2024-03-10 24:00:00"), wantErr: "timestamp:"},
		{name: "timestamp minute 60", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:60:00"), wantErr: "timestamp:"},
		{name: "timestamp second 60", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:30:60"), wantErr: "timestamp:"},
		{name: "timestamp date only", oid: pgtype.TimestampOID, data: []byte("2024-03-10"), wantErr: "timestamp:"},
		{name: "timestamp short time", oid: pgtype.TimestampOID, data: []byte("2024-03-10 02:3"), wantErr: "timestamp:"},
		{name: "timestamp infinity", oid: pgtype.TimestampOID, data: []byte("infinity"), wantErr: "timestamp: value is infinity"},
		{name: "timestamp Feb 30", oid: pgtype.TimestampOID, data: []byte("2024-02-30 00:00:00"), wantErr: "timestamp:"},

		{name: "timestamptz UTC", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00.123456+00"), want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		{name: "timestamptz +05:30", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 08:00:00.123456+05:30"), want: utc(2024, 3, 10, 2, 30, 0, 123456)},
		{name: "timestamptz -08", oid: pgtype.TimestamptzOID, data: []byte("2024-03-09 18:30:00-08"), want: utc(2024, 3, 10, 2, 30, 0, 0)},
		{name: "timestamptz LMT seconds", oid: pgtype.TimestamptzOID, data: []byte("1900-06-01 12:19:32+00:19:32"), want: utc(1900, 6, 1, 12, 0, 0, 0)},
		{name: "timestamptz negative seconds", oid: pgtype.TimestamptzOID, data: []byte("1883-11-18 06:56:02-04:56:02"), want: utc(1883, 11, 18, 11, 52, 4, 0)},
		{name: "timestamptz BC", oid: pgtype.TimestamptzOID, data: []byte("0044-03-15 10:00:00+00 BC"), want: utc(-43, 3, 15, 10, 0, 0, 0)},
		{name: "timestamptz crosses day", oid: pgtype.TimestamptzOID, data: []byte("2024-01-01 00:30:00+01"), want: utc(2023, 12, 31, 23, 30, 0, 0)},
		{name: "timestamptz no offset", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00"), wantErr: `timestamptz: "2024-03-10 02:30:00" is not an ISO timestamp`},
		{name: "timestamptz bad offset", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00+5"), wantErr: "timestamptz:"},
		{name: "timestamptz offset minutes 60", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00+05:60"), wantErr: "timestamptz:"},
		{name: "timestamptz offset 16h", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00+16"), wantErr: "timestamptz:"},
		{name: "timestamptz offset trailing", oid: pgtype.TimestamptzOID, data: []byte("2024-03-10 02:30:00+05:"), wantErr: "timestamptz:"},
		{name: "timestamptz -infinity", oid: pgtype.TimestamptzOID, data: []byte("-infinity"), wantErr: "timestamptz: value is -infinity"},

		{name: "time midnight", oid: pgtype.TimeOID, data: []byte("00:00:00"), want: time.Duration(0)},
		{name: "time", oid: pgtype.TimeOID, data: []byte("12:34:56.789"), want: 12*time.Hour + 34*time.Minute + 56*time.Second + 789*time.Millisecond},
		{name: "time last", oid: pgtype.TimeOID, data: []byte("23:59:59.999999"), want: 24*time.Hour - time.Microsecond},
		{name: "time 24:00", oid: pgtype.TimeOID, data: []byte("24:00:00"), want: 24 * time.Hour},
		{name: "time 24:00:01", oid: pgtype.TimeOID, data: []byte("24:00:01"), wantErr: `time: "24:00:01"`},
		{name: "time 24:00:00.1", oid: pgtype.TimeOID, data: []byte("24:00:00.1"), wantErr: "time:"},
		{name: "time 25", oid: pgtype.TimeOID, data: []byte("25:00:00"), wantErr: "time:"},
		{name: "time short", oid: pgtype.TimeOID, data: []byte("12:34"), wantErr: "time:"},
		{name: "time with offset", oid: pgtype.TimeOID, data: []byte("12:34:56+02"), wantErr: "time:"},
		{name: "time empty", oid: pgtype.TimeOID, data: []byte(""), wantErr: "time:"},
	})
}
