package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// countingStore is a real store that counts the reads and writes made on
// collections other than the system ones, so a test can tell that a refused
// request never reached the database.
type countingStore struct {
	db.Store
	ops atomic.Int64
}

func (s *countingStore) C(name string) db.Collection {
	c := s.Store.C(name)
	if db.IsSystemCollection(name) {
		return c
	}
	return &countingCollection{Collection: c, ops: &s.ops}
}

type countingCollection struct {
	db.Collection
	ops *atomic.Int64
}

func (c *countingCollection) InsertOne(ctx context.Context, doc bson.M) (any, error) {
	c.ops.Add(1)
	return c.Collection.InsertOne(ctx, doc)
}

func (c *countingCollection) Find(ctx context.Context, f bson.M, o *db.FindOptions) ([]bson.M, error) {
	c.ops.Add(1)
	return c.Collection.Find(ctx, f, o)
}

func (c *countingCollection) FindOne(ctx context.Context, f bson.M, o *db.FindOptions) (bson.M, error) {
	c.ops.Add(1)
	return c.Collection.FindOne(ctx, f, o)
}

func (c *countingCollection) Count(ctx context.Context, f bson.M) (int64, error) {
	c.ops.Add(1)
	return c.Collection.Count(ctx, f)
}

func (c *countingCollection) FindOneAndUpdate(ctx context.Context, f, u bson.M, o *db.FindOneAndUpdateOptions) (bson.M, error) {
	c.ops.Add(1)
	return c.Collection.FindOneAndUpdate(ctx, f, u, o)
}

func (c *countingCollection) ReplaceOne(ctx context.Context, f, d bson.M, o *db.UpdateOptions) (db.UpdateResult, error) {
	c.ops.Add(1)
	return c.Collection.ReplaceOne(ctx, f, d, o)
}

func (c *countingCollection) DeleteOne(ctx context.Context, f bson.M) (int64, error) {
	c.ops.Add(1)
	return c.Collection.DeleteOne(ctx, f)
}

// TestRefusedRequestsReachNoStore checks that bad filters and documents are
// answered before any query runs and that nothing is written.
func TestRefusedRequestsReachNoStore(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	base, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = base.Close(context.Background()) }) // after the server's shutdown
	store := &countingStore{Store: base}
	ts := startServer(t, cfg, Deps{Store: store})
	alice := ts.register(t, "alice@example.com", "alice's password")

	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"$where", "GET", "/api/db/notes?filter=" + url.QueryEscape(`{"$where":"sleep(1000)"}`), "", 400, `"code":"invalid_query"`},
		{"$where inside $or", "GET", "/api/db/notes?filter=" + url.QueryEscape(`{"$or":[{"a":1},{"$where":"1"}]}`), "", 400, `$where`},
		{"$function", "GET", "/api/db/notes?filter=" + url.QueryEscape(`{"$function":{"body":"1"}}`), "", 400, `$function`},
		{"$expr", "GET", "/api/db/notes?filter=" + url.QueryEscape(`{"$expr":{"$gt":["$a","$b"]}}`), "", 400, `$expr`},
		{"$accumulator", "GET", "/api/db/notes?filter=" + url.QueryEscape(`{"a":{"$accumulator":{}}}`), "", 400, `$accumulator`},
		{"a filter nested too deep", "GET", "/api/db/notes?filter=" + url.QueryEscape(deep), "", 400, `"code":"invalid_query"`},
		{"a bad sort", "GET", "/api/db/notes?sort=" + url.QueryEscape("a,,b"), "", 400, `"code":"invalid_query"`},
		{"a $ field in a document", "POST", "/api/db/notes", `{"$set":{"a":1}}`, 400, `"code":"invalid_document"`},
		{"a document nested too deep", "POST", "/api/db/notes", deep, 400, `nested deeper than 32 levels`},
		{"malformed JSON", "POST", "/api/db/notes", `{"a":1,}`, 400, `"code":"invalid_json"`},
		{"a patch with $set", "PATCH", "/api/db/notes/6512bd43d9caa6e02c990b0a", `{"$set":{"_owner":"x"}}`, 400, `"code":"invalid_document"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := store.ops.Load()
			res := ts.do(t, c.method, c.path, c.body, alice.token)
			if res.status != c.status || !strings.Contains(res.body, c.want) {
				t.Errorf("got %d %s, want %d with %s", res.status, res.body, c.status, c.want)
			}
			if n := store.ops.Load() - before; n != 0 {
				t.Errorf("%d store operations ran", n)
			}
		})
	}
	if n, err := base.C("notes").Count(context.Background(), nil); err != nil || n != 0 {
		t.Errorf("notes holds %d documents (err %v), want none", n, err)
	}
}

func TestOversizeBody(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")

	big := `{"blob":"` + strings.Repeat("x", 2<<20) + `"}`
	res := ts.do(t, "POST", "/api/db/notes", big, alice.token)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %.200s", res.status, res.body)
	}
	if want := `{"error":{"code":"body_too_large","message":"request body is too large"}}`; res.body != want {
		t.Errorf("body %s, want %s", res.body, want)
	}
	if res.header.Get(HeaderRequestID) == "" {
		t.Error("no request id on the 413")
	}
	if n, err := ts.Store().C("notes").Count(context.Background(), nil); err != nil || n != 0 {
		t.Errorf("notes holds %d documents (err %v), want none", n, err)
	}
	// The server still serves.
	if res := ts.do(t, "GET", "/api/db/notes", "", alice.token); res.status != http.StatusOK {
		t.Errorf("after the 413: %d %s", res.status, res.body)
	}
}
