package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db/embedded"
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
	waitFor(t, "the subscribed function to run", func() bool {
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
	waitFor(t, "the doc_created function to run", func() bool {
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
	ts := &testServer{Server: s, logs: &syncBuffer{}}
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
