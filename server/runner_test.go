package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// saveFn saves a function through the admin API. def holds the
// definition's fields besides the name (source, triggers, retries, …).
func (ts *testServer) saveFn(t *testing.T, name string, def map[string]any) {
	t.Helper()
	saveFunctionAt(t, ts.URL(), name, def)
}

// saveFunctionAt saves a function through the admin API of the server at
// base.
func saveFunctionAt(t *testing.T, base, name string, def map[string]any) {
	t.Helper()
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	res := callURL(t, base, "PUT", "/api/admin/functions/"+name, string(b), testAdminToken)
	if res.status != http.StatusCreated && res.status != http.StatusOK {
		t.Fatalf("save function %s: %d %s", name, res.status, res.body)
	}
}

// docs returns the documents of a collection, oldest first.
func (ts *testServer) docs(t *testing.T, col string, filter bson.M) []bson.M {
	t.Helper()
	out, err := ts.Store().C(col).Find(context.Background(), filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		t.Fatalf("read %s: %v", col, err)
	}
	return out
}

// listJobs lists jobs through the admin API; status "" lists every one.
func (ts *testServer) listJobs(t *testing.T, status string) []events.Job {
	t.Helper()
	res := ts.do(t, "GET", "/api/admin/jobs?limit=1000&status="+status, "", testAdminToken)
	if res.status != http.StatusOK {
		t.Fatalf("list jobs: %d %s", res.status, res.body)
	}
	var ans struct {
		Jobs []events.Job `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(res.body), &ans); err != nil {
		t.Fatalf("jobs answer: %v\n%s", err, res.body)
	}
	return ans.Jobs
}

// jobsOf returns the function jobs of fn, by status.
func (ts *testServer) jobsOf(t *testing.T, fn string) map[string][]events.Job {
	t.Helper()
	out := map[string][]events.Job{}
	for _, j := range ts.listJobs(t, "") {
		if j.Kind == events.KindFunction && j.Payload["function"] == fn {
			out[j.Status] = append(out[j.Status], j)
		}
	}
	return out
}

// recorder is a handler that writes what it was called with into "runs".
const recorder = `
function handle(input, ctx)
  backend.create("runs", {fn = ctx["function"], trigger = ctx.trigger, event = ctx.event, id = ctx.id,
    at = ctx.at, attempt = ctx.attempt, input = input})
end`

// An event runs the functions subscribed to it, with the event's data as
// input (event.user.email for user_registered) and the event in ctx, and
// no other function.
func TestEventRunsSubscribedFunctions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "welcome", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "user_registered"}}})
	ts.saveFn(t, "on-login", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "user_login"}}})
	ts.saveFn(t, "on-order", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "order_placed"}}})

	alice := ts.register(t, "alice@example.com", "password123")
	testsupport.WaitFor(t, "the welcome function", func() bool { return len(ts.docs(t, "runs", bson.M{"fn": "welcome"})) == 1 })
	run := ts.docs(t, "runs", bson.M{"fn": "welcome"})[0]
	input, _ := run["input"].(bson.M)
	user, _ := input["user"].(bson.M)
	evID := ts.lastEventID(t, "user_registered")
	if user["email"] != "alice@example.com" || user["id"] != alice.id {
		t.Errorf("input.user = %v", user)
	}
	if run["trigger"] != "event" || run["event"] != "user_registered" || run["id"] != evID || run["attempt"] != int64(1) {
		t.Errorf("ctx = trigger %v, event %v, id %v (event %s), attempt %v", run["trigger"], run["event"], run["id"], evID, run["attempt"])
	}
	if _, ok := run["at"].(primitive.DateTime); !ok {
		t.Errorf("ctx.at = %T %v, want a date", run["at"], run["at"])
	}
	testsupport.WaitFor(t, "the welcome job to be done", func() bool { return len(ts.jobsOf(t, "welcome")[events.StatusDone]) == 1 })
	for _, fn := range []string{"on-login", "on-order"} {
		if jobs := ts.jobsOf(t, fn); len(jobs) != 0 {
			t.Errorf("%s got jobs for user_registered: %v", fn, jobs)
		}
	}

	res := ts.do(t, "POST", "/api/events", publishBody(t, "order_placed", map[string]any{"orderId": 123}), alice.token)
	if res.status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the order function", func() bool { return len(ts.docs(t, "runs", bson.M{"fn": "on-order"})) == 1 })
	order, _ := ts.docs(t, "runs", bson.M{"fn": "on-order"})[0]["input"].(bson.M)
	if order["orderId"] != int64(123) {
		t.Errorf("order input = %v", order)
	}
	if n := len(ts.docs(t, "runs", bson.M{"fn": "welcome"})); n != 1 {
		t.Errorf("welcome ran %d times", n)
	}
}

// A doc_created trigger with a collection runs only for that collection's
// documents, with {collection, id, doc, user} as input.
func TestDocEventCollectionFilter(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "orders-only", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "doc_created", "collection": "orders"}}})
	ts.saveFn(t, "notes-only", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "doc_created", "collection": "notes"}}})
	// The recorder's own writes fire doc_created on runs too.
	ts.saveFn(t, "any-doc", map[string]any{"source": `
function handle(input, ctx)
  if input.collection == "runs" then return end
  backend.create("runs", {fn = ctx["function"], input = input})
end`, "triggers": []any{map[string]any{"event": "doc_created"}}})
	alice := ts.register(t, "alice@example.com", "password123")

	res := ts.do(t, "POST", "/api/db/orders", `{"item":"lamp","qty":2}`, alice.token)
	if res.status != http.StatusCreated {
		t.Fatalf("create order: %d %s", res.status, res.body)
	}
	orderID, _ := res.json(t)["_id"].(string)
	testsupport.WaitFor(t, "orders-only and any-doc", func() bool { return len(ts.docs(t, "runs", nil)) == 2 })
	run := ts.docs(t, "runs", bson.M{"fn": "orders-only"})
	if len(run) != 1 {
		t.Fatalf("orders-only runs: %v", ts.docs(t, "runs", nil))
	}
	input, _ := run[0]["input"].(bson.M)
	doc, _ := input["doc"].(bson.M)
	user, _ := input["user"].(bson.M)
	if input["collection"] != "orders" || input["id"] != orderID || doc["item"] != "lamp" || user["id"] != alice.id {
		t.Errorf("input = %v", input)
	}
	// any-doc runs for the order and for the two runs recorded.
	testsupport.WaitFor(t, "every job to finish", func() bool {
		return len(ts.jobsOf(t, "orders-only")[events.StatusDone]) == 1 && len(ts.jobsOf(t, "any-doc")[events.StatusDone]) == 3
	})
	if jobs := ts.jobsOf(t, "notes-only"); len(jobs) != 0 {
		t.Errorf("notes-only got jobs for an order: %v", jobs)
	}
}

// A failing function is retried with growing delays, dead after its last
// attempt with every error kept, listed as dead, and run again by a replay
// with the same ctx.id.
func TestFailingFunctionIsRetriedDeadAndReplayed(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	failing := `
function handle(input, ctx)
  backend.create("runs", {id = ctx.id, attempt = ctx.attempt})
  error("payment provider down (attempt " .. ctx.attempt .. ")")
end`
	ts.saveFn(t, "charge", map[string]any{"source": failing, "retries": 2, "triggers": []any{map[string]any{"event": "order_placed"}}})
	alice := ts.register(t, "alice@example.com", "password123")
	if res := ts.do(t, "POST", "/api/events", publishBody(t, "order_placed", map[string]any{"orderId": 7}), alice.token); res.status != 202 {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the job to be dead", func() bool { return len(ts.listJobs(t, events.StatusDead)) == 1 })
	dead := ts.listJobs(t, events.StatusDead)[0]
	if dead.Attempt != 3 || dead.MaxAttempts != 3 || len(dead.Errors) != 3 {
		t.Fatalf("dead job: attempt %d of %d, %d errors", dead.Attempt, dead.MaxAttempts, len(dead.Errors))
	}
	wantErr := `function "charge" failed at line 4: payment provider down (attempt 3)`
	if dead.LastError != wantErr {
		t.Errorf("last error %q, want %q", dead.LastError, wantErr)
	}
	d1 := dead.Errors[0].RetryAt.Sub(dead.Errors[0].At)
	d2 := dead.Errors[1].RetryAt.Sub(dead.Errors[1].At)
	if d1 <= 0 || d2 <= d1 || !dead.Errors[2].RetryAt.IsZero() {
		t.Errorf("retry delays %s then %s, last retry_at %v: want growing delays and none after the last", d1, d2, dead.Errors[2].RetryAt)
	}
	runs := ts.docs(t, "runs", nil)
	if len(runs) != 3 || runs[0]["id"] != runs[2]["id"] || runs[2]["attempt"] != int64(3) {
		t.Fatalf("runs %v", runs)
	}

	// Fixed, then replayed: it runs again as the same delivery.
	ts.saveFn(t, "charge", map[string]any{"source": recorder, "retries": 2, "triggers": []any{map[string]any{"event": "order_placed"}}})
	res := ts.do(t, "POST", "/api/admin/jobs/"+dead.ID+"/replay", "", testAdminToken)
	if res.status != http.StatusOK || !strings.Contains(res.body, `"replays":1`) {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the replayed run", func() bool { return len(ts.docs(t, "runs", bson.M{"fn": "charge"})) == 1 })
	testsupport.WaitFor(t, "the replayed job to be done", func() bool { return len(ts.jobsOf(t, "charge")[events.StatusDone]) == 1 })
	again := ts.docs(t, "runs", bson.M{"fn": "charge"})
	if len(again) != 1 || again[0]["id"] != runs[0]["id"] || again[0]["attempt"] != int64(1) {
		t.Errorf("replayed run %v, first runs had id %v", again, runs[0]["id"])
	}
}

// The runner tells the queue that a function that no longer exists cannot
// succeed by retrying, and passes a failing run's error on to be retried.
func TestRunnerErrors(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "broken", map[string]any{"source": `function handle() error("nope") end`, "triggers": []any{map[string]any{"event": "x"}}})
	r := functionRunner{reg: ts.functions}
	ctx := context.Background()

	err := r.RunFunction(ctx, events.FunctionRun{Function: "gone", Trigger: events.TriggerEvent, EventName: "x", EventID: "e1", Attempt: 1})
	if !events.IsPermanent(err) || !errors.Is(err, functions.ErrFunctionNotFound) || err.Error() != `function not found: "gone"` {
		t.Errorf("missing function: %v (permanent %v)", err, events.IsPermanent(err))
	}
	err = r.RunFunction(ctx, events.FunctionRun{Function: "broken", Trigger: events.TriggerEvent, EventName: "x", EventID: "e1", Attempt: 1})
	var re *engine.RunError
	if events.IsPermanent(err) || !errors.As(err, &re) || err.Error() != `function "broken" failed at line 1: nope` {
		t.Errorf("failing function: %v (permanent %v)", err, events.IsPermanent(err))
	}
}

// A function publishes a custom event with backend.publishEvent, and the
// function subscribed to it runs; a system event's name is refused with an
// error the function sees.
func TestPublishEventFromLua(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "publisher", map[string]any{"source": `
function handle(input, ctx)
  local id = backend.publishEvent("order_shipped", {orderId = input.orderId})
  local ok, err = pcall(backend.publishEvent, "user_login", {})
  return {id = id, refused = err}
end`, "triggers": []any{map[string]any{"invoke": true}}})
	ts.saveFn(t, "shipped", map[string]any{"source": recorder, "triggers": []any{map[string]any{"event": "order_shipped"}}})

	res := ts.do(t, "POST", "/api/admin/functions/publisher/run", `{"input":{"orderId":5}}`, testAdminToken)
	if res.status != http.StatusOK {
		t.Fatalf("run: %d %s", res.status, res.body)
	}
	var ans struct {
		Result struct {
			ID      string `json:"id"`
			Refused string `json:"refused"`
		} `json:"result"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.body), &ans); err != nil || ans.Error != "" {
		t.Fatalf("run answer %s (%v)", res.body, err)
	}
	wantRefusal := `publisher:4: backend.publishEvent: invalid event name "user_login": it is a system event, which only Moonbase emits`
	if ans.Result.Refused != wantRefusal {
		t.Errorf("refusal %q, want %q", ans.Result.Refused, wantRefusal)
	}
	testsupport.WaitFor(t, "the subscribed function", func() bool { return len(ts.docs(t, "runs", nil)) == 1 })
	run := ts.docs(t, "runs", nil)[0]
	if input, _ := run["input"].(bson.M); run["id"] != ans.Result.ID || input["orderId"] != int64(5) {
		t.Errorf("run %v, published id %s", run, ans.Result.ID)
	}
}

// A scheduled function runs through the queue with {scheduled_at} as input
// and ctx.trigger "schedule".
func TestScheduledRunInput(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "nightly", map[string]any{"source": recorder, "triggers": []any{map[string]any{"schedule": "daily at 03:00", "timezone": "Europe/Paris"}}})
	before := time.Now().Add(-time.Second)
	res := ts.do(t, "POST", "/api/admin/schedules/nightly/run", "", testAdminToken)
	if res.status != http.StatusAccepted || !strings.Contains(res.body, `"job_id":"`) {
		t.Fatalf("run: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the scheduled run", func() bool { return len(ts.docs(t, "runs", nil)) == 1 })
	run := ts.docs(t, "runs", nil)[0]
	input, _ := run["input"].(bson.M)
	at, ok := input["scheduled_at"].(primitive.DateTime)
	if !ok || at.Time().Before(before) || run["trigger"] != "schedule" || !strings.HasPrefix(fmt.Sprint(run["id"]), "run:nightly@") {
		t.Errorf("run %v", run)
	}
}
