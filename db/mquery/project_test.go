package mquery

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestProjection(t *testing.T) {
	t.Parallel()
	doc := bson.M{
		"_id":   int32(1),
		"name":  "ada",
		"age":   int32(36),
		"addr":  bson.M{"city": "London", "zip": "N1", "geo": bson.M{"lat": 1.5, "lng": 2.5}},
		"items": bson.A{bson.M{"sku": "a", "qty": int32(1)}, bson.M{"qty": int32(2)}, "loose", bson.A{bson.M{"sku": "n", "qty": int32(3)}}},
	}
	scenarios := []struct {
		name string
		proj bson.M
		want bson.M
	}{
		{"nil keeps everything", nil, doc},
		{"empty keeps everything", bson.M{}, doc},
		{"inclusion keeps _id", bson.M{"name": 1}, bson.M{"_id": int32(1), "name": "ada"}},
		{"inclusion with true", bson.M{"name": true, "age": int64(1)}, bson.M{"_id": int32(1), "name": "ada", "age": int32(36)}},
		{"inclusion without _id", bson.M{"name": 1, "_id": 0}, bson.M{"name": "ada"}},
		{"inclusion of a missing field", bson.M{"nope": 1}, bson.M{"_id": int32(1)}},
		{"any non-zero number includes", bson.M{"name": 2.5}, bson.M{"_id": int32(1), "name": "ada"}},
		{"dotted inclusion", bson.M{"addr.city": 1, "addr.geo.lat": 1}, bson.M{"_id": int32(1), "addr": bson.M{"city": "London", "geo": bson.M{"lat": 1.5}}}},
		{"dotted inclusion of a missing subfield", bson.M{"addr.nope": 1}, bson.M{"_id": int32(1), "addr": bson.M{}}},
		{"dotted inclusion through a scalar", bson.M{"name.x": 1}, bson.M{"_id": int32(1)}},
		{"dotted inclusion through an array", bson.M{"items.sku": 1},
			bson.M{"_id": int32(1), "items": bson.A{bson.M{"sku": "a"}, bson.M{}, bson.A{bson.M{"sku": "n"}}}}},
		{"only _id", bson.M{"_id": 1}, bson.M{"_id": int32(1)}},
		{"exclusion", bson.M{"age": 0, "items": false}, bson.M{"_id": int32(1), "name": "ada", "addr": doc["addr"]}},
		{"exclusion of _id alone", bson.M{"_id": 0}, bson.M{"name": "ada", "age": int32(36), "addr": doc["addr"], "items": doc["items"]}},
		{"exclusion with _id", bson.M{"_id": 0, "items": 0, "addr": 0}, bson.M{"name": "ada", "age": int32(36)}},
		{"exclusion with _id: 1", bson.M{"_id": 1, "items": 0, "addr": 0}, bson.M{"_id": int32(1), "name": "ada", "age": int32(36)}},
		{"dotted exclusion", bson.M{"addr.geo": 0, "items": 0, "name": 0, "age": 0}, bson.M{"_id": int32(1), "addr": bson.M{"city": "London", "zip": "N1"}}},
		{"dotted exclusion through an array", bson.M{"items.qty": 0, "addr": 0, "name": 0, "age": 0},
			bson.M{"_id": int32(1), "items": bson.A{bson.M{"sku": "a"}, bson.M{}, "loose", bson.A{bson.M{"sku": "n"}}}}},
		{"part of _id", bson.M{"_id.k": 1, "name": 1}, bson.M{"name": "ada"}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p, err := CompileProjection(s.proj)
			if err != nil {
				t.Fatalf("CompileProjection(%v): %v", s.proj, err)
			}
			got := p.Apply(doc)
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("Apply with %v\n got  %#v\n want %#v", s.proj, got, s.want)
			}
		})
	}
}

func TestProjectionCopies(t *testing.T) {
	t.Parallel()
	doc := bson.M{"_id": int32(1), "a": bson.M{"b": bson.A{int32(1)}}, "c": bson.A{bson.M{"d": int32(1)}}}
	for _, proj := range []bson.M{nil, {"a": 1, "c": 1}, {"_id": 0}, {"a.b": 1, "c.d": 1}} {
		p, err := CompileProjection(proj)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Apply(doc)
		got["a"].(bson.M)["b"].(bson.A)[0] = "changed"
		got["c"].(bson.A)[0].(bson.M)["d"] = "changed"
		if doc["a"].(bson.M)["b"].(bson.A)[0] != int32(1) || doc["c"].(bson.A)[0].(bson.M)["d"] != int32(1) {
			t.Fatalf("changing the result of %v changed the document", proj)
		}
	}
	p, _ := CompileProjection(bson.M{"a": 1})
	if got := p.Apply(nil); got != nil {
		t.Errorf("Apply(nil) = %v, want nil", got)
	}
}

func TestCompileProjectionRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		proj bson.M
		msg  string
	}{
		{"mixed", bson.M{"a": 1, "b": 0}, `invalid query: b: cannot mix inclusion and exclusion in one projection (see "a")`},
		{"mixed dotted", bson.M{"a.x": 0, "b": true}, `invalid query: b: cannot mix inclusion and exclusion in one projection (see "a.x")`},
		{"string value", bson.M{"a": "yes"}, "invalid query: a: projection value must be 1, 0, true or false"},
		{"null value", bson.M{"a": nil}, "invalid query: a: projection value must be 1, 0, true or false"},
		{"document value", bson.M{"a": bson.M{"b": 1}}, "invalid query: a: projection value must be 1, 0, true or false"},
		{"$slice", bson.M{"a": bson.M{"$slice": 2}}, "invalid query: a: projection operator $slice is not supported"},
		{"$elemMatch", bson.M{"a": bson.M{"$elemMatch": bson.M{"b": 1}}}, "invalid query: a: projection operator $elemMatch is not supported"},
		{"$meta", bson.M{"s": bson.M{"$meta": "textScore"}}, "invalid query: s: projection operator $meta is not supported"},
		{"positional", bson.M{"a.$": 1}, "invalid query: a.$: field path component cannot start with $ (positional and $meta paths are not supported)"},
		{"empty component", bson.M{"a..b": 1}, "invalid query: a..b: field path cannot contain an empty component"},
		{"empty path", bson.M{"": 1}, "invalid query: field path cannot be empty"},
		{"collision", bson.M{"a": 1, "a.b": 1}, "invalid query: a.b: path collides with another path of the projection"},
		{"collision with _id", bson.M{"_id": 0, "_id.x": 0}, "invalid query: _id: path collides with another path of the projection"},
		{"collision with included _id", bson.M{"_id": 1, "_id.x": 1}, "invalid query: _id: path collides with another path of the projection"},
		{"bad Go value", bson.M{"a": make(chan int)}, "invalid query: a: unsupported value of Go type chan int"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p, err := CompileProjection(s.proj)
			if p != nil {
				t.Errorf("CompileProjection returned a projection with error %v", err)
			}
			wantQueryError(t, err, s.msg)
		})
	}
}
