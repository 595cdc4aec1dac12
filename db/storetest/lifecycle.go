package storetest

import (
	"slices"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

func contains(names []string, name string) bool { return slices.Contains(names, name) }

func testLifecycle(t *testing.T, s *suite) {
	st := s.open(t)

	t.Run("Ping", func(t *testing.T) {
		s.parallel(t)
		ok(t, st.Ping(t.Context()), "ping")
	})
	t.Run("Name", func(t *testing.T) {
		s.parallel(t)
		name := collName(t)
		same(t, "Name()", st.C(name).Name(), name)
	})
	t.Run("Collections", func(t *testing.T) {
		s.parallel(t)
		a, b, never := coll(t, st, "a"), coll(t, st, "b"), coll(t, st, "never")
		insert(t, a, bson.M{"v": 1})
		insert(t, b, bson.M{"v": 1})
		_ = never.Name() // C does no I/O: a collection never written does not exist
		names, err := st.Collections(t.Context())
		ok(t, err, "collections")
		for _, c := range []db.Collection{a, b} {
			if !contains(names, c.Name()) {
				t.Errorf("Collections() = %v, want it to list %s", names, c.Name())
			}
		}
		if contains(names, never.Name()) {
			t.Errorf("Collections() lists %s, which was never written", never.Name())
		}
		if !slices.IsSorted(names) {
			t.Errorf("Collections() = %v, want them sorted", names)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("k")), "ensure index")
		insert(t, c, bson.M{"k": int32(1)}, bson.M{"k": int32(2)})
		ok(t, c.Drop(t.Context()), "drop")
		same(t, "documents after drop", count(t, c, nil), int64(0))
		names, err := st.Collections(t.Context())
		ok(t, err, "collections")
		if contains(names, c.Name()) {
			t.Errorf("Collections() = %v still lists the dropped %s", names, c.Name())
		}
		// The collection can be used again, without its old index.
		insert(t, c, bson.M{"k": int32(1)}, bson.M{"k": int32(1)})
		same(t, "documents after reuse", count(t, c, nil), int64(2))
	})
	t.Run("DropMissing", func(t *testing.T) {
		s.parallel(t)
		ok(t, coll(t, st).Drop(t.Context()), "drop a collection that does not exist")
	})
	t.Run("Close", func(t *testing.T) {
		s.parallel(t)
		own := s.open(t)
		c := coll(t, own)
		insert(t, c, bson.M{"v": 1})
		ok(t, own.Close(t.Context()), "close")
		ok(t, own.Close(t.Context()), "close again")
		ctx := t.Context()
		isErr(t, "Ping after Close", own.Ping(ctx), db.ErrClosed)
		_, err := own.Collections(ctx)
		isErr(t, "Collections after Close", err, db.ErrClosed)
		_, err = c.InsertOne(ctx, bson.M{"v": 2})
		isErr(t, "InsertOne after Close", err, db.ErrClosed)
		_, err = own.C(collName(t, "later")).Find(ctx, nil, nil)
		isErr(t, "Find on a collection taken after Close", err, db.ErrClosed)
		_, err = c.FindOne(ctx, nil, nil)
		isErr(t, "FindOne after Close", err, db.ErrClosed)
		_, err = c.UpdateOne(ctx, nil, bson.M{"$set": bson.M{"v": 3}}, nil)
		isErr(t, "UpdateOne after Close", err, db.ErrClosed)
		_, err = c.FindOneAndUpdate(ctx, nil, bson.M{"$set": bson.M{"v": 3}}, nil)
		isErr(t, "FindOneAndUpdate after Close", err, db.ErrClosed)
		_, err = c.DeleteMany(ctx, nil)
		isErr(t, "DeleteMany after Close", err, db.ErrClosed)
		_, err = c.Count(ctx, nil)
		isErr(t, "Count after Close", err, db.ErrClosed)
		isErr(t, "EnsureIndex after Close", c.EnsureIndex(ctx, uniqueOn("v")), db.ErrClosed)
		isErr(t, "Drop after Close", c.Drop(ctx), db.ErrClosed)
	})
}
