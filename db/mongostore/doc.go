// Package mongostore is the MongoDB implementation of db.Store, for a
// mongodb:// or mongodb+srv:// URI, through the official Go driver.
//
// What it adds on top of the driver is the store contract: results decode
// as bson.M with nested bson.M and bson.A; filters, updates, sorts and
// projections are checked against the operators every moonbase store
// supports before they are sent (so MongoDB-only features such as $where
// are refused here exactly as the embedded store refuses them); document
// keys starting with "$" or containing "." are refused; and driver errors
// become the db sentinels (db.ErrNotFound, *db.DuplicateKeyError,
// *db.QueryError, db.ErrClosed).
//
// Example:
//
//	store, err := mongostore.Open(ctx, mongostore.Config{URI: "mongodb://localhost:27017/app"})
//	if err != nil { … }
//	defer store.Close(ctx)
//	id, err := store.C("notes").InsertOne(ctx, bson.M{"text": "hi"})
package mongostore
