package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// eventDocs returns the events of name about collection, oldest first.
func (ts *testServer) eventDocs(t *testing.T, name, collection string) []bson.M {
	t.Helper()
	docs, err := ts.Store().C(db.Events).Find(context.Background(), bson.M{"name": name, "data.collection": collection},
		&db.FindOptions{Sort: bson.D{{Key: "depth", Value: 1}, {Key: "at", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// executions returns the recorded runs of fn, newest first, as the admin
// API shows them.
func (ts *testServer) executions(t *testing.T, fn string) []adminapi.Execution {
	t.Helper()
	res := ts.do(t, "GET", "/api/admin/functions/"+fn+"/executions?limit=100", "", testAdminToken)
	var ans struct {
		Executions []adminapi.Execution `json:"executions"`
	}
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &ans) != nil {
		t.Fatalf("executions of %s: %d %s", fn, res.status, res.body)
	}
	return ans.Executions
}

// A function's writes fire doc_* events with the run's user, the run as
// their cause and their depth in the chain.
func TestFunctionWritesFireEvents(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "checkout", map[string]any{"triggers": []any{map[string]any{"invoke": true}}, "source": `
function handle(input)
  local order = backend.create("orders", {total = input.total})
  backend.update("orders", order._id, {paid = true})
  backend.update("orders", {paid = true}, {shipped = true})
  backend.delete("orders", {shipped = true})
  return order._id
end`})
	alice := ts.register(t, "alice@example.com", "password123")
	res := ts.do(t, "POST", "/api/functions/checkout", `{"total":12}`, alice.token)
	if res.status != http.StatusOK {
		t.Fatalf("checkout: %d %s", res.status, res.body)
	}
	var orderID string
	if err := json.Unmarshal([]byte(res.body), &orderID); err != nil {
		t.Fatalf("checkout answer %s: %v", res.body, err)
	}
	run := ts.executions(t, "checkout")
	for _, s := range []struct {
		name string
		want int
	}{{events.DocCreated, 1}, {events.DocUpdated, 2}, {events.DocDeleted, 1}} {
		evs := ts.eventDocs(t, s.name, "orders")
		if len(evs) != s.want {
			t.Fatalf("%d %s events, want %d", len(evs), s.name, s.want)
		}
		for _, ev := range evs {
			data := ev["data"].(bson.M)
			user, _ := data["user"].(bson.M)
			if data["id"] != orderID || user["id"] != alice.id || ev["depth"] != int32(1) && ev["depth"] != int64(1) {
				t.Errorf("%s event = %v; want id %s, user %s, depth 1", s.name, ev, orderID, alice.id)
			}
			if len(run) == 0 || ev["cause"] != run[0].ID {
				t.Errorf("%s event's cause = %v, want the run's id", s.name, ev["cause"])
			}
		}
	}
	if doc := ts.eventDocs(t, events.DocDeleted, "orders")[0]["data"].(bson.M)["doc"].(bson.M); doc["shipped"] != true {
		t.Errorf("doc_deleted carries %v, want the deleted document", doc)
	}
}

// A function that updates the document whose doc_updated ran it loops:
// the chain stops at events.max_chain_depth, the last event recorded and
// not dispatched, and the run that caused it warns loop_stopped. A chain
// of two functions, each reacting to the other's write, completes.
func TestFunctionChainStopsAtTheDepthLimit(t *testing.T) {
	t.Parallel()
	cfg := eventsConfig(t)
	cfg.Events.MaxChainDepth = 4
	ts := startServer(t, cfg, Deps{})
	ts.saveFn(t, "bump", map[string]any{"triggers": []any{map[string]any{"event": "doc_updated", "collection": "counters"}}, "source": `
function handle(input)
  backend.update("counters", input.id, {n = input.doc.n + 1})
end`})
	ts.saveFn(t, "invoice", map[string]any{"triggers": []any{map[string]any{"event": "doc_created", "collection": "orders"}}, "source": `
function handle(input)
  backend.create("invoices", {order = input.id})
end`})
	ts.saveFn(t, "receipt", map[string]any{"triggers": []any{map[string]any{"event": "doc_created", "collection": "invoices"}}, "source": `
function handle(input)
  backend.create("receipts", {invoice = input.id, order = input.doc.order})
end`})
	alice := ts.register(t, "alice@example.com", "password123")

	// The two-step chain completes.
	res := ts.do(t, "POST", "/api/db/orders", `{"total":1}`, alice.token)
	if res.status != http.StatusCreated {
		t.Fatalf("create order: %d %s", res.status, res.body)
	}
	orderID := res.json(t)["_id"].(string)
	testsupport.WaitFor(t, "the receipt", func() bool { return len(ts.docs(t, "receipts", bson.M{"order": orderID})) == 1 })
	for col, depth := range map[string]int{"orders": 0, "invoices": 1, "receipts": 2} {
		evs := ts.eventDocs(t, events.DocCreated, col)
		if len(evs) != 1 || evs[0]["depth"] != int32(depth) && evs[0]["depth"] != int64(depth) || evs[0][events.LoopStopped] != nil {
			t.Errorf("doc_created on %s: %v, want one at depth %d", col, evs, depth)
		}
	}

	// The loop stops.
	res = ts.do(t, "POST", "/api/db/counters", `{"n":0}`, alice.token)
	if res.status != http.StatusCreated {
		t.Fatalf("create counter: %d %s", res.status, res.body)
	}
	id := res.json(t)["_id"].(string)
	if res := ts.do(t, "PATCH", "/api/db/counters/"+id, `{"n":1}`, alice.token); res.status != http.StatusOK {
		t.Fatalf("patch counter: %d %s", res.status, res.body)
	}
	const limit = 4
	testsupport.WaitFor(t, "the stopped event", func() bool {
		return len(ts.docs(t, db.Events, bson.M{"name": events.DocUpdated, events.LoopStopped: true})) == 1
	})
	testsupport.WaitFor(t, "every run of bump to end", func() bool {
		jobs := ts.jobsOf(t, "bump")
		return len(jobs[events.StatusPending])+len(jobs[events.StatusRunning]) == 0
	})
	// The client's update (depth 0) and one per run of bump, the last
	// past the limit.
	evs := ts.eventDocs(t, events.DocUpdated, "counters")
	if len(evs) != limit+2 {
		t.Fatalf("%d doc_updated events, want %d", len(evs), limit+2)
	}
	last := evs[len(evs)-1]
	if last["depth"] != int32(limit+1) && last["depth"] != int64(limit+1) || last[events.LoopStopped] != true {
		t.Errorf("last event %v, want depth %d, loop_stopped", last, limit+1)
	}
	// The admin API shows where the chain stopped.
	if res := ts.do(t, "GET", "/api/admin/events?name=doc_updated&limit=1", "", testAdminToken); !strings.Contains(res.body, fmt.Sprintf(`"depth":%d`, limit+1)) || !strings.Contains(res.body, `"loop_stopped":true`) {
		t.Errorf("newest doc_updated in the admin API: %s", res.body)
	}
	if n := len(ts.jobsOf(t, "bump")[events.StatusDone]); n != limit+1 {
		t.Errorf("bump ran %d times, want %d", n, limit+1)
	}
	if doc := ts.docs(t, "counters", nil)[0]; doc["n"] != int64(limit+2) {
		t.Errorf("counter n = %v, want %d", doc["n"], limit+2)
	}
	warned := 0
	testsupport.WaitFor(t, "bump's execution records", func() bool { return len(ts.executions(t, "bump")) == limit+1 })
	for _, ex := range ts.executions(t, "bump") {
		for _, l := range ex.Output {
			if l.Level == "warn" && strings.HasPrefix(l.Message, "loop_stopped") {
				warned++
				if ex.ID != last["cause"] {
					t.Errorf("the warning is on run %s, the stopped event's cause is %v", ex.ID, last["cause"])
				}
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d runs warn loop_stopped, want 1", warned)
	}
}
