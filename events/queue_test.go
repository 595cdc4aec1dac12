package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// A job enqueued on an instance starts without waiting for a poll.
func TestLocalEnqueueStartsAtOnce(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	ran := make(chan Job, 1)
	q := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
		q.Register("ping", func(ctx context.Context, job Job) error { ran <- job; return nil })
	})
	id, err := q.Enqueue(context.Background(), "ping", map[string]any{"n": 1}, EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case job := <-ran:
		if job.ID != id || job.Attempt != 1 || intOf(job.Payload["n"]) != 1 || job.Worker != q.Worker() {
			t.Fatalf("handler got %+v", job)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a locally enqueued job waited for the poll interval")
	}
	job := waitJob(t, q, id, StatusDone)
	if job.FinishedAt.IsZero() || !job.LeaseUntil.IsZero() {
		t.Fatalf("done job = %+v; want finished_at set and no lease", job)
	}
}

// A failing function is retried with growing delays, is dead after its
// last attempt with every attempt's error, and replay runs it again.
func TestFailingFunctionRetriesThenDiesThenReplays(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	saveFunction(t, store, "flaky", int32(3), bson.M{"event": "order_placed"})
	r := &runner{fail: func(run FunctionRun) error { return fmt.Errorf("attempt %d failed", run.Attempt) }}
	bus, q := newBus(t, store, r)
	ev, err := bus.Emit(context.Background(), "order_placed", map[string]any{"orderId": 1})
	if err != nil {
		t.Fatal(err)
	}
	id := str(mustFind(t, store, db.Jobs, bson.M{"payload.event_id": ev.ID})["_id"])
	job := waitJob(t, q, id, StatusDead)

	if job.Attempt != 4 || job.MaxAttempts != 4 || job.LastError != "attempt 4 failed" {
		t.Fatalf("dead job = attempt %d/%d, last error %q; want 4/4, %q", job.Attempt, job.MaxAttempts, job.LastError, "attempt 4 failed")
	}
	if len(job.Errors) != 4 {
		t.Fatalf("errors = %+v, want 4", job.Errors)
	}
	var prev time.Duration
	for i, e := range job.Errors {
		if e.Attempt != i+1 || e.Error != fmt.Sprintf("attempt %d failed", i+1) {
			t.Errorf("errors[%d] = %+v", i, e)
		}
		if i == 3 {
			if !e.RetryAt.IsZero() {
				t.Errorf("the last attempt has a retry at %s", e.RetryAt)
			}
			continue
		}
		gap := e.RetryAt.Sub(e.At)
		if gap <= prev {
			t.Errorf("retry delay %d = %s, not longer than the one before (%s)", i+1, gap, prev)
		}
		prev = gap
	}
	runs := r.of(ev.ID)
	if len(runs) != 4 || runs[0].Attempt != 1 || runs[3].Attempt != 4 {
		t.Fatalf("runs = %+v, want attempts 1 to 4 of one event", runs)
	}

	r.setFail(nil)
	replayed, err := q.Replay(context.Background(), id)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if replayed.Status != StatusPending || replayed.Attempt != 0 || replayed.Replays != 1 {
		t.Fatalf("replayed job = %+v", replayed)
	}
	job = waitJob(t, q, id, StatusDone)
	if runs := r.of(ev.ID); len(runs) != 5 || runs[4].Attempt != 1 || runs[4].EventID != ev.ID {
		t.Fatalf("runs after replay = %+v, want a fifth, attempt 1, same event id", runs)
	}
	if len(job.Errors) != 4 {
		t.Fatalf("replay lost the error history: %+v", job.Errors)
	}
}

func TestPermanentErrorIsDeadAtOnce(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	var calls atomic.Int32
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("mail", func(ctx context.Context, job Job) error {
			calls.Add(1)
			return Permanent(fmt.Errorf("550 mailbox %s unknown", job.Payload["to"]))
		})
	})
	id, err := q.Enqueue(context.Background(), "mail", map[string]any{"to": "nobody@example.com"}, EnqueueOptions{MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, q, id, StatusDead)
	if calls.Load() != 1 || job.Attempt != 1 || job.LastError != "550 mailbox nobody@example.com unknown" || len(job.Errors) != 1 {
		t.Fatalf("dead job = %+v after %d calls; want one attempt with the error kept", job, calls.Load())
	}
}

func TestPanickingHandlerFailsItsAttempt(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("bad", func(ctx context.Context, job Job) error { panic("boom") })
	})
	id, err := q.Enqueue(context.Background(), "bad", nil, EnqueueOptions{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, q, id, StatusDead)
	if !strings.HasPrefix(job.LastError, "panic: boom\n") {
		t.Fatalf("last error = %q, want the panic", job.LastError)
	}
}

func TestEnqueueRefusesBadJobs(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("ok", func(context.Context, Job) error { return nil })
	})
	scenarios := []struct {
		name    string
		kind    string
		opts    EnqueueOptions
		wantErr error
		wantMsg string
	}{
		{"unknown kind", "nope", EnqueueOptions{}, ErrUnknownKind, `unknown job kind: "nope"`},
		{"negative attempts", "ok", EnqueueOptions{MaxAttempts: -1}, ErrInvalidJob, `invalid job: max attempts -1 is not within 1 to 100`},
		{"too many attempts", "ok", EnqueueOptions{MaxAttempts: 101}, ErrInvalidJob, `invalid job: max attempts 101 is not within 1 to 100`},
		{"long key", "ok", EnqueueOptions{Key: strings.Repeat("k", 513)}, ErrInvalidJob, `invalid job: key is longer than 512 bytes`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			id, err := q.Enqueue(context.Background(), s.kind, nil, s.opts)
			if id != "" || !errors.Is(err, s.wantErr) || err.Error() != s.wantMsg {
				t.Fatalf("Enqueue = %q, %v; want %q (%v)", id, err, s.wantMsg, s.wantErr)
			}
		})
	}
	if n := count(t, store, db.Jobs, nil); n != 0 {
		t.Fatalf("refused jobs stored: %d", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	var calls atomic.Int32
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("once", func(context.Context, Job) error { calls.Add(1); return nil })
	})
	ctx := context.Background()
	first, err := q.Enqueue(ctx, "once", nil, EnqueueOptions{Key: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, q, first, StatusDone)
	second, err := q.Enqueue(ctx, "once", nil, EnqueueOptions{Key: "order-42"})
	if second != first || !errors.Is(err, ErrDuplicateJob) || err.Error() != `duplicate job: key "order-42"` {
		t.Fatalf("second Enqueue = %q, %v; want %q and the duplicate error", second, err, first)
	}
	if calls.Load() != 1 || count(t, store, db.Jobs, nil) != 1 {
		t.Fatalf("calls %d, jobs %d; want 1 and 1", calls.Load(), count(t, store, db.Jobs, nil))
	}
}

func TestListGetReplayErrors(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("fail", func(context.Context, Job) error { return Permanent(errors.New("no")) })
		q.Register("later", func(context.Context, Job) error { return nil })
	})
	ctx := context.Background()
	var dead []string
	for range 3 {
		id, err := q.Enqueue(ctx, "fail", nil, EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, id)
	}
	future, err := q.Enqueue(ctx, "later", nil, EnqueueOptions{RunAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range dead {
		waitJob(t, q, id, StatusDead)
	}

	if _, err := q.List(ctx, "failed", 10); !errors.Is(err, ErrInvalidStatus) || err.Error() != `invalid job status "failed": use pending, running, done or dead` {
		t.Fatalf("List(failed) error = %v", err)
	}
	for status, want := range map[string]int{StatusDead: 3, StatusPending: 1, StatusRunning: 0, StatusDone: 0, "": 4} {
		jobs, err := q.List(ctx, status, 0)
		if err != nil || len(jobs) != want {
			t.Fatalf("List(%q) = %d jobs, %v; want %d", status, len(jobs), err, want)
		}
	}
	if jobs, _ := q.List(ctx, "", 2); len(jobs) != 2 {
		t.Fatalf("List limit 2 gave %d", len(jobs))
	}

	if _, err := q.Get(ctx, "missing"); !errors.Is(err, ErrJobNotFound) || err.Error() != `job not found: "missing"` {
		t.Fatalf("Get(missing) error = %v", err)
	}
	if _, err := q.Replay(ctx, "missing"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("Replay(missing) error = %v", err)
	}
	want := "job is not dead or done: job " + future + " is pending"
	if _, err := q.Replay(ctx, future); !errors.Is(err, ErrNotReplayable) || err.Error() != want {
		t.Fatalf("Replay(pending) error = %v, want %q", err, want)
	}

	n, err := q.ReplayDead(ctx)
	if err != nil || n != 3 {
		t.Fatalf("ReplayDead = %d, %v; want 3", n, err)
	}
	for _, id := range dead {
		job := waitJob(t, q, id, StatusDead)
		if job.Replays != 1 || len(job.Errors) != 2 {
			t.Fatalf("replayed job = %+v; want one replay and two errors", job)
		}
	}
}

// A job whose worker stopped is claimed again when its lease runs out, and
// the lost attempt is recorded; when it was the last attempt, the job is
// dead instead.
func TestExpiredLeaseIsReclaimed(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	var got atomic.Value
	// The jobs' leases ran out a minute ago; the new attempt's lease is the
	// default 2 s, long enough for a loaded machine to finish it.
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.Register("work", func(ctx context.Context, job Job) error { got.Store(job); return nil })
	})
	past := storeTime(time.Now().Add(-time.Minute))
	for _, s := range []struct {
		id          string
		maxAttempts int
	}{{"retry", 3}, {"last", 1}} {
		_, err := store.C(db.Jobs).InsertOne(ctx, bson.M{
			"_id": s.id, "key": s.id, "kind": "work", "payload": bson.M{}, "status": StatusRunning,
			"attempt": 1, "max_attempts": s.maxAttempts, "run_at": past, "worker": "gone/1/dead",
			"lease_until": past, "errors": bson.A{}, "created_at": past, "updated_at": past,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lost := "lease expired: worker gone/1/dead stopped or stalled during attempt 1"

	job := waitJob(t, q, "retry", StatusDone)
	if ran, _ := got.Load().(Job); ran.ID != "retry" || ran.Attempt != 2 {
		t.Fatalf("handler got %+v, want attempt 2 of retry", ran)
	}
	if len(job.Errors) != 1 || job.Errors[0].Error != lost || job.Errors[0].Attempt != 1 {
		t.Fatalf("errors = %+v, want the lost attempt", job.Errors)
	}

	job = waitJob(t, q, "last", StatusDead)
	if job.Attempt != 1 || job.LastError != lost || len(job.Errors) != 1 {
		t.Fatalf("dead job = %+v, want attempt 1 and %q", job, lost)
	}
}

// A job running longer than its lease keeps it by renewing: a second
// instance does not take it over.
func TestLeaseRenewalKeepsLongJob(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := testConfig()
	// Renewal comes every third of a lease; a lease of 600ms leaves the
	// renewal 400ms of slack on a loaded machine, still a short test.
	cfg.Lease = 600 * time.Millisecond
	var calls atomic.Int32
	release := make(chan struct{})
	handler := func(ctx context.Context, job Job) error {
		calls.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) { q.Register("long", handler) })
	id, err := a.Enqueue(context.Background(), "long", nil, EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, a, id, StatusRunning)
	b := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) { q.Register("long", handler) })
	// Four leases long; b polls all along.
	deadline := time.Now().Add(4 * cfg.Lease)
	for time.Now().Before(deadline) {
		job, err := b.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if job.Attempt != 1 || job.Worker != a.Worker() {
			t.Fatalf("long job taken over: %+v", job)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	job := waitJob(t, a, id, StatusDone)
	if calls.Load() != 1 || job.Attempt != 1 {
		t.Fatalf("calls %d, attempt %d; want 1 and 1", calls.Load(), job.Attempt)
	}
}

// Shutdown waits for running jobs; one still running at the deadline is
// cut off, stays leased, and another instance completes it afterwards.
func TestShutdownLeavesCutOffJobLeased(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := testConfig()
	cfg.Lease = 300 * time.Millisecond
	started := make(chan struct{}, 1)
	a, err := NewQueue(cfg, Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	a.Register("slow", func(ctx context.Context, job Job) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, err := a.Enqueue(context.Background(), "slow", nil, EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its deadline = %v, want DeadlineExceeded", err)
	}
	if err := a.Shutdown(context.Background()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Shutdown = %v", err)
	}
	job, err := a.Get(context.Background(), id)
	if err != nil || job.Status != StatusRunning || len(job.Errors) != 0 {
		t.Fatalf("cut-off job = %+v, %v; want still running, no error recorded", job, err)
	}

	b := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
		q.Register("slow", func(context.Context, Job) error { return nil })
	})
	job = waitJob(t, b, id, StatusDone)
	if job.Attempt != 2 || job.Worker != b.Worker() {
		t.Fatalf("reclaimed job = %+v, want attempt 2 by the second queue", job)
	}
}

func TestShutdownWaitsForRunningJobs(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	started := make(chan struct{})
	release := make(chan struct{})
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	q.Register("job", func(ctx context.Context, job Job) error {
		close(started)
		<-release
		return nil
	})
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, err := q.Enqueue(context.Background(), "job", nil, EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	done := make(chan error)
	go func() { done <- q.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a job ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if job, _ := q.Get(context.Background(), id); job.Status != StatusDone {
		t.Fatalf("job after shutdown = %s, want done", job.Status)
	}
	if err := q.Start(context.Background()); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("Start after Start = %v", err)
	}
}

func TestRegisterPanicsOnMisuse(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	q, err := NewQueue(testConfig(), Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(context.Context, Job) error { return nil }
	q.Register("x", ok)
	for name, f := range map[string]func(){
		"twice":       func() { q.Register("x", ok) },
		"empty name":  func() { q.Register("", ok) },
		"nil handler": func() { q.Register("y", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register %s did not panic", name)
				}
			}()
			f()
		}()
	}
	if _, err := NewQueue(testConfig(), Deps{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewQueue without a store = %v", err)
	}
}

func mustFind(t *testing.T, store db.Store, collection string, filter bson.M) bson.M {
	t.Helper()
	d, err := store.C(collection).FindOne(context.Background(), filter, nil)
	if err != nil {
		t.Fatalf("find in %s: %v", collection, err)
	}
	return d
}

// A kind can set its own attempts, backoff and time limit.
func TestKindOptions(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	q := newQueue(t, testConfig(), Deps{Store: store}, func(q *Queue) {
		q.RegisterKind("webhook", func(ctx context.Context, job Job) error {
			<-ctx.Done()
			return ctx.Err()
		}, KindOptions{MaxAttempts: 2, Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }, Timeout: 20 * time.Millisecond})
	})
	id, err := q.Enqueue(context.Background(), "webhook", nil, EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var job Job
	testsupport.WaitForWithin(t, 10*time.Second, "the first attempt to fail", func() bool {
		job, _ = q.Get(context.Background(), id)
		return len(job.Errors) == 1
	})
	if job.MaxAttempts != 2 || job.Errors[0].Error != "context deadline exceeded" || job.Errors[0].RetryAt.Sub(job.Errors[0].At) != time.Minute {
		t.Fatalf("job after its first attempt = %+v; want 2 attempts, a timeout, a retry a minute later", job)
	}
}

// Starting drops the indexes earlier versions made on _jobs, and a second
// instance finding them gone starts too.
func TestStartDropsOldJobIndexes(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	jobs := store.C(db.Jobs)
	old := []db.Index{
		{Keys: []db.IndexKey{{Field: "status"}, {Field: "lease_until"}}},
		{Keys: []db.IndexKey{{Field: "status"}, {Field: "finished_at"}}},
		{Keys: []db.IndexKey{{Field: "created_at"}}},
	}
	for _, idx := range old {
		if err := jobs.EnsureIndex(ctx, idx); err != nil {
			t.Fatalf("make an old index: %v", err)
		}
	}
	newQueue(t, testConfig(), Deps{Store: store}, nil)
	newQueue(t, testConfig(), Deps{Store: store}, nil)
	// An index's name is free for other keys only once it is gone.
	for i, name := range oldJobIndexes {
		probe := db.Index{Name: name, Keys: []db.IndexKey{{Field: fmt.Sprintf("probe%d", i)}}}
		if err := jobs.EnsureIndex(ctx, probe); err != nil {
			t.Errorf("index %s is still there: %v", name, err)
		}
	}
}
