package mquery

import (
	"math"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func dec(t testing.TB, s string) primitive.Decimal128 {
	t.Helper()
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCompareTypeOrder(t *testing.T) {
	t.Parallel()
	oid := primitive.ObjectID{1}
	// One value of each class, in MongoDB's ascending order.
	ordered := []any{
		primitive.MinKey{},
		primitive.Undefined{},
		nil,
		math.Inf(-1),
		int32(5),
		"",
		primitive.Symbol("sym"),
		bson.M{},
		bson.A{},
		primitive.Binary{Data: []byte{1}},
		oid,
		false,
		true,
		primitive.DateTime(0),
		primitive.Timestamp{T: 1},
		primitive.Regex{Pattern: "a"},
		primitive.DBPointer{DB: "x", Pointer: oid},
		primitive.JavaScript("f()"),
		primitive.CodeWithScope{Code: "f()", Scope: bson.M{}},
		primitive.MaxKey{},
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := Compare(ordered[i], ordered[j]); got != want {
				t.Errorf("Compare(%#v, %#v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestCompareValues(t *testing.T) {
	t.Parallel()
	big := int64(1) << 60
	scenarios := []struct {
		name string
		a, b any
		want int
	}{
		{"int32 equals int64", int32(5), int64(5), 0},
		{"int32 equals double", int32(5), 5.0, 0},
		{"int64 equals double", int64(5), 5.0, 0},
		{"int32 below double", int32(5), 5.5, -1},
		{"negative fraction", int64(-2), -2.5, 1},
		{"int64 beyond double precision", big + 1, float64(big), 1},
		{"int64 below huge double", int64(math.MaxInt64), 1e19, -1},
		{"int64 above tiny double", int64(math.MinInt64), -1e19, 1},
		{"NaN below numbers", math.NaN(), math.Inf(-1), -1},
		{"NaN below int", math.NaN(), int32(-5), -1},
		{"NaN equals NaN", math.NaN(), math.NaN(), 0},
		{"decimal equals int", dec(t, "5.0"), int32(5), 0},
		{"decimal below double", dec(t, "0.1"), 0.2, -1},
		{"decimal above int64", dec(t, "9223372036854775808"), int64(math.MaxInt64), 1},
		{"decimal NaN below decimal", dec(t, "NaN"), dec(t, "-Infinity"), -1},
		{"decimal infinity above double", dec(t, "Infinity"), math.MaxFloat64, 1},
		{"decimal NaN equals double NaN", dec(t, "NaN"), math.NaN(), 0},
		{"strings by bytes", "B", "a", -1},
		{"string prefix first", "ab", "abc", -1},
		{"utf8 bytes", "z", "é", -1},
		{"symbol equals string", primitive.Symbol("x"), "x", 0},
		{"docs equal regardless of order", bson.M{"a": int32(1), "b": "x"}, bson.M{"b": "x", "a": 1.0}, 0},
		{"doc fewer fields first", bson.M{"a": 1}, bson.M{"a": 1, "b": 1}, -1},
		{"doc field type before name", bson.M{"b": int32(1)}, bson.M{"a": "x"}, -1},
		{"doc field name before value", bson.M{"a": int32(9)}, bson.M{"b": int32(1)}, -1},
		{"doc field value", bson.M{"a": int32(1)}, bson.M{"a": int32(2)}, -1},
		{"arrays element by element", bson.A{int32(1), int32(3)}, bson.A{int32(1), int32(2), int32(9)}, 1},
		{"array prefix first", bson.A{int32(1)}, bson.A{int32(1), int32(2)}, -1},
		{"empty arrays equal", bson.A{}, bson.A{}, 0},
		{"binary length first", primitive.Binary{Subtype: 9, Data: []byte{1}}, primitive.Binary{Data: []byte{0, 0}}, -1},
		{"binary subtype second", primitive.Binary{Subtype: 1, Data: []byte{0}}, primitive.Binary{Subtype: 0, Data: []byte{9}}, 1},
		{"binary bytes last", primitive.Binary{Data: []byte{1}}, primitive.Binary{Data: []byte{2}}, -1},
		{"object ids by bytes", primitive.ObjectID{1}, primitive.ObjectID{2}, -1},
		{"false below true", false, true, -1},
		{"dates", primitive.DateTime(-5), primitive.DateTime(3), -1},
		{"timestamps by T then I", primitive.Timestamp{T: 2, I: 0}, primitive.Timestamp{T: 1, I: 9}, 1},
		{"regex pattern then flags", primitive.Regex{Pattern: "a", Options: "i"}, primitive.Regex{Pattern: "a"}, 1},
		{"go int", 5, int64(5), 0},
		{"go time", time.UnixMilli(10).UTC(), primitive.DateTime(10), 0},
		{"go map", map[string]any{"a": 1}, bson.M{"a": int32(1)}, 0},
		{"go slice", []any{1, "x"}, bson.A{int32(1), "x"}, 0},
		{"foreign value sorts last", make(chan int), primitive.MaxKey{}, 1},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if got := Compare(s.a, s.b); got != s.want {
				t.Errorf("Compare(%v, %v) = %d, want %d", s.a, s.b, got, s.want)
			}
			if got := Compare(s.b, s.a); got != -s.want {
				t.Errorf("Compare(%v, %v) = %d, want %d", s.b, s.a, got, -s.want)
			}
			if got := equalValues(s.a, s.b); got != (s.want == 0) {
				t.Errorf("equalValues(%v, %v) = %v, want %v", s.a, s.b, got, s.want == 0)
			}
		})
	}
}

func TestCompareIntFloatExhaustiveEdges(t *testing.T) {
	t.Parallel()
	ints := []int64{math.MinInt64, -1 << 53, -3, -1, 0, 1, 3, 1 << 53, 1<<53 + 1, math.MaxInt64}
	floats := []float64{math.Inf(-1), -1e19, -9.223372036854775808e18, -1 << 53, -3.5, -1, -0.5, 0, 0.5, 1, 3, 1 << 53, 9.2233720368547758e18, 1e19, math.Inf(1)}
	for _, i := range ints {
		for _, f := range floats {
			want := compareBig(i, f) // the slow exact reference
			if got := compareIntFloat(i, f); got != want {
				t.Errorf("compareIntFloat(%d, %g) = %d, want %d", i, f, got, want)
			}
		}
	}
}
