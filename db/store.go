package db

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
)

// Store is a database of named collections of documents with MongoDB's data
// model and query language. Implementations are safe for concurrent use.
type Store interface {
	// C returns the collection with the given name. It does no I/O; the
	// collection comes into existence with its first write or index.
	C(name string) Collection
	// Collections lists the names of the collections that exist.
	Collections(ctx context.Context) ([]string, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the store. It is idempotent.
	Close(ctx context.Context) error
	// Transact runs fn in one transaction across collections: the writes
	// fn makes through tx commit together when fn returns nil, and none
	// of them when it returns an error (which Transact returns). fn must
	// pass the ctx it is given to every call, and return the error of a
	// call that fails (MongoDB aborts a transaction on a failed write);
	// it may be run more than once when the store retries a transaction
	// that conflicted, so it must not have effects outside tx. A store
	// without multi-document transactions (the MongoDB store) returns
	// ErrNoTransactions at once, without calling fn.
	Transact(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is the view of a store inside a transaction.
type Tx interface {
	// C returns the collection with the given name, its reads seeing the
	// transaction's own writes.
	C(name string) Collection
}

// Collection is one collection of documents. A nil filter matches every
// document. Filters, updates and projections use MongoDB's syntax.
type Collection interface {
	// Name is the collection's name.
	Name() string
	// InsertOne stores doc, giving it a new ObjectID _id when it has none,
	// and returns the _id. A unique index violation is ErrDuplicateKey.
	InsertOne(ctx context.Context, doc bson.M) (any, error)
	// InsertMany stores docs in order and returns their ids. It stops at the
	// first error; the documents before it stay inserted.
	InsertMany(ctx context.Context, docs []bson.M) ([]any, error)
	// Find returns the documents matching filter.
	Find(ctx context.Context, filter bson.M, opts *FindOptions) ([]bson.M, error)
	// FindOne returns the first document matching filter (after opts.Sort
	// and opts.Skip), or ErrNotFound.
	FindOne(ctx context.Context, filter bson.M, opts *FindOptions) (bson.M, error)
	// UpdateOne applies update ($set, $unset, $inc, $push, $pull,
	// $addToSet) to the first document matching filter.
	UpdateOne(ctx context.Context, filter, update bson.M, opts *UpdateOptions) (UpdateResult, error)
	// UpdateMany applies update to every document matching filter.
	UpdateMany(ctx context.Context, filter, update bson.M) (UpdateResult, error)
	// ReplaceOne replaces the first document matching filter with doc,
	// keeping its _id.
	ReplaceOne(ctx context.Context, filter, doc bson.M, opts *UpdateOptions) (UpdateResult, error)
	// FindOneAndUpdate atomically updates the first document matching
	// filter (in opts.Sort order) and returns it as it was before the update,
	// or after it with opts.ReturnAfter. No match is ErrNotFound unless
	// opts.Upsert inserts one.
	FindOneAndUpdate(ctx context.Context, filter, update bson.M, opts *FindOneAndUpdateOptions) (bson.M, error)
	// DeleteOne deletes the first document matching filter and returns how
	// many it deleted (0 or 1).
	DeleteOne(ctx context.Context, filter bson.M) (int64, error)
	// DeleteMany deletes every document matching filter.
	DeleteMany(ctx context.Context, filter bson.M) (int64, error)
	// Count counts the documents matching filter.
	Count(ctx context.Context, filter bson.M) (int64, error)
	// EnsureIndex creates the index if it does not exist. Creating a unique
	// index over existing duplicates is ErrDuplicateKey.
	EnsureIndex(ctx context.Context, idx Index) error
	// DropIndex removes the index with the given name (the name EnsureIndex
	// gave it, "email_1" by default). Dropping an index that does not
	// exist, or an index of a collection that does not exist, is not an
	// error, so several instances may drop the same index at once. The
	// _id index ("_id_") cannot be dropped: that is ErrInvalidQuery.
	DropIndex(ctx context.Context, name string) error
	// Drop removes the collection, its documents and its indexes.
	Drop(ctx context.Context) error
}

// FindOptions shape a query's result. The zero value returns every match in
// natural order.
type FindOptions struct {
	Sort       bson.D // field → 1 or -1, in priority order
	Skip       int64
	Limit      int64 // 0 means no limit
	Projection bson.M
}

// UpdateOptions modify UpdateOne and ReplaceOne.
type UpdateOptions struct {
	// Upsert inserts a document built from the filter's equalities and
	// the update when nothing matches.
	Upsert bool
}

// UpdateResult says what an update did.
type UpdateResult struct {
	Matched    int64
	Modified   int64
	UpsertedID any // nil unless an upsert inserted a document
}

// FindOneAndUpdateOptions modify FindOneAndUpdate.
type FindOneAndUpdateOptions struct {
	Sort        bson.D
	Projection  bson.M
	ReturnAfter bool
	Upsert      bool
}

// Index describes an index over one or more fields (dotted paths allowed).
type Index struct {
	// Name is optional; by default it is derived from the keys as MongoDB
	// does ("email_1", "owner_1_created_-1").
	Name   string
	Keys   []IndexKey
	Unique bool
}

// IndexKey is one field of an index.
type IndexKey struct {
	Field string
	Desc  bool
}

// ByID is the filter that selects the document with the given _id.
func ByID(id any) bson.M { return bson.M{"_id": id} }
