package mquery

import (
	"math"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// matchScenario is one filter with documents it must match and must not.
type matchScenario struct {
	name    string
	filter  bson.M
	matches []bson.M
	misses  []bson.M
}

// canon normalizes a test document written with Go ints into the
// canonical form stores hand to Match.
func canon(t testing.TB, d bson.M) bson.M {
	t.Helper()
	n, err := normalize(d)
	if err != nil {
		t.Fatal(err)
	}
	if n == nil {
		return nil
	}
	return n.(bson.M)
}

func runMatchScenarios(t *testing.T, scenarios []matchScenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			m, err := Compile(s.filter)
			if err != nil {
				t.Fatalf("Compile(%v): %v", s.filter, err)
			}
			for _, d := range s.matches {
				if !m.Match(canon(t, d)) {
					t.Errorf("%v should match %v", s.filter, d)
				}
			}
			for _, d := range s.misses {
				if m.Match(canon(t, d)) {
					t.Errorf("%v should not match %v", s.filter, d)
				}
			}
		})
	}
}

func TestMatchEquality(t *testing.T) {
	t.Parallel()
	oid := primitive.NewObjectID()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	runMatchScenarios(t, []matchScenario{
		{"empty filter", bson.M{}, []bson.M{{}, {"a": 1}}, nil},
		{"nil filter", nil, []bson.M{{}, {"a": 1}}, nil},
		{"string", bson.M{"name": "ada"},
			[]bson.M{{"name": "ada"}, {"name": primitive.Symbol("ada")}},
			[]bson.M{{"name": "Ada"}, {"name": "ada "}, {}, {"name": nil}, {"other": "ada"}}},
		{"int32 matches every numeric type", bson.M{"n": int32(5)},
			[]bson.M{{"n": int32(5)}, {"n": int64(5)}, {"n": 5.0}, {"n": dec(t, "5.00")}},
			[]bson.M{{"n": "5"}, {"n": 5.5}, {"n": true}, {}}},
		{"double matches integers", bson.M{"n": 5.0}, []bson.M{{"n": int32(5)}, {"n": int64(5)}}, []bson.M{{"n": int32(6)}}},
		{"go int", bson.M{"n": 5}, []bson.M{{"n": int64(5)}}, []bson.M{{"n": int64(50)}}},
		{"large int64 is exact", bson.M{"n": int64(1<<53 + 1)}, []bson.M{{"n": int64(1<<53 + 1)}}, []bson.M{{"n": float64(1 << 53)}}},
		{"NaN equals NaN", bson.M{"n": math.NaN()}, []bson.M{{"n": math.NaN()}}, []bson.M{{"n": 0.0}}},
		{"bool", bson.M{"ok": true}, []bson.M{{"ok": true}}, []bson.M{{"ok": int32(1)}, {"ok": false}, {"ok": "true"}}},
		{"object id", bson.M{"_id": oid}, []bson.M{{"_id": oid}}, []bson.M{{"_id": oid.Hex()}, {"_id": primitive.NewObjectID()}}},
		{"time.Time matches date", bson.M{"at": when}, []bson.M{{"at": primitive.NewDateTimeFromTime(when)}}, []bson.M{{"at": when.Unix()}}},
		{"whole document, field order free", bson.M{"a": bson.M{"x": 1, "y": "z"}},
			[]bson.M{{"a": bson.M{"y": "z", "x": int64(1)}}, {"a": bson.A{bson.M{"x": 1.0, "y": "z"}}}},
			[]bson.M{{"a": bson.M{"x": 1}}, {"a": bson.M{"x": 1, "y": "z", "w": 0}}}},
		{"bson.D value", bson.M{"a": bson.D{{Key: "x", Value: 1}}}, []bson.M{{"a": bson.M{"x": int32(1)}}}, []bson.M{{"a": bson.M{"x": int32(2)}}}},
		{"empty document", bson.M{"a": bson.M{}}, []bson.M{{"a": bson.M{}}}, []bson.M{{"a": bson.M{"b": 1}}, {}, {"a": nil}}},
		{"several fields are ANDed", bson.M{"a": 1, "b": 2}, []bson.M{{"a": 1, "b": 2, "c": 3}}, []bson.M{{"a": 1}, {"a": 1, "b": 3}}},
		{"binary", bson.M{"b": []byte{1, 2}}, []bson.M{{"b": primitive.Binary{Data: []byte{1, 2}}}}, []bson.M{{"b": primitive.Binary{Subtype: 4, Data: []byte{1, 2}}}}},
	})
}

func TestMatchNullAndMissing(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"null matches null and missing", bson.M{"a": nil},
			[]bson.M{{"a": nil}, {}, {"a": bson.A{1, nil}}},
			[]bson.M{{"a": 0}, {"a": ""}, {"a": false}, {"a": bson.A{}}, {"a": bson.A{1}}, {"a": primitive.Undefined{}}}},
		{"$eq null", bson.M{"a": bson.M{"$eq": nil}}, []bson.M{{"a": nil}, {}}, []bson.M{{"a": 1}}},
		{"$ne null", bson.M{"a": bson.M{"$ne": nil}},
			[]bson.M{{"a": 0}, {"a": bson.A{}}, {"a": bson.A{1}}, {"a": bson.M{}}},
			[]bson.M{{"a": nil}, {}, {"a": bson.A{1, nil}}}},
		{"dotted null", bson.M{"a.b": nil},
			[]bson.M{{}, {"a": nil}, {"a": 4}, {"a": bson.M{}}, {"a": bson.M{"b": nil}}, {"a": bson.A{bson.M{}}}, {"a": bson.A{bson.M{"b": 3}, bson.M{}}}},
			[]bson.M{{"a": bson.M{"b": 1}}, {"a": bson.A{}}, {"a": bson.A{bson.M{"b": 5}}}, {"a": bson.A{5, bson.M{"b": 5}}}, {"a": bson.A{nil, nil}}, {"a": bson.A{bson.A{}}}}},
		{"dotted $ne null", bson.M{"a.b": bson.M{"$ne": nil}},
			[]bson.M{{"a": bson.M{"b": "hi"}}, {"a": bson.A{}}, {"a": bson.A{nil}}, {"a": bson.A{bson.M{"b": 1}}}, {"a": bson.A{bson.A{}}}},
			[]bson.M{{}, {"a": 4}, {"a": bson.A{bson.M{"b": 1}, bson.M{}}}}},
		{"$in with null", bson.M{"a": bson.M{"$in": bson.A{nil, 4}}}, []bson.M{{}, {"a": nil}, {"a": 4}, {"a": bson.A{1, nil}}}, []bson.M{{"a": 5}, {"a": bson.A{}}}},
		{"$nin with null", bson.M{"a": bson.M{"$nin": bson.A{nil, 4}}}, []bson.M{{"a": 5}, {"a": bson.A{}}, {"a": bson.M{}}}, []bson.M{{}, {"a": nil}, {"a": bson.A{4}}}},
		{"$gte null", bson.M{"a": bson.M{"$gte": nil}}, []bson.M{{}, {"a": nil}}, []bson.M{{"a": 1}, {"a": ""}}},
		{"$lte null", bson.M{"a": bson.M{"$lte": nil}}, []bson.M{{}, {"a": nil}}, []bson.M{{"a": 1}}},
		{"$gt null", bson.M{"a": bson.M{"$gt": nil}}, nil, []bson.M{{}, {"a": nil}, {"a": 1}, {"a": "x"}}},
		{"$lt null", bson.M{"a": bson.M{"$lt": nil}}, nil, []bson.M{{}, {"a": nil}, {"a": primitive.MinKey{}}}},
		{"$not $gte null", bson.M{"a": bson.M{"$not": bson.M{"$gte": nil}}}, []bson.M{{"a": 4}, {"a": bson.A{}}}, []bson.M{{}, {"a": nil}}},
	})
}

// TestMatchNullSemanticsSuite replays MongoDB's own null-query test
// (jstests/core/null_query_semantics.js) with undefined left out.
func TestMatchNullSemanticsSuite(t *testing.T) {
	t.Parallel()
	docs := []bson.M{
		{"_id": "a_empty_subobject", "a": bson.M{}},
		{"_id": "a_null", "a": nil},
		{"_id": "a_number", "a": int32(4)},
		{"_id": "a_subobject_b_not_null", "a": bson.M{"b": "hi"}},
		{"_id": "a_subobject_b_null", "a": bson.M{"b": nil}},
		{"_id": "no_a"},
		{"_id": "a_double_array", "a": bson.A{bson.A{}}},
		{"_id": "a_empty_array", "a": bson.A{}},
		{"_id": "a_object_array_all_b_nulls", "a": bson.A{bson.M{"b": nil}, bson.M{"b": nil}, bson.M{}}},
		{"_id": "a_object_array_no_b_nulls", "a": bson.A{bson.M{"b": int32(1)}, bson.M{"b": int32(3)}, bson.M{"b": "string"}}},
		{"_id": "a_object_array_some_b_nulls", "a": bson.A{bson.M{"b": nil}, bson.M{"b": int32(3)}, bson.M{"b": nil}}},
		{"_id": "a_object_array_some_b_missing", "a": bson.A{bson.M{"b": int32(3)}, bson.M{}}},
		{"_id": "a_value_array_all_nulls", "a": bson.A{nil, nil}},
		{"_id": "a_value_array_no_nulls", "a": bson.A{int32(1), "string", int32(4)}},
		{"_id": "a_value_array_with_null", "a": bson.A{int32(1), "string", nil, int32(4)}},
	}
	scenarios := []struct {
		filter bson.M
		want   []string
	}{
		{bson.M{"a": bson.M{"$eq": nil}}, []string{"a_null", "a_value_array_all_nulls", "a_value_array_with_null", "no_a"}},
		{bson.M{"a": bson.M{"$ne": nil}}, []string{"a_double_array", "a_empty_array", "a_empty_subobject", "a_number", "a_object_array_all_b_nulls", "a_object_array_no_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls", "a_subobject_b_not_null", "a_subobject_b_null", "a_value_array_no_nulls"}},
		{bson.M{"a": bson.M{"$in": bson.A{nil, 75}}}, []string{"a_null", "a_value_array_all_nulls", "a_value_array_with_null", "no_a"}},
		{bson.M{"a": bson.M{"$nin": bson.A{nil, primitive.Regex{Pattern: "^str.*"}}}}, []string{"a_double_array", "a_empty_array", "a_empty_subobject", "a_number", "a_object_array_all_b_nulls", "a_object_array_no_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls", "a_subobject_b_not_null", "a_subobject_b_null"}},
		{bson.M{"a": bson.M{"$exists": false}}, []string{"no_a"}},
		{bson.M{"a": bson.M{"$elemMatch": bson.M{"$eq": nil}}}, []string{"a_value_array_all_nulls", "a_value_array_with_null"}},
		{bson.M{"a": bson.M{"$elemMatch": bson.M{"$ne": nil}}}, []string{"a_double_array", "a_object_array_all_b_nulls", "a_object_array_no_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls", "a_value_array_no_nulls", "a_value_array_with_null"}},
		{bson.M{"a.b": bson.M{"$eq": nil}}, []string{"a_empty_subobject", "a_null", "a_number", "a_object_array_all_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls", "a_subobject_b_null", "no_a"}},
		{bson.M{"a.b": bson.M{"$ne": nil}}, []string{"a_double_array", "a_empty_array", "a_object_array_no_b_nulls", "a_subobject_b_not_null", "a_value_array_all_nulls", "a_value_array_no_nulls", "a_value_array_with_null"}},
		{bson.M{"a.b": bson.M{"$exists": false}}, []string{"a_double_array", "a_empty_array", "a_empty_subobject", "a_null", "a_number", "a_value_array_all_nulls", "a_value_array_no_nulls", "a_value_array_with_null", "no_a"}},
		{bson.M{"a.b": bson.M{"$elemMatch": bson.M{"$eq": nil}}}, nil},
		{bson.M{"a": bson.M{"$elemMatch": bson.M{"b": bson.M{"$eq": nil}}}}, []string{"a_double_array", "a_object_array_all_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls"}},
		{bson.M{"a": bson.M{"$elemMatch": bson.M{"b": bson.M{"$ne": nil}}}}, []string{"a_object_array_no_b_nulls", "a_object_array_some_b_missing", "a_object_array_some_b_nulls"}},
	}
	for _, s := range scenarios {
		m, err := Compile(s.filter)
		if err != nil {
			t.Fatalf("Compile(%v): %v", s.filter, err)
		}
		var got []string
		for _, d := range docs {
			if m.Match(d) {
				got = append(got, d["_id"].(string))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, s.want) {
			t.Errorf("%v matched\n  %v\nwant\n  %v", s.filter, got, s.want)
		}
	}
}

func TestMatchArrays(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"element equality", bson.M{"tags": "a"},
			[]bson.M{{"tags": bson.A{"b", "a"}}, {"tags": "a"}},
			[]bson.M{{"tags": bson.A{"b"}}, {"tags": bson.A{bson.A{"a"}}}, {"tags": bson.A{}}}},
		{"whole array equality", bson.M{"tags": bson.A{"a", "b"}},
			[]bson.M{{"tags": bson.A{"a", "b"}}, {"tags": bson.A{bson.A{"a", "b"}, "c"}}},
			[]bson.M{{"tags": bson.A{"b", "a"}}, {"tags": bson.A{"a", "b", "c"}}, {"tags": "a"}}},
		{"empty array equality", bson.M{"tags": bson.A{}}, []bson.M{{"tags": bson.A{}}, {"tags": bson.A{bson.A{}}}}, []bson.M{{"tags": bson.A{1}}, {}}},
		{"field of documents in an array", bson.M{"items.sku": "x"},
			[]bson.M{{"items": bson.A{bson.M{"sku": "y"}, bson.M{"sku": "x"}}}, {"items": bson.M{"sku": "x"}}, {"items": bson.A{bson.M{"sku": bson.A{"x"}}}}},
			[]bson.M{{"items": bson.A{bson.M{"sku": "y"}}}, {"items": bson.A{bson.A{bson.M{"sku": "x"}}}}, {"items": "x"}}},
		{"deep path through two arrays", bson.M{"a.b.c": int32(1)},
			[]bson.M{{"a": bson.A{bson.M{"b": bson.A{bson.M{"c": 1}}}}}, {"a": bson.M{"b": bson.M{"c": bson.A{2, 1}}}}},
			[]bson.M{{"a": bson.A{bson.M{"b": bson.A{bson.M{"c": 2}}}}}}},
		{"numeric component indexes", bson.M{"a.1": "y"},
			[]bson.M{{"a": bson.A{"x", "y"}}, {"a": bson.M{"1": "y"}}, {"a": bson.A{bson.M{"1": "y"}}}, {"a": bson.A{"x", bson.A{"y"}}}},
			[]bson.M{{"a": bson.A{"y", "x"}}, {"a": bson.A{"y"}}}},
		{"numeric component then field", bson.M{"a.0.b": int32(1)},
			[]bson.M{{"a": bson.A{bson.M{"b": 1}, bson.M{"b": 2}}}},
			[]bson.M{{"a": bson.A{bson.M{"b": 2}, bson.M{"b": 1}}}}},
		{"index past the end reaches nothing", bson.M{"a.5": nil}, nil, []bson.M{{"a": bson.A{1, 2}}}},
		{"leading zero is not an index", bson.M{"a.01": "x"}, []bson.M{{"a": bson.M{"01": "x"}}}, []bson.M{{"a": bson.A{"y", "x"}}}},
		{"range on elements", bson.M{"n": bson.M{"$gt": 5}}, []bson.M{{"n": bson.A{1, 10}}}, []bson.M{{"n": bson.A{1, 2}}, {"n": bson.A{}}}},
		{"range conditions met by different elements", bson.M{"n": bson.M{"$gt": 5, "$lt": 8}},
			[]bson.M{{"n": bson.A{1, 10}}, {"n": 6}}, []bson.M{{"n": bson.A{10, 11}}, {"n": 9}}},
		{"range against a whole array", bson.M{"n": bson.M{"$gt": bson.A{1}}}, []bson.M{{"n": bson.A{2}}, {"n": bson.A{bson.A{3}}}}, []bson.M{{"n": bson.A{0}}, {"n": 5}}},
		{"$ne means no element equals", bson.M{"tags": bson.M{"$ne": "a"}},
			[]bson.M{{"tags": bson.A{"b"}}, {}, {"tags": bson.A{}}, {"tags": "b"}},
			[]bson.M{{"tags": bson.A{"b", "a"}}, {"tags": "a"}}},
		{"$nin means no element in the list", bson.M{"tags": bson.M{"$nin": bson.A{"a", "c"}}},
			[]bson.M{{"tags": bson.A{"b"}}, {}},
			[]bson.M{{"tags": bson.A{"b", "c"}}, {"tags": "a"}}},
		{"dotted $ne through array", bson.M{"items.sku": bson.M{"$ne": "x"}},
			[]bson.M{{"items": bson.A{bson.M{"sku": "y"}}}, {}},
			[]bson.M{{"items": bson.A{bson.M{"sku": "y"}, bson.M{"sku": "x"}}}}},
	})
}

func TestMatchTypeBrackets(t *testing.T) {
	t.Parallel()
	oid := primitive.NewObjectIDFromTimestamp(time.Unix(1000, 0))
	runMatchScenarios(t, []matchScenario{
		{"$gt number skips other types", bson.M{"v": bson.M{"$gt": 5}},
			[]bson.M{{"v": int32(6)}, {"v": int64(6)}, {"v": 5.5}, {"v": dec(t, "5.01")}, {"v": math.Inf(1)}},
			[]bson.M{{"v": "6"}, {"v": "abc"}, {"v": true}, {"v": bson.M{}}, {"v": primitive.DateTime(10000)}, {"v": nil}, {}, {"v": primitive.MaxKey{}}, {"v": 5}}},
		{"$gte", bson.M{"v": bson.M{"$gte": int64(5)}}, []bson.M{{"v": 5.0}, {"v": int32(7)}}, []bson.M{{"v": 4.999}}},
		{"$lt", bson.M{"v": bson.M{"$lt": 5.5}}, []bson.M{{"v": int32(5)}, {"v": math.Inf(-1)}}, []bson.M{{"v": 5.5}, {"v": ""}}},
		{"$lte", bson.M{"v": bson.M{"$lte": 5}}, []bson.M{{"v": int64(5)}, {"v": -1}}, []bson.M{{"v": 6}, {"v": primitive.MinKey{}}}},
		{"NaN is not ordered", bson.M{"v": bson.M{"$lt": 0}}, []bson.M{{"v": -1}}, []bson.M{{"v": math.NaN()}}},
		{"$gte NaN matches only NaN", bson.M{"v": bson.M{"$gte": math.NaN()}}, []bson.M{{"v": math.NaN()}}, []bson.M{{"v": 1.0}, {"v": math.Inf(-1)}}},
		{"$gt NaN matches nothing", bson.M{"v": bson.M{"$gt": math.NaN()}}, nil, []bson.M{{"v": math.NaN()}, {"v": 1.0}}},
		{"$gt string skips numbers", bson.M{"v": bson.M{"$gt": "a"}}, []bson.M{{"v": "b"}, {"v": "ab"}}, []bson.M{{"v": "A"}, {"v": 100}, {"v": bson.A{1}}}},
		{"$lt string compares bytes", bson.M{"v": bson.M{"$lt": "b"}}, []bson.M{{"v": "B"}, {"v": "a"}, {"v": ""}}, []bson.M{{"v": "é"}}},
		{"dates", bson.M{"at": bson.M{"$gte": time.Unix(100, 0)}}, []bson.M{{"at": primitive.DateTime(100000)}}, []bson.M{{"at": primitive.DateTime(99999)}, {"at": int64(200000)}, {"at": primitive.Timestamp{T: 200}}}},
		{"object ids", bson.M{"_id": bson.M{"$gt": oid}}, []bson.M{{"_id": primitive.NewObjectIDFromTimestamp(time.Unix(2000, 0))}}, []bson.M{{"_id": primitive.ObjectID{}}, {"_id": "zzz"}}},
		{"booleans", bson.M{"v": bson.M{"$gt": false}}, []bson.M{{"v": true}}, []bson.M{{"v": false}, {"v": 1}}},
		{"documents", bson.M{"v": bson.M{"$gte": bson.M{"a": 1}}}, []bson.M{{"v": bson.M{"a": 2}}, {"v": bson.M{"a": 1, "b": 0}}}, []bson.M{{"v": bson.M{"a": 0}}, {"v": 5}}},
		{"$gt MinKey matches everything but MinKey", bson.M{"v": bson.M{"$gt": primitive.MinKey{}}},
			[]bson.M{{"v": nil}, {}, {"v": 1}, {"v": "x"}, {"v": primitive.MaxKey{}}}, []bson.M{{"v": primitive.MinKey{}}}},
		{"$lt MaxKey matches everything but MaxKey", bson.M{"v": bson.M{"$lt": primitive.MaxKey{}}},
			[]bson.M{{"v": nil}, {}, {"v": 1}, {"v": primitive.MinKey{}}}, []bson.M{{"v": primitive.MaxKey{}}}},
		{"$gte MinKey", bson.M{"v": bson.M{"$gte": primitive.MinKey{}}}, []bson.M{{"v": primitive.MinKey{}}, {"v": true}}, nil},
		{"$lt MinKey", bson.M{"v": bson.M{"$lt": primitive.MinKey{}}}, nil, []bson.M{{"v": primitive.MinKey{}}, {"v": 1}, {}}},
		{"decimal operand", bson.M{"v": bson.M{"$gt": dec(t, "1.5")}}, []bson.M{{"v": int32(2)}, {"v": 1.6}}, []bson.M{{"v": 1.5}, {"v": int64(1)}}},
	})
}

func TestMatchLogical(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"$and", bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"b": 2}}}, []bson.M{{"a": 1, "b": 2}}, []bson.M{{"a": 1}, {"b": 2}}},
		{"$and on one field", bson.M{"$and": bson.A{bson.M{"a": bson.M{"$gt": 1}}, bson.M{"a": bson.M{"$lt": 5}}}}, []bson.M{{"a": 3}}, []bson.M{{"a": 5}}},
		{"$or", bson.M{"$or": bson.A{bson.M{"a": 1}, bson.M{"b": 2}}}, []bson.M{{"a": 1}, {"b": 2}, {"a": 1, "b": 2}}, []bson.M{{}, {"a": 2}}},
		{"$or of one", bson.M{"$or": bson.A{bson.M{"a": 1}}}, []bson.M{{"a": 1}}, []bson.M{{"a": 2}}},
		{"$nor", bson.M{"$nor": bson.A{bson.M{"a": 1}, bson.M{"b": 2}}}, []bson.M{{}, {"a": 2}}, []bson.M{{"a": 1}, {"b": 2}}},
		{"$or beside a field", bson.M{"x": true, "$or": bson.A{bson.M{"a": 1}, bson.M{"b": 2}}}, []bson.M{{"x": true, "b": 2}}, []bson.M{{"b": 2}}},
		{"nested logic", bson.M{"$or": bson.A{bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"b": 1}}}, bson.M{"$nor": bson.A{bson.M{"c": bson.M{"$exists": true}}}}}},
			[]bson.M{{"a": 1, "b": 1, "c": 1}, {}}, []bson.M{{"a": 1, "c": 0}}},
		{"go slices and maps", bson.M{"$or": []any{map[string]any{"a": 1}, bson.D{{Key: "b", Value: 2}}}}, []bson.M{{"a": int32(1)}, {"b": int64(2)}}, []bson.M{{"a": 2}}},
		{"bson.E list inside $and", bson.M{"$and": []bson.D{{{Key: "a", Value: 1}}}}, []bson.M{{"a": 1}}, []bson.M{{"a": 2}}},
	})
}
