package embedded

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Index keys.
//
// An index key is the BLOB mb_key(doc, 'path') returns for one document:
// one tag byte in MongoDB's order of types, then an order-preserving
// encoding of the value. SQLite compares BLOBs byte by byte, so it orders
// keys exactly as MongoDB orders the values, across types too:
//
//	MinKey < null < numbers < strings < documents < arrays < binary <
//	ObjectID < booleans < dates < timestamps < regular expressions < MaxKey
//
// Numbers of every type share one encoding of their exact value (see
// numberKey), so 1, int64(1) and 1.0 are one key, as they are one value to
// MongoDB. Null, undefined and a missing field share one key too, so a
// unique index refuses a second document without the field, as MongoDB
// does. Documents and arrays are keyed by their BSON, which orders them
// differently from MongoDB; the planner therefore never bounds a range by
// one, and never trusts the index to order them. An array (or a path that
// crosses an array) is one key for the whole array: the planner always
// adds the array bracket to the candidates, and the matcher decides.
const (
	tagMinKey    byte = 0x01
	tagNull      byte = 0x02 // null, undefined and missing
	tagNumber    byte = 0x03
	tagString    byte = 0x04 // strings and symbols
	tagObject    byte = 0x05
	tagArray     byte = 0x06
	tagBinary    byte = 0x07
	tagObjectID  byte = 0x08
	tagBool      byte = 0x09
	tagDate      byte = 0x0a
	tagTimestamp byte = 0x0b
	tagRegex     byte = 0x0c
	tagOther     byte = 0x0d // JavaScript, DBPointer and other rarities
	tagMaxKey    byte = 0xff
)

var nullKey = []byte{tagNull}

// keyFunc is the body of the SQL function mb_key(doc, path).
func keyFunc(doc []byte, path string) []byte {
	return pathKey(bsoncore.Document(doc), path)
}

// pathKey walks a dotted path through doc. Crossing an array yields the
// array's key: the array holds the values MongoDB would index, and the
// index only has to keep such rows among the candidates.
func pathKey(doc bsoncore.Document, path string) []byte {
	for {
		head, rest, more := strings.Cut(path, ".")
		v, err := doc.LookupErr(head)
		if err != nil {
			return nullKey
		}
		if !more {
			return valueKey(v)
		}
		switch v.Type {
		case bsontype.EmbeddedDocument:
			doc = v.Document()
			path = rest
		case bsontype.Array:
			return valueKey(v)
		default:
			return nullKey
		}
	}
}

// valueKey is the index key of one BSON value.
func valueKey(v bsoncore.Value) []byte {
	switch v.Type {
	case bsontype.Int32:
		return intKey(int64(v.Int32()))
	case bsontype.Int64:
		return intKey(v.Int64())
	case bsontype.Double:
		return floatKey(v.Double())
	case bsontype.Decimal128:
		// The nearest double keeps a decimal among the numbers; the
		// matcher compares exactly. ParseFloat saturates values beyond
		// a double's range to ±Inf, which still order right.
		f, _ := strconv.ParseFloat(v.Decimal128().String(), 64)
		return floatKey(f)
	case bsontype.String:
		return tagged(tagString, v.StringValue())
	case bsontype.Symbol:
		return tagged(tagString, v.Symbol())
	case bsontype.Null, bsontype.Undefined:
		return nullKey
	case bsontype.MinKey:
		return []byte{tagMinKey}
	case bsontype.MaxKey:
		return []byte{tagMaxKey}
	case bsontype.EmbeddedDocument:
		return tagged(tagObject, v.Data)
	case bsontype.Array:
		return tagged(tagArray, v.Data)
	case bsontype.Binary:
		// MongoDB orders binary data by length, then subtype, then bytes.
		sub, data := v.Binary()
		k := make([]byte, 0, 6+len(data))
		k = append(k, tagBinary)
		k = binary.BigEndian.AppendUint32(k, uint32(len(data)))
		k = append(k, sub)
		return append(k, data...)
	case bsontype.ObjectID:
		oid := v.ObjectID()
		return tagged(tagObjectID, oid[:])
	case bsontype.Boolean:
		if v.Boolean() {
			return []byte{tagBool, 1}
		}
		return []byte{tagBool, 0}
	case bsontype.DateTime:
		return dateKey(v.DateTime())
	case bsontype.Timestamp:
		t, i := v.Timestamp()
		k := binary.BigEndian.AppendUint32([]byte{tagTimestamp}, t)
		return binary.BigEndian.AppendUint32(k, i)
	case bsontype.Regex:
		pattern, options := v.Regex()
		k := append([]byte{tagRegex}, pattern...)
		k = append(k, 0)
		return append(k, options...)
	default:
		k := []byte{tagOther, byte(v.Type)}
		return append(k, v.Data...)
	}
}

// tagged is tag followed by data, in one allocation.
func tagged[T string | []byte](tag byte, data T) []byte {
	k := make([]byte, 1+len(data))
	k[0] = tag
	copy(k[1:], data)
	return k
}

// dateKey is the key of a date, milliseconds since the epoch.
func dateKey(ms int64) []byte {
	k := make([]byte, 1, 9)
	k[0] = tagDate
	return binary.BigEndian.AppendUint64(k, uint64(ms)^(1<<63))
}

// Numbers. A number's key encodes its exact value, whatever its type:
// after the tag, a class byte (NaN, which MongoDB sorts below every other
// number, then -Inf, negative, zero, positive, +Inf) and, for finite
// non-zero values, the binary exponent E of the magnitude (2 bytes, biased)
// and the bits after its leading 1 (8 bytes, left-aligned). Every int64
// and every double has at most 64 significant bits, so the encoding is
// exact, and equal values (int32 1, int64 1, 1.0) get equal keys. A
// negative number's bytes are inverted so that larger magnitudes sort
// first.
const (
	numNaN byte = iota
	numNegInf
	numNeg
	numZero
	numPos
	numPosInf
)

// exponentBias makes every binary exponent of a double (-1074…1023) and of
// an int64 (0…63) a positive uint16.
const exponentBias = 1100

func intKey(i int64) []byte {
	switch {
	case i == 0:
		return []byte{tagNumber, numZero}
	case i < 0:
		return magnitudeKey(true, uint64(-i), 0) // -MinInt64 wraps to 2^63, its magnitude
	}
	return magnitudeKey(false, uint64(i), 0)
}

func floatKey(f float64) []byte {
	switch {
	case math.IsNaN(f):
		return []byte{tagNumber, numNaN}
	case math.IsInf(f, -1):
		return []byte{tagNumber, numNegInf}
	case math.IsInf(f, 1):
		return []byte{tagNumber, numPosInf}
	case f == 0:
		return []byte{tagNumber, numZero}
	}
	b := math.Float64bits(math.Abs(f))
	exp := int((b >> 52) & 0x7ff)
	sig := b & (1<<52 - 1)
	if exp == 0 {
		exp = 1 // subnormal: no implicit leading 1
	} else {
		sig |= 1 << 52
	}
	return magnitudeKey(f < 0, sig, exp-1075)
}

// magnitudeKey encodes ±sig×2^exp for sig > 0.
func magnitudeKey(neg bool, sig uint64, exp int) []byte {
	lead := 63 - bits.LeadingZeros64(sig)
	e := uint16(exp + lead + exponentBias)
	rest := sig << (64 - lead) // the bits after the leading 1 (a shift by 64 gives 0)
	k := make([]byte, 2, 12)
	k[0], k[1] = tagNumber, numPos
	k = binary.BigEndian.AppendUint16(k, e)
	k = binary.BigEndian.AppendUint64(k, rest)
	if neg {
		k[1] = numNeg
		for i := 2; i < len(k); i++ {
			k[i] = ^k[i]
		}
	}
	return k
}

// goValueKey is the index key of a Go value from a filter, encoded exactly
// as the same value is once stored (through the driver's marshalling).
// The common scalar types are keyed directly, as the driver would encode
// them; the rest go through the driver.
func goValueKey(v any) ([]byte, bsontype.Type, bool) {
	switch x := v.(type) {
	case string:
		return tagged(tagString, x), bsontype.String, true
	case int:
		if int64(int32(x)) == int64(x) {
			return intKey(int64(x)), bsontype.Int32, true
		}
		return intKey(int64(x)), bsontype.Int64, true
	case int32:
		return intKey(int64(x)), bsontype.Int32, true
	case int64:
		return intKey(x), bsontype.Int64, true
	case float64:
		return floatKey(x), bsontype.Double, true
	case bool:
		if x {
			return []byte{tagBool, 1}, bsontype.Boolean, true
		}
		return []byte{tagBool, 0}, bsontype.Boolean, true
	case nil:
		return nullKey, bsontype.Null, true
	case primitive.ObjectID:
		return tagged(tagObjectID, x[:]), bsontype.ObjectID, true
	case primitive.DateTime:
		return dateKey(int64(x)), bsontype.DateTime, true
	case time.Time:
		return dateKey(int64(primitive.NewDateTimeFromTime(x))), bsontype.DateTime, true
	}
	return marshalledKey(v)
}

// marshalledKey is goValueKey through the driver's marshalling.
func marshalledKey(v any) ([]byte, bsontype.Type, bool) {
	raw, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return nil, 0, false
	}
	val, err := bsoncore.Document(raw).LookupErr("v")
	if err != nil {
		return nil, 0, false
	}
	return valueKey(val), val.Type, true
}

// bracket is the half-open range [lo, hi) of the keys of one type, for
// bounding a range query the way MongoDB does ($gt: 5 matches no strings).
type bracket struct{ lo, hi []byte }

func tagBracket(tag byte) bracket {
	return bracket{lo: []byte{tag}, hi: []byte{tag + 1}}
}

// bracketOf is the bracket of a key, or false for types a range over which
// the index cannot bound (arrays, documents, MinKey, MaxKey).
func bracketOf(t bsontype.Type, key []byte) (bracket, bool) {
	switch t {
	case bsontype.EmbeddedDocument, bsontype.Array, bsontype.MinKey, bsontype.MaxKey:
		return bracket{}, false
	}
	return tagBracket(key[0]), true
}
