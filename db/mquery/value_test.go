package mquery

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

type status string

type address struct {
	City string `bson:"city"`
	Zip  int    `bson:"zip,omitempty"`
}

func mustRaw(t *testing.T, d bson.M) bson.Raw {
	t.Helper()
	raw, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	n := int32(7)
	scenarios := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int fits int32", 5, int32(5)},
		{"int needs int64", 1 << 40, int64(1 << 40)},
		{"int8", int8(-3), int32(-3)},
		{"int16", int16(300), int32(300)},
		{"uint8", uint8(200), int32(200)},
		{"uint16", uint16(60000), int32(60000)},
		{"uint32", uint32(4000000000), int64(4000000000)},
		{"uint", uint(9), int64(9)},
		{"uint64", uint64(9), int64(9)},
		{"int64 stays int64", int64(5), int64(5)},
		{"float32", float32(1.5), 1.5},
		{"time to millisecond date", when, primitive.DateTime(when.UnixMilli())},
		{"named string", status("on"), "on"},
		{"pointer", &n, int32(7)},
		{"nil pointer", (*int)(nil), nil},
		{"bytes to binary", []byte{1, 2}, primitive.Binary{Data: []byte{1, 2}}},
		{"null type", primitive.Null{}, nil},
		{"slice of any", []any{1, "a"}, bson.A{int32(1), "a"}},
		{"typed slice", []string{"a", "b"}, bson.A{"a", "b"}},
		{"nil slice is null", []any(nil), nil},
		{"primitive.A", primitive.A{uint8(1)}, bson.A{int32(1)}},
		{"map", map[string]any{"a": 1}, bson.M{"a": int32(1)}},
		{"typed map", map[string]int{"a": 1}, bson.M{"a": int32(1)}},
		{"bson.D", bson.D{{Key: "a", Value: 1}, {Key: "b", Value: bson.D{{Key: "c", Value: true}}}}, bson.M{"a": int32(1), "b": bson.M{"c": true}}},
		{"list of bson.E", []bson.E{{Key: "a", Value: 1}}, bson.M{"a": int32(1)}},
		{"struct through the driver", address{City: "Oslo"}, bson.M{"city": "Oslo"}},
		{"nested go values", bson.M{"a": []any{map[string]any{"t": when}}}, bson.M{"a": bson.A{bson.M{"t": primitive.DateTime(when.UnixMilli())}}}},
		{"decimal kept", dec(t, "1.5"), dec(t, "1.5")},
		{"byte array to binary", [3]byte{1, 2, 3}, primitive.Binary{Data: []byte{1, 2, 3}}},
		{"json integer", json.Number("12"), int64(12)},
		{"json float", json.Number("1.5"), 1.5},
		{"raw document", mustRaw(t, bson.M{"a": "x", "n": int64(2)}), bson.M{"a": "x", "n": int64(2)}},
		{"min key kept", primitive.MinKey{}, primitive.MinKey{}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			got, err := normalize(s.in)
			if err != nil {
				t.Fatalf("normalize: %v", err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("normalize(%#v) = %#v, want %#v", s.in, got, s.want)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	t.Parallel()
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	scenarios := []struct {
		name string
		in   any
		msg  string
	}{
		{"channel", make(chan int), "invalid query: unsupported value of Go type chan int"},
		{"func", func() {}, "invalid query: unsupported value of Go type func()"},
		{"complex", complex(1, 2), "invalid query: unsupported value of Go type complex128"},
		{"map with int keys", map[int]string{1: "a"}, "invalid query: unsupported value of Go type map[int]string"},
		{"struct with a channel", struct{ C chan int }{}, "invalid query: unsupported value of Go type struct { C chan int }"},
		{"uint64 too large", uint64(math.MaxUint64), "invalid query: integer 18446744073709551615 does not fit in 64 bits"},
		{"duplicate key in bson.D", bson.D{{Key: "a", Value: 1}, {Key: "a", Value: 2}}, "invalid query: a: field named twice in one document"},
		{"bad json number", json.Number("x"), `invalid query: "x" is not a number`},
		{"malformed raw document", bson.Raw{1, 2}, "invalid query: malformed BSON document: EOF"},
		{"cycle", cyclic, "invalid query: value nested more than 200 levels deep"},
		{"nested channel", bson.M{"a": bson.A{make(chan int)}}, "invalid query: a.0: unsupported value of Go type chan int"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := normalize(s.in)
			var qe *db.QueryError
			if !errors.As(err, &qe) || !errors.Is(err, db.ErrInvalidQuery) {
				t.Fatalf("normalize(%T) error = %v, want a *db.QueryError", s.in, err)
			}
			if err.Error() != s.msg {
				t.Errorf("error = %q, want %q", err.Error(), s.msg)
			}
		})
	}
}

func TestDeepCopyIsIndependent(t *testing.T) {
	t.Parallel()
	orig := bson.M{"a": bson.M{"b": bson.A{int32(1), bson.M{"c": "x"}}}, "bin": primitive.Binary{Data: []byte{1}}}
	cp := deepCopy(orig).(bson.M)
	cp["a"].(bson.M)["b"].(bson.A)[1].(bson.M)["c"] = "changed"
	cp["a"].(bson.M)["new"] = true
	cp["bin"].(primitive.Binary).Data[0] = 9
	want := bson.M{"a": bson.M{"b": bson.A{int32(1), bson.M{"c": "x"}}}, "bin": primitive.Binary{Data: []byte{1}}}
	if !reflect.DeepEqual(orig, want) {
		t.Errorf("original changed: %#v", orig)
	}
}
