package decode

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// pow10 holds 10^0 .. 10^19.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// maxFastDigits is the most digits an unscaled value may have for the int64 paths.
const maxFastDigits = 18

// appendDecimal appends d as an Avro bytes decimal of f's precision and scale: the big-endian
// two's complement of the unscaled value d·10^scale, in as few bytes as hold it. It fails when d
// has more fraction digits than the scale or more digits than the precision allows: it never
// rounds.
func appendDecimal(buf []byte, d decimal.Decimal, f *fieldEnc) ([]byte, error) {
	n := int64(d.NumDigits())
	shift := int64(d.Exponent()) + int64(f.scale) // unscaled = coefficient · 10^shift
	if n > maxFastDigits {
		return appendDecimalBig(buf, d, f, n, shift)
	}
	c := d.CoefficientInt64()
	if c == 0 {
		return append(buf, 1<<1, 0), nil
	}
	digits := n
	switch {
	case shift < 0:
		// |c| < 10^digits, so 10^k cannot divide it when k >= digits.
		k := -shift
		if k >= digits || c%int64(pow10[k]) != 0 {
			return buf, errFraction(d, f)
		}
		c /= int64(pow10[k])
		digits -= k
	case shift > 0:
		if digits+shift > int64(f.prec) {
			return buf, errPrecision(d, f)
		}
		if digits+shift > maxFastDigits {
			return appendDecimalBig(buf, d, f, n, shift)
		}
		c *= int64(pow10[shift])
		digits += shift
	}
	if digits > int64(f.prec) {
		return buf, errPrecision(d, f)
	}
	return appendTwos64(buf, c), nil
}

// appendDecimalBig is appendDecimal for unscaled values beyond 18 digits.
func appendDecimalBig(buf []byte, d decimal.Decimal, f *fieldEnc, digits, shift int64) ([]byte, error) {
	c := d.Coefficient()
	switch {
	case shift < 0:
		k := -shift
		if k >= digits {
			return buf, errFraction(d, f)
		}
		q, r := new(big.Int).QuoRem(c, bigPow10(k), new(big.Int))
		if r.Sign() != 0 {
			return buf, errFraction(d, f)
		}
		c = q
	case shift > 0:
		if digits+shift > int64(f.prec) {
			return buf, errPrecision(d, f)
		}
		c.Mul(c, bigPow10(shift))
	}
	if c.CmpAbs(f.precLimit) >= 0 {
		return buf, errPrecision(d, f)
	}
	return appendTwosBig(buf, c), nil
}

func bigPow10(k int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil) }

func errFraction(d decimal.Decimal, f *fieldEnc) error {
	return fmt.Errorf("value %s has more fraction digits than scale %d", shortText(d), f.scale)
}

func errPrecision(d decimal.Decimal, f *fieldEnc) error {
	return fmt.Errorf("value %s has more digits than precision %d allows at scale %d", shortText(d), f.prec, f.scale)
}

// shortText is d's text for an error message, which must stay short for any value: beyond 64
// characters it is the coefficient (cut after 40 digits) and the exponent.
func shortText(d decimal.Decimal) string {
	n, e := d.NumDigits(), int(d.Exponent())
	if n+max(e, -e)+3 <= 64 {
		return decimalText(d)
	}
	c := d.Coefficient().String()
	if len(c) > 41 {
		c = c[:41] + "…(" + strconv.Itoa(n) + " digits)"
	}
	return c + "e" + strconv.Itoa(e)
}

// appendTwos64 appends c as Avro bytes holding its shortest big-endian two's complement.
func appendTwos64(buf []byte, c int64) []byte {
	u := uint64(c)
	if c < 0 {
		u = ^u
	}
	n := (bits.Len64(u) + 8) / 8 // the magnitude's bits and a sign bit, in whole bytes
	buf = append(buf, byte(n<<1))
	for i := n - 1; i >= 0; i-- {
		buf = append(buf, byte(uint64(c)>>(8*i)))
	}
	return buf
}

// appendUint64Decimal appends u as a bytes decimal(20,0).
func appendUint64Decimal(buf []byte, u uint64) []byte {
	if u <= 1<<63-1 {
		return appendTwos64(buf, int64(u))
	}
	return binary.BigEndian.AppendUint64(append(buf, 9<<1, 0), u)
}

// appendTwosBig appends x as Avro bytes holding its shortest big-endian two's complement.
func appendTwosBig(buf []byte, x *big.Int) []byte {
	var b []byte
	if x.Sign() >= 0 {
		b = x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
	} else {
		// -m in two's complement is the bitwise complement of m-1.
		m := new(big.Int).Neg(x)
		b = m.Sub(m, big.NewInt(1)).Bytes()
		for i := range b {
			b[i] = ^b[i]
		}
		if len(b) == 0 || b[0]&0x80 == 0 {
			b = append([]byte{0xff}, b...)
		}
	}
	return append(appendLong(buf, int64(len(b))), b...)
}

// appendDecimalText appends d as an Avro string: its exact decimal text with the scale it carries
// (1.50 stays "1.50"), never in exponent notation. It is decimalText, without allocating for
// coefficients of up to 18 digits.
func appendDecimalText(buf []byte, d decimal.Decimal) []byte {
	exp := int(d.Exponent())
	if d.NumDigits() > maxFastDigits || exp > 1000 || exp < -1000 {
		s := decimalText(d)
		return append(appendLong(buf, int64(len(s))), s...)
	}
	c := d.CoefficientInt64()
	u := uint64(c)
	sign := 0
	if c < 0 {
		u, sign = -u, 1
	}
	var tmp [20]byte
	ds := strconv.AppendUint(tmp[:0], u, 10)
	switch {
	case u == 0 && exp >= 0:
		return append(buf, 1<<1, '0')
	case exp >= 0: // digits, then exp zeros
		buf = appendLong(buf, int64(sign+len(ds)+exp))
		if sign == 1 {
			buf = append(buf, '-')
		}
		buf = append(buf, ds...)
		for range exp {
			buf = append(buf, '0')
		}
		return buf
	}
	frac := -exp
	if len(ds) > frac { // int.frac
		buf = appendLong(buf, int64(sign+len(ds)+1))
		if sign == 1 {
			buf = append(buf, '-')
		}
		buf = append(buf, ds[:len(ds)-frac]...)
		buf = append(buf, '.')
		return append(buf, ds[len(ds)-frac:]...)
	}
	// 0.000digits
	buf = appendLong(buf, int64(sign+2+frac))
	if sign == 1 {
		buf = append(buf, '-')
	}
	buf = append(buf, '0', '.')
	for range frac - len(ds) {
		buf = append(buf, '0')
	}
	return append(buf, ds...)
}

// decimalText is d's exact text with the scale it carries, without exponent notation.
func decimalText(d decimal.Decimal) string {
	return d.StringFixed(max(-d.Exponent(), 0))
}
