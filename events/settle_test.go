package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/mongostore"
	"github.com/moonbase-dev/moonbase/db/storetest"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// settleStores are the stores the Settle tests run on: the embedded one,
// which commits a handler's write with the outcome in one transaction,
// and MongoDB over FerretDB, which has no transactions and writes them
// one after the other.
func settleStores(t *testing.T) map[string]func(t *testing.T) db.Store {
	stores := map[string]func(t *testing.T) db.Store{
		"embedded": func(t *testing.T) db.Store { return openStore(t, t.TempDir()) },
	}
	if !testing.Short() {
		stores["ferretdb"] = func(t *testing.T) db.Store {
			uri := storetest.StartFerretDB(t)
			s, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: "settle_test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close(context.Background()) })
			return s
		}
	}
	return stores
}

// A handler's settled write is stored with every kind of outcome, once
// per attempt, and a job whose settled write fails is not recorded done.
func TestSettleWritesWithTheOutcome(t *testing.T) {
	for name, open := range settleStores(t) {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			ctx := context.Background()
			record := func(job Job) SettleFunc {
				return func(ctx context.Context, tx db.Tx) error {
					_, err := tx.C("records").InsertOne(ctx, bson.M{"_id": fmt.Sprintf("%s/%d", job.Key, job.Attempt)})
					return err
				}
			}
			cfg := testConfig()
			cfg.MaxAttempts = 2
			q := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
				q.Register("settle", func(ctx context.Context, job Job) error {
					if !Settle(ctx, record(job)) {
						return Permanent(errors.New("Settle refused inside a job"))
					}
					switch job.Key {
					case "fails-once":
						if job.Attempt == 1 {
							return RetryAfter(time.Millisecond, errors.New("not yet"))
						}
					case "permanent":
						return Permanent(errors.New("no"))
					}
					return nil
				})
				q.Register("bad-write", func(ctx context.Context, job Job) error {
					Settle(ctx, func(ctx context.Context, tx db.Tx) error {
						_, err := tx.C("records").InsertOne(ctx, bson.M{"_id": "taken"})
						return err
					})
					return nil
				})
			})
			if _, err := store.C("records").InsertOne(ctx, bson.M{"_id": "taken"}); err != nil {
				t.Fatal(err)
			}
			scenarios := []struct {
				key     string
				status  string
				records []string
			}{
				{"ok", StatusDone, []string{"ok/1"}},
				{"fails-once", StatusDone, []string{"fails-once/1", "fails-once/2"}},
				{"permanent", StatusDead, []string{"permanent/1"}},
			}
			for _, s := range scenarios {
				t.Run(s.key, func(t *testing.T) {
					id, err := q.Enqueue(ctx, "settle", nil, EnqueueOptions{Key: s.key})
					if err != nil {
						t.Fatal(err)
					}
					waitJob(t, q, id, s.status)
					for _, r := range s.records {
						if n := count(t, store, "records", bson.M{"_id": r}); n != 1 {
							t.Errorf("record %s stored %d times, want once", r, n)
						}
					}
					if n := count(t, store, "records", bson.M{"_id": bson.M{"$regex": "^" + s.key + "/"}}); n != len(s.records) {
						t.Errorf("%d records of %s, want %d", n, s.key, len(s.records))
					}
				})
			}
			t.Run("a failing write", func(t *testing.T) {
				id, err := q.Enqueue(ctx, "bad-write", nil, EnqueueOptions{})
				if err != nil {
					t.Fatal(err)
				}
				// The outcome is not recorded: the job stays running until
				// its lease runs out, is claimed again, and dies after its
				// last attempt, never done.
				job := waitJob(t, q, id, StatusDead)
				if job.Attempt != cfg.MaxAttempts {
					t.Errorf("dead after %d attempts, want %d", job.Attempt, cfg.MaxAttempts)
				}
			})
		})
	}
}

func TestSettleOutsideAJob(t *testing.T) {
	called := false
	if Settle(context.Background(), func(context.Context, db.Tx) error { called = true; return nil }) {
		t.Fatal("Settle outside a job reported that it took the write")
	}
	if called {
		t.Fatal("Settle outside a job ran the write")
	}
}

// A worker that finishes a job claims the next one in the same write, but
// not once Shutdown has begun: the backlog stays pending, unclaimed, for
// the next start.
func TestShutdownStopsWorkersClaimingMore(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	cfg := testConfig()
	cfg.Workers = 1
	started, release := make(chan string, 100), make(chan struct{})
	q, err := NewQueue(cfg, Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	q.Register("slow", func(ctx context.Context, job Job) error {
		started <- job.ID
		<-release
		return nil
	})
	const backlog = 20
	for range backlog {
		if _, err := q.Enqueue(ctx, "slow", nil, EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-started
	shut := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		shut <- q.Shutdown(sctx)
	}()
	testsupport.WaitFor(t, "Shutdown to begin", func() bool { return q.draining.Load() })
	close(release)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := count(t, store, db.Jobs, bson.M{"status": StatusDone}); n != 1 {
		t.Errorf("%d jobs done, want the one running when Shutdown began", n)
	}
	if n := count(t, store, db.Jobs, bson.M{"status": StatusPending, "attempt": 0}); n != backlog-1 {
		t.Errorf("%d jobs pending and unclaimed, want %d", n, backlog-1)
	}
}

// One worker drains a backlog, each job claimed by the write that
// finished the one before, in the order they were due.
func TestWorkerRunsTheBacklogInOrder(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	cfg := testConfig()
	cfg.Workers = 1
	var order []string
	q, err := NewQueue(cfg, Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 200)
	q.Register("step", func(ctx context.Context, job Job) error {
		order = append(order, job.Key) // one worker: no other goroutine writes
		done <- struct{}{}
		return nil
	})
	const backlog = 150 // more than chainMax, so the worker hands its slot back at least once
	start := time.Now().Add(-time.Hour)
	for i := range backlog {
		if _, err := q.Enqueue(ctx, "step", nil, EnqueueOptions{Key: fmt.Sprintf("%03d", i), RunAt: start.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = q.Shutdown(sctx)
	})
	deadline := time.After(30 * time.Second)
	for range backlog {
		select {
		case <-done:
		case <-deadline:
			t.Fatalf("%d of %d jobs ran in 30s", len(order), backlog)
		}
	}
	for i, key := range order {
		if want := fmt.Sprintf("%03d", i); key != want {
			t.Fatalf("job %d ran %s, want %s", i, key, want)
		}
	}
	testsupport.WaitFor(t, "every job recorded done", func() bool {
		return count(t, store, db.Jobs, bson.M{"status": StatusDone}) == backlog
	})
}
