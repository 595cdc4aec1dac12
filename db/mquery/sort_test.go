package mquery

import (
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func ids(docs []bson.M) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = d["_id"]
	}
	return out
}

func TestSort(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		docs []bson.M
		spec bson.D
		want []any
	}{
		{"ascending numbers across types",
			[]bson.M{{"_id": 1, "n": 3.5}, {"_id": 2, "n": int64(1)}, {"_id": 3, "n": int32(2)}, {"_id": 4, "n": math.NaN()}},
			bson.D{{Key: "n", Value: 1}}, []any{4, 2, 3, 1}},
		{"descending", []bson.M{{"_id": 1, "n": 1}, {"_id": 2, "n": 3}, {"_id": 3, "n": 2}},
			bson.D{{Key: "n", Value: -1}}, []any{2, 3, 1}},
		{"missing sorts as null, stably",
			[]bson.M{{"_id": 1, "n": 1}, {"_id": 2}, {"_id": 3, "n": nil}, {"_id": 4}},
			bson.D{{Key: "n", Value: 1}}, []any{2, 3, 4, 1}},
		{"type classes",
			[]bson.M{{"_id": 1, "v": true}, {"_id": 2, "v": "s"}, {"_id": 3, "v": 5}, {"_id": 4, "v": bson.M{}}, {"_id": 5, "v": primitive.DateTime(0)}, {"_id": 6, "v": nil}, {"_id": 7, "v": primitive.ObjectID{}}, {"_id": 8, "v": primitive.MaxKey{}}, {"_id": 9, "v": primitive.MinKey{}}},
			bson.D{{Key: "v", Value: 1}}, []any{9, 6, 3, 2, 4, 7, 1, 5, 8}},
		{"array ascending uses smallest element",
			[]bson.M{{"_id": 1, "a": bson.A{1, 9}}, {"_id": 2, "a": 5}, {"_id": 3, "a": bson.A{4, 0}}},
			bson.D{{Key: "a", Value: 1}}, []any{3, 1, 2}},
		{"array descending uses largest element",
			[]bson.M{{"_id": 1, "a": bson.A{1, 9}}, {"_id": 2, "a": 5}, {"_id": 3, "a": bson.A{4, 0}}},
			bson.D{{Key: "a", Value: -1}}, []any{1, 2, 3}},
		{"empty array below null",
			[]bson.M{{"_id": 1, "a": nil}, {"_id": 2, "a": bson.A{}}, {"_id": 3, "a": 1}},
			bson.D{{Key: "a", Value: 1}}, []any{2, 1, 3}},
		{"empty array last descending",
			[]bson.M{{"_id": 1, "a": nil}, {"_id": 2, "a": bson.A{}}, {"_id": 3, "a": 1}},
			bson.D{{Key: "a", Value: -1}}, []any{3, 1, 2}},
		{"array mixing types uses smallest class",
			[]bson.M{{"_id": 1, "a": bson.A{"x", 100}}, {"_id": 2, "a": 50}},
			bson.D{{Key: "a", Value: 1}}, []any{2, 1}},
		{"dotted path",
			[]bson.M{{"_id": 1, "a": bson.M{"b": 2}}, {"_id": 2, "a": bson.M{"b": 1}}, {"_id": 3, "a": 5}},
			bson.D{{Key: "a.b", Value: 1}}, []any{3, 2, 1}},
		{"dotted path through an array",
			[]bson.M{{"_id": 1, "a": bson.A{bson.M{"b": 5}, bson.M{"b": 1}}}, {"_id": 2, "a": bson.A{bson.M{"b": 3}}}, {"_id": 3, "a": bson.A{bson.M{"b": 4}, bson.M{}}}},
			bson.D{{Key: "a.b", Value: 1}}, []any{3, 1, 2}},
		{"dotted path through an array descending",
			[]bson.M{{"_id": 1, "a": bson.A{bson.M{"b": 5}, bson.M{"b": 1}}}, {"_id": 2, "a": bson.A{bson.M{"b": 3}}}, {"_id": 3, "a": bson.A{bson.M{"b": 4}, bson.M{}}}},
			bson.D{{Key: "a.b", Value: -1}}, []any{1, 3, 2}},
		{"array index", []bson.M{{"_id": 1, "a": bson.A{3, 0}}, {"_id": 2, "a": bson.A{2, 9}}},
			bson.D{{Key: "a.0", Value: 1}}, []any{2, 1}},
		{"two keys", []bson.M{{"_id": 1, "a": 1, "b": 1}, {"_id": 2, "a": 1, "b": 2}, {"_id": 3, "a": 0, "b": 0}},
			bson.D{{Key: "a", Value: 1}, {Key: "b", Value: -1}}, []any{3, 2, 1}},
		{"strings by bytes", []bson.M{{"_id": 1, "s": "b"}, {"_id": 2, "s": "B"}, {"_id": 3, "s": "a"}},
			bson.D{{Key: "s", Value: 1}}, []any{2, 3, 1}},
		{"numeric spec types", []bson.M{{"_id": 1, "n": 1}, {"_id": 2, "n": 2}},
			bson.D{{Key: "n", Value: -1.0}}, []any{2, 1}},
		{"int64 spec", []bson.M{{"_id": 1, "n": 2}, {"_id": 2, "n": 1}},
			bson.D{{Key: "n", Value: int64(1)}}, []any{2, 1}},
		{"empty spec keeps order", []bson.M{{"_id": 2}, {"_id": 1}}, nil, []any{2, 1}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			docs := make([]bson.M, len(s.docs))
			for i, d := range s.docs {
				docs[i] = canon(t, d)
			}
			if err := Sort(docs, s.spec); err != nil {
				t.Fatalf("Sort: %v", err)
			}
			got := ids(docs)
			for i := range s.want {
				if !equalValues(got[i], s.want[i]) {
					t.Fatalf("order = %v, want %v", got, s.want)
				}
			}
		})
	}
}

func TestSortRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		spec bson.D
		msg  string
	}{
		{"zero", bson.D{{Key: "a", Value: 0}}, "invalid query: a: sort order must be 1 or -1"},
		{"two", bson.D{{Key: "a", Value: 2}}, "invalid query: a: sort order must be 1 or -1"},
		{"fraction", bson.D{{Key: "a", Value: 0.5}}, "invalid query: a: sort order must be 1 or -1"},
		{"string", bson.D{{Key: "a", Value: "asc"}}, "invalid query: a: sort order must be 1 or -1"},
		{"bool", bson.D{{Key: "a", Value: true}}, "invalid query: a: sort order must be 1 or -1"},
		{"$meta", bson.D{{Key: "score", Value: bson.M{"$meta": "textScore"}}}, "invalid query: score: sort order must be 1 or -1"},
		{"twice", bson.D{{Key: "a", Value: 1}, {Key: "a", Value: -1}}, "invalid query: a: sort field named twice"},
		{"empty path", bson.D{{Key: "", Value: 1}}, "invalid query: field path cannot be empty"},
		{"empty component", bson.D{{Key: "a..b", Value: 1}}, "invalid query: a..b: field path cannot contain an empty component"},
		{"dollar", bson.D{{Key: "$natural", Value: 1}}, "invalid query: $natural: field path component cannot start with $ (positional and $meta paths are not supported)"},
		{"bad Go value", bson.D{{Key: "a", Value: make(chan int)}}, "invalid query: a: unsupported value of Go type chan int"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			docs := []bson.M{{"a": int32(2)}, {"a": int32(1)}}
			wantQueryError(t, Sort(docs, s.spec), s.msg)
			if docs[0]["a"] != int32(2) {
				t.Errorf("a refused sort reordered the documents")
			}
		})
	}
}
