// Package mquery evaluates MongoDB's query language in Go over bson.M
// documents: filter matching, update operators, the cross-type sort order
// and projections. The embedded store runs every filter through it on the
// rows its SQLite indexes narrow a query to.
//
// Filters, updates, sort specs and projections may hold Go values (int,
// time.Time, []any, map[string]any, bson.D, structs); they are normalised
// the way the MongoDB driver encodes them, so a value stored through the
// embedded store gets the type it would get in MongoDB. Documents given to
// Match must already be canonical, as a store returns them. Every refusal
// is a *db.QueryError, so errors.Is(err, db.ErrInvalidQuery) holds.
//
// Where it departs from MongoDB, and why:
//   - bson.M has no field order, so documents compare field by field in
//     name order, and {a: 1, b: 2} equals {b: 2, a: 1}.
//   - Regular expressions run on Go's RE2 engine. PCRE's x option, $ and
//     \Z are rewritten to behave as in MongoDB; lookaround, backreferences
//     and other PCRE-only syntax are refused rather than misread.
//   - null matches a missing field but not undefined, as in MongoDB 8.0.
//   - Positional update paths ($, $[], $[id]), projection operators
//     ($slice, $elemMatch, $meta) and update operators other than $set,
//     $unset, $inc, $push, $pull, $addToSet and $setOnInsert are refused.
//   - A numeric path component above 1,000,000 is a field name, never an
//     array index, so an update cannot pad an array to millions of nulls.
//
// Example:
//
//	m, err := mquery.Compile(bson.M{"age": bson.M{"$gte": 18}})
//	if err == nil && m.Match(doc) { … }
//
//	u, err := mquery.CompileUpdate(bson.M{"$inc": bson.M{"visits": 1}})
//	changed, modified, err := u.Apply(doc) // doc itself is untouched
package mquery
