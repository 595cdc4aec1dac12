package embedded

import (
	"context"
	"database/sql"

	"github.com/moonbase-dev/moonbase/db/mquery"
	"go.mongodb.org/mongo-driver/bson"
)

// row is a matching document and its place in the table.
type row struct {
	rid int64
	doc bson.M
}

// find returns the rows matching q after sort, skip and limit. Without a
// sort, rows stream in natural order and the read stops at the limit.
// With a sort, an index that returns rows in the sort order does the same
// (see sortPlan); otherwise every match is read and sorted in memory.
func (c *collection) find(ctx context.Context, qr querier, q *query, o findOpts) ([]row, error) {
	specs, err := c.specs(ctx, q, o.sort)
	if err != nil {
		return nil, err
	}
	p := choose(q.conds, specs)
	if len(o.sort) == 0 {
		return c.collect(ctx, qr, q, o, c.selectSQL(p.where, p.args, "rid", q, o))
	}
	if sp, ok := chooseSortPlan(q.conds, specs, o.sort, p.score); ok {
		rows, used, err := c.findSorted(ctx, qr, q, o, sp)
		if used || err != nil {
			return rows, err
		}
	}
	var out []row
	err = c.scan(ctx, qr, q, c.selectSQL(p.where, p.args, "rid", q, findOpts{}), func(rid int64, doc bson.M) (bool, error) {
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

// findSorted reads through the sort plan, in one read transaction so that
// its checks and its rows see the same data. used is false when the
// checks find documents the index cannot order as MongoDB does.
func (c *collection) findSorted(ctx context.Context, qr querier, q *query, o findOpts, sp sortPlan) (_ []row, used bool, _ error) {
	snap, done, err := qr.snapshot(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	for _, pr := range sp.probes() {
		found := false
		err := c.scanRaw(ctx, snap, stmt{"SELECT 1 FROM " + c.table + " WHERE " + pr.text + " LIMIT 1", pr.args}, func() { found = true })
		if err != nil || found {
			return nil, false, err
		}
	}
	where, args := sp.where()
	rows, err := c.collect(ctx, snap, q, o, c.selectSQL(where, args, sp.order(), q, o))
	return rows, true, err
}

// specs lists the indexes when the query can use one.
func (c *collection) specs(ctx context.Context, q *query, sort bson.D) ([]indexSpec, error) {
	if len(q.conds) == 0 && len(sort) == 0 {
		return nil, nil
	}
	return c.s.indexSpecs(ctx, c.name)
}

// stmt is one SQL statement with its arguments.
type stmt struct {
	text string
	args []any
}

// selectSQL reads candidate rows in the given order. When q matches every
// row, skip and limit go to SQL.
func (c *collection) selectSQL(where string, args []any, order string, q *query, o findOpts) stmt {
	text := "SELECT rid, doc FROM " + c.table
	if where != "" {
		text += " WHERE " + where
	}
	text += " ORDER BY " + order
	if q.match == nil && (o.limit > 0 || o.skip > 0) {
		limit := o.limit
		if limit == 0 {
			limit = -1
		}
		text += " LIMIT ? OFFSET ?"
		args = append(append([]any(nil), args...), limit, o.skip)
	}
	return stmt{text, args}
}

// collect gathers the matches of st after skip and limit, stopping the
// read at the limit.
func (c *collection) collect(ctx context.Context, qr querier, q *query, o findOpts, st stmt) ([]row, error) {
	var out []row
	skip := o.skip
	if q.match == nil {
		skip = 0 // done by SQL
	}
	err := c.scan(ctx, qr, q, st, func(rid int64, doc bson.M) (bool, error) {
		if skip > 0 {
			skip--
			return true, nil
		}
		out = append(out, row{rid, doc})
		return o.limit == 0 || int64(len(out)) < o.limit, nil
	})
	return out, err
}

// scan calls fn for every row of st that q matches, until fn says stop.
// A collection that does not exist has no rows.
func (c *collection) scan(ctx context.Context, qr querier, q *query, st stmt, fn func(rid int64, doc bson.M) (bool, error)) error {
	rows, err := qr.QueryContext(ctx, st.text, st.args...)
	if isNoTable(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		// decode copies everything it keeps, so the driver's bytes
		// need no copy of their own.
		var raw sql.RawBytes
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

// scanRaw calls fn for every row of st, reading nothing.
func (c *collection) scanRaw(ctx context.Context, qr querier, st stmt, fn func()) error {
	rows, err := qr.QueryContext(ctx, st.text, st.args...)
	if isNoTable(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		fn()
	}
	return rows.Err()
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

// each calls fn for every document matching q, in natural order.
func (c *collection) each(ctx context.Context, qr querier, q *query, fn func(rid int64, doc bson.M) (bool, error)) error {
	specs, err := c.specs(ctx, q, nil)
	if err != nil {
		return err
	}
	p := choose(q.conds, specs)
	return c.scan(ctx, qr, q, c.selectSQL(p.where, p.args, "rid", q, findOpts{}), fn)
}
