package events

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// newBus builds a started queue with r as its runner and a bus on it.
func newBus(t *testing.T, store db.Store, r *runner) (*Bus, *Queue) {
	t.Helper()
	q := newQueue(t, testConfig(), Deps{Store: store, Runner: r}, nil)
	return NewBus(testConfig(), Deps{Store: store, Queue: q, Logger: quiet}), q
}

// settled waits until every job of event id is done or dead.
func settled(t *testing.T, store db.Store, id string) {
	t.Helper()
	testsupport.WaitForWithin(t, 10*time.Second, "the jobs of event "+id, func() bool {
		return count(t, store, db.Jobs, bson.M{"payload.event_id": id, "status": bson.M{"$in": bson.A{StatusPending, StatusRunning}}}) == 0
	})
}

func TestEventRunsOnlySubscribedFunctions(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	saveFunction(t, store, "welcome", nil, bson.M{"event": UserRegistered}, bson.M{"invoke": true})
	saveFunction(t, store, "audit-orders", nil, bson.M{"event": DocCreated, "collection": "orders"})
	saveFunction(t, store, "audit-all", nil, bson.M{"event": DocCreated})
	// Two triggers matching one event still make one run.
	saveFunction(t, store, "twice", nil, bson.M{"event": "order_placed"}, bson.M{"event": "order_placed"}, bson.M{"schedule": "@daily"})
	saveFunction(t, store, "on-login", nil, bson.M{"event": UserLogin})
	saveFunction(t, store, "invoke-only", nil, bson.M{"invoke": true}, bson.M{"http": true})
	r := &runner{}
	bus, _ := newBus(t, store, r)

	scenarios := []struct {
		name  string
		event string
		data  map[string]any
		want  []string
	}{
		{"system event", UserRegistered, map[string]any{"user": map[string]any{"email": "ada@example.com"}}, []string{"welcome"}},
		{"collection filter matches", DocCreated, map[string]any{"collection": "orders", "id": "o1", "doc": map[string]any{"total": 12}}, []string{"audit-all", "audit-orders"}},
		{"collection filter excludes", DocCreated, map[string]any{"collection": "users", "id": "u1", "doc": map[string]any{}}, []string{"audit-all"}},
		{"custom event", "order_placed", map[string]any{"orderId": 7}, []string{"twice"}},
		{"nobody subscribed", "nothing_here", nil, nil},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ev, err := bus.Emit(context.Background(), s.event, s.data)
			if err != nil {
				t.Fatalf("Emit: %v", err)
			}
			settled(t, store, ev.ID)
			runs := r.of(ev.ID)
			var got []string
			for _, run := range runs {
				got = append(got, run.Function)
				if run.Trigger != TriggerEvent || run.EventName != s.event || !run.At.Equal(ev.At) || run.Attempt != 1 || run.JobID == "" {
					t.Errorf("run of %s = %+v; want trigger event, event %s at %s, attempt 1, a job id", run.Function, run, s.event, ev.At)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, s.want) {
				t.Fatalf("functions run = %v, want %v", got, s.want)
			}
			if n := count(t, store, db.Events, bson.M{"_id": ev.ID, "dispatched": true}); n != 1 {
				t.Errorf("event recorded and dispatched: %d, want 1", n)
			}
		})
	}

	// The handler gets the event's data as its input.
	ev, err := bus.Emit(context.Background(), UserRegistered, map[string]any{"user": map[string]any{"email": "grace@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	settled(t, store, ev.ID)
	runs := r.of(ev.ID)
	if len(runs) != 1 {
		t.Fatalf("runs = %d, want 1", len(runs))
	}
	if email := mapOf(runs[0].Input["user"])["email"]; email != "grace@example.com" {
		t.Errorf("input.user.email = %v, want grace@example.com", email)
	}
}

func TestFunctionRetriesFromItsDefinition(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	saveFunction(t, store, "no-retry", int32(0), bson.M{"event": "boom"})
	saveFunction(t, store, "default", nil, bson.M{"event": "boom"})
	saveFunction(t, store, "two", float64(2), bson.M{"event": "boom"})
	r := &runner{fail: func(FunctionRun) error { return Permanent(errors.New("stop")) }}
	bus, q := newBus(t, store, r)
	ev, err := bus.Emit(context.Background(), "boom", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"no-retry": 1, "default": DefaultMaxAttempts, "two": 3}
	for fn, attempts := range want {
		job, err := q.jobs.FindOne(context.Background(), bson.M{"key": "event:" + ev.ID + ":" + fn}, nil)
		if err != nil {
			t.Fatalf("job of %s: %v", fn, err)
		}
		if got := jobFromDoc(job).MaxAttempts; got != attempts {
			t.Errorf("max attempts of %s = %d, want %d", fn, got, attempts)
		}
	}
}

func TestPublishRefusesBadEvents(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := Config{MaxEventBytes: 64}
	bus := NewBus(cfg, Deps{Store: store})
	scenarios := []struct {
		name    string
		event   string
		data    map[string]any
		wantErr error
		wantMsg string
	}{
		{"empty name", "", nil, ErrInvalidEventName, `invalid event name "": it is empty`},
		{"too long", strings.Repeat("a", 101), nil, ErrInvalidEventName, `invalid event name "` + strings.Repeat("a", 101) + `": it is longer than 100 characters`},
		{"space", "order placed", nil, ErrInvalidEventName, `invalid event name "order placed": use letters, digits, _ . : or -, starting with a letter`},
		{"leading digit", "1st", nil, ErrInvalidEventName, `invalid event name "1st": use letters, digits, _ . : or -, starting with a letter`},
		{"system name", "user_login", nil, ErrInvalidEventName, `invalid event name "user_login": it is a system event, which only Moonbase emits`},
		{"too large", "big", map[string]any{"s": strings.Repeat("x", 100)}, ErrEventTooLarge, `event data too large: 108 bytes of JSON, the limit is 64`},
		{"not JSON", "nan", map[string]any{"n": math.NaN()}, ErrInvalidEventData, `invalid event data: json: unsupported value: NaN`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := bus.Publish(context.Background(), s.event, s.data)
			if !errors.Is(err, s.wantErr) || err.Error() != s.wantMsg {
				t.Fatalf("Publish error = %v, want %q (%v)", err, s.wantMsg, s.wantErr)
			}
		})
	}
	if n := count(t, store, db.Events, nil); n != 0 {
		t.Fatalf("refused events recorded: %d", n)
	}
	ev, err := bus.Publish(context.Background(), "order.placed:v2-x", map[string]any{"orderId": 1})
	if err != nil {
		t.Fatalf("Publish of a good event: %v", err)
	}
	if ev.Name != "order.placed:v2-x" || count(t, store, db.Events, db.ByID(ev.ID)) != 1 {
		t.Fatalf("good event not recorded: %+v", ev)
	}
}

// An event whose jobs could not be enqueued stays undispatched and is
// dispatched by the bus later, exactly once.
func TestUndispatchedEventIsDispatchedLater(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	saveFunction(t, store, "late", nil, bson.M{"event": "order_placed"})
	clk := newClock(time.Now())
	// No runner yet: function jobs cannot be enqueued.
	q := newQueue(t, testConfig(), Deps{Store: store, Now: clk.Now}, nil)
	bus := NewBus(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: clk.Now})
	ev, err := bus.Emit(context.Background(), "order_placed", map[string]any{"orderId": 9})
	if err != nil {
		t.Fatalf("Emit must succeed once the event is recorded: %v", err)
	}
	if n := count(t, store, db.Events, bson.M{"_id": ev.ID, "dispatched": false}); n != 1 {
		t.Fatalf("event left undispatched: %d, want 1", n)
	}
	r := &runner{}
	q.Register(KindFunction, FunctionJobHandler(r))

	// Too recent: another instance may still be dispatching it.
	if n, err := bus.redispatch(context.Background()); err != nil || n != 0 {
		t.Fatalf("redispatch of a fresh event = %d, %v; want 0", n, err)
	}
	clk.Add(redispatchGrace + time.Second)
	if n, err := bus.redispatch(context.Background()); err != nil || n != 1 {
		t.Fatalf("redispatch = %d, %v; want 1", n, err)
	}
	settled(t, store, ev.ID)
	// Dispatching it again, as a second instance might, adds no job.
	if err := bus.dispatch(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store, db.Jobs, bson.M{"payload.event_id": ev.ID}); n != 1 {
		t.Fatalf("jobs for the event = %d, want 1", n)
	}
	if runs := r.of(ev.ID); len(runs) != 1 || runs[0].Input["orderId"] == nil {
		t.Fatalf("runs = %+v, want one with the event's data", runs)
	}
}

// TestFunctionBackoffFromItsDefinition checks a function's own retry
// delay reaches its jobs: scenario 15's min(60s·2^n, 24h) over 8 attempts
// is what a job of a function with retries 7 and backoff {60s, 24h} waits,
// a short one is used retry after retry, and a function without one keeps
// the queue's.
func TestFunctionBackoffFromItsDefinition(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	save := func(name string, retries int, backoff bson.M) {
		saveFunction(t, store, name, int64(retries), bson.M{"event": "deliver"}, bson.M{"schedule": "@daily"})
		if backoff != nil {
			if _, err := store.C(db.Functions).UpdateOne(ctx, db.ByID(name), bson.M{"$set": bson.M{"backoff": backoff}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	save("webhook", 7, bson.M{"initial_ms": int64(60_000), "max_ms": int64(24 * 3600_000)})
	save("quick", 2, bson.M{"initial_ms": int64(300), "max_ms": int64(400)})
	save("plain", 1, nil)
	r := &runner{fail: func(FunctionRun) error { return errors.New("receiver down") }}
	bus, q := newBus(t, store, r)
	ev, err := bus.Emit(ctx, "deliver", nil)
	if err != nil {
		t.Fatal(err)
	}
	job := func(fn string) Job {
		d, err := q.jobs.FindOne(ctx, bson.M{"key": "event:" + ev.ID + ":" + fn}, nil)
		if err != nil {
			t.Fatalf("job of %s: %v", fn, err)
		}
		return jobFromDoc(d)
	}
	// gap is how long after a failed attempt its retry was set to run.
	gap := func(e JobError) time.Duration { return e.RetryAt.Sub(e.At) }

	testsupport.WaitForWithin(t, 10*time.Second, "the webhook's first attempt to fail", func() bool { return len(job("webhook").Errors) == 1 })
	w := job("webhook")
	if w.MaxAttempts != 8 || w.Backoff == nil || *w.Backoff != (Backoff{Initial: time.Minute, Max: 24 * time.Hour}) || w.Status != StatusPending {
		t.Errorf("the webhook's job %+v", w)
	}
	if g := gap(w.Errors[0]); g < 45*time.Second || g > time.Minute {
		t.Errorf("the webhook's first retry waits %s, want 45s to 60s", g)
	}

	dead := waitJob(t, q, job("quick").ID, StatusDead)
	if len(dead.Errors) != 3 {
		t.Fatalf("quick's attempts %+v", dead.Errors)
	}
	for i, e := range dead.Errors[:2] {
		if g := gap(e); g < 225*time.Millisecond || g > 400*time.Millisecond {
			t.Errorf("quick's retry %d waited %s, want 225ms to 400ms (300ms, then 400ms at most, less jitter)", i+1, g)
		}
		if next := dead.Errors[i+1].At; next.Before(e.RetryAt) {
			t.Errorf("quick's attempt %d ran at %s, before its retry time %s", i+2, next, e.RetryAt)
		}
	}
	plain := waitJob(t, q, job("plain").ID, StatusDead)
	if plain.Backoff != nil || gap(plain.Errors[0]) > testConfig().BackoffBase {
		t.Errorf("plain's job %+v: the queue's own backoff (%s) applies", plain, testConfig().BackoffBase)
	}

	// A schedule run queued now carries the policy too.
	sched, err := NewScheduler(testConfig(), Deps{Store: store, Queue: q, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx, "webhook", []ScheduleTrigger{{Schedule: "@daily"}}); err != nil {
		t.Fatal(err)
	}
	id, err := sched.RunNow(ctx, "webhook")
	if err != nil {
		t.Fatal(err)
	}
	if j, err := q.Get(ctx, id); err != nil || j.Backoff == nil || j.Backoff.Initial != time.Minute || j.MaxAttempts != 8 {
		t.Errorf("the schedule run's job %+v %v", j, err)
	}
}

// TestBackoffDelays checks the delays of scenario 15's policy attempt by
// attempt, and that Enqueue refuses a backoff it cannot use.
func TestBackoffDelays(t *testing.T) {
	t.Parallel()
	b := Backoff{Initial: time.Minute, Max: 24 * time.Hour}
	// min(60s·2^(attempt−1), 24h): 1, 2, 4, … 1024 minutes, then a day
	// from the twelfth attempt on.
	for attempt := 1; attempt <= 20; attempt++ {
		top := min(time.Minute<<(attempt-1), 24*time.Hour)
		for range 20 {
			if d := b.delay(attempt); d > top || d < top*3/4 {
				t.Fatalf("after attempt %d the retry waits %s, want %s less at most a quarter", attempt, d, top)
			}
		}
	}
	store := openStore(t, t.TempDir())
	q := newQueue(t, testConfig(), Deps{Store: store, Runner: &runner{}}, nil)
	for _, bad := range []Backoff{{}, {Initial: time.Second}, {Initial: time.Hour, Max: time.Minute}, {Initial: -time.Second, Max: time.Second}} {
		_, err := q.Enqueue(context.Background(), KindFunction, nil, EnqueueOptions{Backoff: &bad})
		if !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), "initial must be positive and max at least initial") {
			t.Errorf("backoff %+v: %v", bad, err)
		}
	}
}
