package mquery

import (
	"errors"
	"math"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// fuzzDocs are documents of many shapes for fuzzed filters and updates to
// run against.
func fuzzDocs() []bson.M {
	return []bson.M{
		{},
		{"_id": primitive.ObjectID{1}, "a": int32(1), "b": "x", "c": nil},
		{"a": bson.A{int32(1), "x", nil, bson.A{int32(2)}, bson.M{"b": int64(3)}}, "n": math.NaN()},
		{"a": bson.M{"b": bson.M{"c": bson.A{bson.M{"d": 1.5}}}}, "t": bson.A{}},
		{"a": bson.A{bson.M{"b": bson.A{bson.M{"c": "z"}}}, bson.M{}}, "d": primitive.DateTime(5), "r": primitive.Regex{Pattern: "a", Options: "i"}},
		{"0": true, "a": bson.M{"0": bson.A{false}}, "m": primitive.MinKey{}, "x": primitive.MaxKey{}, "dec": primitive.NewDecimal128(0, 5)},
	}
}

func parseFuzzJSON(data []byte) (bson.M, bool) {
	var m bson.M
	if err := bson.UnmarshalExtJSON(data, false, &m); err != nil {
		return nil, false
	}
	if m == nil { // the JSON null
		m = bson.M{}
	}
	return m, true
}

func FuzzCompileMatch(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"a": 1}`,
		`{"a.b": {"$gt": 1, "$lt": {"$numberLong": "5"}}}`,
		`{"$or": [{"a": {"$in": [1, "x", null]}}, {"b": {"$exists": false}}]}`,
		`{"a": {"$elemMatch": {"b": {"$regex": "^z", "$options": "i"}}}}`,
		`{"a": {"$not": {"$size": 2}}, "t": {"$all": [{"$elemMatch": {"$gt": 0}}]}}`,
		`{"a": {"$type": ["string", 16]}, "$nor": [{"c": null}]}`,
		`{"a.0.b": {"$ne": {"$numberDouble": "NaN"}}}`,
	} {
		f.Add([]byte(s))
	}
	docs := fuzzDocs()
	f.Fuzz(func(t *testing.T, data []byte) {
		filter, ok := parseFuzzJSON(data)
		if !ok {
			return
		}
		m, err := Compile(filter)
		if err != nil {
			var qe *db.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("Compile(%s) error %v is not a *db.QueryError", data, err)
			}
			return
		}
		not, err := Compile(bson.M{"$nor": bson.A{filter}})
		if err != nil {
			t.Fatalf("Compile($nor of a valid filter): %v", err)
		}
		for _, d := range docs {
			if m.Match(d) == not.Match(d) {
				t.Fatalf("%s and its $nor agree on %v", data, d)
			}
		}
		UpsertSeed(filter)
		spec := bson.D{}
		for k := range filter {
			spec = append(spec, bson.E{Key: k, Value: 1})
		}
		_ = Sort(fuzzDocs(), spec)
		if p, err := CompileProjection(filter); err == nil {
			for _, d := range docs {
				p.Apply(d)
			}
		}
	})
}

func FuzzCompileUpdate(f *testing.F) {
	for _, s := range []string{
		`{"$set": {"a.b": 1}}`,
		`{"$inc": {"a": {"$numberLong": "9223372036854775807"}}, "$unset": {"b": ""}}`,
		`{"$push": {"t": {"$each": [3, 1], "$sort": -1, "$slice": -1, "$position": 0}}}`,
		`{"$pull": {"a": {"b": {"$gt": 1}}}, "$addToSet": {"t": {"$each": [1, 1]}}}`,
		`{"$set": {"a.5.b": true}, "$setOnInsert": {"_id": 7}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		update, ok := parseFuzzJSON(data)
		if !ok {
			return
		}
		u, err := CompileUpdate(update)
		if err != nil {
			var qe *db.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("CompileUpdate(%s) error %v is not a *db.QueryError", data, err)
			}
			return
		}
		for _, d := range fuzzDocs() {
			before := copyDoc(d)
			out, _, err := u.Apply(d)
			if !identical(d, before) {
				t.Fatalf("Apply(%s) modified its input", data)
			}
			if err == nil {
				if _, err := normalize(out); err != nil {
					t.Fatalf("Apply(%s) made a document that is not canonical: %v", data, err)
				}
			}
			_, _ = u.ApplyInsert(d)
		}
	})
}
