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
// they are one value to MongoDB (a decimal128 is keyed by its nearest
// double; the filter still compares it exactly). Null, undefined and a
// missing field share one key, so a unique index refuses a second document
// without the field, as MongoDB does.
//
// MongoDB indexes each element of an array ("multikey"); an expression
// index holds one key per document. So an array is indexed as a whole,
// and every indexed query also takes the documents whose field is an
// array as candidates. Results are the same as MongoDB's; the one
// difference is that a unique index over an array field compares whole
// arrays: MongoDB refuses {tags: [1, 2]} beside {tags: [2, 3]} (both hold
// 2), the embedded store accepts them.
//
// # Queries
//
// The planner reads the filter's top-level fields and $and, keeps what an
// index can answer (equality, $eq, $in, $gt, $gte, $lt and $lte bounded to
// the value's type, as MongoDB bounds them), picks the index that narrows
// most (_id, then a unique index fully matched, then the longest
// equality prefix of a compound index, then a range), and writes the WHERE
// clause with the index's own expression so SQLite uses it. The rows it
// returns are decoded and the full filter is evaluated on them by
// db/mquery; $or, $nor, $not, $regex and the like are evaluated there
// only. Without a sort, results stream in natural order and a limit stops
// the read early; with a sort, every match is read and sorted in memory
// with MongoDB's cross-type order, so a sorted query costs as much as its
// filter matches.
//
// # Documents
//
// Input documents are normalised as the MongoDB driver marshals them (Go
// int becomes int32 when it fits and int64 otherwise, time.Time a date,
// maps documents), and refused with db.ErrInvalidDocument when a field
// name is empty, starts with "$", holds "." or is not UTF-8, when _id is
// an array, a
// regular expression or undefined, when nesting passes 100 levels or the
// document 16 MiB. A document without _id gets a new ObjectID, and _id is
// kept first. UpdateMany applies to all its matches or, on an error, to
// none; InsertMany keeps the documents before the first duplicate key.
package embedded
