package server

import (
	"context"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db/storetest"
)

// TestDataAPIOnMongoDB runs the data API's suite with the server on the
// MongoDB store, against FerretDB speaking MongoDB's wire protocol.
func TestDataAPIOnMongoDB(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.DB.URI = storetest.StartFerretDB(t)
	cfg.DB.Database = "moonbase_server_test"
	dataSuite(t, cfg)
}

// TestDataAPIOnRealMongoDB runs the suite against the MongoDB deployment
// MOONBASE_TEST_MONGO_URI names, in a database of its own that it drops
// afterwards.
func TestDataAPIOnRealMongoDB(t *testing.T) {
	uri := os.Getenv("MOONBASE_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("MOONBASE_TEST_MONGO_URI is not set")
	}
	t.Parallel()
	cfg := testConfig(t)
	cfg.DB.URI = uri
	cfg.DB.Database = "moonbase_server_test_" + primitive.NewObjectID().Hex()
	t.Cleanup(func() {
		ctx := context.Background()
		store, err := OpenStore(ctx, cfg)
		if err != nil {
			t.Errorf("open store to clean up: %v", err)
			return
		}
		defer store.Close(ctx)
		names, _ := store.Collections(ctx)
		for _, n := range names {
			_ = store.C(n).Drop(ctx)
		}
	})
	dataSuite(t, cfg)
}
