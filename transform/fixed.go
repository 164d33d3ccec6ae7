package transform

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/shopspring/decimal"
)

// fixed is an exact sum: coefficient × base^exp, base 10 for integer and decimal sums, 2 for
// float sums. The coefficient lives in small while it fits an int64 (the common case, with no
// allocation per add) and in big otherwise. exp only decreases while the sum is non-zero (to the
// finest scale seen) and resets when the sum returns to zero, so adding then retracting a value
// leaves the sum exactly as it was.
type fixed struct {
	small int64
	big   *big.Int // the coefficient when isBig; kept allocated for reuse
	isBig bool
	exp   int32
}

// A radix is the base of a fixed: 10 or 2.
type radix uint8

const (
	base10 radix = 10
	base2  radix = 2
)

var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
	1e14, 1e15, 1e16, 1e17, 1e18}

// mulPow returns x × base^n and whether it fits an int64.
func mulPow(x int64, b radix, n int32) (int64, bool) {
	if x == 0 || n == 0 {
		return x, true
	}
	if b == base2 {
		if n >= 63 {
			return 0, false
		}
		r := x << uint(n)
		return r, r>>uint(n) == x
	}
	if n > 18 {
		return 0, false
	}
	p := pow10[n]
	neg := x < 0
	u := uint64(x)
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(u, uint64(p))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}

// bigMulPow sets z = z × base^n.
func bigMulPow(z *big.Int, b radix, n int32) {
	if n == 0 {
		return
	}
	if b == base2 {
		z.Lsh(z, uint(n))
		return
	}
	if int(n) < len(bigPow10) {
		z.Mul(z, bigPow10[n])
		return
	}
	z.Mul(z, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}

// bigPow10 holds 10^0 .. 10^76, read-only.
var bigPow10 = func() []*big.Int {
	p := make([]*big.Int, 77)
	for i := range p {
		p[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
	}
	return p
}()

func (f *fixed) isZero() bool {
	if f.isBig {
		return f.big.Sign() == 0
	}
	return f.small == 0
}

func (f *fixed) toBig() {
	if f.big == nil {
		f.big = new(big.Int)
	}
	f.big.SetInt64(f.small)
	f.isBig = true
}

// settle moves a big coefficient back to small when it fits, and resets exp at zero.
func (f *fixed) settle() {
	if f.isBig && f.big.IsInt64() {
		f.small, f.isBig = f.big.Int64(), false
	}
	if !f.isBig && f.small == 0 {
		f.exp = 0
	}
}

// rescale lowers exp to e (e < f.exp), keeping the value.
func (f *fixed) rescale(e int32, b radix) {
	n := f.exp - e
	f.exp = e
	if !f.isBig {
		if r, ok := mulPow(f.small, b, n); ok {
			f.small = r
			return
		}
		f.toBig()
	}
	bigMulPow(f.big, b, n)
}

// add adds c × base^e; tmp is scratch space.
func (f *fixed) add(c int64, e int32, b radix, tmp *big.Int) {
	if c == 0 {
		return
	}
	if f.isZero() {
		f.exp = e
		f.isBig = false
		f.small = c
		return
	}
	if e < f.exp {
		f.rescale(e, b)
	}
	if !f.isBig {
		if s, ok := mulPow(c, b, e-f.exp); ok {
			r := f.small + s
			if (f.small^r)&(s^r) >= 0 { // no overflow
				f.small = r
				f.settle()
				return
			}
		}
		f.toBig()
	}
	t := tmp.SetInt64(c)
	bigMulPow(t, b, e-f.exp)
	f.big.Add(f.big, t)
	f.settle()
}

// addBig adds c × base^e for a coefficient that may not fit an int64.
func (f *fixed) addBig(c *big.Int, e int32, b radix, tmp *big.Int) {
	if c.IsInt64() {
		f.add(c.Int64(), e, b, tmp)
		return
	}
	if f.isZero() {
		f.exp = e
		f.small = 0
	}
	if e < f.exp {
		f.rescale(e, b)
	}
	if !f.isBig {
		f.toBig()
	}
	t := tmp.Set(c)
	bigMulPow(t, b, e-f.exp)
	f.big.Add(f.big, t)
	f.settle()
}

// coef returns the coefficient as a new big.Int.
func (f *fixed) coef() *big.Int {
	if f.isBig {
		return new(big.Int).Set(f.big)
	}
	return big.NewInt(f.small)
}

// addDecimal adds sign × d exactly.
func (f *fixed) addDecimal(d decimal.Decimal, sign int64, tmp *big.Int) {
	if d.NumDigits() <= 18 {
		f.add(sign*d.CoefficientInt64(), d.Exponent(), base10, tmp)
		return
	}
	c := d.Coefficient()
	if sign < 0 {
		c.Neg(c)
	}
	f.addBig(c, d.Exponent(), base10, tmp)
}

// addInt adds sign × v exactly.
func (f *fixed) addInt(v, sign int64, tmp *big.Int) {
	if v == math.MinInt64 {
		c := big.NewInt(v)
		if sign < 0 {
			c.Neg(c)
		}
		f.addBig(c, 0, base10, tmp)
		return
	}
	f.add(sign*v, 0, base10, tmp)
}

// addUint adds sign × v exactly.
func (f *fixed) addUint(v uint64, sign int64, tmp *big.Int) {
	if v <= math.MaxInt64 {
		f.add(sign*int64(v), 0, base10, tmp)
		return
	}
	c := new(big.Int).SetUint64(v)
	if sign < 0 {
		c.Neg(c)
	}
	f.addBig(c, 0, base10, tmp)
}

// addFloat adds sign × v exactly (v finite): v is mant × 2^exp with a 53-bit integer mant.
func (f *fixed) addFloat(v float64, sign int64, tmp *big.Int) {
	if v == 0 {
		return
	}
	frac, e := math.Frexp(v)
	m := int64(frac * (1 << 53))
	e -= 53
	tz := bits.TrailingZeros64(uint64(m))
	m >>= uint(tz)
	e += tz
	f.add(sign*m, int32(e), base2, tmp)
}

// decimal returns a base-10 sum as a decimal: exponent -scale when scale >= 0 and the value
// has no finer digits, else normalised (no trailing zeros).
func (f *fixed) decimal(scale int32) decimal.Decimal {
	if scale >= 0 && !f.isBig && f.exp >= -scale {
		if c, ok := mulPow(f.small, base10, f.exp+scale); ok {
			return decimal.New(c, -scale)
		}
	}
	c, e := f.coef(), f.exp
	if scale < 0 {
		return normalize(c, e)
	}
	if -e < scale {
		bigMulPow(c, base10, scale+e)
		e = -scale
	}
	return decimal.NewFromBigInt(c, e)
}

func normalize(c *big.Int, e int32) decimal.Decimal {
	if c.Sign() == 0 {
		return decimal.New(0, 0)
	}
	q, r, ten := new(big.Int), new(big.Int), big.NewInt(10)
	for {
		q.QuoRem(c, ten, r)
		if r.Sign() != 0 {
			return decimal.NewFromBigInt(c, e)
		}
		c, q = q, c
		e++
	}
}

// rat returns the exact value of the sum.
func (f *fixed) rat(b radix) *big.Rat {
	c := f.coef()
	r := new(big.Rat)
	switch {
	case f.exp >= 0:
		bigMulPow(c, b, f.exp)
		r.SetInt(c)
	default:
		d := big.NewInt(1)
		bigMulPow(d, b, -f.exp)
		r.SetFrac(c, d)
	}
	return r
}

// quoRound returns (sum / n) rounded half-to-even to scale decimal places (base-10 sums).
func (f *fixed) quoRound(n int64, scale int32) decimal.Decimal {
	if k := f.exp + scale; !f.isBig && k >= 0 {
		if num, ok := mulPow(f.small, base10, k); ok {
			q, r := num/n, num%n
			if r < 0 {
				r = -r
			}
			// 2r vs n without overflow: r > n - r.
			if r > n-r || r == n-r && q&1 != 0 {
				if num < 0 {
					q--
				} else {
					q++
				}
			}
			return decimal.New(q, -scale)
		}
	}
	num, den := f.coef(), big.NewInt(n)
	if k := f.exp + scale; k >= 0 {
		bigMulPow(num, base10, k)
	} else {
		bigMulPow(den, base10, -k)
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half to even: compare 2|r| with den.
	r.Abs(r).Lsh(r, 1)
	if c := r.Cmp(den); c > 0 || c == 0 && q.Bit(0) == 1 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return decimal.NewFromBigInt(q, -scale)
}

// size approximates the heap bytes the sum holds beyond the struct.
func (f *fixed) size() int {
	if f.big == nil {
		return 0
	}
	return 32 + 8*cap(f.big.Bits())
}
