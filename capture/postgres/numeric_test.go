package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// encodeNumeric encodes a plain decimal string ([-]digits[.digits]) the way numeric_send does:
// base-10000 digits without leading or trailing zero digits, dscale = the digits after the point.
func encodeNumeric(s string) []byte {
	sign := uint16(numericPos)
	if strings.HasPrefix(s, "-") {
		sign, s = numericNeg, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	dscale := len(frac)
	intPart = strings.TrimLeft(intPart, "0")
	// Pad to whole base-10000 digits: the integer part on the left, the fraction on the right.
	intPart = strings.Repeat("0", (4-len(intPart)%4)%4) + intPart
	frac += strings.Repeat("0", (4-len(frac)%4)%4)
	all := intPart + frac
	var groups []uint16
	for i := 0; i < len(all); i += 4 {
		var v uint16
		for _, c := range all[i : i+4] {
			v = v*10 + uint16(c-'0')
		}
		groups = append(groups, v)
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight, sign = 0, numericPos
	}
	return numericFrame(len(groups), weight, sign, dscale, groups...)
}

// numericFrame builds a binary numeric value from its fields.
func numericFrame(ndigits, weight int, sign uint16, dscale int, digits ...uint16) []byte {
	b := cat(be16(uint16(int16(ndigits))), be16(uint16(int16(weight))), be16(sign), be16(uint16(dscale)))
	for _, d := range digits {
		b = append(b, be16(d)...)
	}
	return b
}

func TestDecodeBinaryNumeric(t *testing.T) {
	d := decimal.RequireFromString
	var cases []decodeCase
	for _, s := range []string{
		"0", "0.00", "1", "-1", "1.50", "1.5", "0.0001", "0.00001", "-0.000001", "10000", "100000000",
		"9999", "12345.6789", "-12345.678900", "999999999999999999", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "99999999999999999999", "100000000000000000000",
		"123456789012345678901234567890.123456789", "-123456789012345678901234567890.123456789",
		"0.000000000000000000000000000001", "1" + strings.Repeat("0", 40) + ".5",
		"9999999999999999999999999999.9999999999", strings.Repeat("9", 1000),
		"0." + strings.Repeat("0", 999) + "1",
	} {
		want := d(s)
		if s == "0.00" {
			want = decimal.New(0, -2)
		}
		cases = append(cases, decodeCase{name: s, oid: pgtype.NumericOID, binary: true, data: encodeNumeric(s), want: want})
	}
	cases = append(cases,
		// Hand-made frames, as numeric_send writes them.
		decodeCase{name: "frame 1.50", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(2, 0, numericPos, 2, 1, 5000), want: decimal.New(150, -2)},
		decodeCase{name: "frame zero scale 5", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, numericPos, 5), want: decimal.New(0, -5)},
		decodeCase{name: "frame -0.0001", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(1, -1, numericNeg, 4, 1), want: decimal.New(-1, -4)},
		decodeCase{name: "frame 1e20", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(1, 5, numericPos, 0, 1), want: d("100000000000000000000")},
		decodeCase{name: "frame digits beyond dscale kept exact", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(2, 0, numericPos, 1, 1, 2345), want: d("1.2345")},
		decodeCase{name: "frame big digits beyond dscale", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(6, 0, numericPos, 1, 1, 2345, 6789, 1234, 5678, 9012), want: d("1.23456789123456789012")},
		decodeCase{name: "NaN", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, numericNaN, 0), wantErr: "numeric: value is NaN, which cannot be an exact decimal"},
		decodeCase{name: "Infinity", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, numericPInf, 0), wantErr: "numeric: value is Infinity"},
		decodeCase{name: "-Infinity", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, numericNInf, 0), wantErr: "numeric: value is -Infinity"},
		decodeCase{name: "bad sign", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, 0x1234, 0), wantErr: "numeric: invalid sign 0x1234"},
		decodeCase{name: "bad digit", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(1, 0, numericPos, 0, 10000), wantErr: "numeric: invalid base-10000 digit 10000"},
		decodeCase{name: "bad scale", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(0, 0, numericPos, 0x4000), wantErr: "numeric: invalid scale 16384"},
		decodeCase{name: "missing digits", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(2, 0, numericPos, 0, 1), wantErr: "numeric: binary value of 10 bytes does not hold its 2 digits"},
		decodeCase{name: "negative ndigits", oid: pgtype.NumericOID, binary: true,
			data: numericFrame(-1, 0, numericPos, 0), wantErr: "numeric:"},
		decodeCase{name: "short", oid: pgtype.NumericOID, binary: true,
			data: []byte{0, 0, 0}, wantErr: "numeric: binary value of 3 bytes, want at least 8"},
	)
	runDecodeCases(t, cases)
}

func TestDecodeTextNumeric(t *testing.T) {
	d := decimal.RequireFromString
	var cases []decodeCase
	for _, s := range []string{
		"0", "1", "-1", "+1", "1.50", "-0.000001", "12345.6789", "999999999999999999",
		"-999999999999999999", "9999999999999999999", "99999999.9999999999", "100000000000000000000",
		"123456789012345678901234567890.123456789", "0.000000000000000000000000000001",
		strings.Repeat("9", 1000), ".5", "5.",
	} {
		cases = append(cases, decodeCase{name: s, oid: pgtype.NumericOID, data: []byte(s), want: d(s)})
	}
	cases = append(cases,
		decodeCase{name: "scale kept", oid: pgtype.NumericOID, data: []byte("1.50"), want: decimal.New(150, -2)},
		decodeCase{name: "zero scale kept", oid: pgtype.NumericOID, data: []byte("0.000"), want: decimal.New(0, -3)},
		decodeCase{name: "NaN", oid: pgtype.NumericOID, data: []byte("NaN"), wantErr: "numeric: value is NaN"},
		decodeCase{name: "Infinity", oid: pgtype.NumericOID, data: []byte("Infinity"), wantErr: "numeric: value is Infinity"},
		decodeCase{name: "-Infinity", oid: pgtype.NumericOID, data: []byte("-Infinity"), wantErr: "numeric: value is -Infinity"},
		decodeCase{name: "exponent", oid: pgtype.NumericOID, data: []byte("1e5"), wantErr: `numeric: "1e5" is not a valid number`},
		decodeCase{name: "empty", oid: pgtype.NumericOID, data: []byte(""), wantErr: "numeric:"},
		decodeCase{name: "sign", oid: pgtype.NumericOID, data: []byte("-"), wantErr: "numeric:"},
		decodeCase{name: "dot", oid: pgtype.NumericOID, data: []byte("."), wantErr: "numeric:"},
		decodeCase{name: "two dots", oid: pgtype.NumericOID, data: []byte("1.2.3"), wantErr: "numeric:"},
		decodeCase{name: "long two dots", oid: pgtype.NumericOID, data: []byte("1234567890123456789.2.3"), wantErr: "numeric:"},
		decodeCase{name: "space", oid: pgtype.NumericOID, data: []byte(" 1"), wantErr: "numeric:"},
	)
	runDecodeCases(t, cases)
}

// TestNumericFormatsAgree decodes many values in both formats and compares them.
func TestNumericFormatsAgree(t *testing.T) {
	var values []string
	for _, ip := range []string{"0", "1", "12", "123", "1234", "12345", "99999999", "123456789012345678", "1234567890123456789"} {
		for _, fp := range []string{"", ".0", ".5", ".05", ".1234", ".12345", ".000000001", ".999999999999999999"} {
			values = append(values, ip+fp, "-"+ip+fp)
		}
	}
	for _, s := range values {
		b, errB := decodeBinaryNumeric(encodeNumeric(s))
		x, errT := decodeTextNumeric([]byte(s))
		if errB != nil || errT != nil {
			t.Fatalf("%s: binary error %v, text error %v", s, errB, errT)
		}
		if !equalValue(b, x) {
			t.Errorf("%s: binary %s, text %s", s, describe(b), describe(x))
		}
	}
}

func TestNumericNotFiniteIsTyped(t *testing.T) {
	_, err := decodeBinaryNumeric(numericFrame(0, 0, numericNaN, 0))
	var nf *NotFiniteError
	if !errors.As(err, &nf) || nf.Value != "NaN" {
		t.Fatalf("error %v, want *NotFiniteError NaN", err)
	}
}
