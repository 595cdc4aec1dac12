package embedded

import (
	"context"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// openTest opens a store in a fresh directory, closed when the test ends.
func openTest(t *testing.T) *Store {
	t.Helper()
	return openDir(t, t.TempDir())
}

func openDir(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// coll returns the collection as its concrete type, for the unexported
// explain hook.
func coll(s *Store, name string) *collection { return s.C(name).(*collection) }

func mustInsert(t *testing.T, c db.Collection, docs ...bson.M) []any {
	t.Helper()
	ids := make([]any, len(docs))
	for i, d := range docs {
		id, err := c.InsertOne(context.Background(), d)
		if err != nil {
			t.Fatalf("InsertOne(%v): %v", d, err)
		}
		ids[i] = id
	}
	return ids
}

func mustIndex(t *testing.T, c db.Collection, unique bool, fields ...string) {
	t.Helper()
	idx := db.Index{Unique: unique}
	for _, f := range fields {
		idx.Keys = append(idx.Keys, db.IndexKey{Field: f})
	}
	if err := c.EnsureIndex(context.Background(), idx); err != nil {
		t.Fatalf("EnsureIndex(%v): %v", fields, err)
	}
}

// field returns the values of one field of docs, in order.
func field(docs []bson.M, name string) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = d[name]
	}
	return out
}
