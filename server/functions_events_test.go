package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// TestFunctionsRunOnEvents checks the registry and the events service are
// joined both ways: a function's backend.publishEvent runs the functions
// subscribed to that event, and a data API write runs a doc_created
// function narrowed to its collection.
func TestFunctionsRunOnEvents(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "placeOrder", `function handle(input)
  return {event = backend.publishEvent("order_placed", {orderId = input.orderId})}
end`, `[{"invoke": true}]`)
	ts.putFunction(t, "fulfil", `function handle(event, ctx)
  backend.create("fulfilled", {orderId = event.orderId, by = ctx.event, trigger = ctx.trigger})
end`, `[{"event": "order_placed"}]`)
	ts.putFunction(t, "audit", `function handle(event, ctx)
  backend.create("audit", {collection = event.collection, id = event.id, user = event.user.id})
end`, `[{"event": "doc_created", "collection": "orders"}]`)

	res := ts.do(t, "POST", "/api/functions/placeOrder", `{"orderId": 123}`, "")
	if res.status != http.StatusOK {
		t.Fatalf("placeOrder: %d %s", res.status, res.body)
	}
	var fulfilled []bson.M
	testsupport.WaitFor(t, "the subscribed function to run", func() bool {
		var err error
		fulfilled, err = ts.Store().C("fulfilled").Find(context.Background(), nil, nil)
		return err == nil && len(fulfilled) > 0
	})
	if f := fulfilled[0]; f["orderId"] != int64(123) || f["by"] != "order_placed" || f["trigger"] != "event" {
		t.Errorf("fulfilled %v", f)
	}

	alice := ts.register(t, "alice@example.com", "alice's password")
	for _, col := range []string{"notes", "orders"} {
		if res := ts.do(t, "POST", "/api/db/"+col, `{"item":"tea"}`, alice.token); res.status != http.StatusCreated {
			t.Fatalf("create in %s: %d %s", col, res.status, res.body)
		}
	}
	var audit []bson.M
	testsupport.WaitFor(t, "the doc_created function to run", func() bool {
		var err error
		audit, err = ts.Store().C("audit").Find(context.Background(), nil, nil)
		return err == nil && len(audit) > 0
	})
	if len(audit) != 1 || audit[0]["collection"] != "orders" || audit[0]["user"] != alice.id {
		t.Errorf("audit %v: only the orders document should run it", audit)
	}
}

// TestShutdownWritesExecutionRecords checks Shutdown writes the execution
// records still buffered before it lets go of the store.
func TestShutdownWritesExecutionRecords(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	store, err := embedded.Open(embedded.Config{Dir: cfg.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	s, err := New(cfg, Deps{Store: store, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, logs: &testsupport.LockedBuffer{}}
	ts.putFunction(t, "tick", `function handle() print("tick") return 1 end`, `[{"invoke": true}]`)
	for range 5 {
		if res := ts.do(t, "POST", "/api/functions/tick", "", ""); res.status != http.StatusOK {
			t.Fatalf("tick: %d %s", res.status, res.body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	requireRunsOK(t, s, "tick", 5)
	if res, err := http.Post(s.URL()+"/api/functions/tick", "application/json", nil); err == nil {
		res.Body.Close()
		t.Error("the server still answers after Shutdown")
	}
}

// TestEventDatesReachFunctionsAsDates follows a date from a client's body
// into an event and a function: a {"$date"} sent to the data API or to
// publishEvent, and the account's created_at, are dates in the handler.
func TestEventDatesReachFunctionsAsDates(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.putFunction(t, "onTrial", `function handle(event)
  backend.create("seen", {from = "doc", doc = type(event.doc.trialEndsAt), created = type(event.doc._created_at),
    user = type(event.user.created_at), later = event.doc.trialEndsAt + 86400})
end`, `[{"event": "doc_created", "collection": "trials"}]`)
	ts.putFunction(t, "onCustom", `function handle(event)
  backend.create("seen", {from = "custom", at = type(event.at), user = type(event.user.created_at), later = event.at + 60})
end`, `[{"event": "trial_started"}]`)
	alice := ts.register(t, "alice@example.com", "alice's password")
	if res := ts.do(t, "POST", "/api/db/trials", `{"trialEndsAt":{"$date":"2026-01-15T09:30:00Z"}}`, alice.token); res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "POST", "/api/events", `{"name":"trial_started","data":{"at":{"$date":"2026-02-01T00:00:00Z"}}}`, alice.token); res.status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	var seen []bson.M
	testsupport.WaitFor(t, "both handlers", func() bool {
		var err error
		seen, err = ts.Store().C("seen").Find(context.Background(), nil, nil)
		return err == nil && len(seen) == 2
	})
	for _, s := range seen {
		var later time.Time
		if d, ok := s["later"].(primitive.DateTime); ok {
			later = d.Time().UTC()
		}
		switch s["from"] {
		case "doc":
			if s["doc"] != "userdata" || s["created"] != "userdata" || s["user"] != "userdata" || !later.Equal(time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC)) {
				t.Errorf("doc_created handler saw %v", s)
			}
		case "custom":
			if s["at"] != "userdata" || s["user"] != "userdata" || !later.Equal(time.Date(2026, 2, 1, 0, 1, 0, 0, time.UTC)) {
				t.Errorf("custom event handler saw %v", s)
			}
		}
	}
	res := ts.do(t, "GET", "/api/admin/events?name=trial_started", "", testAdminToken)
	if !strings.Contains(res.body, `"at":{"$date":"2026-02-01T00:00:00.000Z"}`) {
		t.Errorf("the event as the admin API lists it: %s", res.body)
	}
}

// TestFunctionsUpdateUsers runs the seed's pattern end to end: a function
// with full rights sets app fields on an account, which the user then
// reads at /api/auth/me. Each account it changes fires user_updated
// (never doc_updated, and never the password hash), committed with the
// write, with the run as its cause, the run's user as by, and its depth in
// the chain; no users collection appears beside the accounts.
func TestFunctionsUpdateUsers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	ts.putFunction(t, "startTrial", `function handle(input)
  local u = backend.asServiceRole.update("users", input.id, {trialEndsAt = backend.date("2026-02-01T00:00:00Z"), isPaid = false, plan = "trial"})
  local n = backend.asServiceRole.update("users", {plan = "trial"}, {["$set"] = {reminded = false}})
  return {email = u.email, plan = u.plan, hash = u.password_hash, many = n}
end`, `[{"invoke": true}]`)
	scenarios := []struct {
		name, trigger, token string
		by                   string // the id in the events' by, "" for none
	}{
		{"a schedule run", "schedule", "", ""},
		{"a user's invoke", "invoke", alice.token, alice.id},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			before := len(ts.eventNames(t))
			var res response
			if sc.trigger == "invoke" {
				res = ts.do(t, "POST", "/api/functions/startTrial", `{"id":"`+alice.id+`"}`, sc.token)
				if res.status != http.StatusOK || !strings.Contains(res.body, `{"email":"alice@example.com","many":1,"plan":"trial"}`) {
					t.Fatalf("invoke: %d %s", res.status, res.body)
				}
			} else {
				res = ts.do(t, "POST", "/api/admin/functions/startTrial/run", `{"input":{"id":"`+alice.id+`"},"trigger":"schedule"}`, testAdminToken)
				if res.status != http.StatusOK || !strings.Contains(res.body, `"result":{"email":"alice@example.com","many":1,"plan":"trial"}`) {
					t.Fatalf("run: %d %s", res.status, res.body)
				}
			}
			if got := ts.eventNames(t)[before:]; !slices.Equal(got, []string{events.UserUpdated, events.UserUpdated}) {
				t.Fatalf("updating users fired %v, want two user_updated", got)
			}
			docs := ts.docs(t, db.Events, bson.M{"name": events.UserUpdated})
			run := ts.executions(t, "startTrial")[0]
			wantFields := [][]string{{"isPaid", "plan", "trialEndsAt"}, {"reminded"}}
			for i, ev := range docs[len(docs)-2:] {
				data := ev["data"].(bson.M)
				user, _ := data["user"].(bson.M)
				if user["id"] != alice.id || user["plan"] != "trial" {
					t.Errorf("user_updated user = %v", user)
				}
				if _, leaked := user[db.UserPasswordHash]; leaked {
					t.Errorf("user_updated carries the password hash: %v", user)
				}
				var fields []string
				for _, f := range data["fields"].(bson.A) {
					fields = append(fields, f.(string))
				}
				if !slices.Equal(fields, wantFields[i]) {
					t.Errorf("user_updated fields = %v, want %v", fields, wantFields[i])
				}
				by, _ := data["by"].(bson.M)
				if sc.by == "" && data["by"] != nil || sc.by != "" && by["id"] != sc.by {
					t.Errorf("user_updated by = %v, want user %q", data["by"], sc.by)
				}
				if ev["cause"] != run.ID || ev["depth"] != int32(1) && ev["depth"] != int64(1) {
					t.Errorf("user_updated cause %v depth %v, want the run %s at depth 1", ev["cause"], ev["depth"], run.ID)
				}
			}
		})
	}
	// A refused update changes nothing and fires nothing.
	ts.putFunction(t, "takeOver", `function handle(input)
  return backend.update("users", input.id, {email = "mallory@example.com"})
end`, `[{"invoke": true}]`)
	before := len(ts.eventNames(t))
	res := ts.do(t, "POST", "/api/admin/functions/takeOver/run", `{"input":{"id":"`+alice.id+`"},"trigger":"schedule"}`, testAdminToken)
	if res.status != http.StatusOK || !strings.Contains(res.body, `field email of an account is set only by the account calls`) {
		t.Errorf("takeOver: %d %s", res.status, res.body)
	}
	if got := ts.eventNames(t)[before:]; len(got) != 0 {
		t.Errorf("a refused update fired %v", got)
	}
	if n, err := ts.Store().C("users").Count(context.Background(), nil); err != nil || n != 0 {
		t.Errorf("a users collection apart from the accounts: %d documents (%v)", n, err)
	}
	me := ts.do(t, "GET", "/api/auth/me", "", alice.token)
	if !strings.Contains(me.body, `"email":"alice@example.com"`) {
		t.Errorf("me after a refused update: %s", me.body)
	}
	for _, want := range []string{`"plan":"trial"`, `"trialEndsAt":{"$date":"2026-02-01T00:00:00.000Z"}`, `"isPaid":false`, `"reminded":false`} {
		if !strings.Contains(me.body, want) {
			t.Errorf("me lacks %s: %s", want, me.body)
		}
	}
}

// A function run by user_updated that updates the same account loops;
// the chain stops at events.max_chain_depth as a chain of doc_updated
// does, the event past it recorded but running nothing.
func TestAccountUpdateChainStops(t *testing.T) {
	t.Parallel()
	const limit = 3
	cfg := eventsConfig(t)
	cfg.Events.MaxChainDepth = limit
	ts := startServer(t, cfg, Deps{})
	ts.putFunction(t, "touch", `function handle(event)
  backend.update("users", event.user.id, {["$inc"] = {touches = 1}})
end`, `[{"event": "user_updated"}]`)
	alice := ts.register(t, "alice@example.com", "alice's password")
	if res := ts.do(t, "PATCH", "/api/auth/me", `{"name":"Alice"}`, alice.token); res.status != http.StatusOK {
		t.Fatalf("patch me: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the stopped user_updated", func() bool {
		return len(ts.docs(t, db.Events, bson.M{"name": events.UserUpdated, events.LoopStopped: true})) == 1
	})
	testsupport.WaitFor(t, "every run of touch to end", func() bool {
		jobs := ts.jobsOf(t, "touch")
		return len(jobs[events.StatusPending])+len(jobs[events.StatusRunning]) == 0
	})
	evs := ts.docs(t, db.Events, bson.M{"name": events.UserUpdated})
	if len(evs) != limit+2 {
		t.Fatalf("%d user_updated events, want %d (the client's and one per run)", len(evs), limit+2)
	}
	depths := map[int64]bool{}
	for _, ev := range evs {
		depths[db.Int64Of(ev["depth"])] = true
		if db.Int64Of(ev["depth"]) == limit+1 && ev[events.LoopStopped] != true {
			t.Errorf("the event past the limit is not stopped: %v", ev)
		}
	}
	for d := int64(0); d <= limit+1; d++ {
		if !depths[d] {
			t.Errorf("no user_updated at depth %d: %v", d, depths)
		}
	}
	if n := len(ts.jobsOf(t, "touch")[events.StatusDone]); n != limit+1 {
		t.Errorf("touch ran %d times, want %d", n, limit+1)
	}
	me := ts.do(t, "GET", "/api/auth/me", "", alice.token)
	if !strings.Contains(me.body, fmt.Sprintf(`"touches":%d`, limit+1)) {
		t.Errorf("me after the chain: %s", me.body)
	}
}
