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

// TestKeyOrderMatchesMongoDB checks that within a type bracket SQLite
// orders index keys exactly as MongoDB orders the values.
func TestKeyOrderMatchesMongoDB(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	values := keyOrderValues(t)
	type keyed struct {
		v   any
		key any
		br  bracket
	}
	var ks []keyed
	for _, v := range values {
		key, typ, ok := goValueKey(v)
		if !ok {
			t.Fatalf("no key for %#v", v)
		}
		br, ok := bracketOf(typ, key)
		if !ok {
			continue
		}
		ks = append(ks, keyed{v, key, br})
	}
	for _, a := range ks {
		for _, b := range ks {
			if !keysEqual(a.br.lo, b.br.lo) {
				continue
			}
			var lt, gt bool
			if err := s.read.QueryRowContext(ctx, "SELECT ? < ?, ? > ?", a.key, b.key, a.key, b.key).Scan(&lt, &gt); err != nil {
				t.Fatal(err)
			}
			got := 0
			if lt {
				got = -1
			} else if gt {
				got = 1
			}
			if want := mquery.Compare(a.v, b.v); got != want {
				t.Errorf("SQLite orders %#v against %#v as %d, MongoDB as %d", a.v, b.v, got, want)
			}
			if eq := keysEqual(a.key, b.key); eq != (got == 0) {
				t.Errorf("keysEqual(%#v, %#v) = %v, SQLite says %d", a.v, b.v, eq, got)
			}
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
			inside := true
			if br.lo != nil {
				var ge bool
				s.read.QueryRowContext(ctx, "SELECT ? >= ?", okey, br.lo).Scan(&ge)
				inside = inside && ge
			}
			var lt bool
			s.read.QueryRowContext(ctx, "SELECT ? < ?", okey, br.hi).Scan(&lt)
			inside = inside && lt
			if same := keysEqual(obr.lo, br.lo); inside != same {
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
		k, ok := keyFunc(doc, path).([]byte)
		return ok && k[0] == tagArray
	}
	scenarios := []struct {
		path string
		want any
	}{
		{"a.b", int64(5)},
		{"s", "x"},
		{"n", nullKey},
		{"missing", nullKey},
		{"s.deeper", nullKey},
		{"a.missing.deeper", nullKey},
		{"num", 3.5},
		{"big", int64(1 << 40)},
	}
	for _, sc := range scenarios {
		got := keyFunc(doc, sc.path)
		if !keysEqual(got, sc.want) {
			t.Errorf("key of %q = %#v, want %#v", sc.path, got, sc.want)
		}
	}
	for _, path := range []string{"arr", "a.c", "a.c.d", "arr.0"} {
		if !arrKey(path) {
			t.Errorf("key of %q = %#v, want an array key", path, keyFunc(doc, path))
		}
	}
	if k := keyFunc(doc, "when").([]byte); k[0] != tagDate || !bytes.Equal(k[1:], []byte{0x80, 0, 0, 0, 0, 0, 0, 7}) {
		t.Errorf("date key = %x", k)
	}
}
