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
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// Two queues sharing one MongoDB store (over FerretDB, on the one
// connection storetest.StartFerretDB gives) run each of 200 jobs exactly
// once between them.
//
// FerretDB answers every claim by decoding the whole of _jobs in Go, which
// the race detector slows to a couple of jobs a second; under -race the
// test runs 40 jobs, enough for the two queues to contend on every claim.
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

	cfg := testConfig()
	// Every operation of both queues and of the test shares the one
	// connection FerretDB is atomic on, and each claim scans _jobs (FerretDB
	// uses no secondary index): poll gently, and give leases room.
	cfg.PollInterval = 100 * time.Millisecond
	cfg.Lease = 30 * time.Second
	var queues []*Queue
	for i := range 2 {
		worker := strconv.Itoa(i)
		q, err := NewQueue(cfg, Deps{Store: store, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		q.Register("count", func(ctx context.Context, job Job) error {
			// A second run of a job collides on _id.
			_, err := store.C("runs").InsertOne(ctx, bson.M{"_id": job.Key, "worker": worker})
			if errors.Is(err, db.ErrDuplicateKey) {
				_, err = store.C("dups").InsertOne(ctx, bson.M{"job": job.Key, "worker": worker})
			}
			return err
		})
		queues = append(queues, q)
	}
	jobs := 200
	if raceDetector {
		jobs = 40
	}
	for i := range jobs {
		// Alternate the enqueuing instance, as two servers would.
		if _, err := queues[i%2].Enqueue(ctx, "count", bson.M{"n": i}, EnqueueOptions{Key: "job-" + strconv.Itoa(i)}); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	// Both start on a full queue, so they compete for every job.
	for _, q := range queues {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Shutdown(ctx)
		})
	}
	testsupport.WaitForWithin(t, 120*time.Second, "every job done", func() bool {
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
