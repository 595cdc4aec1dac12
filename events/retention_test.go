package events

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

func TestSweepDeletesOnlyOldRecords(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	clk := newClock(now)
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := NewSweeper(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	insert := func(collection string, docs ...bson.M) {
		t.Helper()
		for _, d := range docs {
			if _, err := store.C(collection).InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(db.Events,
		bson.M{"_id": "old", "name": "x", "at": ago(31 * day)},
		bson.M{"_id": "new", "name": "x", "at": ago(29 * day)},
	)
	insert(db.Executions,
		bson.M{"_id": "old-started", "started_at": ago(15 * day)},
		bson.M{"_id": "old-at", "at": ago(15 * day)},
		bson.M{"_id": "new", "started_at": ago(13 * day)},
		// A pack of a function's runs is dated by its newest run, so it
		// goes once all of them are old.
		bson.M{"_id": "old-pack", "function": "f", "started_at": ago(15 * day), "runs": bson.A{
			bson.M{"_id": "r1", "started_at": ago(16 * day)}, bson.M{"_id": "r2", "started_at": ago(15 * day)}}},
		bson.M{"_id": "new-pack", "function": "f", "started_at": ago(13 * day), "runs": bson.A{
			bson.M{"_id": "r3", "started_at": ago(15 * day)}, bson.M{"_id": "r4", "started_at": ago(13 * day)}}},
	)
	job := func(id, status string, finished time.Time) bson.M {
		return bson.M{"_id": id, "key": id, "kind": "x", "status": status, "finished_at": finished, "run_at": ago(60 * day)}
	}
	insert(db.Jobs,
		job("done-old", StatusDone, ago(8*day)),
		job("done-new", StatusDone, ago(6*day)),
		job("dead-old", StatusDead, ago(31*day)),
		job("dead-new", StatusDead, ago(8*day)),
		bson.M{"_id": "pending-old", "key": "p", "kind": "x", "status": StatusPending, "run_at": ago(60 * day)},
	)
	// More than one batch of old events.
	var many []bson.M
	for i := range sweepBatch + 20 {
		many = append(many, bson.M{"name": "bulk", "at": ago(40*day + time.Duration(i)*time.Second)})
	}
	if _, err := store.C(db.Events).InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}

	res, err := sw.Sweep(ctx)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want := SweepResult{Events: 1 + sweepBatch + 20, Executions: 3, DoneJobs: 1, DeadJobs: 1}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("Sweep = %+v, want %+v", res, want)
	}
	for collection, ids := range map[string][]string{
		db.Events:     {"new"},
		db.Executions: {"new", "new-pack"},
		db.Jobs:       {"done-new", "dead-new", "pending-old"},
	} {
		docs, err := store.C(collection).Find(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range docs {
			got = append(got, str(d["_id"]))
		}
		slices.Sort(got)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Fatalf("%s kept %v, want %v", collection, got, ids)
		}
	}
}

// Every instance enqueues the sweep of an interval; one job results, and
// it runs.
func TestSweepRunsOncePerInterval(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	var queues []*Queue
	for range 2 {
		q := newQueue(t, testConfig(), Deps{Store: store}, nil)
		sw, err := NewSweeper(testConfig(), Deps{Store: store, Queue: q, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sw.Shutdown(context.Background()) })
		queues = append(queues, q)
	}
	jobs, err := queues[0].List(ctx, "", 0)
	if err != nil || len(jobs) != 1 || jobs[0].Kind != KindRetention {
		t.Fatalf("jobs = %+v, %v; want one retention job", jobs, err)
	}
	waitJob(t, queues[0], jobs[0].ID, StatusDone)
}

// TestSweepAddedRule checks a retention rule another part adds: the
// inbound request log kept 90 days.
func TestSweepAddedRule(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := NewSweeper(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: newClock(now).Now})
	if err != nil {
		t.Fatal(err)
	}
	sw.AddRule(db.Inbound, "received_at", 90*24*time.Hour)
	sw.AddRule("ignored", "at", 0)
	for id, age := range map[string]int{"old": 91, "new": 89} {
		if _, err := store.C(db.Inbound).InsertOne(ctx, bson.M{"_id": id, "received_at": now.Add(-time.Duration(age) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := sw.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Other[db.Inbound] != 1 || count(t, store, db.Inbound, bson.M{"_id": "new"}) != 1 || count(t, store, db.Inbound, nil) != 1 {
		t.Fatalf("sweep = %+v, left %d", res, count(t, store, db.Inbound, nil))
	}
}

// TestSweepAddedSweep checks a sweep another part adds: it is called with
// the sweeper's clock, its deletions counted under its collection, and
// its failure fails the sweep (the job is retried).
func TestSweepAddedSweep(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	scenarios := []struct {
		name    string
		deleted int64
		err     error
	}{
		{"deletes some", 7, nil},
		{"deletes none", 0, nil},
		{"fails", 2, errors.New("store unreachable")},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			sw, err := NewSweeper(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: newClock(now).Now})
			if err != nil {
				t.Fatal(err)
			}
			var got time.Time
			sw.AddSweep("_things", func(ctx context.Context, at time.Time) (int64, error) {
				got = at
				return s.deleted, s.err
			})
			sw.AddSweep("_ignored", nil)
			res, err := sw.Sweep(ctx)
			if !errors.Is(err, s.err) || (s.err == nil) != (err == nil) {
				t.Fatalf("Sweep error = %v, want %v", err, s.err)
			}
			if !got.Equal(now) {
				t.Errorf("the sweep was called with %v, want the sweeper's clock %v", got, now)
			}
			if res.Other["_things"] != s.deleted || len(res.Other) > 1 {
				t.Errorf("Other = %v, want _things: %d", res.Other, s.deleted)
			}
		})
	}
}
