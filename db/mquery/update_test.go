package mquery

import (
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

type updateScenario struct {
	name    string
	doc     bson.M
	update  bson.M
	want    bson.M // exact, types included
	changed bool
}

func runUpdateScenarios(t *testing.T, scenarios []updateScenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			u, err := CompileUpdate(s.update)
			if err != nil {
				t.Fatalf("CompileUpdate(%v): %v", s.update, err)
			}
			before := copyDoc(s.doc)
			got, changed, err := u.Apply(s.doc)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("Apply(%v, %v)\n got  %#v\n want %#v", s.doc, s.update, got, s.want)
			}
			if changed != s.changed {
				t.Errorf("changed = %v, want %v", changed, s.changed)
			}
			if !reflect.DeepEqual(s.doc, before) {
				t.Errorf("Apply modified its input: %#v", s.doc)
			}
		})
	}
}

func TestUpdateSet(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	runUpdateScenarios(t, []updateScenario{
		{"new field", bson.M{"_id": int32(1)}, bson.M{"$set": bson.M{"a": 1}}, bson.M{"_id": int32(1), "a": int32(1)}, true},
		{"replace", bson.M{"a": "x"}, bson.M{"$set": bson.M{"a": "y"}}, bson.M{"a": "y"}, true},
		{"same value is no change", bson.M{"a": int32(1)}, bson.M{"$set": bson.M{"a": 1}}, bson.M{"a": int32(1)}, false},
		{"another numeric type is a change", bson.M{"a": int32(1)}, bson.M{"$set": bson.M{"a": 1.0}}, bson.M{"a": 1.0}, true},
		{"same document is no change", bson.M{"a": bson.M{"b": bson.A{int32(1)}}}, bson.M{"$set": bson.M{"a": bson.M{"b": []int{1}}}}, bson.M{"a": bson.M{"b": bson.A{int32(1)}}}, false},
		{"Go values normalised", bson.M{}, bson.M{"$set": bson.M{"at": when, "n": uint16(3), "tags": []string{"x"}}},
			bson.M{"at": primitive.NewDateTimeFromTime(when), "n": int32(3), "tags": bson.A{"x"}}, true},
		{"dotted path creates documents", bson.M{}, bson.M{"$set": bson.M{"a.b.c": true}}, bson.M{"a": bson.M{"b": bson.M{"c": true}}}, true},
		{"dotted path into a document", bson.M{"a": bson.M{"x": int32(1)}}, bson.M{"$set": bson.M{"a.y": int32(2)}}, bson.M{"a": bson.M{"x": int32(1), "y": int32(2)}}, true},
		{"array index", bson.M{"a": bson.A{int32(1), int32(2)}}, bson.M{"$set": bson.M{"a.1": "x"}}, bson.M{"a": bson.A{int32(1), "x"}}, true},
		{"array index past the end pads with nulls", bson.M{"a": bson.A{int32(1)}}, bson.M{"$set": bson.M{"a.3": "x"}}, bson.M{"a": bson.A{int32(1), nil, nil, "x"}}, true},
		{"padding then a document", bson.M{"a": bson.A{}}, bson.M{"$set": bson.M{"a.1.b": int32(1)}}, bson.M{"a": bson.A{nil, bson.M{"b": int32(1)}}}, true},
		{"field of an array element", bson.M{"a": bson.A{bson.M{"b": int32(1)}}}, bson.M{"$set": bson.M{"a.0.b": int32(2)}}, bson.M{"a": bson.A{bson.M{"b": int32(2)}}}, true},
		{"nested arrays", bson.M{"a": bson.A{bson.A{int32(1)}}}, bson.M{"$set": bson.M{"a.0.0": int32(2)}}, bson.M{"a": bson.A{bson.A{int32(2)}}}, true},
		{"numeric component on a missing field makes a document", bson.M{}, bson.M{"$set": bson.M{"a.0": "x"}}, bson.M{"a": bson.M{"0": "x"}}, true},
		{"numeric component on a document is a field", bson.M{"a": bson.M{}}, bson.M{"$set": bson.M{"a.0": "x"}}, bson.M{"a": bson.M{"0": "x"}}, true},
		{"several fields", bson.M{"a": int32(1)}, bson.M{"$set": bson.M{"a": int32(2), "b.c": int32(3)}}, bson.M{"a": int32(2), "b": bson.M{"c": int32(3)}}, true},
		{"several operators", bson.M{"a": int32(1), "b": "x"}, bson.M{"$set": bson.M{"c": true}, "$unset": bson.M{"b": ""}, "$inc": bson.M{"a": 1}}, bson.M{"a": int32(2), "c": true}, true},
		{"empty $set is no change", bson.M{"a": int32(1)}, bson.M{"$set": bson.M{}}, bson.M{"a": int32(1)}, false},
		{"_id to the same value", bson.M{"_id": int32(1)}, bson.M{"$set": bson.M{"_id": 1}}, bson.M{"_id": int32(1)}, false},
		{"_id to an equal value keeps its type", bson.M{"_id": int32(1)}, bson.M{"$set": bson.M{"_id": 1.0}}, bson.M{"_id": int32(1)}, false},
		{"nil document", nil, bson.M{"$set": bson.M{"a": 1}}, bson.M{"a": int32(1)}, true},
	})
}

func TestUpdateUnset(t *testing.T) {
	t.Parallel()
	runUpdateScenarios(t, []updateScenario{
		{"removes", bson.M{"a": int32(1), "b": int32(2)}, bson.M{"$unset": bson.M{"a": ""}}, bson.M{"b": int32(2)}, true},
		{"operand ignored", bson.M{"a": int32(1)}, bson.M{"$unset": bson.M{"a": 0}}, bson.M{}, true},
		{"missing is no change", bson.M{"b": int32(2)}, bson.M{"$unset": bson.M{"a": ""}}, bson.M{"b": int32(2)}, false},
		{"dotted", bson.M{"a": bson.M{"b": int32(1), "c": int32(2)}}, bson.M{"$unset": bson.M{"a.b": ""}}, bson.M{"a": bson.M{"c": int32(2)}}, true},
		{"dotted missing parent", bson.M{}, bson.M{"$unset": bson.M{"a.b": ""}}, bson.M{}, false},
		{"through a scalar", bson.M{"a": int32(5)}, bson.M{"$unset": bson.M{"a.b": ""}}, bson.M{"a": int32(5)}, false},
		{"array element becomes null", bson.M{"a": bson.A{int32(1), int32(2)}}, bson.M{"$unset": bson.M{"a.0": ""}}, bson.M{"a": bson.A{nil, int32(2)}}, true},
		{"array element past the end", bson.M{"a": bson.A{int32(1)}}, bson.M{"$unset": bson.M{"a.3": ""}}, bson.M{"a": bson.A{int32(1)}}, false},
		{"field name in an array", bson.M{"a": bson.A{bson.M{"b": int32(1)}}}, bson.M{"$unset": bson.M{"a.b": ""}}, bson.M{"a": bson.A{bson.M{"b": int32(1)}}}, false},
	})
}

func TestUpdateInc(t *testing.T) {
	t.Parallel()
	runUpdateScenarios(t, []updateScenario{
		{"int32 stays int32", bson.M{"n": int32(1)}, bson.M{"$inc": bson.M{"n": 2}}, bson.M{"n": int32(3)}, true},
		{"int32 overflow widens to int64", bson.M{"n": int32(math.MaxInt32)}, bson.M{"$inc": bson.M{"n": 1}}, bson.M{"n": int64(math.MaxInt32) + 1}, true},
		{"int32 underflow widens", bson.M{"n": int32(math.MinInt32)}, bson.M{"$inc": bson.M{"n": int32(-1)}}, bson.M{"n": int64(math.MinInt32) - 1}, true},
		{"int32 plus int64 is int64", bson.M{"n": int32(1)}, bson.M{"$inc": bson.M{"n": int64(1)}}, bson.M{"n": int64(2)}, true},
		{"int64 plus int32 is int64", bson.M{"n": int64(1)}, bson.M{"$inc": bson.M{"n": 1}}, bson.M{"n": int64(2)}, true},
		{"int plus double is double", bson.M{"n": int32(1)}, bson.M{"$inc": bson.M{"n": 0.5}}, bson.M{"n": 1.5}, true},
		{"double plus int is double", bson.M{"n": 1.5}, bson.M{"$inc": bson.M{"n": 1}}, bson.M{"n": 2.5}, true},
		{"negative", bson.M{"n": int32(5)}, bson.M{"$inc": bson.M{"n": -7}}, bson.M{"n": int32(-2)}, true},
		{"by zero is no change", bson.M{"n": int32(5)}, bson.M{"$inc": bson.M{"n": 0}}, bson.M{"n": int32(5)}, false},
		{"by int64 zero changes the type", bson.M{"n": int32(5)}, bson.M{"$inc": bson.M{"n": int64(0)}}, bson.M{"n": int64(5)}, true},
		{"missing takes the operand", bson.M{}, bson.M{"$inc": bson.M{"n": int64(3)}}, bson.M{"n": int64(3)}, true},
		{"dotted missing", bson.M{}, bson.M{"$inc": bson.M{"a.n": 1}}, bson.M{"a": bson.M{"n": int32(1)}}, true},
		{"array element", bson.M{"a": bson.A{int32(1), int32(2)}}, bson.M{"$inc": bson.M{"a.1": 10}}, bson.M{"a": bson.A{int32(1), int32(12)}}, true},
		{"decimal plus int", bson.M{"n": dec(t, "1.5")}, bson.M{"$inc": bson.M{"n": 1}}, bson.M{"n": dec(t, "2.5")}, true},
		{"int plus decimal", bson.M{"n": int64(1)}, bson.M{"$inc": bson.M{"n": dec(t, "0.25")}}, bson.M{"n": dec(t, "1.25")}, true},
		{"decimal rounds to 34 digits", bson.M{"n": dec(t, "9999999999999999999999999999999999")}, bson.M{"$inc": bson.M{"n": dec(t, "1")}}, bson.M{"n": dec(t, "1.000000000000000000000000000000000E+34")}, true},
	})
}

func TestUpdatePush(t *testing.T) {
	t.Parallel()
	runUpdateScenarios(t, []updateScenario{
		{"missing creates an array", bson.M{}, bson.M{"$push": bson.M{"t": "a"}}, bson.M{"t": bson.A{"a"}}, true},
		{"appends", bson.M{"t": bson.A{"a"}}, bson.M{"$push": bson.M{"t": "a"}}, bson.M{"t": bson.A{"a", "a"}}, true},
		{"an array is one element", bson.M{"t": bson.A{}}, bson.M{"$push": bson.M{"t": bson.A{1, 2}}}, bson.M{"t": bson.A{bson.A{int32(1), int32(2)}}}, true},
		{"a document", bson.M{}, bson.M{"$push": bson.M{"t": bson.M{"x": 1}}}, bson.M{"t": bson.A{bson.M{"x": int32(1)}}}, true},
		{"$each", bson.M{"t": bson.A{"a"}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{"b", "c"}}}}, bson.M{"t": bson.A{"a", "b", "c"}}, true},
		{"$each empty on missing", bson.M{}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}}}}, bson.M{"t": bson.A{}}, true},
		{"$position", bson.M{"t": bson.A{"a", "b"}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{"x"}, "$position": 1}}}, bson.M{"t": bson.A{"a", "x", "b"}}, true},
		{"$position negative", bson.M{"t": bson.A{"a", "b"}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{"x"}, "$position": -1}}}, bson.M{"t": bson.A{"a", "x", "b"}}, true},
		{"$position past the end", bson.M{"t": bson.A{"a"}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{"x"}, "$position": 9}}}, bson.M{"t": bson.A{"a", "x"}}, true},
		{"$slice keeps the first", bson.M{"t": bson.A{int32(1), int32(2)}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{3}, "$slice": 2}}}, bson.M{"t": bson.A{int32(1), int32(2)}}, false},
		{"$slice keeps the last", bson.M{"t": bson.A{int32(1), int32(2)}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{3}, "$slice": -2}}}, bson.M{"t": bson.A{int32(2), int32(3)}}, true},
		{"$slice zero empties", bson.M{"t": bson.A{int32(1)}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{3}, "$slice": 0}}}, bson.M{"t": bson.A{}}, true},
		{"$sort values", bson.M{"t": bson.A{int32(3), int32(1)}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{2}, "$sort": 1}}}, bson.M{"t": bson.A{int32(1), int32(2), int32(3)}}, true},
		{"$sort descending then $slice", bson.M{"t": bson.A{int32(3), int32(1)}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{2}, "$sort": -1, "$slice": 2}}}, bson.M{"t": bson.A{int32(3), int32(2)}}, true},
		{"$sort documents by field", bson.M{"t": bson.A{bson.M{"s": int32(5)}, bson.M{"s": int32(1)}}}, bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{bson.M{"s": 3}}, "$sort": bson.M{"s": 1}}}},
			bson.M{"t": bson.A{bson.M{"s": int32(1)}, bson.M{"s": int32(3)}, bson.M{"s": int32(5)}}}, true},
		{"dotted", bson.M{"a": bson.M{}}, bson.M{"$push": bson.M{"a.t": 1}}, bson.M{"a": bson.M{"t": bson.A{int32(1)}}}, true},
	})
}

func TestUpdateAddToSet(t *testing.T) {
	t.Parallel()
	runUpdateScenarios(t, []updateScenario{
		{"adds an absent value", bson.M{"t": bson.A{"a"}}, bson.M{"$addToSet": bson.M{"t": "b"}}, bson.M{"t": bson.A{"a", "b"}}, true},
		{"keeps a present value", bson.M{"t": bson.A{"a"}}, bson.M{"$addToSet": bson.M{"t": "a"}}, bson.M{"t": bson.A{"a"}}, false},
		{"numbers compare by value", bson.M{"t": bson.A{int32(5)}}, bson.M{"$addToSet": bson.M{"t": 5.0}}, bson.M{"t": bson.A{int32(5)}}, false},
		{"documents compare whole", bson.M{"t": bson.A{bson.M{"a": int32(1)}}}, bson.M{"$addToSet": bson.M{"t": bson.M{"a": 1, "b": 2}}}, bson.M{"t": bson.A{bson.M{"a": int32(1)}, bson.M{"a": int32(1), "b": int32(2)}}}, true},
		{"missing creates", bson.M{}, bson.M{"$addToSet": bson.M{"t": "a"}}, bson.M{"t": bson.A{"a"}}, true},
		{"$each skips duplicates, also among themselves", bson.M{"t": bson.A{"a"}}, bson.M{"$addToSet": bson.M{"t": bson.M{"$each": bson.A{"a", "b", "b", "c"}}}}, bson.M{"t": bson.A{"a", "b", "c"}}, true},
		{"an array is one element", bson.M{"t": bson.A{}}, bson.M{"$addToSet": bson.M{"t": bson.A{"a"}}}, bson.M{"t": bson.A{bson.A{"a"}}}, true},
	})
}

func TestUpdatePull(t *testing.T) {
	t.Parallel()
	runUpdateScenarios(t, []updateScenario{
		{"equal values", bson.M{"t": bson.A{"a", "b", "a"}}, bson.M{"$pull": bson.M{"t": "a"}}, bson.M{"t": bson.A{"b"}}, true},
		{"numbers by value", bson.M{"n": bson.A{int32(1), int64(1), 1.0, int32(2)}}, bson.M{"$pull": bson.M{"n": 1}}, bson.M{"n": bson.A{int32(2)}}, true},
		{"absent value is no change", bson.M{"t": bson.A{"a"}}, bson.M{"$pull": bson.M{"t": "z"}}, bson.M{"t": bson.A{"a"}}, false},
		{"condition", bson.M{"n": bson.A{int32(5), int32(6), int32(7), "x"}}, bson.M{"$pull": bson.M{"n": bson.M{"$gte": 6}}}, bson.M{"n": bson.A{int32(5), "x"}}, true},
		{"$in condition", bson.M{"t": bson.A{"a", "b", "c"}}, bson.M{"$pull": bson.M{"t": bson.M{"$in": bson.A{"a", "c"}}}}, bson.M{"t": bson.A{"b"}}, true},
		{"query on documents", bson.M{"items": bson.A{bson.M{"sku": "a", "qty": int32(0)}, bson.M{"sku": "b", "qty": int32(2)}, "loose"}},
			bson.M{"$pull": bson.M{"items": bson.M{"qty": bson.M{"$lt": 1}}}},
			bson.M{"items": bson.A{bson.M{"sku": "b", "qty": int32(2)}, "loose"}}, true},
		{"query matches documents with more fields", bson.M{"items": bson.A{bson.M{"sku": "a", "qty": int32(0)}, bson.M{"sku": "b"}}},
			bson.M{"$pull": bson.M{"items": bson.M{"sku": "a"}}}, bson.M{"items": bson.A{bson.M{"sku": "b"}}}, true},
		{"whole array values", bson.M{"a": bson.A{bson.A{int32(1), int32(2)}, int32(1)}}, bson.M{"$pull": bson.M{"a": bson.A{1, 2}}}, bson.M{"a": bson.A{int32(1)}}, true},
		{"regex", bson.M{"t": bson.A{"apple", "banana"}}, bson.M{"$pull": bson.M{"t": primitive.Regex{Pattern: "^a"}}}, bson.M{"t": bson.A{"banana"}}, true},
		{"missing is no change", bson.M{}, bson.M{"$pull": bson.M{"t": "a"}}, bson.M{}, false},
		{"dotted", bson.M{"a": bson.M{"t": bson.A{int32(1), int32(2)}}}, bson.M{"$pull": bson.M{"a.t": 2}}, bson.M{"a": bson.M{"t": bson.A{int32(1)}}}, true},
	})
}

func TestUpdateSetOnInsert(t *testing.T) {
	t.Parallel()
	u, err := CompileUpdate(bson.M{"$set": bson.M{"a": 1}, "$setOnInsert": bson.M{"created": true, "_id": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	got, changed, err := u.Apply(bson.M{"_id": "y"})
	if err != nil || !changed || !reflect.DeepEqual(got, bson.M{"_id": "y", "a": int32(1)}) {
		t.Errorf("Apply = %v, %v, %v; want $setOnInsert skipped", got, changed, err)
	}
	got, err = u.ApplyInsert(bson.M{"k": "v"})
	if err != nil || !reflect.DeepEqual(got, bson.M{"_id": "x", "k": "v", "a": int32(1), "created": true}) {
		t.Errorf("ApplyInsert = %v, %v", got, err)
	}
	got, err = u.ApplyInsert(bson.M{"_id": "x"})
	if err != nil || !reflect.DeepEqual(got, bson.M{"_id": "x", "a": int32(1), "created": true}) {
		t.Errorf("ApplyInsert with the same _id = %v, %v", got, err)
	}
	_, err = u.ApplyInsert(bson.M{"_id": "other"})
	wantQueryError(t, err, "invalid query: _id: the _id field cannot be changed")
}

func TestUpdateIsSafeToShare(t *testing.T) {
	t.Parallel()
	u, err := CompileUpdate(bson.M{"$set": bson.M{"d": bson.M{"x": bson.A{1}}}, "$push": bson.M{"t": bson.M{"x": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				got, _, err := u.Apply(bson.M{"t": bson.A{}})
				if err != nil {
					t.Error(err)
					return
				}
				// Changing a result must not change the compiled update.
				got["d"].(bson.M)["x"].(bson.A)[0] = "changed"
				got["t"].(bson.A)[0].(bson.M)["x"] = "changed"
			}
		}()
	}
	wg.Wait()
	got, _, _ := u.Apply(bson.M{})
	want := bson.M{"d": bson.M{"x": bson.A{int32(1)}}, "t": bson.A{bson.M{"x": int32(1)}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after shared use Apply = %v, want %v", got, want)
	}
}
