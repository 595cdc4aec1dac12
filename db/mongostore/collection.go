package mongostore

import (
	"context"
	"errors"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// collection is a db.Collection on one MongoDB collection.
type collection struct {
	store   *Store
	name    string
	nameErr error // from db.ValidateCollectionName, reported on use
	coll    *mongo.Collection
}

var _ db.Collection = (*collection)(nil)

func (c *collection) Name() string { return c.name }

// ready reports why the collection cannot be used, if it cannot.
func (c *collection) ready() error {
	if c.store.closed.Load() {
		return db.ErrClosed
	}
	return c.nameErr
}

func (c *collection) fail(op string, err error) error { return mapError(c.name, op, err) }

// withID returns a shallow copy of doc that has an _id, so the caller's
// map is never written to (it may be shared between goroutines).
func withID(doc bson.M) bson.M {
	out := make(bson.M, len(doc)+1)
	for k, v := range doc {
		out[k] = v
	}
	if _, ok := out["_id"]; !ok {
		out["_id"] = primitive.NewObjectID()
	}
	return out
}

func orAll(filter bson.M) bson.M {
	if filter == nil {
		return bson.M{}
	}
	return filter
}

func (c *collection) InsertOne(ctx context.Context, doc bson.M) (any, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	doc = withID(doc)
	if _, err := c.coll.InsertOne(ctx, doc); err != nil {
		return nil, c.fail("insert into", err)
	}
	return doc["_id"], nil
}

func (c *collection) InsertMany(ctx context.Context, docs []bson.M) ([]any, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return []any{}, nil
	}
	batch := make([]any, len(docs))
	ids := make([]any, len(docs))
	for i, doc := range docs {
		if err := checkDocument(doc); err != nil {
			return nil, err
		}
		d := withID(doc)
		batch[i], ids[i] = d, d["_id"]
	}
	if _, err := c.coll.InsertMany(ctx, batch, options.InsertMany().SetOrdered(true)); err != nil {
		// An ordered insert stops at its first failure: the ids before it
		// are the documents that were stored.
		var be mongo.BulkWriteException
		if errors.As(err, &be) && len(be.WriteErrors) > 0 {
			return ids[:be.WriteErrors[0].Index], c.fail("insert into", err)
		}
		return nil, c.fail("insert into", err)
	}
	return ids, nil
}

func (c *collection) findOptions(opts *db.FindOptions) (*options.FindOptions, error) {
	fo := options.Find()
	if opts == nil {
		return fo, nil
	}
	if err := checkFindOptions(opts.Sort, opts.Projection, opts.Skip, opts.Limit); err != nil {
		return nil, err
	}
	if len(opts.Sort) > 0 {
		fo.SetSort(opts.Sort)
	}
	if opts.Skip > 0 {
		fo.SetSkip(opts.Skip)
	}
	if opts.Limit > 0 {
		fo.SetLimit(opts.Limit)
	}
	if len(opts.Projection) > 0 {
		fo.SetProjection(opts.Projection)
	}
	return fo, nil
}

func (c *collection) Find(ctx context.Context, filter bson.M, opts *db.FindOptions) ([]bson.M, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if err := checkFilter(filter); err != nil {
		return nil, err
	}
	fo, err := c.findOptions(opts)
	if err != nil {
		return nil, err
	}
	cur, err := c.coll.Find(ctx, orAll(filter), fo)
	if err != nil {
		return nil, c.fail("find in", err)
	}
	out := []bson.M{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, c.fail("find in", err)
	}
	return out, nil
}

func (c *collection) FindOne(ctx context.Context, filter bson.M, opts *db.FindOptions) (bson.M, error) {
	one := db.FindOptions{Limit: 1}
	if opts != nil && opts.Limit < 0 {
		return nil, queryErr("", "skip and limit cannot be negative")
	}
	if opts != nil {
		one.Sort, one.Skip, one.Projection = opts.Sort, opts.Skip, opts.Projection
	}
	docs, err := c.Find(ctx, filter, &one)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, db.ErrNotFound
	}
	return docs[0], nil
}

func (c *collection) checkWrite(filter, update bson.M) error {
	if err := c.ready(); err != nil {
		return err
	}
	if err := checkFilter(filter); err != nil {
		return err
	}
	return checkUpdate(update)
}

func updateResult(r *mongo.UpdateResult) db.UpdateResult {
	return db.UpdateResult{Matched: r.MatchedCount, Modified: r.ModifiedCount, UpsertedID: r.UpsertedID}
}

func (c *collection) UpdateOne(ctx context.Context, filter, update bson.M, opts *db.UpdateOptions) (db.UpdateResult, error) {
	if err := c.checkWrite(filter, update); err != nil {
		return db.UpdateResult{}, err
	}
	uo := options.Update()
	if opts != nil && opts.Upsert {
		uo.SetUpsert(true)
	}
	r, err := c.coll.UpdateOne(ctx, orAll(filter), update, uo)
	if err != nil {
		return db.UpdateResult{}, c.fail("update in", err)
	}
	return updateResult(r), nil
}

func (c *collection) UpdateMany(ctx context.Context, filter, update bson.M) (db.UpdateResult, error) {
	if err := c.checkWrite(filter, update); err != nil {
		return db.UpdateResult{}, err
	}
	r, err := c.coll.UpdateMany(ctx, orAll(filter), update)
	if err != nil {
		return db.UpdateResult{}, c.fail("update in", err)
	}
	return updateResult(r), nil
}

func (c *collection) ReplaceOne(ctx context.Context, filter, doc bson.M, opts *db.UpdateOptions) (db.UpdateResult, error) {
	if err := c.ready(); err != nil {
		return db.UpdateResult{}, err
	}
	if err := checkFilter(filter); err != nil {
		return db.UpdateResult{}, err
	}
	if err := checkDocument(doc); err != nil {
		return db.UpdateResult{}, err
	}
	ro := options.Replace()
	if opts != nil && opts.Upsert {
		ro.SetUpsert(true)
	}
	r, err := c.coll.ReplaceOne(ctx, orAll(filter), doc, ro)
	if err != nil {
		return db.UpdateResult{}, c.fail("replace in", err)
	}
	return updateResult(r), nil
}

func (c *collection) FindOneAndUpdate(ctx context.Context, filter, update bson.M, opts *db.FindOneAndUpdateOptions) (bson.M, error) {
	if err := c.checkWrite(filter, update); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &db.FindOneAndUpdateOptions{}
	}
	if err := checkFindOptions(opts.Sort, opts.Projection, 0, 0); err != nil {
		return nil, err
	}
	fo := options.FindOneAndUpdate().SetReturnDocument(options.Before)
	if opts.ReturnAfter {
		fo.SetReturnDocument(options.After)
	}
	if len(opts.Sort) > 0 {
		fo.SetSort(opts.Sort)
	}
	if len(opts.Projection) > 0 {
		fo.SetProjection(opts.Projection)
	}
	if opts.Upsert {
		fo.SetUpsert(true)
	}
	var out bson.M
	err := c.coll.FindOneAndUpdate(ctx, orAll(filter), update, fo).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) && opts.Upsert && !opts.ReturnAfter {
		// An upsert always writes; no document "before" means it inserted.
		return nil, nil
	}
	if err != nil {
		return nil, c.fail("find and update in", err)
	}
	return out, nil
}

func (c *collection) DeleteOne(ctx context.Context, filter bson.M) (int64, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if err := checkFilter(filter); err != nil {
		return 0, err
	}
	r, err := c.coll.DeleteOne(ctx, orAll(filter))
	if err != nil {
		return 0, c.fail("delete from", err)
	}
	return r.DeletedCount, nil
}

func (c *collection) DeleteMany(ctx context.Context, filter bson.M) (int64, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if err := checkFilter(filter); err != nil {
		return 0, err
	}
	r, err := c.coll.DeleteMany(ctx, orAll(filter))
	if err != nil {
		return 0, c.fail("delete from", err)
	}
	return r.DeletedCount, nil
}

func (c *collection) Count(ctx context.Context, filter bson.M) (int64, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	if err := checkFilter(filter); err != nil {
		return 0, err
	}
	n, err := c.coll.CountDocuments(ctx, orAll(filter))
	if err != nil {
		return 0, c.fail("count in", err)
	}
	return n, nil
}

func (c *collection) Drop(ctx context.Context) error {
	if err := c.ready(); err != nil {
		return err
	}
	if err := c.coll.Drop(ctx); err != nil {
		return c.fail("drop", err)
	}
	return nil
}
