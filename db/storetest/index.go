package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

func uniqueOn(fields ...string) db.Index {
	idx := db.Index{Unique: true}
	for _, f := range fields {
		idx.Keys = append(idx.Keys, db.IndexKey{Field: f})
	}
	return idx
}

// dupErr checks err is a *db.DuplicateKeyError on c (and index, unless
// the store cannot name it).
func (s *suite) dupErr(t *testing.T, what string, err error, c db.Collection, index string) {
	t.Helper()
	isErr(t, what, err, db.ErrDuplicateKey)
	var dup *db.DuplicateKeyError
	if !errors.As(err, &dup) {
		t.Errorf("%s: got %T, want *db.DuplicateKeyError", what, err)
		return
	}
	same(t, what+": DuplicateKeyError.Collection", dup.Collection, c.Name())
	if !s.has(t, "ferretdb-duplicate-key-index-name") {
		same(t, what+": DuplicateKeyError.Index", dup.Index, index)
	}
}

func testIndex(t *testing.T, s *suite) {
	st := s.open(t)
	withEmails := func(t *testing.T) db.Collection {
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("email")), "ensure index")
		insert(t, c, bson.M{"_id": "a", "email": "a@x"}, bson.M{"_id": "b", "email": "b@x"})
		return c
	}

	t.Run("UniqueInsert", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		_, err := c.InsertOne(t.Context(), bson.M{"email": "a@x"})
		s.dupErr(t, "insert of a taken email", err, c, "email_1")
		same(t, "documents", count(t, c, nil), int64(2))
		_, err = c.InsertMany(t.Context(), []bson.M{{"email": "c@x"}, {"email": "b@x"}})
		s.dupErr(t, "insert many with a taken email", err, c, "email_1")
		same(t, "documents (the first of the batch stays)", count(t, c, nil), int64(3))
	})
	t.Run("EnsureTwice", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("email")), "ensure the same index again")
		_, err := c.InsertOne(t.Context(), bson.M{"email": "a@x"})
		isErr(t, "insert of a taken email", err, db.ErrDuplicateKey)
	})
	t.Run("NumbersAcrossTypesCollide", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("n")), "ensure index")
		insert(t, c, bson.M{"n": int32(1)})
		_, err := c.InsertOne(t.Context(), bson.M{"n": 1.0})
		isErr(t, "insert of 1.0 beside 1", err, db.ErrDuplicateKey)
		_, err = c.InsertOne(t.Context(), bson.M{"n": int64(1)})
		isErr(t, "insert of int64 1 beside 1", err, db.ErrDuplicateKey)
		_, err = c.InsertOne(t.Context(), bson.M{"n": "1"})
		ok(t, err, "insert of the string \"1\" beside 1")
	})
	t.Run("MissingFieldIsNull", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("email")), "ensure index")
		insert(t, c, bson.M{"name": "first without email"})
		s.skipIf(t, "ferretdb-unique-missing-field")
		_, err := c.InsertOne(t.Context(), bson.M{"name": "second without email"})
		isErr(t, "second document without the unique field", err, db.ErrDuplicateKey)
		_, err = c.InsertOne(t.Context(), bson.M{"email": nil})
		isErr(t, "null beside a missing field", err, db.ErrDuplicateKey)
	})
	t.Run("ByUpdate", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		_, err := c.UpdateOne(t.Context(), db.ByID("b"), bson.M{"$set": bson.M{"email": "a@x"}}, nil)
		if err == nil {
			t.Fatal("UpdateOne onto a taken email succeeded")
		}
		same(t, "document after the refused update", get(t, c, "b"), bson.M{"_id": "b", "email": "b@x"})
		_, err2 := c.UpdateMany(t.Context(), nil, bson.M{"$set": bson.M{"email": "same@x"}})
		if err2 == nil {
			t.Fatal("UpdateMany giving every document one email succeeded")
		}
		same(t, "documents with the new email", count(t, c, bson.M{"email": "same@x"}) <= 1, true)
		s.skipIf(t, "ferretdb-duplicate-key-on-update")
		s.dupErr(t, "UpdateOne onto a taken email", err, c, "email_1")
		s.dupErr(t, "UpdateMany onto one email", err2, c, "email_1")
	})
	t.Run("ByReplace", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		_, err := c.ReplaceOne(t.Context(), db.ByID("b"), bson.M{"email": "a@x"}, nil)
		if err == nil {
			t.Fatal("ReplaceOne onto a taken email succeeded")
		}
		same(t, "document after the refused replace", get(t, c, "b"), bson.M{"_id": "b", "email": "b@x"})
		s.skipIf(t, "ferretdb-duplicate-key-on-update")
		s.dupErr(t, "ReplaceOne onto a taken email", err, c, "email_1")
	})
	t.Run("ByFindOneAndUpdate", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		_, err := c.FindOneAndUpdate(t.Context(), db.ByID("b"), bson.M{"$set": bson.M{"email": "a@x"}}, nil)
		if err == nil {
			t.Fatal("FindOneAndUpdate onto a taken email succeeded")
		}
		same(t, "document after the refused update", get(t, c, "b"), bson.M{"_id": "b", "email": "b@x"})
		s.skipIf(t, "ferretdb-duplicate-key-on-update")
		s.dupErr(t, "FindOneAndUpdate onto a taken email", err, c, "email_1")
	})
	t.Run("ByUpsert", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		_, err := c.UpdateOne(t.Context(), bson.M{"email": "a@x", "v": 1}, bson.M{"$set": bson.M{"w": 2}}, &db.UpdateOptions{Upsert: true})
		if err == nil {
			t.Fatal("an upsert inserting a taken email succeeded")
		}
		same(t, "documents", count(t, c, nil), int64(2))
		s.dupErr(t, "upsert inserting a taken email", err, c, "email_1")
	})
	t.Run("OverExistingDuplicates", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"k": "a"}, bson.M{"k": "a"})
		err := c.EnsureIndex(t.Context(), uniqueOn("k"))
		if err == nil {
			t.Fatal("a unique index over duplicates was created")
		}
		insert(t, c, bson.M{"k": "a"}) // the index does not exist
		s.skipIf(t, "ferretdb-unique-index-over-duplicates")
		isErr(t, "unique index over duplicates", err, db.ErrDuplicateKey)
	})
	t.Run("Compound", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("owner", "slug")), "ensure index")
		insert(t, c, bson.M{"owner": "u1", "slug": "a"}, bson.M{"owner": "u1", "slug": "b"}, bson.M{"owner": "u2", "slug": "a"})
		_, err := c.InsertOne(t.Context(), bson.M{"owner": "u1", "slug": "a"})
		s.dupErr(t, "insert of a taken pair", err, c, "owner_1_slug_1")
	})
	t.Run("NameAndDirection", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		idx := db.Index{Name: "by_day", Unique: true, Keys: []db.IndexKey{{Field: "day", Desc: true}, {Field: "room"}}}
		ok(t, c.EnsureIndex(t.Context(), idx), "ensure index")
		insert(t, c, bson.M{"day": int32(1), "room": "a"})
		_, err := c.InsertOne(t.Context(), bson.M{"day": int32(1), "room": "a"})
		s.dupErr(t, "insert of a taken pair", err, c, "by_day")
	})
	t.Run("DefaultNameWithDescendingKey", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), db.Index{Unique: true, Keys: []db.IndexKey{{Field: "day", Desc: true}}}), "ensure index")
		insert(t, c, bson.M{"day": int32(1)})
		_, err := c.InsertOne(t.Context(), bson.M{"day": int32(1)})
		s.dupErr(t, "insert of a taken day", err, c, "day_-1")
	})
	t.Run("DottedPath", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("profile.email")), "ensure index")
		insert(t, c, bson.M{"profile": bson.M{"email": "a@x"}}, bson.M{"profile": bson.M{"email": "b@x"}})
		_, err := c.InsertOne(t.Context(), bson.M{"profile": bson.M{"email": "a@x", "name": "other"}})
		s.dupErr(t, "insert of a taken nested email", err, c, "profile.email_1")
	})
	t.Run("NonUnique", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), db.Index{Keys: []db.IndexKey{{Field: "owner"}, {Field: "at", Desc: true}}}), "ensure index")
		insert(t, c, bson.M{"owner": "u1", "at": int32(1)}, bson.M{"owner": "u1", "at": int32(1)}, bson.M{"owner": "u2", "at": int32(2)})
		same(t, "documents of u1", count(t, c, bson.M{"owner": "u1"}), int64(2))
		same(t, "documents of u2", find(t, c, bson.M{"owner": "u2"}, &db.FindOptions{Projection: bson.M{"_id": 0}}),
			[]bson.M{{"owner": "u2", "at": int32(2)}})
	})
	t.Run("NameTakenByOtherKeys", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		err := c.EnsureIndex(t.Context(), db.Index{Name: "email_1", Keys: []db.IndexKey{{Field: "other"}}})
		isErr(t, "an index named like one on other keys", err, db.ErrInvalidName)
	})
	t.Run("NameTakenWithOtherOptions", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		err := c.EnsureIndex(t.Context(), db.Index{Keys: []db.IndexKey{{Field: "email"}}})
		_, err2 := c.InsertOne(t.Context(), bson.M{"email": "a@x"})
		isErr(t, "insert of a taken email (the unique index stays)", err2, db.ErrDuplicateKey)
		s.skipIf(t, "ferretdb-index-options-conflict")
		isErr(t, "a non-unique index named like a unique one", err, db.ErrInvalidName)
	})
	t.Run("KeysTakenUnderOtherName", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		idx := uniqueOn("email")
		idx.Name = "other"
		isErr(t, "a second name for the same keys", c.EnsureIndex(t.Context(), idx), db.ErrInvalidName)
	})
	t.Run("DropUnique", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		sameIDs(t, "by email before the drop", find(t, c, bson.M{"email": "a@x"}, nil), "a")
		ok(t, c.DropIndex(t.Context(), "email_1"), "drop index")
		sameIDs(t, "by email after the drop", find(t, c, bson.M{"email": "a@x"}, nil), "a")
		insert(t, c, bson.M{"_id": "c", "email": "a@x"})
		sameIDSet(t, "by email with the duplicate", find(t, c, bson.M{"email": "a@x"}, nil), "a", "c")
		ok(t, c.DropIndex(t.Context(), "email_1"), "drop the dropped index again")
		ok(t, c.EnsureIndex(t.Context(), db.Index{Name: "email_1", Keys: []db.IndexKey{{Field: "other"}}}),
			"reuse the dropped index's name for other keys")
	})
	t.Run("DropKeepsQueriesRight", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		idx := db.Index{Keys: []db.IndexKey{{Field: "status"}, {Field: "at"}}}
		ok(t, c.EnsureIndex(t.Context(), idx), "ensure index")
		insert(t, c,
			bson.M{"_id": "a", "status": "new", "at": int32(3)},
			bson.M{"_id": "b", "status": "done", "at": int32(1)},
			bson.M{"_id": "c", "status": "new", "at": int32(1)},
			bson.M{"_id": "d", "status": "new", "at": int32(2)})
		filter := bson.M{"status": "new", "at": bson.M{"$lte": int32(2)}}
		opts := &db.FindOptions{Sort: bson.D{{Key: "at", Value: -1}}}
		sameIDs(t, "before the drop", find(t, c, filter, opts), "d", "c")
		ok(t, c.DropIndex(t.Context(), "status_1_at_1"), "drop index")
		sameIDs(t, "after the drop", find(t, c, filter, opts), "d", "c")
		same(t, "count after the drop", count(t, c, bson.M{"status": "new"}), int64(3))
		n, err := c.UpdateMany(t.Context(), bson.M{"status": "new"}, bson.M{"$set": bson.M{"status": "done"}})
		ok(t, err, "update after the drop")
		same(t, "updated", n.Modified, int64(3))
		same(t, "done", count(t, c, bson.M{"status": "done"}), int64(4))
	})
	t.Run("DropMissing", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		ok(t, c.DropIndex(t.Context(), "never_made_1"), "drop an index that does not exist")
		_, err := c.InsertOne(t.Context(), bson.M{"email": "a@x"})
		isErr(t, "insert of a taken email (the other index stays)", err, db.ErrDuplicateKey)
		ok(t, coll(t, st, "absent").DropIndex(t.Context(), "k_1"), "drop an index of a collection that does not exist")
	})
	t.Run("BadIndexNames", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		for _, name := range []string{"", "*", "$x", "a\x00b", strings.Repeat("n", 128)} {
			isErr(t, fmt.Sprintf("drop of the index %q", name), c.DropIndex(t.Context(), name), db.ErrInvalidName)
			if name == "" {
				continue // an empty name takes the keys' default name
			}
			idx := db.Index{Name: name, Keys: []db.IndexKey{{Field: "other"}}}
			isErr(t, fmt.Sprintf("index named %q", name), c.EnsureIndex(t.Context(), idx), db.ErrInvalidName)
		}
		_, err := c.InsertOne(t.Context(), bson.M{"email": "a@x"})
		isErr(t, "insert of a taken email (the index stays)", err, db.ErrDuplicateKey)
	})
	t.Run("DropID", func(t *testing.T) {
		s.parallel(t)
		c := withEmails(t)
		isErr(t, "drop of the _id index", c.DropIndex(t.Context(), "_id_"), db.ErrInvalidQuery)
		_, err := c.InsertOne(t.Context(), bson.M{"_id": "a"})
		isErr(t, "insert of a taken _id", err, db.ErrDuplicateKey)
	})
	t.Run("CreatesCollection", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("k")), "ensure index")
		names, err := st.Collections(t.Context())
		ok(t, err, "collections")
		if !contains(names, c.Name()) {
			t.Errorf("Collections() = %v, want it to list %s, made by its index", names, c.Name())
		}
	})
}
