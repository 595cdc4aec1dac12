package storetest

import (
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func testSort(t *testing.T, s *suite) {
	st := s.open(t)

	t.Run("NumbersAcrossTypes", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "a", "v": int32(3)}, bson.M{"_id": "b", "v": int64(1)}, bson.M{"_id": "c", "v": 2.5},
			bson.M{"_id": "d", "v": int64(-1) << 40}, bson.M{"_id": "e", "v": 1e20})
		sameIDs(t, "ascending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: 1}}}), "d", "b", "c", "a", "e")
		sameIDs(t, "descending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: -1}}}), "e", "a", "c", "b", "d")
	})

	t.Run("MixedTypes", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		// MongoDB's order across types: null and missing, numbers,
		// strings (by bytes), documents, ObjectIDs, booleans, dates.
		insert(t, c,
			bson.M{"_id": "10date", "v": date("2020-01-01T00:00:00Z")},
			bson.M{"_id": "09true", "v": true},
			bson.M{"_id": "08false", "v": false},
			bson.M{"_id": "07oid", "v": primitive.NewObjectID()},
			bson.M{"_id": "06doc", "v": bson.M{"a": int32(1)}},
			bson.M{"_id": "05lower", "v": "a"},
			bson.M{"_id": "04upper", "v": "B"},
			bson.M{"_id": "03int", "v": int32(5)},
			bson.M{"_id": "02double", "v": 2.5},
			bson.M{"_id": "01missing"},
			bson.M{"_id": "00null", "v": nil},
		)
		asc := []any{"00null", "01missing", "02double", "03int", "04upper", "05lower", "06doc", "07oid", "08false", "09true", "10date"}
		sameIDs(t, "ascending (ties by _id)", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: 1}, {Key: "_id", Value: 1}}}), asc...)
		desc := []any{"10date", "09true", "08false", "07oid", "06doc", "05lower", "04upper", "03int", "02double", "00null", "01missing"}
		sameIDs(t, "descending (ties by _id)", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: -1}, {Key: "_id", Value: 1}}}), desc...)
	})

	t.Run("Arrays", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		// An array sorts by its smallest element ascending and by its
		// largest descending.
		insert(t, c,
			bson.M{"_id": "a", "v": bson.A{int32(3), int32(10)}},
			bson.M{"_id": "b", "v": int32(5)},
			bson.M{"_id": "c", "v": bson.A{int32(1)}},
			bson.M{"_id": "d", "v": bson.A{int32(7), int32(6)}},
		)
		sameIDs(t, "ascending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: 1}}}), "c", "a", "b", "d")
		sameIDs(t, "descending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "v", Value: -1}}}), "a", "d", "b", "c")
	})

	t.Run("MultipleKeys", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c,
			bson.M{"_id": "a", "g": "x", "n": int32(1)},
			bson.M{"_id": "b", "g": "y", "n": int32(2)},
			bson.M{"_id": "c", "g": "x", "n": int32(3)},
			bson.M{"_id": "d", "g": "y", "n": int32(1)},
		)
		sameIDs(t, "g ascending, n descending",
			find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "g", Value: 1}, {Key: "n", Value: -1}}}), "c", "a", "b", "d")
		sameIDs(t, "n ascending, g descending",
			find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "n", Value: 1}, {Key: "g", Value: -1}}}), "d", "a", "b", "c")
	})

	t.Run("DottedPathAndDirectionTypes", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c,
			bson.M{"_id": "a", "p": bson.M{"age": int32(30)}},
			bson.M{"_id": "b", "p": bson.M{"age": int32(20)}},
			bson.M{"_id": "c", "p": bson.M{"age": int32(40)}},
		)
		for _, dir := range []any{1, int32(1), int64(1), 1.0} {
			sameIDs(t, "ascending by p.age with direction "+describe(dir),
				find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "p.age", Value: dir}}}), "b", "a", "c")
		}
		sameIDs(t, "descending by p.age", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "p.age", Value: -1}}}), "c", "a", "b")
	})

	t.Run("SkipAndLimit", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		for i := range 6 {
			insert(t, c, bson.M{"_id": int32(i), "i": int32(5 - i)})
		}
		byI := bson.D{{Key: "i", Value: 1}}
		cases := []struct {
			name        string
			skip, limit int64
			want        []any
		}{
			{"None", 0, 0, []any{int32(5), int32(4), int32(3), int32(2), int32(1), int32(0)}},
			{"Limit", 0, 2, []any{int32(5), int32(4)}},
			{"Skip", 4, 0, []any{int32(1), int32(0)}},
			{"SkipAndLimit", 2, 3, []any{int32(3), int32(2), int32(1)}},
			{"SkipPastEnd", 10, 0, []any{}},
			{"LimitPastEnd", 5, 10, []any{int32(0)}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sameIDs(t, "documents", find(t, c, nil, &db.FindOptions{Sort: byI, Skip: tc.skip, Limit: tc.limit}), tc.want...)
			})
		}
		t.Run("WithFilter", func(t *testing.T) {
			sameIDs(t, "documents", find(t, c, bson.M{"i": bson.M{"$gte": 2}}, &db.FindOptions{Sort: byI, Skip: 1, Limit: 2}), int32(2), int32(1))
		})
		t.Run("FindOne", func(t *testing.T) {
			doc, err := c.FindOne(t.Context(), nil, &db.FindOptions{Sort: byI, Skip: 2})
			ok(t, err, "find one")
			same(t, "document after skipping 2", doc, bson.M{"_id": int32(3), "i": int32(2)})
			doc, err = c.FindOne(t.Context(), bson.M{"i": bson.M{"$lt": 3}}, &db.FindOptions{Sort: bson.D{{Key: "i", Value: -1}}})
			ok(t, err, "find one")
			same(t, "largest i below 3", doc, bson.M{"_id": int32(3), "i": int32(2)})
			_, err = c.FindOne(t.Context(), nil, &db.FindOptions{Skip: 6})
			isErr(t, "FindOne skipping everything", err, db.ErrNotFound)
		})
	})
}

func testProjection(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	insert(t, c, bson.M{"_id": "p", "a": int32(1), "b": "x",
		"n":     bson.M{"x": int32(1), "y": int32(2)},
		"items": bson.A{bson.M{"name": "a", "qty": int32(1)}, bson.M{"name": "b", "qty": int32(2)}}})
	cases := []struct {
		name string
		proj bson.M
		want bson.M
	}{
		{"Include", bson.M{"a": 1}, bson.M{"_id": "p", "a": int32(1)}},
		{"IncludeTrue", bson.M{"a": true, "b": true}, bson.M{"_id": "p", "a": int32(1), "b": "x"}},
		{"IncludeMissingField", bson.M{"nope": 1}, bson.M{"_id": "p"}},
		{"IncludeWithoutID", bson.M{"_id": 0, "b": 1}, bson.M{"b": "x"}},
		{"Exclude", bson.M{"items": 0, "n": 0}, bson.M{"_id": "p", "a": int32(1), "b": "x"}},
		{"ExcludeFalse", bson.M{"items": false, "n": false, "b": false}, bson.M{"_id": "p", "a": int32(1)}},
		{"ExcludeID", bson.M{"_id": 0}, bson.M{"a": int32(1), "b": "x",
			"n":     bson.M{"x": int32(1), "y": int32(2)},
			"items": bson.A{bson.M{"name": "a", "qty": int32(1)}, bson.M{"name": "b", "qty": int32(2)}}}},
		{"IncludeDotted", bson.M{"n.x": 1}, bson.M{"_id": "p", "n": bson.M{"x": int32(1)}}},
		{"IncludeDottedThroughArray", bson.M{"items.name": 1}, bson.M{"_id": "p", "items": bson.A{bson.M{"name": "a"}, bson.M{"name": "b"}}}},
		{"ExcludeDotted", bson.M{"n.x": 0, "items": 0}, bson.M{"_id": "p", "a": int32(1), "b": "x", "n": bson.M{"y": int32(2)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			docs := find(t, c, nil, &db.FindOptions{Projection: tc.proj})
			if len(docs) != 1 {
				t.Fatalf("found %d documents, want 1", len(docs))
			}
			same(t, "Find with projection "+describe(tc.proj), docs[0], tc.want)
			doc, err := c.FindOne(t.Context(), nil, &db.FindOptions{Projection: tc.proj})
			ok(t, err, "find one")
			same(t, "FindOne with projection "+describe(tc.proj), doc, tc.want)
		})
	}
}
