package db_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
)

func TestEnsureSystemIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close(ctx) })

	// Twice, as every start does: the second run finds them all in place.
	for i := 0; i < 2; i++ {
		if err := db.EnsureSystemIndexes(ctx, store); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}

	users := store.C(db.Users)
	if _, err := users.InsertOne(ctx, bson.M{"email": "ada@example.com"}); err != nil {
		t.Fatalf("first user: %v", err)
	}
	_, err = users.InsertOne(ctx, bson.M{"email": "ada@example.com"})
	if !errors.Is(err, db.ErrDuplicateKey) {
		t.Fatalf("second user with the same email: got %v, want ErrDuplicateKey", err)
	}
	if _, err := users.InsertOne(ctx, bson.M{"email": "grace@example.com"}); err != nil {
		t.Fatalf("other email: %v", err)
	}
}

func TestSystemIndexesNameSystemCollections(t *testing.T) {
	t.Parallel()
	for _, si := range db.SystemIndexes() {
		if !db.IsSystemCollection(si.Collection) {
			t.Errorf("%s is not a system collection", si.Collection)
		}
		if len(si.Index.Keys) == 0 {
			t.Errorf("index on %s has no keys", si.Collection)
		}
	}
}
