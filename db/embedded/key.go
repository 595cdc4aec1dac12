package embedded

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Index keys.
//
// An index key is the SQLite value mb_key(doc, 'path') returns for one
// document. Within one MongoDB type bracket SQLite orders keys exactly as
// MongoDB orders the values:
//
//	int32, int64        INTEGER  (SQLite compares INTEGER and REAL numerically,
//	double, decimal128  REAL      as MongoDB compares numbers of mixed types)
//	string, symbol      TEXT     (binary collation: MongoDB's byte order)
//	everything else     BLOB     one tag byte in MongoDB's type order, then an
//	                             order-preserving encoding of the value
//
// Null, undefined and a missing field share one key, so a unique index
// refuses a second document without the field, as MongoDB does. An array
// (or a path that crosses an array) is one BLOB key for the whole array: the
// planner always adds the array bracket to the candidates, and the matcher
// decides.
const (
	tagMinKey    byte = 0x01
	tagNull      byte = 0x02 // null, undefined and missing
	tagNaN       byte = 0x03 // MongoDB sorts NaN below every other number
	tagObject    byte = 0x10
	tagArray     byte = 0x11
	tagBinary    byte = 0x12
	tagObjectID  byte = 0x13
	tagBool      byte = 0x14
	tagDate      byte = 0x15
	tagTimestamp byte = 0x16
	tagRegex     byte = 0x17
	tagOther     byte = 0x18 // JavaScript, DBPointer and other rarities
	tagMaxKey    byte = 0x7f
)

var nullKey = []byte{tagNull}

// keyFunc is the body of the SQL function mb_key(doc, path).
func keyFunc(doc []byte, path string) any {
	return pathKey(bsoncore.Document(doc), path)
}

// pathKey walks a dotted path through doc. Crossing an array yields the
// array's key: the array holds the values MongoDB would index, and the
// index only has to keep such rows among the candidates.
func pathKey(doc bsoncore.Document, path string) any {
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
func valueKey(v bsoncore.Value) any {
	switch v.Type {
	case bsontype.Int32:
		return int64(v.Int32())
	case bsontype.Int64:
		return v.Int64()
	case bsontype.Double:
		f := v.Double()
		if math.IsNaN(f) {
			return []byte{tagNaN}
		}
		return f
	case bsontype.Decimal128:
		return decimalKey(v)
	case bsontype.String:
		return v.StringValue()
	case bsontype.Symbol:
		return v.Symbol()
	case bsontype.Null, bsontype.Undefined:
		return nullKey
	case bsontype.MinKey:
		return []byte{tagMinKey}
	case bsontype.MaxKey:
		return []byte{tagMaxKey}
	case bsontype.EmbeddedDocument:
		return append([]byte{tagObject}, v.Data...)
	case bsontype.Array:
		return append([]byte{tagArray}, v.Data...)
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
		return append([]byte{tagObjectID}, oid[:]...)
	case bsontype.Boolean:
		if v.Boolean() {
			return []byte{tagBool, 1}
		}
		return []byte{tagBool, 0}
	case bsontype.DateTime:
		return binary.BigEndian.AppendUint64([]byte{tagDate}, uint64(v.DateTime())^(1<<63))
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

// decimalKey approximates a decimal128 by the nearest double, which keeps
// it in the number bracket; the matcher compares exactly. ParseFloat
// saturates values beyond a double's range to ±Inf, which still order right.
func decimalKey(v bsoncore.Value) any {
	f, _ := strconv.ParseFloat(v.Decimal128().String(), 64)
	if math.IsNaN(f) {
		return []byte{tagNaN}
	}
	return f
}

// goValueKey is the index key of a Go value from a filter, encoded exactly
// as the same value is once stored (through the driver's marshalling).
func goValueKey(v any) (any, bsontype.Type, bool) {
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

// bracket is the half-open range [lo, hi) of keys of one type bracket, for
// bounding a range query the way MongoDB does ($gt: 5 matches no strings).
// A nil bound is open.
type bracket struct{ lo, hi any }

var (
	// Every number sorts below every TEXT value, and the empty string is
	// the least TEXT value.
	numberBracket = bracket{lo: nil, hi: ""}
	// Every TEXT value sorts below every BLOB, and the empty BLOB is the
	// least BLOB.
	stringBracket = bracket{lo: "", hi: []byte{}}
	arrayBracket  = tagBracket(tagArray)
	objectBracket = tagBracket(tagObject)
)

func tagBracket(tag byte) bracket {
	return bracket{lo: []byte{tag}, hi: []byte{tag + 1}}
}

// bracketOf is the bracket of a key, or false for types a range over which
// the index cannot bound (arrays, documents, MinKey, MaxKey).
func bracketOf(t bsontype.Type, key any) (bracket, bool) {
	switch t {
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128:
		if _, nan := key.([]byte); nan {
			return tagBracket(tagNaN), true
		}
		return numberBracket, true
	case bsontype.String, bsontype.Symbol:
		return stringBracket, true
	case bsontype.Null, bsontype.Undefined:
		return tagBracket(tagNull), true
	case bsontype.Binary, bsontype.ObjectID, bsontype.Boolean, bsontype.DateTime,
		bsontype.Timestamp, bsontype.Regex:
		return tagBracket(key.([]byte)[0]), true
	}
	return bracket{}, false
}

// keysEqual reports whether SQLite would find two keys equal.
func keysEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y && int64(y) == x
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int64:
			return float64(y) == x && int64(x) == y
		}
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return false
}
