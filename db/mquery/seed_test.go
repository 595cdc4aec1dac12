package mquery

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestUpsertSeed(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	scenarios := []struct {
		name   string
		filter bson.M
		want   bson.M
	}{
		{"nil", nil, bson.M{}},
		{"equalities", bson.M{"_id": "k", "n": 5, "at": when}, bson.M{"_id": "k", "n": int32(5), "at": primitive.NewDateTimeFromTime(when)}},
		{"$eq", bson.M{"a": bson.M{"$eq": "x"}}, bson.M{"a": "x"}},
		{"$eq with a document value", bson.M{"a": bson.M{"$eq": bson.M{"b": 1}}}, bson.M{"a": bson.M{"b": int32(1)}}},
		{"document value", bson.M{"a": bson.M{"b": 1}}, bson.M{"a": bson.M{"b": int32(1)}}},
		{"operators are not equalities", bson.M{"a": bson.M{"$gt": 1}, "b": bson.M{"$in": bson.A{1}}, "c": 1}, bson.M{"c": int32(1)}},
		{"$eq beside another operator", bson.M{"a": bson.M{"$eq": 1, "$exists": true}}, bson.M{"a": int32(1)}},
		{"regex is not an equality", bson.M{"a": primitive.Regex{Pattern: "x"}}, bson.M{}},
		{"dotted paths nest", bson.M{"a.b": 1, "a.c": 2, "d.e.f": "x"}, bson.M{"a": bson.M{"b": int32(1), "c": int32(2)}, "d": bson.M{"e": bson.M{"f": "x"}}}},
		{"numeric component is a field", bson.M{"a.0": "x"}, bson.M{"a": bson.M{"0": "x"}}},
		{"through $and", bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"$and": bson.A{bson.M{"b.c": bson.M{"$eq": 2}}}}}}, bson.M{"a": int32(1), "b": bson.M{"c": int32(2)}}},
		{"not through $or or $nor", bson.M{"$or": bson.A{bson.M{"a": 1}}, "$nor": bson.A{bson.M{"b": 1}}}, bson.M{}},
		{"null is a value", bson.M{"a": nil}, bson.M{"a": nil}},
		{"conflicting paths keep the first", bson.M{"a": 1, "a.b": 2}, bson.M{"a": int32(1)}},
		{"unreadable filter", bson.M{"a": make(chan int)}, bson.M{}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := UpsertSeed(s.filter); !reflect.DeepEqual(got, s.want) {
				t.Errorf("UpsertSeed(%v) = %#v, want %#v", s.filter, got, s.want)
			}
		})
	}
}

func TestUpsertSeedIsACopy(t *testing.T) {
	t.Parallel()
	inner := bson.M{"b": int32(1)}
	filter := bson.M{"a": inner}
	seed := UpsertSeed(filter)
	seed["a"].(bson.M)["b"] = "changed"
	if inner["b"] != int32(1) {
		t.Error("changing the seed changed the filter")
	}
}

func TestUpsertThenApplyInsert(t *testing.T) {
	t.Parallel()
	filter := bson.M{"owner": "u1", "day.y": 2024}
	u, err := CompileUpdate(bson.M{"$inc": bson.M{"count": 1}, "$setOnInsert": bson.M{"first": true}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := u.ApplyInsert(UpsertSeed(filter))
	want := bson.M{"owner": "u1", "day": bson.M{"y": int32(2024)}, "count": int32(1), "first": true}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyInsert(UpsertSeed) = %v, %v; want %v", got, err, want)
	}
	m, _ := Compile(filter)
	if !m.Match(got) {
		t.Error("the inserted document does not match its filter")
	}
}
