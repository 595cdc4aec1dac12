package mquery

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Type classes in MongoDB's comparison order. Values of different classes
// compare by class alone; int32, int64, double and decimal share one class,
// as do string and symbol.
const (
	rankMinKey = iota
	rankUndefined
	rankNull
	rankNumber
	rankString
	rankObject
	rankArray
	rankBinary
	rankObjectID
	rankBool
	rankDate
	rankTimestamp
	rankRegex
	rankDBPointer
	rankJavaScript
	rankCodeWithScope
	rankMaxKey
	// rankForeign is for Go values normalize cannot convert; they sort
	// last and equal to each other rather than panicking.
	rankForeign
)

// rank returns v's type class, or -1 when v is not in canonical form.
func rank(v any) int {
	switch v.(type) {
	case nil:
		return rankNull
	case string, primitive.Symbol:
		return rankString
	case int32, int64, float64, primitive.Decimal128:
		return rankNumber
	case bson.M:
		return rankObject
	case bson.A:
		return rankArray
	case bool:
		return rankBool
	case primitive.DateTime:
		return rankDate
	case primitive.ObjectID:
		return rankObjectID
	case primitive.Binary:
		return rankBinary
	case primitive.Timestamp:
		return rankTimestamp
	case primitive.Regex:
		return rankRegex
	case primitive.MinKey:
		return rankMinKey
	case primitive.MaxKey:
		return rankMaxKey
	case primitive.Undefined:
		return rankUndefined
	case primitive.DBPointer:
		return rankDBPointer
	case primitive.JavaScript:
		return rankJavaScript
	case primitive.CodeWithScope:
		return rankCodeWithScope
	}
	return -1
}

// canonicalRank normalizes v when it is not canonical yet, so Compare
// also accepts Go values such as int or time.Time.
func canonicalRank(v any) (any, int) {
	if r := rank(v); r >= 0 {
		return v, r
	}
	n, err := normalize(v)
	if err != nil {
		return v, rankForeign
	}
	return n, rank(n)
}

// compareValues is Compare without the argument conversion.
func compareValues(a, b any) int {
	a, ra := canonicalRank(a)
	b, rb := canonicalRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	return compareSameRank(a, b, ra)
}

func compareSameRank(a, b any, r int) int {
	switch r {
	case rankNumber:
		return compareNumbers(a, b)
	case rankString:
		return strings.Compare(stringOf(a), stringOf(b))
	case rankObject:
		return compareDocs(a.(bson.M), b.(bson.M))
	case rankArray:
		return compareArrays(a.(bson.A), b.(bson.A))
	case rankBinary:
		x, y := a.(primitive.Binary), b.(primitive.Binary)
		if c := cmp.Compare(len(x.Data), len(y.Data)); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Subtype, y.Subtype); c != 0 {
			return c
		}
		return bytes.Compare(x.Data, y.Data)
	case rankObjectID:
		x, y := a.(primitive.ObjectID), b.(primitive.ObjectID)
		return bytes.Compare(x[:], y[:])
	case rankBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case y:
			return -1
		}
		return 1
	case rankDate:
		return cmp.Compare(a.(primitive.DateTime), b.(primitive.DateTime))
	case rankTimestamp:
		x, y := a.(primitive.Timestamp), b.(primitive.Timestamp)
		if c := cmp.Compare(x.T, y.T); c != 0 {
			return c
		}
		return cmp.Compare(x.I, y.I)
	case rankRegex:
		x, y := a.(primitive.Regex), b.(primitive.Regex)
		if c := strings.Compare(x.Pattern, y.Pattern); c != 0 {
			return c
		}
		return strings.Compare(x.Options, y.Options)
	case rankDBPointer:
		x, y := a.(primitive.DBPointer), b.(primitive.DBPointer)
		if c := cmp.Compare(len(x.DB), len(y.DB)); c != 0 {
			return c
		}
		if c := strings.Compare(x.DB, y.DB); c != 0 {
			return c
		}
		return bytes.Compare(x.Pointer[:], y.Pointer[:])
	case rankJavaScript:
		return strings.Compare(string(a.(primitive.JavaScript)), string(b.(primitive.JavaScript)))
	case rankCodeWithScope:
		x, y := a.(primitive.CodeWithScope), b.(primitive.CodeWithScope)
		if c := strings.Compare(string(x.Code), string(y.Code)); c != 0 {
			return c
		}
		return compareValues(x.Scope, y.Scope)
	}
	// MinKey, MaxKey, null, undefined and foreign values: one value per class.
	return 0
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(v.(primitive.Symbol))
}

// compareDocs walks both documents field by field, comparing each pair by
// type class, then field name, then value, as MongoDB does. A bson.M has no
// field order, so fields are taken in name order; that makes documents
// with the same fields in a different order equal.
func compareDocs(a, b bson.M) int {
	var bufA, bufB [16]string
	ka, kb := sortedKeys(a, bufA[:0]), sortedKeys(b, bufB[:0])
	for i := 0; ; i++ {
		switch {
		case i == len(ka) && i == len(kb):
			return 0
		case i == len(ka):
			return -1
		case i == len(kb):
			return 1
		}
		va, ra := canonicalRank(a[ka[i]])
		vb, rb := canonicalRank(b[kb[i]])
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
		if c := strings.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := compareSameRank(va, vb, ra); c != 0 {
			return c
		}
	}
}

// sortedKeys appends m's keys to buf in order; callers on hot paths pass
// a stack array so that small documents need no allocation.
func sortedKeys(m bson.M, buf []string) []string {
	keys := buf
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func compareArrays(a, b bson.A) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// equalValues reports whether Compare(a, b) == 0 without sorting document
// keys, so equality filters stay cheap.
func equalValues(a, b any) bool {
	a, ra := canonicalRank(a)
	b, rb := canonicalRank(b)
	if ra != rb {
		return false
	}
	switch ra {
	case rankString:
		return stringOf(a) == stringOf(b)
	case rankNumber:
		return compareNumbers(a, b) == 0
	case rankObject:
		x, y := a.(bson.M), b.(bson.M)
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalValues(xv, yv) {
				return false
			}
		}
		return true
	case rankArray:
		x, y := a.(bson.A), b.(bson.A)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return compareSameRank(a, b, ra) == 0
}

// compareNumbers orders two numeric values by value across int32, int64,
// double and decimal. NaN sorts below every other number and equals NaN,
// which is MongoDB's sort order (filters treat NaN separately).
func compareNumbers(a, b any) int {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return cmp.Compare(x, y)
		case int64:
			return cmp.Compare(int64(x), y)
		case float64:
			return cmp.Compare(float64(x), y) // every int32 is exact in a double
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return cmp.Compare(x, int64(y))
		case int64:
			return cmp.Compare(x, y)
		case float64:
			return compareIntFloat(x, y)
		}
	case float64:
		switch y := b.(type) {
		case int32:
			return cmp.Compare(x, float64(y))
		case int64:
			return -compareIntFloat(y, x)
		case float64:
			return cmp.Compare(x, y)
		}
	}
	return compareBig(a, b)
}

// compareIntFloat compares exactly, where converting i to a double would
// round above 2^53.
func compareIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= 1<<63:
		return -1
	case f < -(1 << 63):
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	return cmp.Compare(t, f)
}

// bigNumber is a number in a form every numeric type converts to exactly:
// a class (NaN < -Inf < finite < +Inf) and, when finite, a rational.
type bigNumber struct {
	class int
	rat   *big.Rat
}

const (
	classNaN = iota
	classNegInf
	classFinite
	classPosInf
)

func toBig(v any) bigNumber {
	switch x := v.(type) {
	case int32:
		return bigNumber{classFinite, new(big.Rat).SetInt64(int64(x))}
	case int64:
		return bigNumber{classFinite, new(big.Rat).SetInt64(x)}
	case float64:
		switch {
		case math.IsNaN(x):
			return bigNumber{class: classNaN}
		case math.IsInf(x, 1):
			return bigNumber{class: classPosInf}
		case math.IsInf(x, -1):
			return bigNumber{class: classNegInf}
		}
		return bigNumber{classFinite, new(big.Rat).SetFloat64(x)}
	case primitive.Decimal128:
		switch {
		case x.IsNaN():
			return bigNumber{class: classNaN}
		case x.IsInf() > 0:
			return bigNumber{class: classPosInf}
		case x.IsInf() < 0:
			return bigNumber{class: classNegInf}
		}
		coef, exp, err := x.BigInt()
		if err != nil {
			return bigNumber{class: classNaN}
		}
		r := new(big.Rat).SetInt(coef)
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
		if exp >= 0 {
			r.Mul(r, new(big.Rat).SetInt(scale))
		} else {
			r.Quo(r, new(big.Rat).SetInt(scale))
		}
		return bigNumber{classFinite, r}
	}
	return bigNumber{class: classNaN}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// compareBig is the exact, allocating path taken when a decimal is involved.
func compareBig(a, b any) int {
	x, y := toBig(a), toBig(b)
	if x.class != y.class || x.class != classFinite {
		return cmp.Compare(x.class, y.class)
	}
	return x.rat.Cmp(y.rat)
}

// isNaN reports whether v is a double or decimal NaN.
func isNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case primitive.Decimal128:
		return x.IsNaN()
	}
	return false
}
