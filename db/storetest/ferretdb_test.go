package storetest

import (
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func TestStartFerretDB(t *testing.T) {
	uri := StartFerretDB(t)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("StartFerretDB returned %q: %v", uri, err)
	}
	if u.Scheme != "mongodb" || !strings.HasPrefix(u.Host, "127.0.0.1:") || u.Query().Get("maxPoolSize") != "1" {
		t.Errorf("StartFerretDB returned %q, want mongodb://127.0.0.1:<port>/?maxPoolSize=1", uri)
	}
	ctx := t.Context()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll := client.Database("test").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "a", "v": int32(1)}); err != nil {
		t.Fatalf("insert into FerretDB: %v", err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.M{"_id": "a"}).Decode(&got); err != nil {
		t.Fatalf("find in FerretDB: %v", err)
	}
	same(t, "document", got, bson.M{"_id": "a", "v": int32(1)})
}
