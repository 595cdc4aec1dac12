package embedded

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// explain returns SQLite's EXPLAIN QUERY PLAN for the statement that reads
// filter's candidates, one line per step, so tests can see which index a
// query uses.
func (c *collection) explain(ctx context.Context, filter bson.M) (string, error) {
	p, err := c.plan(ctx, &query{conds: conditions(filter)})
	if err != nil {
		return "", err
	}
	text, args := c.selectSQL(p, 0, 0)
	rows, err := c.s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
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
