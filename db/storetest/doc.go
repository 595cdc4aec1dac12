// Package storetest is the conformance suite every db.Store runs, so the
// MongoDB and embedded stores cannot drift apart, and the in-process
// FerretDB server the MongoDB store is tested against.
//
// It is imported by tests only, which keeps FerretDB out of the moonbase
// binary.
//
// Example (in a store's _test.go file):
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) db.Store {
//			s, err := embedded.Open(…)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close(context.Background()) })
//			return s
//		}, storetest.Options{Parallel: true})
//	}
//
// # What the suite holds every store to
//
// MongoDB's behaviour, with these choices where the interface leaves room:
//
//   - Values come back canonical: documents bson.M, arrays bson.A; a Go
//     int is stored as int32 when it fits and int64 otherwise (as the
//     MongoDB driver encodes it); time.Time becomes a date with
//     millisecond precision; integral doubles stay doubles; int64 keeps
//     all 64 bits; a string keeps its bytes, valid UTF-8 or not.
//   - InsertOne never writes to the caller's map; the generated _id is
//     only returned.
//   - FindOneAndUpdate with Upsert and without ReturnAfter returns
//     (nil, nil) when it inserted: there was no document before.
//   - A filter may use only $eq $ne $gt $gte $lt $lte $in $nin $exists
//     $and $or $nor $not $regex (with $options) $elemMatch $size $all.
//     Anything else is a *db.QueryError whose Op names the operator;
//     an operator of the wrong shape ($in without an array, $size
//     without a whole number ≥ 0) is one too.
//   - An update may use only $set $unset $inc $push $pull $addToSet and
//     $setOnInsert (applied only when an upsert inserts), with $each as
//     the only modifier; positional paths ("a.$") are refused. Type
//     errors ($inc on a string) are *db.QueryError.
//   - Projections are all inclusions or all exclusions of 0/1/true/false
//     (with _id free); sort directions are 1 or -1; negative skip or
//     limit is refused; each is a *db.QueryError.
//   - Document keys that are empty, start with "$" or contain "." at any
//     depth, and an array as _id, are db.ErrInvalidDocument, also inside
//     $set, $push and $addToSet values.
//   - A unique index treats a missing field as null and numbers of
//     different types as equal; a duplicate is a *db.DuplicateKeyError
//     naming the collection and the index ("_id_" for _id, the given
//     name, or MongoDB's default "field_1_other_-1").
//   - EnsureIndex of an index that exists as given does nothing; one that
//     clashes with an existing index (the same name for other keys or
//     options, or the same keys under another name) is db.ErrInvalidName.
//   - After Close every call is db.ErrClosed; Close itself is idempotent.
//   - Collections lists names in order.
//
// # Quirks
//
// Where a store departs from MongoDB in a way the suite cannot paper over,
// Options.Quirks names the departure and the suite skips just the
// assertion it breaks, saying so in the test log. The known quirks, all
// of FerretDB v1.24 with its SQLite backend (so they apply to the MongoDB
// store when it runs against FerretDB, never against MongoDB):
//
//   - ferretdb-duplicate-key-index-name: the duplicate key error does not
//     name the index, so DuplicateKeyError.Index is empty.
//   - ferretdb-duplicate-key-on-update: a unique index broken by an
//     update, replace or findAndModify is reported as
//     InternalError ("UNIQUE constraint failed"), not as E11000, so it is
//     not db.ErrDuplicateKey (the write is still refused).
//   - ferretdb-unique-index-over-duplicates: creating a unique index over
//     existing duplicates fails with InternalError, not E11000.
//   - ferretdb-unique-missing-field: a unique index admits any number of
//     documents without the field; MongoDB indexes missing as null, so
//     the second one is a duplicate.
//   - ferretdb-nested-arrays: an array directly inside an array cannot be
//     stored ("nested arrays are not supported").
//   - ferretdb-pull-condition: $pull removes only elements equal to the
//     value given; a condition ({$gte: 5}, {$in: […]}) or a partial
//     document matches nothing, silently.
//   - ferretdb-inc-zero-modifies: $inc by 0 counts as a modification.
//   - ferretdb-findandmodify-projection: FindOneAndUpdate with a
//     projection is refused as not implemented.
//   - ferretdb-elemmatch-documents: $elemMatch with conditions on the
//     fields of element documents is refused ("unknown operator").
//   - ferretdb-elemmatch-any-element: $elemMatch lets different elements
//     meet different conditions ({$gte: 5, $lt: 8} matches [3, 9]).
//   - ferretdb-upsert-and: an upsert does not take the equalities inside
//     a top-level $and into the inserted document.
//   - ferretdb-index-options-conflict: an index with the name and keys of
//     an existing one but other options (unique or not) is accepted and
//     the existing one kept; MongoDB refuses it.
//   - ferretdb-regex-dollar: in a $regex, $ matches only at the very end
//     of the string (Go's rule); in MongoDB's PCRE it also matches before
//     a final newline.
package storetest
