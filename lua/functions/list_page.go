package functions

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// ListPage is List a page at a time: the limit functions (all when limit
// ≤ 0) whose names sort after after ("" for the first page) and start
// with prefix ("" for any), by name, without their sources. Names are
// ASCII letters, digits, _ and -, so the prefix is a range of the name
// index and a deep page costs what the first one does.
func (s *Store) ListPage(ctx context.Context, after, prefix string, limit int) ([]Function, error) {
	cond := bson.M{}
	switch {
	case prefix != "" && after < prefix:
		cond["$gte"] = prefix
	case after != "":
		cond["$gt"] = after
	}
	if prefix != "" {
		// Every name character sorts below DEL, so the names starting
		// with prefix are exactly those from prefix up to prefix+DEL.
		cond["$lt"] = prefix + "\x7f"
	}
	var filter bson.M
	if len(cond) > 0 {
		filter = bson.M{"_id": cond}
	}
	docs, err := s.store.C(db.Functions).Find(ctx, filter, &db.FindOptions{
		Sort:       bson.D{{Key: "_id", Value: 1}},
		Projection: bson.M{"source": 0},
		Limit:      int64(max(limit, 0)),
	})
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	out := make([]Function, len(docs))
	for i, d := range docs {
		out[i] = functionFromDoc(d)
	}
	return out, nil
}
