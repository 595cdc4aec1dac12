package mquery

import (
	"errors"
	"math"
	"math/big"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// errOverflow is $inc's refusal when a 64-bit sum does not fit, as in
// MongoDB (which widens int32 to int64, but not int64 to double).
var errOverflow = errors.New("the sum overflows a 64-bit integer")

// errDecimalRange is $inc's refusal when a decimal sum is out of range.
var errDecimalRange = errors.New("the sum is out of the decimal range")

// addNumbers is $inc's arithmetic, with MongoDB's result types: int32 +
// int32 stays int32 when it fits and becomes int64 when not; int64 with an
// integer is int64; a double makes a double; a decimal makes a decimal.
func addNumbers(a, b any) (any, error) {
	_, aDec := a.(primitive.Decimal128)
	_, bDec := b.(primitive.Decimal128)
	if aDec || bDec {
		return addDecimals(toDecimal(a), toDecimal(b))
	}
	_, aF := a.(float64)
	_, bF := b.(float64)
	if aF || bF {
		return toFloat(a) + toFloat(b), nil
	}
	x, y := toInt64(a), toInt64(b)
	_, a32 := a.(int32)
	_, b32 := b.(int32)
	if a32 && b32 {
		return fromInt64(x + y), nil // two int32s cannot overflow an int64
	}
	sum := x + y
	if (y > 0 && sum < x) || (y < 0 && sum > x) {
		return nil, errOverflow
	}
	return sum, nil
}

func toInt64(v any) int64 {
	switch t := v.(type) {
	case int32:
		return int64(t)
	case int64:
		return t
	}
	return 0
}

func toFloat(v any) float64 {
	switch t := v.(type) {
	case int32:
		return float64(t)
	case int64:
		return float64(t)
	case float64:
		return t
	}
	return math.NaN()
}

// toDecimal converts a number to a decimal; a double keeps 15 significant
// digits, as MongoDB's conversion does.
func toDecimal(v any) primitive.Decimal128 {
	var s string
	switch t := v.(type) {
	case primitive.Decimal128:
		return t
	case int32:
		s = strconv.FormatInt(int64(t), 10)
	case int64:
		s = strconv.FormatInt(t, 10)
	case float64:
		switch {
		case math.IsNaN(t):
			s = "NaN"
		case math.IsInf(t, 1):
			s = "Infinity"
		case math.IsInf(t, -1):
			s = "-Infinity"
		default:
			s = strconv.FormatFloat(t, 'e', 14, 64)
		}
	}
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		return primitive.Decimal128{}
	}
	return d
}

// maxDecimalDigits is how many significant digits a decimal128 holds.
const maxDecimalDigits = 34

func addDecimals(a, b primitive.Decimal128) (any, error) {
	switch {
	case a.IsNaN() || b.IsNaN() || (a.IsInf() != 0 && a.IsInf() == -b.IsInf()):
		return primitive.ParseDecimal128("NaN")
	case a.IsInf() != 0:
		return a, nil
	case b.IsInf() != 0:
		return b, nil
	}
	ca, ea, errA := a.BigInt()
	cb, eb, errB := b.BigInt()
	if errA != nil || errB != nil {
		return nil, errDecimalRange
	}
	ten := big.NewInt(10)
	// Align on the smaller exponent, which keeps the sum exact.
	if ea > eb {
		ca.Mul(ca, new(big.Int).Exp(ten, big.NewInt(int64(ea-eb)), nil))
		ea = eb
	} else if eb > ea {
		cb.Mul(cb, new(big.Int).Exp(ten, big.NewInt(int64(eb-ea)), nil))
	}
	sum := new(big.Int).Add(ca, cb)
	exp := ea
	// Round half to even down to 34 digits.
	if digits := len(new(big.Int).Abs(sum).String()); digits > maxDecimalDigits {
		drop := digits - maxDecimalDigits
		div := new(big.Int).Exp(ten, big.NewInt(int64(drop)), nil)
		q, r := new(big.Int).QuoRem(sum, div, new(big.Int))
		half := new(big.Int).Rsh(div, 1)
		cmp := new(big.Int).Abs(r).Cmp(half)
		if cmp > 0 || (cmp == 0 && q.Bit(0) == 1) {
			q.Add(q, big.NewInt(int64(sum.Sign())))
		}
		sum, exp = q, exp+drop
	}
	d, ok := primitive.ParseDecimal128FromBigInt(sum, exp)
	if !ok {
		return nil, errDecimalRange
	}
	return d, nil
}
