// Package embedded is Moonbase's default store: documents with MongoDB's
// data model and query language kept in one SQLite file
// (Dir/moonbase.db), through the pure-Go modernc.org/sqlite, so a single
// binary needs nothing else installed.
//
// Example:
//
//	s, err := embedded.Open(embedded.Config{Dir: "data"})
//	if err != nil { … }
//	defer s.Close(ctx)
//	id, err := s.C("orders").InsertOne(ctx, bson.M{"total": 42})
//
// # Layout
//
// Each collection is one table, created by its first write or index:
//
//	CREATE TABLE "c_orders" (rid INTEGER PRIMARY KEY, id NOT NULL UNIQUE, doc BLOB NOT NULL)
//
// doc is the document as BSON, so every type survives a round trip (int32,
// int64, double, decimal128, dates, ObjectIDs, binary, nested documents and
// arrays). id is the index key of _id (see below), whose UNIQUE constraint
// is the _id index. rid is the insertion order: documents come back in it
// ("natural order") unless a sort says otherwise, whichever index a query
// uses. Table and index names escape upper-case letters ("Orders" is
// "c__orders"), since SQLite folds the case of names and MongoDB does not.
// mb_collections and mb_indexes record the collections and the definitions
// of their indexes.
//
// # Durability and concurrency
//
// The file is in WAL mode. Writes go through one connection and each runs
// in a BEGIN IMMEDIATE transaction: a find-one-and-update, an update of
// many documents or an upsert reads and writes as one atomic step, also
// against other processes using the same directory, and two processes
// never deadlock upgrading a read lock. A write that finds another process
// holding the lock waits up to Config.BusyTimeout (5s), then fails with
// ErrBusy. Reads use a pool of connections of their own and, thanks to
// WAL, never wait for writers.
//
// With the default synchronous "normal", a write is in the log when the
// call returns: a process that is killed (even with SIGKILL) keeps every
// write it acknowledged. Only a power loss or kernel crash can lose the
// last writes before the log reaches the disk; synchronous "full" syncs at
// every commit so that even those survive, at the price of one fsync per
// write.
//
// # Indexes
//
// An index is a SQLite expression index over mb_key(doc, 'field'), a
// deterministic function that reads the field's value out of the BSON
// without decoding the document and returns a key SQLite orders exactly as
// MongoDB orders values, across types too: one byte for the type in
// MongoDB's order (MinKey, null, numbers, strings, documents, arrays,
// binary, ObjectID, booleans, dates, timestamps, regular expressions,
// MaxKey), then an order-preserving encoding of the value. Numbers of every
// type share one exact encoding, so 1, int64(1) and 1.0 are one key, as
// they are one value to MongoDB. A decimal128 is keyed by its nearest
// double: filters still compare it exactly, but a unique index refuses two
// decimals that differ only beyond a double's precision. Null, undefined and a
// missing field share one key, so a unique index refuses a second document
// without the field, as MongoDB does.
//
// MongoDB indexes each element of an array ("multikey"); an expression
// index holds one key per document. So an array is indexed as a whole,
// and every indexed query also takes the documents whose field is an
// array as candidates. Results are the same as MongoDB's; the one
// difference arrays make is that a unique index over an array field compares whole
// arrays: MongoDB refuses {tags: [1, 2]} beside {tags: [2, 3]} (both hold
// 2), the embedded store accepts them.
//
// # Queries
//
// The planner reads the filter's top-level fields and $and, keeps what an
// index can answer (equality, $eq, $in, and $gt, $gte, $lt, $lte bounded to
// the value's type, as MongoDB bounds them), picks the index that narrows
// most (_id, then a unique index fully matched, then the longest equality
// prefix of a compound index, then a range), and writes the WHERE clause
// with the index's own expression so SQLite uses it. The rows it returns
// are decoded and the whole filter is evaluated on them by db/mquery; $or,
// $nor, $not, $regex and the like are evaluated there only. Filters are
// held to the operators every store supports (db.ValidateFilter), and
// $push and $addToSet to the $each modifier.
//
// Without a sort, results stream in natural order and a limit stops the
// read early. A sort on one field that has an index (alone, or after
// fields the filter fixes by equality, or _id) reads that index in order
// and stops at the limit too; it first checks, with two or three index
// lookups, that no candidate holds a document or an array in the sort
// field or an array in the prefix, which the index cannot order as
// MongoDB does. Any other sort reads every match and sorts in memory, so
// it costs as much as the filter matches. Ties keep natural order either
// way. A decimal128 sorts through an index by its nearest double.
//
// # Documents
//
// Input documents are normalised as the MongoDB driver marshals them (Go
// int becomes int32 when it fits and int64 otherwise, time.Time a date
// with millisecond precision, maps documents), and refused with
// db.ErrInvalidDocument when a field name is empty, starts with "$", holds
// "." or is not UTF-8, when _id is an array, a regular expression or
// undefined, when nesting passes 100 levels or the document 16 MiB. A
// document without _id gets a new ObjectID, and _id is kept first.
// Documents come back with nested documents as bson.M and arrays as
// bson.A; field order within a document is not kept (bson.M has none).
//
// # Writes
//
// Every write is one transaction: UpdateMany and DeleteMany change all
// their matches or, on an error (a duplicate key half-way), none.
// InsertMany refuses the whole batch if one document is invalid; otherwise
// it stores documents in order, stops at the first duplicate key and keeps
// those before it, returning their ids. ReplaceOne keeps the _id, refuses
// a replacement with another _id (db.ErrInvalidQuery) or with update
// operators (db.ErrInvalidDocument). An upsert inserts the filter's
// equalities with the update (and $setOnInsert) applied, atomically with
// the search for a match.
package embedded
