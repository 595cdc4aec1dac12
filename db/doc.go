// Package db is moonbase's storage layer: one Store interface with two
// implementations, MongoDB (db/mongostore) and an embedded SQLite store
// (db/embedded), kept honest by one conformance suite (db/storetest).
//
// Documents are bson.M values. What a store returns is canonical: nested
// documents are bson.M, arrays bson.A, and scalars string, int32, int64,
// float64, bool, nil, primitive.DateTime, primitive.ObjectID (plus the rarer
// BSON types the driver decodes). What callers pass in may also use Go's
// int, time.Time, []any and map[string]any; the stores normalise it.
//
// Example:
//
//	users := store.C("_users")
//	id, err := users.InsertOne(ctx, bson.M{"email": "ada@example.com"})
//	doc, err := users.FindOne(ctx, db.ByID(id), nil)
package db
