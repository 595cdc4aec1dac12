package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db/embedded"
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
// reads at /api/auth/me; the write is to the account itself, fires no
// doc_updated (which would carry the record) and shows no password hash.
func TestFunctionsUpdateUsers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	ts.putFunction(t, "startTrial", `function handle(input)
  local u = backend.update("users", input.id, {trialEndsAt = backend.date("2026-02-01T00:00:00Z"), isPaid = false, plan = "trial"})
  local n = backend.update("users", {plan = "trial"}, {["$set"] = {reminded = false}})
  return {email = u.email, plan = u.plan, hash = u.password_hash, many = n}
end`, `[{"invoke": true}]`)
	before := len(ts.eventNames(t))
	res := ts.do(t, "POST", "/api/admin/functions/startTrial/run", `{"input":{"id":"`+alice.id+`"},"trigger":"schedule"}`, testAdminToken)
	if res.status != http.StatusOK || !strings.Contains(res.body, `"result":{"email":"alice@example.com","many":1,"plan":"trial"}`) {
		t.Fatalf("run: %d %s", res.status, res.body)
	}
	if got := ts.eventNames(t)[before:]; len(got) != 0 {
		t.Errorf("updating users fired %v", got)
	}
	if n, err := ts.Store().C("users").Count(context.Background(), nil); err != nil || n != 0 {
		t.Errorf("a users collection apart from the accounts: %d documents (%v)", n, err)
	}
	me := ts.do(t, "GET", "/api/auth/me", "", alice.token)
	for _, want := range []string{`"plan":"trial"`, `"trialEndsAt":{"$date":"2026-02-01T00:00:00.000Z"}`, `"isPaid":false`, `"reminded":false`} {
		if !strings.Contains(me.body, want) {
			t.Errorf("me lacks %s: %s", want, me.body)
		}
	}
}
