package embedded

import (
	"context"
	"fmt"
	"math"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/mquery"
	"go.mongodb.org/mongo-driver/bson"
)

// collection is one collection: the table c_<name>.
type collection struct {
	s       *Store
	name    string
	table   string // quoted
	nameErr error
	tx      *txState // nil outside Transact
}

var _ db.Collection = (*collection)(nil)

func (c *collection) Name() string { return c.name }

func (c *collection) ready() error {
	if c.nameErr != nil {
		return c.nameErr
	}
	if c.s.closed.Load() {
		return db.ErrClosed
	}
	if c.tx != nil && c.tx.done.Load() {
		return ErrTxDone
	}
	return nil
}

// query is a compiled filter.
type query struct {
	match *mquery.Matcher // nil matches every document
	conds map[string]fieldCond
}

// storeLimits bound filters the way MongoDB does. db.ValidateFilter holds
// filters to the operators every store supports (db/mquery evaluates a few
// more), with limits meant for the server's own queries, not a client's.
func storeLimits() db.Limits {
	return db.Limits{MaxDepth: maxDepth, MaxKeys: math.MaxInt32, MaxBytes: maxDocumentSize, MaxRegexBytes: 32 * 1024}
}

func compileFilter(filter bson.M) (*query, error) {
	if len(filter) == 0 {
		return &query{}, nil
	}
	if err := db.ValidateFilter(filter, storeLimits()); err != nil {
		return nil, err
	}
	m, err := mquery.Compile(filter)
	if err != nil {
		return nil, err
	}
	return &query{match: m, conds: conditions(filter)}, nil
}

// findOpts are checked db.FindOptions.
type findOpts struct {
	sort        bson.D
	skip, limit int64
	proj        *mquery.Projection
}

func compileFindOpts(sort bson.D, skip, limit int64, proj bson.M) (findOpts, error) {
	if skip < 0 || limit < 0 {
		return findOpts{}, &db.QueryError{Msg: "skip and limit cannot be negative"}
	}
	o := findOpts{sort: sort, skip: skip, limit: limit}
	for _, e := range sort {
		if err := checkPath(e.Key, e.Key); err != nil {
			return findOpts{}, err
		}
		if n, ok := wholeNumber(e.Value); !ok || (n != 1 && n != -1) {
			return findOpts{}, &db.QueryError{Op: e.Key, Msg: fmt.Sprintf("sort direction must be 1 or -1, not %v", e.Value)}
		}
	}
	if len(proj) > 0 {
		p, err := mquery.CompileProjection(proj)
		if err != nil {
			return findOpts{}, err
		}
		o.proj = p
	}
	return o, nil
}

// compileUpdate compiles an update, holding $push and $addToSet to the
// one modifier every store supports, $each.
func compileUpdate(update bson.M) (*mquery.Update, error) {
	for _, op := range []string{"$push", "$addToSet"} {
		elems, _ := fieldsOf(update[op])
		for _, e := range elems {
			mods, isOps := operators(e.Value)
			if !isOps {
				continue
			}
			for _, m := range sortedFields(mods) {
				if m.Key != "$each" {
					return nil, &db.QueryError{Op: op, Msg: fmt.Sprintf("%s: only the $each modifier is supported, not %s", e.Key, m.Key)}
				}
			}
		}
	}
	return mquery.CompileUpdate(update)
}

func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

func (c *collection) Find(ctx context.Context, filter bson.M, opts *db.FindOptions) ([]bson.M, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &db.FindOptions{}
	}
	o, err := compileFindOpts(opts.Sort, opts.Skip, opts.Limit, opts.Projection)
	if err != nil {
		return nil, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return nil, err
	}
	rows, err := c.find(ctx, c.reader(), q, o)
	if err != nil {
		return nil, c.s.mapError(c.name, "find in", orCtxErr(ctx, err))
	}
	out := make([]bson.M, len(rows))
	for i, r := range rows {
		out[i] = o.project(r.doc)
	}
	return out, nil
}

func (o findOpts) project(doc bson.M) bson.M {
	if o.proj == nil || doc == nil {
		return doc
	}
	return o.proj.Apply(doc)
}

func (c *collection) FindOne(ctx context.Context, filter bson.M, opts *db.FindOptions) (bson.M, error) {
	one := db.FindOptions{Limit: 1}
	if opts != nil && opts.Limit < 0 {
		return nil, &db.QueryError{Msg: "skip and limit cannot be negative"}
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

func (c *collection) Count(ctx context.Context, filter bson.M) (int64, error) {
	if err := c.ready(); err != nil {
		return 0, err
	}
	q, err := compileFilter(filter)
	if err != nil {
		return 0, err
	}
	var n int64
	if q.match == nil {
		n, err = c.reader().queryInt(ctx, "SELECT count(*) FROM "+c.table)
		if isNoTable(err) {
			return 0, nil
		}
	} else {
		err = c.each(ctx, c.reader(), q, func(int64, bson.M) (bool, error) {
			n++
			return true, nil
		})
	}
	if err != nil {
		return 0, c.s.mapError(c.name, "count in", orCtxErr(ctx, err))
	}
	return n, nil
}
