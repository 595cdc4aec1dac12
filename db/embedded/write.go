package embedded

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/mquery"
	"go.mongodb.org/mongo-driver/bson"
)

// Every method here runs in one write transaction (see writeTx): finding
// the document and changing it are one atomic step, also against other
// processes writing the same file.

// insert stores st, creating the collection on its first document.
func (c *collection) insert(ctx context.Context, w runner, st stored) error {
	text := "INSERT INTO " + c.table + " (id, doc) VALUES (?, ?)"
	_, err := w.ExecContext(ctx, text, st.key, []byte(st.raw))
	if isNoTable(err) {
		if err := c.createTable(ctx, w); err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, text, st.key, []byte(st.raw))
	}
	return err
}

// rewrite replaces the document in row r with doc, which must keep its _id.
func (c *collection) rewrite(ctx context.Context, w runner, r row, doc bson.M) (stored, error) {
	st, err := encode(doc, false)
	if err != nil {
		return stored{}, err
	}
	old, _, _ := goValueKey(r.doc["_id"])
	if !bytes.Equal(old, st.key) {
		return stored{}, &db.QueryError{Op: "_id", Msg: "_id is immutable; the update would change it"}
	}
	_, err = w.ExecContext(ctx, "UPDATE "+c.table+" SET doc = ? WHERE rid = ?", []byte(st.raw), r.rid)
	return st, err
}

func (c *collection) InsertOne(ctx context.Context, doc bson.M) (any, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	st, err := encode(doc, true)
	if err != nil {
		return nil, err
	}
	err = c.writeTx(ctx, "insert into", func(w runner) error {
		return c.insert(ctx, w, st)
	})
	if err != nil {
		return nil, err
	}
	return st.id, nil
}

func (c *collection) InsertMany(ctx context.Context, docs []bson.M) ([]any, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	// Like the MongoDB driver, refuse the whole batch before storing any
	// of it when one document is invalid.
	batch := make([]stored, len(docs))
	for i, doc := range docs {
		st, err := encode(doc, true)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		batch[i] = st
	}
	ids := make([]any, 0, len(docs))
	var stop error
	err := c.writeTx(ctx, "insert into", func(w runner) error {
		ids, stop = ids[:0], nil
		for _, st := range batch {
			if err := c.insert(ctx, w, st); err != nil {
				// A failed statement undoes only itself: the documents
				// before it commit, as an ordered insert keeps them.
				stop = c.s.mapError(c.name, "insert into", err)
				if _, dup := stop.(*db.DuplicateKeyError); !dup {
					return stop
				}
				break
			}
			ids = append(ids, st.id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, stop
}

func (c *collection) UpdateOne(ctx context.Context, filter, update bson.M, opts *db.UpdateOptions) (db.UpdateResult, error) {
	return c.update(ctx, filter, update, false, opts != nil && opts.Upsert)
}

func (c *collection) UpdateMany(ctx context.Context, filter, update bson.M) (db.UpdateResult, error) {
	return c.update(ctx, filter, update, true, false)
}

func (c *collection) update(ctx context.Context, filter, update bson.M, many, upsert bool) (db.UpdateResult, error) {
	if err := c.ready(); err != nil {
		return db.UpdateResult{}, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return db.UpdateResult{}, err
	}
	u, err := compileUpdate(update)
	if err != nil {
		return db.UpdateResult{}, err
	}
	o := findOpts{limit: 1}
	if many {
		o.limit = 0
	}
	var res db.UpdateResult
	err = c.writeTx(ctx, "update in", func(w runner) error {
		res = db.UpdateResult{}
		rows, err := c.find(ctx, w, q, o)
		if err != nil {
			return err
		}
		if len(rows) == 0 && upsert {
			st, err := c.upsertUpdate(ctx, w, filter, u)
			res.UpsertedID = st.id
			return err
		}
		for _, r := range rows {
			res.Matched++
			doc, changed, err := u.Apply(r.doc)
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
			if _, err := c.rewrite(ctx, w, r, doc); err != nil {
				return err
			}
			res.Modified++
		}
		return nil
	})
	if err != nil {
		return db.UpdateResult{}, err
	}
	return res, nil
}

// upsertUpdate inserts the document an update upserts: the filter's
// equalities with the update (and its $setOnInsert) applied.
func (c *collection) upsertUpdate(ctx context.Context, w runner, filter bson.M, u *mquery.Update) (stored, error) {
	doc, err := u.ApplyInsert(mquery.UpsertSeed(filter))
	if err != nil {
		return stored{}, err
	}
	st, err := encode(doc, true)
	if err != nil {
		return stored{}, err
	}
	return st, c.insert(ctx, w, st)
}

func (c *collection) ReplaceOne(ctx context.Context, filter, doc bson.M, opts *db.UpdateOptions) (db.UpdateResult, error) {
	if err := c.ready(); err != nil {
		return db.UpdateResult{}, err
	}
	for k := range doc {
		if strings.HasPrefix(k, "$") {
			return db.UpdateResult{}, invalidDoc("a replacement cannot hold the operator %q; use UpdateOne to apply update operators", k)
		}
	}
	if doc == nil {
		doc = bson.M{}
	}
	// Check the replacement before taking the write lock.
	probe := bson.M{}
	for k, v := range doc {
		probe[k] = v
	}
	if _, err := encode(probe, true); err != nil {
		return db.UpdateResult{}, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return db.UpdateResult{}, err
	}
	upsert := opts != nil && opts.Upsert
	var res db.UpdateResult
	err = c.writeTx(ctx, "replace in", func(w runner) error {
		res = db.UpdateResult{}
		rows, err := c.find(ctx, w, q, findOpts{limit: 1})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			if !upsert {
				return nil
			}
			st, err := c.upsertReplace(ctx, w, filter, doc)
			res.UpsertedID = st.id
			return err
		}
		r := rows[0]
		res.Matched = 1
		next := withID(doc, r.doc["_id"])
		if id, ok := doc["_id"]; ok && !sameID(id, r.doc["_id"]) {
			return &db.QueryError{Op: "_id", Msg: "_id is immutable; the replacement has a different one"}
		}
		st, err := c.rewrite(ctx, w, r, next)
		if err != nil {
			return err
		}
		if now, err := decode(st.raw); err != nil || !reflect.DeepEqual(now, r.doc) {
			res.Modified = 1
		}
		return nil
	})
	if err != nil {
		return db.UpdateResult{}, err
	}
	return res, nil
}

// upsertReplace inserts the replacement, with the filter's _id when the
// filter names one.
func (c *collection) upsertReplace(ctx context.Context, w runner, filter, doc bson.M) (stored, error) {
	seed := mquery.UpsertSeed(filter)
	if id, ok := seed["_id"]; ok {
		if own, has := doc["_id"]; has && !sameID(own, id) {
			return stored{}, &db.QueryError{Op: "_id", Msg: "the replacement's _id differs from the one in the filter"}
		}
		doc = withID(doc, id)
	}
	st, err := encode(doc, true)
	if err != nil {
		return stored{}, err
	}
	return st, c.insert(ctx, w, st)
}

// withID is a copy of doc with the given _id.
func withID(doc bson.M, id any) bson.M {
	out := make(bson.M, len(doc)+1)
	for k, v := range doc {
		out[k] = v
	}
	out["_id"] = id
	return out
}

// sameID reports whether two _id values are equal as MongoDB compares them.
func sameID(a, b any) bool {
	ka, _, okA := goValueKey(a)
	kb, _, okB := goValueKey(b)
	return okA && okB && bytes.Equal(ka, kb)
}

func (c *collection) FindOneAndUpdate(ctx context.Context, filter, update bson.M, opts *db.FindOneAndUpdateOptions) (bson.M, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &db.FindOneAndUpdateOptions{}
	}
	o, err := compileFindOpts(opts.Sort, 0, 1, opts.Projection)
	if err != nil {
		return nil, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return nil, err
	}
	u, err := compileUpdate(update)
	if err != nil {
		return nil, err
	}
	var out bson.M
	err = c.writeTx(ctx, "find and update in", func(w runner) error {
		out = nil
		rows, err := c.find(ctx, w, q, o)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			if !opts.Upsert {
				return db.ErrNotFound
			}
			st, err := c.upsertUpdate(ctx, w, filter, u)
			if err != nil || !opts.ReturnAfter {
				// Before an upsert there was no document: nil, as the
				// MongoDB store answers.
				return err
			}
			out, err = decode(st.raw)
			return err
		}
		r := rows[0]
		out = r.doc
		doc, changed, err := u.Apply(r.doc)
		if err != nil || !changed {
			return err
		}
		st, err := c.rewrite(ctx, w, r, doc)
		if err != nil || !opts.ReturnAfter {
			return err
		}
		out, err = decode(st.raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o.project(out), nil
}

func (c *collection) DeleteOne(ctx context.Context, filter bson.M) (int64, error) {
	return c.delete(ctx, filter, 1)
}

func (c *collection) DeleteMany(ctx context.Context, filter bson.M) (int64, error) {
	return c.delete(ctx, filter, 0)
}

func (c *collection) delete(ctx context.Context, filter bson.M, limit int64) (int64, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return 0, err
	}
	var n int64
	err = c.writeTx(ctx, "delete from", func(w runner) error {
		n = 0
		if q.match == nil && limit == 0 {
			res, err := w.ExecContext(ctx, "DELETE FROM "+c.table)
			if isNoTable(err) {
				return nil
			}
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		}
		rows, err := c.find(ctx, w, q, findOpts{limit: limit})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := w.ExecContext(ctx, "DELETE FROM "+c.table+" WHERE rid = ?", r.rid); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
