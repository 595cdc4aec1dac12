package events

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// openStore opens an embedded store in dir, closed when the test ends.
func openStore(t *testing.T, dir string) db.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// quiet is the logger of the tests: a queue may log after its test ended.
var quiet = slog.New(slog.DiscardHandler)

// testConfig is fast: short polls, leases and backoff.
func testConfig() Config {
	return Config{
		Workers:      4,
		PollInterval: 20 * time.Millisecond,
		Lease:        2 * time.Second,
		BackoffBase:  30 * time.Millisecond,
		BackoffMax:   time.Second,
		ScheduleTick: 20 * time.Millisecond,
	}
}

// newQueue builds a queue, lets register add kinds, starts it and shuts it
// down when the test ends.
func newQueue(t *testing.T, cfg Config, deps Deps, register func(q *Queue)) *Queue {
	t.Helper()
	if deps.Logger == nil {
		deps.Logger = quiet
	}
	q, err := NewQueue(cfg, deps)
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	if register != nil {
		register(q)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("start queue: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return q
}

// count counts the documents of collection matching filter.
func count(t *testing.T, s db.Store, collection string, filter bson.M) int {
	t.Helper()
	n, err := s.C(collection).Count(context.Background(), filter)
	if err != nil {
		t.Fatalf("count %s: %v", collection, err)
	}
	return int(n)
}

// waitJob waits until job id has status and returns it.
func waitJob(t *testing.T, q *Queue, id, status string) Job {
	t.Helper()
	var job Job
	testsupport.WaitForWithin(t, 10*time.Second, "job "+id+" to be "+status, func() bool {
		var err error
		job, err = q.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		return job.Status == status
	})
	return job
}

// saveFunction stores a function the way the Lua registry does.
func saveFunction(t *testing.T, s db.Store, name string, retries any, triggers ...bson.M) {
	t.Helper()
	doc := bson.M{"_id": name, "name": name, "version": 1, "source": "function handle(input, ctx) end", "handler": "handle", "triggers": triggers, "timeout_ms": 10000}
	if retries != nil {
		doc["retries"] = retries
	}
	if _, err := s.C(db.Functions).DeleteOne(context.Background(), db.ByID(name)); err != nil {
		t.Fatalf("save function %s: %v", name, err)
	}
	if _, err := s.C(db.Functions).InsertOne(context.Background(), doc); err != nil {
		t.Fatalf("save function %s: %v", name, err)
	}
}

// runner is a FunctionRunner that records every run and answers with fail.
type runner struct {
	mu   sync.Mutex
	runs []FunctionRun
	fail func(run FunctionRun) error
}

func (r *runner) RunFunction(ctx context.Context, run FunctionRun) error {
	r.mu.Lock()
	r.runs = append(r.runs, run)
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return fail(run)
	}
	return nil
}

func (r *runner) setFail(f func(run FunctionRun) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = f
}

// of returns the runs of one event or occurrence id, in order.
func (r *runner) of(eventID string) []FunctionRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []FunctionRun
	for _, run := range r.runs {
		if run.EventID == eventID {
			out = append(out, run)
		}
	}
	return out
}

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
