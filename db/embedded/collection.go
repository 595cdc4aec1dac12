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

// plan picks the index for q.
func (c *collection) plan(ctx context.Context, q *query) (plan, error) {
	if len(q.conds) == 0 {
		return plan{}, nil
	}
	specs, err := c.s.indexSpecs(ctx, c.name)
	if err != nil {
		return plan{}, err
	}
	return choose(q.conds, specs), nil
}

// selectSQL is the statement that reads q's candidate rows in natural
// order, with LIMIT and OFFSET when limit or offset is set.
func (c *collection) selectSQL(p plan, limit, offset int64) (string, []any) {
	text := "SELECT rid, doc FROM " + c.table
	if p.where != "" {
		text += " WHERE " + p.where
	}
	text += " ORDER BY rid"
	args := p.args
	if limit > 0 || offset > 0 {
		if limit == 0 {
			limit = -1
		}
		text += " LIMIT ? OFFSET ?"
		args = append(append([]any(nil), args...), limit, offset)
	}
	return text, args
}

// each calls fn for every document matching q, in natural order, until fn
// says stop. limit and offset go to SQL as they are, so callers pass them
// only when q matches everything.
func (c *collection) each(ctx context.Context, qr querier, q *query, limit, offset int64, fn func(rid int64, doc bson.M) (bool, error)) error {
	p, err := c.plan(ctx, q)
	if err != nil {
		return err
	}
	text, args := c.selectSQL(p, limit, offset)
	rows, err := qr.QueryContext(ctx, text, args...)
	if isNoTable(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var raw []byte
		if err := rows.Scan(&rid, &raw); err != nil {
			return err
		}
		doc, err := decode(raw)
		if err != nil {
			return err
		}
		if q.match != nil && !q.match.Match(doc) {
			continue
		}
		more, err := fn(rid, doc)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// row is a matching document and its place in the table.
type row struct {
	rid int64
	doc bson.M
}

// find returns the rows matching q after sort, skip and limit.
func (c *collection) find(ctx context.Context, qr querier, q *query, o findOpts) ([]row, error) {
	var out []row
	if len(o.sort) == 0 {
		skip := o.skip
		var limit, offset int64
		if q.match == nil {
			limit, offset, skip = o.limit, o.skip, 0
		}
		err := c.each(ctx, qr, q, limit, offset, func(rid int64, doc bson.M) (bool, error) {
			if skip > 0 {
				skip--
				return true, nil
			}
			out = append(out, row{rid, doc})
			return o.limit == 0 || int64(len(out)) < o.limit, nil
		})
		return out, err
	}
	err := c.each(ctx, qr, q, 0, 0, func(rid int64, doc bson.M) (bool, error) {
		out = append(out, row{rid, doc})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if out, err = sortRows(out, o.sort); err != nil {
		return nil, err
	}
	if o.skip >= int64(len(out)) {
		return nil, nil
	}
	out = out[o.skip:]
	if o.limit > 0 && o.limit < int64(len(out)) {
		out = out[:o.limit]
	}
	return out, nil
}

// sortRows sorts rows with MongoDB's semantics, keeping each row's rid.
func sortRows(rows []row, spec bson.D) ([]row, error) {
	docs := make([]bson.M, len(rows))
	for i, r := range rows {
		// A marker field that no stored document can have ("$" is
		// refused in field names) carries each row's position through
		// the sort; the sort spec never names it.
		r.doc[ridField] = i
		docs[i] = r.doc
	}
	err := mquery.Sort(docs, spec)
	sorted := make([]row, len(docs))
	for i, d := range docs {
		sorted[i] = rows[d[ridField].(int)]
		delete(d, ridField)
	}
	return sorted, err
}

const ridField = "$rid"

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
	rows, err := c.find(ctx, c.s.reader, q, o)
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
		n, err = c.s.reader.queryInt(ctx, "SELECT count(*) FROM "+c.table)
		if isNoTable(err) {
			return 0, nil
		}
	} else {
		err = c.each(ctx, c.s.reader, q, 0, 0, func(int64, bson.M) (bool, error) {
			n++
			return true, nil
		})
	}
	if err != nil {
		return 0, c.s.mapError(c.name, "count in", orCtxErr(ctx, err))
	}
	return n, nil
}
