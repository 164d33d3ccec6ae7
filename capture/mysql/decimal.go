package mysql

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// MySQL's binary DECIMAL (decimal2bin in strings/decimal.c): the integer digits and the fraction
// digits are each stored in groups of nine as big-endian 4-byte words, with the leftover digits
// (at the left of the integer part, at the right of the fraction) in 1 to 4 bytes. The first byte's
// high bit is set for non-negative values; negative values have every byte inverted.

// dig2bytes is the number of bytes holding n leftover digits.
var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

var pow10u32 = [10]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// decimalSize returns the size of a DECIMAL(prec, scale) value in the binlog.
func decimalSize(prec, scale int) int {
	intg := prec - scale
	return intg/9*4 + dig2bytes[intg%9] + scale/9*4 + dig2bytes[scale%9]
}

// decodeDecimal decodes a binary DECIMAL(prec, scale) to an exact decimal.Decimal with exponent
// -scale (so 1.50 in a DECIMAL(12,2) keeps its two places). It returns the bytes read; a value
// whose digit groups are out of range is an error, with n still set.
func decodeDecimal(data []byte, prec, scale int) (decimal.Decimal, int, error) {
	if prec <= 0 || prec > 65 || scale < 0 || scale > 30 || scale > prec {
		return decimal.Decimal{}, 0, errMalformed("DECIMAL(%d,%d) metadata", prec, scale)
	}
	n := decimalSize(prec, scale)
	if len(data) < n {
		return decimal.Decimal{}, 0, errShort
	}
	var buf [48]byte // the largest value (65 digits) takes 30 bytes
	b := buf[:n]
	copy(b, data[:n])
	neg := b[0]&0x80 == 0
	b[0] ^= 0x80
	if neg {
		for i := range b {
			b[i] ^= 0xFF
		}
	}
	intg := prec - scale
	// Groups in order: leading partial integer group, full integer groups, full fraction groups,
	// trailing partial fraction group. Each contributes its digits to the coefficient.
	type group struct{ bytes, digits int }
	groups := make([]group, 0, 16)
	if lead := intg % 9; lead > 0 {
		groups = append(groups, group{dig2bytes[lead], lead})
	}
	for i := 0; i < intg/9; i++ {
		groups = append(groups, group{4, 9})
	}
	for i := 0; i < scale/9; i++ {
		groups = append(groups, group{4, 9})
	}
	if trail := scale % 9; trail > 0 {
		groups = append(groups, group{dig2bytes[trail], trail})
	}
	var small uint64 // the coefficient while it fits (prec <= 18 always does)
	var large *big.Int
	pos := 0
	for _, g := range groups {
		var v uint32
		switch g.bytes {
		case 1:
			v = uint32(b[pos])
		case 2:
			v = uint32(binary.BigEndian.Uint16(b[pos:]))
		case 3:
			v = uint32(b[pos])<<16 | uint32(b[pos+1])<<8 | uint32(b[pos+2])
		case 4:
			v = binary.BigEndian.Uint32(b[pos:])
		}
		pos += g.bytes
		if v >= pow10u32[g.digits] {
			return decimal.Decimal{}, n, fmt.Errorf("DECIMAL(%d,%d): digit group %d out of range", prec, scale, v)
		}
		if large == nil && small < maxSmallCoef {
			small = small*uint64(pow10u32[g.digits]) + uint64(v)
			continue
		}
		if large == nil {
			large = new(big.Int).SetUint64(small)
		}
		large.Mul(large, big.NewInt(int64(pow10u32[g.digits])))
		large.Add(large, big.NewInt(int64(v)))
	}
	if large == nil {
		c := int64(small)
		if neg {
			c = -c
		}
		return decimal.New(c, int32(-scale)), n, nil
	}
	if neg {
		large.Neg(large)
	}
	return decimal.NewFromBigInt(large, int32(-scale)), n, nil
}

// maxSmallCoef bounds a coefficient that can take nine more digits within an int64.
const maxSmallCoef = (1<<63-1)/1000000000 - 1
