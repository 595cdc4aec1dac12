package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// TestRetryAfterOverridesBackoff checks that a handler's RetryAfter sets
// the next attempt's time instead of the kind's backoff.
func TestRetryAfterOverridesBackoff(t *testing.T) {
	store := openStore(t, t.TempDir())
	cfg := testConfig()
	q := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
		q.Register("slow", func(ctx context.Context, job Job) error {
			return RetryAfter(time.Hour, errors.New("come back later"))
		})
	})
	id, err := q.Enqueue(context.Background(), "slow", nil, EnqueueOptions{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	var job Job
	testsupport.WaitForWithin(t, 5*time.Second, "the first attempt to fail", func() bool {
		job, _ = q.Get(context.Background(), id)
		return job.Status == StatusPending && job.Attempt == 1
	})
	wait := time.Until(job.RunAt)
	if wait < 59*time.Minute || wait > time.Hour {
		t.Fatalf("next attempt in %s, want about an hour", wait)
	}
	if len(job.Errors) != 1 || job.Errors[0].Error != "come back later" {
		t.Fatalf("errors = %+v", job.Errors)
	}
}

// TestDeadJobsEmitJobDead checks that every job gone to dead letters is
// announced once as job_dead, with what an alert needs, and that a
// job_dead handler that dies does not announce itself.
func TestDeadJobsEmitJobDead(t *testing.T) {
	store := openStore(t, t.TempDir())
	cfg := testConfig()
	run := &runner{fail: func(FunctionRun) error { return Permanent(errors.New("cannot")) }}
	svc, err := New(cfg, Deps{Store: store, Runner: run, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var dead []Job
	svc.Queue.OnDead(func(ctx context.Context, job Job) {
		mu.Lock()
		defer mu.Unlock()
		dead = append(dead, job)
	})
	svc.Queue.Register("broken", func(ctx context.Context, job Job) error { return errors.New("always") })
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Shutdown(ctx)
	})
	id, err := svc.Queue.Enqueue(context.Background(), "broken", map[string]any{"to": "x"}, EnqueueOptions{MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	testsupport.WaitForWithin(t, 10*time.Second, "job_dead for the broken job", func() bool {
		return count(t, store, db.Events, bson.M{"name": JobDead, "data.job_id": id}) == 1
	})
	ev, err := store.C(db.Events).FindOne(context.Background(), bson.M{"name": JobDead, "data.job_id": id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := mapOf(ev["data"])
	if str(data["kind"]) != "broken" || str(data["error"]) != "always" || intOf(data["attempts"]) != 2 {
		t.Fatalf("job_dead data = %v", data)
	}
	testsupport.WaitForWithin(t, 5*time.Second, "the hook to see the death", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dead) == 1
	})
	mu.Lock()
	if dead[0].ID != id || dead[0].Status != StatusDead {
		t.Fatalf("OnDead saw %+v", dead[0])
	}
	mu.Unlock()

	// A function run because of job_dead that dies emits nothing more.
	jid, err := svc.Queue.Enqueue(context.Background(), KindFunction, functionPayload(FunctionRun{
		Function: "alert", Trigger: TriggerEvent, EventName: JobDead, EventID: "e1", Input: map[string]any{},
	}), EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, svc.Queue, jid, StatusDead)
	testsupport.WaitForWithin(t, 5*time.Second, "the hook to see the alert's death", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dead) == 2
	})
	if n := count(t, store, db.Events, bson.M{"name": JobDead}); n != 1 {
		t.Fatalf("%d job_dead events, want 1: a dying job_dead handler announced itself", n)
	}
}
