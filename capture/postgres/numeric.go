package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/shopspring/decimal"
)

// numeric's binary format (numeric_send): int16 ndigits, int16 weight, uint16 sign, uint16 dscale,
// then ndigits base-10000 digits as int16, most significant first. The value is
// sum(digit[i] * 10000^(weight-i)); dscale is the number of decimal digits after the point.
const (
	numericPos      = 0x0000
	numericNeg      = 0x4000
	numericNaN      = 0xC000
	numericPInf     = 0xD000
	numericNInf     = 0xF000
	numericMaxScale = 0x3FFF // NUMERIC_DSCALE_MASK
)

// pow10 holds the powers of ten that fit an int64.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
	1e14, 1e15, 1e16, 1e17, 1e18}

// decodeBinaryNumeric decodes numeric's binary format to an exact decimal.Decimal whose exponent is
// -dscale, so 1.50 keeps its two decimal places.
func decodeBinaryNumeric(data []byte) (any, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("numeric: binary value of %d bytes, want at least 8", len(data))
	}
	ndigits := int(int16(binary.BigEndian.Uint16(data)))
	weight := int(int16(binary.BigEndian.Uint16(data[2:])))
	sign := binary.BigEndian.Uint16(data[4:])
	dscale := int(binary.BigEndian.Uint16(data[6:]))
	switch sign {
	case numericPos, numericNeg:
	case numericNaN:
		return nil, &NotFiniteError{Type: "numeric", Value: "NaN"}
	case numericPInf:
		return nil, &NotFiniteError{Type: "numeric", Value: "Infinity"}
	case numericNInf:
		return nil, &NotFiniteError{Type: "numeric", Value: "-Infinity"}
	default:
		return nil, fmt.Errorf("numeric: invalid sign 0x%04x in binary value", sign)
	}
	if ndigits < 0 || len(data) != 8+2*ndigits {
		return nil, fmt.Errorf("numeric: binary value of %d bytes does not hold its %d digits", len(data), ndigits)
	}
	if dscale > numericMaxScale {
		return nil, fmt.Errorf("numeric: invalid scale %d in binary value", dscale)
	}
	digits := data[8:]
	// The coefficient of all digits, in int64 while it fits.
	var c uint64
	small := true
	for i := 0; i < ndigits; i++ {
		d := uint64(binary.BigEndian.Uint16(digits[2*i:]))
		if d >= 10000 {
			return nil, fmt.Errorf("numeric: invalid base-10000 digit %d in binary value", d)
		}
		if small && c <= (math.MaxInt64-d)/10000 {
			c = c*10000 + d
		} else {
			small = false
		}
	}
	neg := sign == numericNeg
	// The value is c * 10^exp; the result's exponent is -dscale unless digits go further (which
	// PostgreSQL never sends), so nothing is ever rounded away.
	exp := (weight - ndigits + 1) * 4
	target := -dscale
	if small {
		if c == 0 {
			return decimal.New(0, int32(target)), nil
		}
		if shift := exp - target; shift >= 0 {
			if shift < len(pow10) && c <= math.MaxInt64/pow10[shift] {
				return decimal.New(signed(c*pow10[shift], neg), int32(target)), nil
			}
		} else if -shift < len(pow10) && c%pow10[-shift] == 0 {
			return decimal.New(signed(c/pow10[-shift], neg), int32(target)), nil
		} else {
			return decimal.New(signed(c, neg), int32(exp)), nil
		}
	}
	return bigNumeric(digits, ndigits, neg, exp, target), nil
}

// signed returns c (at most math.MaxInt64) with the sign neg.
func signed(c uint64, neg bool) int64 {
	if neg {
		return -int64(c)
	}
	return int64(c)
}

// bigNumeric is decodeBinaryNumeric's path for coefficients beyond int64: ndigits base-10000
// digits, valued digits * 10^exp, rescaled to the exponent target where that is exact.
func bigNumeric(digits []byte, ndigits int, neg bool, exp, target int) decimal.Decimal {
	c := new(big.Int)
	var chunk big.Int
	base := new(big.Int)
	// Four base-10000 digits at a time: 10^16 fits a uint64.
	for i := 0; i < ndigits; {
		var v uint64
		n := 0
		for ; n < 4 && i < ndigits; n, i = n+1, i+1 {
			v = v*10000 + uint64(binary.BigEndian.Uint16(digits[2*i:]))
		}
		c.Mul(c, base.SetUint64(pow10[4*n]))
		c.Add(c, chunk.SetUint64(v))
	}
	if neg {
		c.Neg(c)
	}
	if c.Sign() == 0 {
		return decimal.New(0, int32(target))
	}
	if shift := exp - target; shift > 0 {
		c.Mul(c, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
		exp = target
	} else if shift < 0 {
		q, r := new(big.Int).QuoRem(c, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-shift)), nil), new(big.Int))
		if r.Sign() == 0 {
			c, exp = q, target
		}
	}
	return decimal.NewFromBigInt(c, int32(exp))
}

// decodeTextNumeric decodes numeric's text form ("-123.4500"), keeping its scale: 1.50 has two
// decimal places. NaN and ±Infinity are errors.
func decodeTextNumeric(data []byte) (any, error) {
	// Fast path: [sign] digits [. digits] with at most 18 digits in all.
	i, neg := 0, false
	if len(data) > 0 && (data[0] == '-' || data[0] == '+') {
		neg = data[0] == '-'
		i = 1
	}
	var c uint64
	ndigits, scale, dot := 0, 0, false
	for ; i < len(data); i++ {
		ch := data[i]
		switch {
		case ch >= '0' && ch <= '9' && ndigits < 18:
			c = c*10 + uint64(ch-'0')
			ndigits++
			if dot {
				scale++
			}
			continue
		case ch == '.' && !dot:
			dot = true
			continue
		}
		break
	}
	if i == len(data) && ndigits > 0 {
		return decimal.New(signed(c, neg), int32(-scale)), nil
	}
	switch string(data) {
	case "NaN":
		return nil, &NotFiniteError{Type: "numeric", Value: "NaN"}
	case "Infinity":
		return nil, &NotFiniteError{Type: "numeric", Value: "Infinity"}
	case "-Infinity":
		return nil, &NotFiniteError{Type: "numeric", Value: "-Infinity"}
	}
	if !plainNumber(data) {
		return nil, fmt.Errorf("numeric: %q is not a valid number", clip(data))
	}
	d, err := decimal.NewFromString(string(data))
	if err != nil {
		return nil, fmt.Errorf("numeric: %q: %w", clip(data), err)
	}
	return d, nil
}

// plainNumber reports whether data is [sign] digits [. digits] with at least one digit: the only
// form numeric_out writes. (decimal.NewFromString would accept exponents too.)
func plainNumber(data []byte) bool {
	i := 0
	if len(data) > 0 && (data[0] == '-' || data[0] == '+') {
		i = 1
	}
	digits, dot := 0, false
	for ; i < len(data); i++ {
		switch c := data[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
