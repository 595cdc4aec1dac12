package examples_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

// The tests of the event examples (scenarios 5 to 7) cause the event the
// way an app does (signing up, writing a document, publishEvent) and
// check what the subscribed function did once the queue ran it.

// Scenario 5: a new user gets "Welcome!" at the address they signed up
// with, once; signing in again sends nothing.
func TestWelcomeEmail(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "welcomeEmail")
	ada := s.register(t, "ada@example.com", "Ada Lovelace")
	s.waitJobs(t, "welcomeEmail", 1)
	msgs := s.waitMails(t, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "ada@example.com" || msgs[0].Subject != "Welcome!" ||
		!strings.HasPrefix(msgs[0].Text, "Hi Ada Lovelace,\n\nthanks for signing up.") || !strings.HasPrefix(msgs[0].HTML, "<p>Hi Ada Lovelace,</p>") {
		t.Errorf("emails %+v", msgs)
	}
	if res := s.do(t, "POST", "/api/auth/login", map[string]string{"email": ada.Email, "password": "password of " + ada.Email}, ""); res.Status != http.StatusOK {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	// A replay of the delivery, as an operator might do, is recognised.
	id := s.jobsOf(t, "welcomeEmail")[0].ID
	if res := s.admin(t, "POST", "/api/admin/jobs/"+id+"/replay", nil); res.Status != http.StatusOK {
		t.Fatalf("replay: %d %s", res.Status, res.Body)
	}
	s.waitJobs(t, "welcomeEmail", 1)
	if jobs := s.jobsOf(t, "email"); len(jobs) != 1 {
		t.Errorf("email jobs after a login and a replay: %+v", jobs)
	}
}

// Scenario 6: every document created through the data API is logged with
// who created what, once per event; each user's first creation is
// congratulated by email.
func TestActivityLog(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "activityLog")
	alice := s.register(t, "alice@example.com", "Alice")
	bob := s.register(t, "bob@example.com", "Bob")
	created := map[string]string{} // document id → "user/collection"
	for _, w := range []struct {
		u   user
		col string
	}{{alice, "notes"}, {alice, "notes"}, {alice, "tasks"}, {bob, "notes"}} {
		res := s.do(t, "POST", "/api/db/"+w.col, map[string]any{"text": "hello"}, w.u.Token)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		created[res.Map(t)["_id"].(string)] = w.u.ID + "/" + w.col
	}
	// One run per document, and one per activity record, which it skips.
	s.waitJobs(t, "activityLog", 8)
	activity := s.docs(t, "activity", nil)
	if len(activity) != 4 {
		t.Fatalf("activity %v", activity)
	}
	for _, a := range activity {
		id, _ := a["docId"].(string)
		if want := created[id]; want == "" || a["user"].(string)+"/"+a["collection"].(string) != want || a["action"] != "created" || a["at"] == nil {
			t.Errorf("activity %v, want %s", a, want)
		}
	}

	// Replaying a delivery records nothing twice.
	id := s.jobsOf(t, "activityLog")[0].ID
	if res := s.admin(t, "POST", "/api/admin/jobs/"+id+"/replay", nil); res.Status != http.StatusOK {
		t.Fatalf("replay: %d %s", res.Status, res.Body)
	}
	s.waitJobs(t, "activityLog", 8)
	if n := len(s.docs(t, "activity", nil)); n != 4 {
		t.Errorf("%d activity records after a replay", n)
	}

	msgs := s.waitMails(t, 2)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To[0])
		if !strings.HasPrefix(m.Subject, "You created your first ") {
			t.Errorf("email %+v", m)
		}
	}
	slices.Sort(to)
	if strings.Join(to, ",") != "alice@example.com,bob@example.com" {
		t.Errorf("congratulated %v", to)
	}
}

// Scenario 7: the app saves an order and publishes order_placed; the
// function confirms it, takes the items out of stock and emails the
// customer, and does none of it twice. An order that cannot be served is
// rejected and the customer told.
func TestProcessOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "processOrder")
	s.insert(t, "inventory",
		map[string]any{"sku": "lamp", "stock": 5},
		map[string]any{"sku": "bulb", "stock": 1},
	)
	alice := s.register(t, "alice@example.com", "Alice")
	placeOrder := func(id int, items ...map[string]any) {
		t.Helper()
		res := s.do(t, "POST", "/api/db/orders", map[string]any{"orderId": id, "items": items, "status": "placed"}, alice.Token)
		if res.Status != http.StatusCreated {
			t.Fatalf("save order: %d %s", res.Status, res.Body)
		}
		// publishEvent('order_placed', {orderId = id})
		res = s.do(t, "POST", "/api/events", map[string]any{"name": "order_placed", "data": map[string]any{"orderId": id}}, alice.Token)
		if res.Status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", res.Status, res.Body)
		}
	}
	stock := func() map[string]any {
		out := map[string]any{}
		for _, d := range s.docs(t, "inventory", nil) {
			out[d["sku"].(string)] = d["stock"]
		}
		return out
	}
	order := func(id int) map[string]any {
		return s.docs(t, "orders", map[string]any{"orderId": id})[0]
	}

	placeOrder(123, map[string]any{"sku": "lamp", "qty": 2, "price": 30}, map[string]any{"sku": "bulb", "qty": 1, "price": 4.5})
	s.waitJobs(t, "processOrder", 1)
	msgs := s.waitMails(t, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "alice@example.com" || msgs[0].Subject != "Order #123 confirmed" ||
		msgs[0].Text != "Thanks for your order!\n2 x lamp\n1 x bulb\nTotal: 64.50" || !strings.Contains(msgs[0].HTML, "2 x lamp<br>1 x bulb") {
		t.Errorf("emails %+v", msgs)
	}
	if o := order(123); o["status"] != "confirmed" || o["total"] != 64.5 {
		t.Errorf("order %v", o)
	}
	if st := stock(); st["lamp"] != int64(3) || st["bulb"] != int64(0) {
		t.Errorf("stock %v", st)
	}

	// The same event again (a client retrying its publish): nothing more.
	res := s.do(t, "POST", "/api/events", map[string]any{"name": "order_placed", "data": map[string]any{"orderId": 123}}, alice.Token)
	if res.Status != http.StatusAccepted {
		t.Fatalf("publish again: %d %s", res.Status, res.Body)
	}
	s.waitJobs(t, "processOrder", 2)
	if st := stock(); st["lamp"] != int64(3) || st["bulb"] != int64(0) {
		t.Errorf("stock after a second event %v", st)
	}

	// Out of stock: rejected, and told so.
	placeOrder(124, map[string]any{"sku": "bulb", "qty": 1, "price": 4.5})
	s.waitJobs(t, "processOrder", 3)
	msgs = s.waitMails(t, 2)
	if len(msgs) != 2 || msgs[0].Subject != "Order #124 could not be fulfilled" || msgs[0].Text != "Sorry, bulb is out of stock. You have not been charged." {
		t.Errorf("emails %+v", msgs)
	}
	if o := order(124); o["status"] != "rejected" || o["reason"] != "out of stock: bulb" {
		t.Errorf("order %v", o)
	}
	if jobs := s.jobsOf(t, "email"); len(jobs) != 2 {
		t.Errorf("email jobs %+v", jobs)
	}
}

// Scenario 15's policy as configuration: notifyWarehouse's function.yaml
// (retries 7, backoff 60s to 24h) decides how a failed delivery is
// retried. The warehouse is down for the first attempt: the job then
// waits about a minute for its second of eight attempts.
func TestNotifyWarehouseRetryPolicy(t *testing.T) {
	t.Parallel()
	type delivery struct {
		key  string
		body map[string]any
	}
	got := make(chan delivery, 4)
	warehouse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- delivery{r.Header.Get("Idempotency-Key"), body}
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(warehouse.Close)
	host := strings.TrimPrefix(warehouse.URL, "http://")
	s := startServer(t, func(cfg *server.Config) { cfg.Functions.HTTP.AllowHosts = []string{host} })
	s.setSecret(t, "WAREHOUSE_URL", warehouse.URL+"/orders")
	s.deploy(t, "notifyWarehouse")
	alice := s.register(t, "alice@example.com", "Alice")
	res := s.do(t, "POST", "/api/events", map[string]any{"name": "order_placed", "data": map[string]any{"orderId": 123}}, alice.Token)
	if res.Status != http.StatusAccepted {
		t.Fatalf("publishEvent: %d %s", res.Status, res.Body)
	}
	eventID := res.Map(t)["id"].(string)

	var d delivery
	select {
	case d = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the warehouse heard nothing")
	}
	if d.key != eventID || d.body["orderId"] != float64(123) || d.body["placedBy"] != alice.ID || d.body["attempt"] != float64(1) {
		t.Errorf("the warehouse got %+v", d)
	}

	type failed struct {
		Attempt int
		At      time.Time
		RetryAt time.Time `json:"retry_at"`
		Error   string
	}
	var jobs struct {
		Jobs []struct {
			Status      string
			MaxAttempts int `json:"max_attempts"`
			Backoff     map[string]string
			Errors      []failed
		}
	}
	testsupport.WaitForWithin(t, exampleWait, "the first attempt to be recorded as failed", func() bool {
		s.admin(t, "GET", "/api/admin/jobs?status=pending", nil).JSON(t, &jobs)
		return len(jobs.Jobs) == 1 && len(jobs.Jobs[0].Errors) == 1
	})
	j := jobs.Jobs[0]
	if j.MaxAttempts != 8 || j.Backoff["initial"] != "1m0s" || j.Backoff["max"] != "24h0m0s" {
		t.Errorf("the job: %d attempts, backoff %v; want 8 and 1m0s to 24h0m0s", j.MaxAttempts, j.Backoff)
	}
	e := j.Errors[0]
	if wait := e.RetryAt.Sub(e.At); wait < 45*time.Second || wait > time.Minute {
		t.Errorf("the second attempt is due %s after the first failed, want 45s to 60s", wait)
	}
	if !strings.Contains(e.Error, "the warehouse answered 503: down for maintenance") {
		t.Errorf("the attempt's error %q", e.Error)
	}
	select {
	case again := <-got:
		t.Errorf("the warehouse was asked again at once: %+v", again)
	default:
	}
}
