package embedded

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db/mquery"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// keyOrderValues are values of every indexable type, several per type.
func keyOrderValues(t *testing.T) []any {
	oid := func(s string) primitive.ObjectID {
		o, err := primitive.ObjectIDFromHex(s)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	dec := func(s string) primitive.Decimal128 {
		d, err := primitive.ParseDecimal128(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return []any{
		math.Inf(-1), int64(math.MinInt64), int32(-5), -1.5, -0.0, 0.0, int32(0), int64(0),
		1e-300, int32(1), 1.0, int64(1), dec("1.5"), 2.5, int64(1<<53 + 1), float64(1 << 53),
		int64(math.MaxInt64), math.Inf(1), math.NaN(),
		"", "A", "a", "aa", "b", "é", "\u00ff", "a\x00b",
		primitive.DateTime(-1000), primitive.DateTime(0), primitive.NewDateTimeFromTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		oid("000000000000000000000000"), oid("00000000000000000000ffff"), oid("ff0000000000000000000000"),
		false, true,
		primitive.Binary{Data: []byte("b")}, primitive.Binary{Data: []byte("ab")}, primitive.Binary{Subtype: 4, Data: []byte("aa")}, primitive.Binary{Data: []byte("abc")},
		primitive.Timestamp{T: 1, I: 5}, primitive.Timestamp{T: 2, I: 0},
		primitive.Regex{Pattern: "a"}, primitive.Regex{Pattern: "a", Options: "i"}, primitive.Regex{Pattern: "b"},
		nil, primitive.Null{}, primitive.MinKey{}, primitive.MaxKey{},
	}
}

// TestKeyOrderMatchesMongoDB checks that SQLite orders index keys exactly
// as MongoDB orders the values, within and across types, and that keys
// are equal exactly when the values are.
func TestKeyOrderMatchesMongoDB(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	values := keyOrderValues(t)
	keys := make([][]byte, len(values))
	for i, v := range values {
		key, _, ok := goValueKey(v)
		if !ok {
			t.Fatalf("no key for %#v", v)
		}
		keys[i] = key
	}
	for i, a := range values {
		for j, b := range values {
			var lt, gt bool
			if err := s.read.QueryRowContext(ctx, "SELECT ? < ?, ? > ?", keys[i], keys[j], keys[i], keys[j]).Scan(&lt, &gt); err != nil {
				t.Fatal(err)
			}
			got := 0
			if lt {
				got = -1
			} else if gt {
				got = 1
			}
			if want := mquery.Compare(a, b); got != want {
				t.Errorf("SQLite orders %#v against %#v as %d, MongoDB as %d", a, b, got, want)
			}
			if eq := bytes.Equal(keys[i], keys[j]); eq != (got == 0) {
				t.Errorf("keys of %#v and %#v equal: %v, SQLite says %d", a, b, eq, got)
			}
		}
	}
}

// TestNumberKeysAreExact checks the number encoding on values a double
// cannot tell apart, and on the edges of both types.
func TestNumberKeysAreExact(t *testing.T) {
	t.Parallel()
	ordered := []any{
		math.NaN(), math.Inf(-1), -math.MaxFloat64, float64(math.MinInt64) / 2 * 3, int64(math.MinInt64),
		int64(-1<<53 - 1), float64(-1 << 53), -1.5, int32(-1), -math.SmallestNonzeroFloat64, 0.0,
		math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 0.5, int32(1), 1.0000000000000002, 3.0,
		int64(1<<53 - 1), float64(1 << 53), int64(1<<53 + 1), int64(math.MaxInt64 - 1), int64(math.MaxInt64),
		float64(math.MaxInt64), math.MaxFloat64, math.Inf(1),
	}
	var prev []byte
	for i, v := range ordered {
		key, _, _ := goValueKey(v)
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			t.Errorf("key of %#v does not sort after the key of %#v", v, ordered[i-1])
		}
		prev = key
	}
	for _, eq := range [][2]any{{int32(7), 7.0}, {int64(-7), -7.0}, {int64(1 << 62), float64(1 << 62)}, {-0.0, int32(0)}, {0.25, 0.25}} {
		a, _, _ := goValueKey(eq[0])
		b, _, _ := goValueKey(eq[1])
		if !bytes.Equal(a, b) {
			t.Errorf("keys of %#v and %#v differ: %x, %x", eq[0], eq[1], a, b)
		}
	}
}

// TestKeyBrackets checks that keys of one bracket stay inside its bounds
// and that brackets do not overlap, so a range never leaves its type.
func TestKeyBrackets(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	for _, v := range keyOrderValues(t) {
		key, typ, _ := goValueKey(v)
		br, ok := bracketOf(typ, key)
		if !ok {
			continue
		}
		for _, other := range keyOrderValues(t) {
			okey, otyp, _ := goValueKey(other)
			obr, ok := bracketOf(otyp, okey)
			if !ok {
				continue
			}
			var inside bool
			if err := s.read.QueryRowContext(ctx, "SELECT ? >= ? AND ? < ?", okey, br.lo, okey, br.hi).Scan(&inside); err != nil {
				t.Fatal(err)
			}
			if same := bytes.Equal(obr.lo, br.lo); inside != same {
				t.Errorf("%#v inside the bracket of %#v: %v, same type: %v", other, v, inside, same)
			}
		}
	}
}

func TestPathKey(t *testing.T) {
	t.Parallel()
	doc, err := bson.Marshal(bson.M{
		"a":    bson.M{"b": int32(5), "c": bson.A{bson.M{"d": 1}}},
		"s":    "x",
		"n":    nil,
		"arr":  bson.A{int32(1), int32(2)},
		"num":  3.5,
		"big":  int64(1 << 40),
		"when": primitive.DateTime(7),
	})
	if err != nil {
		t.Fatal(err)
	}
	arrKey := func(path string) bool {
		return keyFunc(doc, path)[0] == tagArray
	}
	scenarios := []struct {
		path string
		want any
	}{
		{"a.b", int64(5)},
		{"s", "x"},
		{"n", nil},
		{"missing", nil},
		{"s.deeper", nil},
		{"a.missing.deeper", nil},
		{"num", 3.5},
		{"big", int64(1 << 40)},
	}
	for _, sc := range scenarios {
		got := keyFunc(doc, sc.path)
		want, _, _ := goValueKey(sc.want)
		if !bytes.Equal(got, want) {
			t.Errorf("key of %q = %#v, want %#v", sc.path, got, sc.want)
		}
	}
	for _, path := range []string{"arr", "a.c", "a.c.d", "arr.0"} {
		if !arrKey(path) {
			t.Errorf("key of %q = %#v, want an array key", path, keyFunc(doc, path))
		}
	}
	if k := keyFunc(doc, "when"); k[0] != tagDate || !bytes.Equal(k[1:], []byte{0x80, 0, 0, 0, 0, 0, 0, 7}) {
		t.Errorf("date key = %x", k)
	}
}

// TestDirectKeysMatchMarshalled checks that the types goValueKey keys
// without the driver get exactly the key and type the driver's encoding
// would give them.
func TestDirectKeysMatchMarshalled(t *testing.T) {
	t.Parallel()
	values := append(keyOrderValues(t),
		0, 1, -1, math.MaxInt32, math.MinInt32, math.MaxInt32+1, math.MinInt32-1, math.MaxInt64, math.MinInt64,
		"a\xffb", true, time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(1_800_000_000, 123_456_789).In(time.FixedZone("x", 3600)),
		time.Time{}, primitive.NewObjectID(), math.Copysign(0, -1),
	)
	for _, v := range values {
		key, typ, ok := goValueKey(v)
		want, wantType, wantOK := marshalledKey(v)
		if ok != wantOK || typ != wantType || !bytes.Equal(key, want) {
			t.Errorf("goValueKey(%#v) = %x, %s, %v; the driver's encoding gives %x, %s, %v", v, key, typ, ok, want, wantType, wantOK)
		}
	}
}
