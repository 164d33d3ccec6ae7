package transform

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// compareValues orders two non-NULL canonical values of one class: numbers numerically (a float
// NaN above every number and equal to itself; -0 equal to 0), decimals by value (1.5 = 1.50),
// strings and bytes byte-wise, false before true, times as instants, UUIDs byte-wise, arrays
// element by element with NULL first. Values of different classes order by class, so the
// function is a total order on every input and never panics.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmpOrdered(x, y)
		}
	case uint64:
		if y, ok := b.(uint64); ok {
			return cmpOrdered(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmpFloat(x, y)
		}
	case decimal.Decimal:
		if y, ok := b.(decimal.Decimal); ok {
			return x.Cmp(y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case []byte:
		if y, ok := b.([]byte); ok {
			return bytes.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmpBool(x, y)
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			return cmpOrdered(x, y)
		}
	case uuid.UUID:
		if y, ok := b.(uuid.UUID); ok {
			return bytes.Compare(x[:], y[:])
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if c := compareNullable(x[i], y[i]); c != 0 {
					return c
				}
			}
			return cmpOrdered(len(x), len(y))
		}
	}
	return cmpOrdered(classOfValue(a), classOfValue(b))
}

func compareNullable(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return compareValues(a, b)
}

// randomValue draws a value of class c, biased towards edge cases.
func randomValue(rng *rand.Rand, c class) any {
	switch c {
	case clsInt:
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, rng.Int64(), -rng.Int64N(1000), rng.Int64N(1000)}[rng.IntN(8)]
	case clsUint:
		return []uint64{0, 1, math.MaxUint64, rng.Uint64(), rng.Uint64N(1000)}[rng.IntN(5)]
	case clsFloat:
		return []float64{0, math.Copysign(0, -1), 1, -1, 0.1, -0.1, math.Inf(1), math.Inf(-1), math.NaN(),
			math.SmallestNonzeroFloat64, -math.MaxFloat64, rng.NormFloat64() * 1e6}[rng.IntN(12)]
	case clsDec:
		switch rng.IntN(4) {
		case 0:
			return decimal.New(rng.Int64N(2001)-1000, int32(rng.IntN(7)-3))
		case 1:
			b, _ := new(big.Int).SetString(strings.Repeat("9", 1+rng.IntN(40)), 10)
			if rng.IntN(2) == 0 {
				b.Neg(b)
			}
			return decimal.NewFromBigInt(b, int32(rng.IntN(60)-30))
		case 2:
			return decimal.New(rng.Int64(), int32(rng.IntN(41)-20))
		}
		return decimal.New(0, int32(rng.IntN(5)))
	case clsString:
		return []string{"", "a", "ab", "b", "\x00", "\xff", "é", "a\x00"}[rng.IntN(8)]
	case clsBytes:
		return []byte([]string{"", "a", "ab", "\x00", "\xff"}[rng.IntN(5)])
	case clsBool:
		return rng.IntN(2) == 0
	case clsTime:
		return time.Unix(rng.Int64N(1e11)-5e10, rng.Int64N(1e9)).UTC()
	case clsDur:
		return time.Duration(rng.Int64N(2e11) - 1e11)
	case clsUUID:
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.IntN(3) * 127)
		}
		return u
	}
	panic(c)
}

// TestSortKeys: key order is value order, equal values have equal keys, keys decode back.
func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for c := clsInt; c < clsArray; c++ {
		for range 3000 {
			a, b := randomValue(rng, c), randomValue(rng, c)
			ka, ok1 := appendKey(nil, a)
			kb, ok2 := appendKey(nil, b)
			if !ok1 || !ok2 {
				t.Fatalf("%v: no key for %v or %v", c, a, b)
			}
			if got, want := bytes.Compare(ka, kb), compareValues(a, b); got != want {
				t.Fatalf("%v: %v vs %v: keys compare %d, values %d", c, a, b, got, want)
			}
			back, ok := decodeKey(c, string(ka))
			if !ok || compareValues(back, a) != 0 {
				t.Fatalf("%v: %v decodes as %v (%v)", c, a, back, ok)
			}
		}
	}
	if _, ok := appendKey(nil, []any{}); ok {
		t.Error("an array has a sort key")
	}
	for _, bad := range []string{"", "\x81", "\x81\x80\x00\x00\x01", "\x81\x80\x00\x00\x01\x01\x00", "\x7f\x7f\xff\xff\xfe\x08", "\x05"} {
		if v, ok := decodeKey(clsDec, bad); ok {
			t.Errorf("decimal key %q decoded as %v", bad, v)
		}
	}
}
