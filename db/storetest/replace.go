package storetest

import (
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func testUpsert(t *testing.T, s *suite) {
	st := s.open(t)
	upsert := &db.UpdateOptions{Upsert: true}

	// The inserted document starts from the filter's equalities, then the
	// update applies to it.
	cases := []struct {
		name   string
		filter bson.M
		update bson.M
		want   bson.M // without _id
	}{
		{"FromEqualities", bson.M{"k": "x", "n": bson.M{"$gt": 1}}, bson.M{"$set": bson.M{"v": int32(1)}}, bson.M{"k": "x", "v": int32(1)}},
		{"FromEqOperator", bson.M{"a": bson.M{"$eq": "y"}}, bson.M{"$inc": bson.M{"c": 1}}, bson.M{"a": "y", "c": int32(1)}},
		{"FromAnd", bson.M{"$and": bson.A{bson.M{"a": "y"}, bson.M{"b": int32(2)}}}, bson.M{"$inc": bson.M{"c": 1}}, bson.M{"a": "y", "b": int32(2), "c": int32(1)}},
		{"FromDottedEquality", bson.M{"p.q": int32(2)}, bson.M{"$inc": bson.M{"c": 1}}, bson.M{"p": bson.M{"q": int32(2)}, "c": int32(1)}},
		{"UpdateOverridesFilter", bson.M{"k": "x"}, bson.M{"$set": bson.M{"k": "y"}}, bson.M{"k": "y"}},
		{"PushAndAddToSet", bson.M{"k": "x"}, bson.M{"$push": bson.M{"l": int32(1)}, "$addToSet": bson.M{"s": "a"}},
			bson.M{"k": "x", "l": bson.A{int32(1)}, "s": bson.A{"a"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			if tc.name == "FromAnd" {
				s.skipIf(t, "ferretdb-upsert-and")
			}
			c := coll(t, st)
			insert(t, c, bson.M{"k": "other"})
			res, err := c.UpdateOne(t.Context(), tc.filter, tc.update, upsert)
			ok(t, err, "upsert")
			id, isOID := res.UpsertedID.(primitive.ObjectID)
			if !isOID {
				t.Fatalf("UpsertedID is %s, want a new ObjectID", describe(res.UpsertedID))
			}
			same(t, "matched and modified", db.UpdateResult{Matched: res.Matched, Modified: res.Modified}, db.UpdateResult{})
			same(t, "inserted document", get(t, c, id), withID(id, tc.want))
			same(t, "documents", count(t, c, nil), int64(2))
		})
	}

	t.Run("IDFromFilter", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		res, err := c.UpdateOne(t.Context(), db.ByID("u1"), bson.M{"$set": bson.M{"v": int32(1)}}, upsert)
		ok(t, err, "upsert")
		same(t, "result", res, db.UpdateResult{UpsertedID: "u1"})
		same(t, "inserted document", get(t, c, "u1"), bson.M{"_id": "u1", "v": int32(1)})
	})
	t.Run("SetOnInsert", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "old", "k": "x"})
		update := bson.M{"$set": bson.M{"seen": true}, "$setOnInsert": bson.M{"created": int32(1), "p.q": "r"}}
		res, err := c.UpdateOne(t.Context(), bson.M{"k": "x"}, update, upsert)
		ok(t, err, "upsert matching a document")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "matched document ($setOnInsert not applied)", get(t, c, "old"), bson.M{"_id": "old", "k": "x", "seen": true})
		res, err = c.UpdateOne(t.Context(), bson.M{"k": "y"}, update, upsert)
		ok(t, err, "upsert inserting")
		same(t, "inserted document", get(t, c, res.UpsertedID), bson.M{"_id": res.UpsertedID, "k": "y", "seen": true, "created": int32(1), "p": bson.M{"q": "r"}})
		res, err = c.UpdateOne(t.Context(), bson.M{"k": "x"}, bson.M{"$setOnInsert": bson.M{"created": int32(2)}}, nil)
		ok(t, err, "update with only $setOnInsert")
		same(t, "result of an update with only $setOnInsert", res, db.UpdateResult{Matched: 1})
		doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"k": "z"}, update, &db.FindOneAndUpdateOptions{Upsert: true, ReturnAfter: true})
		ok(t, err, "find one and update inserting")
		same(t, "inserted by FindOneAndUpdate", doc, bson.M{"_id": doc["_id"], "k": "z", "seen": true, "created": int32(1), "p": bson.M{"q": "r"}})
	})
	t.Run("MatchUpdates", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "a", "k": "x"})
		res, err := c.UpdateOne(t.Context(), bson.M{"k": "x"}, bson.M{"$set": bson.M{"v": int32(1)}}, upsert)
		ok(t, err, "upsert")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "updated document", get(t, c, "a"), bson.M{"_id": "a", "k": "x", "v": int32(1)})
		same(t, "documents", count(t, c, nil), int64(1))
	})
}

func testReplace(t *testing.T, s *suite) {
	st := s.open(t)
	fixture := func(t *testing.T) db.Collection {
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "r", "a": int32(1), "b": int32(2)}, bson.M{"_id": "s", "a": int32(1)})
		return c
	}

	t.Run("KeepsID", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), db.ByID("r"), bson.M{"c": int32(3), "d": bson.A{2.0}}, nil)
		ok(t, err, "replace")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "replaced document", get(t, c, "r"), bson.M{"_id": "r", "c": int32(3), "d": bson.A{2.0}})
		same(t, "other document", get(t, c, "s"), bson.M{"_id": "s", "a": int32(1)})
	})
	t.Run("WithSameID", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), db.ByID("r"), bson.M{"_id": "r", "c": int32(3)}, nil)
		ok(t, err, "replace")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "replaced document", get(t, c, "r"), bson.M{"_id": "r", "c": int32(3)})
	})
	t.Run("OneOfMany", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), bson.M{"a": 1}, bson.M{"z": true}, nil)
		ok(t, err, "replace")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "documents replaced", count(t, c, bson.M{"z": true}), int64(1))
		same(t, "documents left", count(t, c, bson.M{"a": 1}), int64(1))
	})
	t.Run("NoMatch", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), db.ByID("nope"), bson.M{"z": true}, nil)
		ok(t, err, "replace")
		same(t, "result", res, db.UpdateResult{})
		same(t, "documents", count(t, c, nil), int64(2))
	})
	t.Run("UpsertWithIDFromFilter", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), db.ByID("new"), bson.M{"v": int32(1)}, &db.UpdateOptions{Upsert: true})
		ok(t, err, "replace with upsert")
		same(t, "result", res, db.UpdateResult{UpsertedID: "new"})
		same(t, "inserted document", get(t, c, "new"), bson.M{"_id": "new", "v": int32(1)})
	})
	t.Run("UpsertIsTheReplacement", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		// Unlike an update, a replacement takes nothing from the filter
		// but an _id.
		res, err := c.ReplaceOne(t.Context(), bson.M{"k": "x"}, bson.M{"v": int32(1)}, &db.UpdateOptions{Upsert: true})
		ok(t, err, "replace with upsert")
		id, isOID := res.UpsertedID.(primitive.ObjectID)
		if !isOID {
			t.Fatalf("UpsertedID is %s, want a new ObjectID", describe(res.UpsertedID))
		}
		same(t, "inserted document", get(t, c, id), bson.M{"_id": id, "v": int32(1)})
	})
	t.Run("UpsertMatchReplaces", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		res, err := c.ReplaceOne(t.Context(), db.ByID("s"), bson.M{"v": int32(1)}, &db.UpdateOptions{Upsert: true})
		ok(t, err, "replace with upsert")
		same(t, "result", res, db.UpdateResult{Matched: 1, Modified: 1})
		same(t, "replaced document", get(t, c, "s"), bson.M{"_id": "s", "v": int32(1)})
	})
}
