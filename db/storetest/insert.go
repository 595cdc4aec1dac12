package storetest

import (
	"errors"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func testInsert(t *testing.T, s *suite) {
	st := s.open(t)

	t.Run("OneGeneratesObjectID", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		doc := bson.M{"name": "ada"}
		id, err := c.InsertOne(t.Context(), doc)
		ok(t, err, "insert")
		oid, isOID := id.(primitive.ObjectID)
		if !isOID || oid.IsZero() {
			t.Fatalf("InsertOne returned _id %s, want a new ObjectID", describe(id))
		}
		same(t, "stored document", get(t, c, id), bson.M{"_id": oid, "name": "ada"})
		same(t, "the caller's document (never written to)", doc, bson.M{"name": "ada"})

		id2, err := c.InsertOne(t.Context(), bson.M{"name": "ada"})
		ok(t, err, "insert a second document")
		if id2 == id {
			t.Errorf("two inserts got the same ObjectID %s", describe(id))
		}
	})

	t.Run("OneKeepsGivenID", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		oid := primitive.NewObjectID()
		for _, id := range []any{"user-1", int32(42), int64(1) << 40, oid} {
			got, err := c.InsertOne(t.Context(), bson.M{"_id": id, "v": true})
			ok(t, err, "insert _id %s", describe(id))
			same(t, "returned _id", got, id)
			same(t, "stored document", get(t, c, id), bson.M{"_id": id, "v": true})
		}
		same(t, "count", count(t, c, nil), int64(4))
	})

	t.Run("OneDuplicateID", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "a", "v": int32(1)})
		_, err := c.InsertOne(t.Context(), bson.M{"_id": "a", "v": int32(2)})
		isErr(t, "second insert of _id a", err, db.ErrDuplicateKey)
		var dup *db.DuplicateKeyError
		if !errors.As(err, &dup) {
			t.Fatalf("got %T, want *db.DuplicateKeyError", err)
		}
		same(t, "DuplicateKeyError.Collection", dup.Collection, c.Name())
		same(t, "the first document stays", get(t, c, "a"), bson.M{"_id": "a", "v": int32(1)})
		if !s.has(t, "ferretdb-duplicate-key-index-name") {
			same(t, "DuplicateKeyError.Index", dup.Index, "_id_")
		}
	})

	t.Run("ManyReturnsIDsInOrder", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ids, err := c.InsertMany(t.Context(), []bson.M{{"_id": "x", "i": int32(0)}, {"i": int32(1)}, {"_id": int32(7), "i": int32(2)}})
		ok(t, err, "insert many")
		if len(ids) != 3 {
			t.Fatalf("InsertMany returned %d ids, want 3", len(ids))
		}
		same(t, "first id", ids[0], "x")
		if _, isOID := ids[1].(primitive.ObjectID); !isOID {
			t.Errorf("second id is %s, want a generated ObjectID", describe(ids[1]))
		}
		same(t, "third id", ids[2], int32(7))
		for i, id := range ids {
			same(t, "document by returned id", get(t, c, id)["i"], int32(i))
		}
	})

	t.Run("ManyEmpty", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		ids, err := c.InsertMany(t.Context(), nil)
		ok(t, err, "insert no documents")
		if len(ids) != 0 {
			t.Errorf("InsertMany(nil) returned %d ids, want none", len(ids))
		}
		same(t, "count", count(t, c, nil), int64(0))
	})

	t.Run("ManyStopsAtDuplicate", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "b"})
		_, err := c.InsertMany(t.Context(), []bson.M{{"_id": "a"}, {"_id": "b"}, {"_id": "c"}})
		isErr(t, "insert many with a duplicate _id", err, db.ErrDuplicateKey)
		sameIDSet(t, "documents stored (those before the duplicate)", find(t, c, nil, nil), "a", "b")
	})
}

// typeCase is a value stored and read back.
type typeCase struct {
	name  string
	in    any // what the caller stores
	want  any // what every store returns
	query bool
}

func typeCases() []typeCase {
	oid := primitive.NewObjectID()
	ms := date("2024-02-29T13:14:15.123Z")
	return []typeCase{
		{"String", "héllo ✓ \t\n\"quoted\" \\", "héllo ✓ \t\n\"quoted\" \\", true},
		{"EmptyString", "", "", true},
		{"Int32", int32(-7), int32(-7), true},
		{"Int32Min", int32(-1 << 31), int32(-1 << 31), true},
		{"Int64Small", int64(7), int64(7), true},
		{"Int64Large", int64(1) << 40, int64(1) << 40, true},
		{"Int64Max", int64(1<<63 - 1), int64(1<<63 - 1), true},
		{"Int64BeyondDoublePrecision", int64(1)<<53 + 1, int64(1)<<53 + 1, true},
		{"Double", 2.5, 2.5, true},
		{"DoubleIntegralStaysDouble", 3.0, 3.0, true},
		{"DoubleLarge", 1e300, 1e300, true},
		{"DoubleTiny", 5e-324, 5e-324, true},
		{"True", true, true, true},
		{"False", false, false, true},
		{"Null", nil, nil, false},
		{"Date", ms, ms, true},
		{"DateBefore1970", date("1969-07-20T20:17:40.000Z"), date("1969-07-20T20:17:40.000Z"), true},
		{"ObjectID", oid, oid, true},
		{"Document", bson.M{"a": bson.M{"b": int32(1)}}, bson.M{"a": bson.M{"b": int32(1)}}, true},
		{"EmptyDocument", bson.M{}, bson.M{}, true},
		{"Array", bson.A{int32(1), "x", nil, bson.M{"k": true}}, bson.A{int32(1), "x", nil, bson.M{"k": true}}, true},
		{"EmptyArray", bson.A{}, bson.A{}, true},
		{"NestedArraysOfDocuments",
			bson.A{bson.M{"tags": bson.A{bson.M{"n": int32(1)}, bson.M{"n": 2.0}}}, bson.M{"tags": bson.A{}}},
			bson.A{bson.M{"tags": bson.A{bson.M{"n": int32(1)}, bson.M{"n": 2.0}}}, bson.M{"tags": bson.A{}}}, true},
		{"ArrayOfArrays", bson.A{bson.A{int64(3), bson.A{}}, bson.A{"x"}}, bson.A{bson.A{int64(3), bson.A{}}, bson.A{"x"}}, true},
		// What callers may pass in Go types, and the canonical form it
		// comes back in. Go's int becomes int32 when it fits, as the
		// MongoDB driver encodes it.
		{"GoIntSmall", 5, int32(5), true},
		{"GoIntNegative", -5, int32(-5), true},
		{"GoIntLarge", 1 << 40, int64(1) << 40, true},
		{"GoTimeTruncatedToMilliseconds", mustTime("2024-02-29T13:14:15.123456789+02:00"), date("2024-02-29T11:14:15.123Z"), true},
		{"GoSlice", []any{1, "a", 2.5}, bson.A{int32(1), "a", 2.5}, true},
		{"GoStringSlice", []string{"a", "b"}, bson.A{"a", "b"}, true},
		{"GoMap", map[string]any{"a": 1, "b": []any{map[string]any{"c": true}}}, bson.M{"a": int32(1), "b": bson.A{bson.M{"c": true}}}, false},
		{"OrderedDocument", bson.D{{Key: "z", Value: 1}, {Key: "a", Value: "x"}}, bson.M{"z": int32(1), "a": "x"}, false},
	}
}

func testTypes(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	for _, tc := range typeCases() {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			switch tc.name {
			case "ArrayOfArrays":
				s.skipIf(t, "ferretdb-nested-arrays")
			}
			_, err := c.InsertOne(t.Context(), bson.M{"_id": tc.name, "v": tc.in})
			ok(t, err, "insert %s", describe(tc.in))
			got := get(t, c, tc.name)
			same(t, "value read back", got["v"], tc.want)
			if tc.query {
				// The stored value is found by equality with what was
				// given and with its canonical form.
				same(t, "count of {v: given}", count(t, c, bson.M{"_id": tc.name, "v": tc.in}), int64(1))
				same(t, "count of {v: canonical}", count(t, c, bson.M{"_id": tc.name, "v": tc.want}), int64(1))
			}
		})
	}
}
