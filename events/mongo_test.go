package events

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/mongostore"
	"github.com/moonbase-dev/moonbase/db/storetest"
)

// Two queues sharing one MongoDB store (over FerretDB, one connection, see
// DESIGN.md) run each of 200 jobs exactly once between them.
func TestTwoQueuesOnMongoDBRunEachJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	uri := storetest.StartFerretDB(t)
	ctx := context.Background()
	store, err := mongostore.Open(ctx, mongostore.Config{URI: uri, Database: "events_test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	if err := store.C("runs").EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "job"}}, Unique: true}); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig()
	cfg.PollInterval = 10 * time.Millisecond
	var queues []*Queue
	for i := range 2 {
		worker := strconv.Itoa(i)
		queues = append(queues, newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
			q.Register("count", func(ctx context.Context, job Job) error {
				// A second run of a job collides on the unique index.
				_, err := store.C("runs").InsertOne(ctx, bson.M{"job": job.Key, "worker": worker})
				if errors.Is(err, db.ErrDuplicateKey) {
					_, err = store.C("dups").InsertOne(ctx, bson.M{"job": job.Key, "worker": worker})
				}
				return err
			})
		}))
	}
	const jobs = 200
	for i := range jobs {
		// Alternate the enqueuing instance, as two servers would.
		if _, err := queues[i%2].Enqueue(ctx, "count", bson.M{"n": i}, EnqueueOptions{Key: "job-" + strconv.Itoa(i)}); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	waitFor(t, 120*time.Second, "200 jobs done", func() bool {
		return count(t, store, db.Jobs, bson.M{"status": StatusDone}) == jobs
	})
	if n := count(t, store, "runs", nil); n != jobs {
		t.Fatalf("runs = %d, want %d", n, jobs)
	}
	if n := count(t, store, "dups", nil); n != 0 {
		t.Fatalf("%d jobs ran twice", n)
	}
	for _, w := range []string{"0", "1"} {
		t.Logf("queue %s ran %d jobs", w, count(t, store, "runs", bson.M{"worker": w}))
	}
}
