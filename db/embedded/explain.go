package embedded

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// explain returns SQLite's EXPLAIN QUERY PLAN for the statement that reads
// the candidates of filter in sort order, one line per step, so tests can
// see which index a query uses.
func (c *collection) explain(ctx context.Context, filter bson.M, sort bson.D) (string, error) {
	q := &query{conds: conditions(filter)}
	specs, err := c.specs(ctx, q, sort)
	if err != nil {
		return "", err
	}
	p := choose(q.conds, specs)
	st := c.selectSQL(p.where, p.args, "rid", q, findOpts{})
	if sp, ok := chooseSortPlan(q.conds, specs, sort, p.score); ok {
		where, args := sp.where()
		st = c.selectSQL(where, args, sp.order(), q, findOpts{})
	}
	rows, err := c.s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+st.text, st.args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n"), rows.Err()
}
