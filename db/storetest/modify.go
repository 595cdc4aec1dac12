package storetest

import (
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func testFindOneAndUpdate(t *testing.T, s *suite) {
	st := s.open(t)
	fixture := func(t *testing.T) db.Collection {
		c := coll(t, st)
		insert(t, c,
			bson.M{"_id": "a", "state": "ready", "pri": int32(3), "n": int32(0)},
			bson.M{"_id": "b", "state": "ready", "pri": int32(1), "n": int32(0)},
			bson.M{"_id": "c", "state": "ready", "pri": int32(2), "n": int32(0)},
			bson.M{"_id": "d", "state": "done", "pri": int32(0), "n": int32(0)})
		return c
	}
	claim := bson.M{"$set": bson.M{"state": "taken"}, "$inc": bson.M{"n": 1}}

	t.Run("ReturnsBefore", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("a"), claim, &db.FindOneAndUpdateOptions{})
		ok(t, err, "find one and update")
		same(t, "returned document", doc, bson.M{"_id": "a", "state": "ready", "pri": int32(3), "n": int32(0)})
		same(t, "stored document", get(t, c, "a"), bson.M{"_id": "a", "state": "taken", "pri": int32(3), "n": int32(1)})
	})
	t.Run("NilOptionsReturnBefore", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("a"), claim, nil)
		ok(t, err, "find one and update")
		same(t, "returned document", doc, bson.M{"_id": "a", "state": "ready", "pri": int32(3), "n": int32(0)})
	})
	t.Run("ReturnsAfter", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("a"), claim, &db.FindOneAndUpdateOptions{ReturnAfter: true})
		ok(t, err, "find one and update")
		same(t, "returned document", doc, bson.M{"_id": "a", "state": "taken", "pri": int32(3), "n": int32(1)})
	})
	t.Run("SortPicksFirst", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		byPri := &db.FindOneAndUpdateOptions{Sort: bson.D{{Key: "pri", Value: 1}}, ReturnAfter: true}
		var got []any
		for range 3 {
			doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "ready"}, claim, byPri)
			ok(t, err, "claim")
			got = append(got, doc["_id"])
		}
		same(t, "claimed in priority order", got, []any{"b", "c", "a"})
		_, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "ready"}, claim, byPri)
		isErr(t, "claim with nothing left", err, db.ErrNotFound)
	})
	t.Run("SortDescending", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "ready"}, claim, &db.FindOneAndUpdateOptions{Sort: bson.D{{Key: "pri", Value: -1}}})
		ok(t, err, "claim")
		same(t, "claimed", doc["_id"], "a")
	})
	t.Run("Projection", func(t *testing.T) {
		s.parallel(t)
		s.skipIf(t, "ferretdb-findandmodify-projection")
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("b"), claim, &db.FindOneAndUpdateOptions{ReturnAfter: true, Projection: bson.M{"n": 1}})
		ok(t, err, "find one and update")
		same(t, "returned document", doc, bson.M{"_id": "b", "n": int32(1)})
		same(t, "stored document", get(t, c, "b"), bson.M{"_id": "b", "state": "taken", "pri": int32(1), "n": int32(1)})
	})
	t.Run("NotFound", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "lost"}, claim, &db.FindOneAndUpdateOptions{ReturnAfter: true})
		isErr(t, "find one and update without a match", err, db.ErrNotFound)
		if doc != nil {
			t.Errorf("returned %s with the error, want nil", describe(doc))
		}
		same(t, "documents changed", count(t, c, bson.M{"n": bson.M{"$gt": 0}}), int64(0))
	})
	t.Run("UpsertReturnsAfter", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "new"}, claim, &db.FindOneAndUpdateOptions{Upsert: true, ReturnAfter: true})
		ok(t, err, "upsert")
		id, isOID := doc["_id"].(primitive.ObjectID)
		if !isOID {
			t.Fatalf("returned _id %s, want a new ObjectID", describe(doc["_id"]))
		}
		want := bson.M{"_id": id, "state": "taken", "n": int32(1)}
		same(t, "returned document", doc, want)
		same(t, "stored document", get(t, c, id), want)
	})
	t.Run("UpsertBeforeReturnsNil", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		// There was no document before an upsert inserted one.
		doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"k": "new"}, bson.M{"$set": bson.M{"v": int32(1)}}, &db.FindOneAndUpdateOptions{Upsert: true})
		ok(t, err, "upsert")
		if doc != nil {
			t.Errorf("returned %s, want nil: nothing existed before", describe(doc))
		}
		same(t, "inserted documents", count(t, c, bson.M{"k": "new", "v": 1}), int64(1))
	})
	t.Run("UpsertMatchUpdates", func(t *testing.T) {
		s.parallel(t)
		c := fixture(t)
		doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("d"), claim, &db.FindOneAndUpdateOptions{Upsert: true, ReturnAfter: true})
		ok(t, err, "upsert")
		same(t, "returned document", doc, bson.M{"_id": "d", "state": "taken", "pri": int32(0), "n": int32(1)})
		same(t, "documents", count(t, c, nil), int64(4))
	})
	t.Run("Counter", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		// The sequence pattern: one document per counter, made on first use.
		for want := int32(1); want <= 3; want++ {
			doc, err := c.FindOneAndUpdate(t.Context(), db.ByID("orders"), bson.M{"$inc": bson.M{"seq": int32(1)}},
				&db.FindOneAndUpdateOptions{Upsert: true, ReturnAfter: true})
			ok(t, err, "next value")
			same(t, "counter", doc, bson.M{"_id": "orders", "seq": want})
		}
	})
}
