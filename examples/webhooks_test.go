package examples_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// allowLocal lets functions and webhook deliveries reach the local test
// receivers and fake providers, and retries quickly.
func allowLocal(cfg *server.Config) {
	cfg.Functions.HTTP.AllowHosts = []string{"127.0.0.1"}
	cfg.Webhooks.BackoffBase = 20 * time.Millisecond
	cfg.Webhooks.BackoffMax = 100 * time.Millisecond
}

func (s *testServer) secret(t *testing.T, name, value string) {
	t.Helper()
	if res := s.admin(t, "PUT", "/api/admin/secrets/"+name, map[string]string{"value": value}); res.Status != http.StatusNoContent {
		t.Fatalf("secret %s: %d %s", name, res.Status, res.Body)
	}
}

// post sends a raw body signed by scheme (none when scheme is "") to path,
// as the provider would.
func (s *testServer) post(t *testing.T, scheme, secret, path, contentType, body string, opts webhooks.Options) response {
	t.Helper()
	r := webhooks.Request{URL: s.URL() + path, Header: http.Header{"Content-Type": {contentType}}, Body: []byte(body)}
	r.Header.Set("webhook-id", "msg_test")
	if scheme != "" {
		if err := webhooks.Sign(scheme, &r, secret, opts); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest("POST", r.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

// Scenario 11: the Stripe handler answers as the guide asks, and a failed
// event is processed on the sender's retry.
func TestStripeWebhook(t *testing.T) {
	s := startServer(t, allowLocal)
	s.deploy(t, "stripeWebhook")
	s.secret(t, "STRIPE_WEBHOOK_SECRET", "whsec_example")
	s.insert(t, "subscriptions", map[string]any{"_id": "sub_1", "customer": "cus_1", "status": "past_due"})
	event := func(id, customer string) string {
		return fmt.Sprintf(`{"id":%q,"type":"invoice.paid","data":{"object":{"customer":%q,"period_end":1767225600}}}`, id, customer)
	}
	if res := s.do(t, "GET", "/functions/stripeWebhook", nil, ""); res.Status != 405 || res.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d %v", res.Status, res.Header)
	}
	scenarios := []struct {
		name, secret, body string
		status             int
		answer             string
	}{
		{"unsigned", "", event("evt_1", "cus_1"), 400, "Invalid signature"},
		{"forged", "whsec_forged", event("evt_1", "cus_1"), 400, "Invalid signature"},
		{"paid", "whsec_example", event("evt_1", "cus_1"), 200, "OK"},
		{"retried", "whsec_example", event("evt_1", "cus_1"), 200, "Already processed"},
		{"unknown customer fails", "whsec_example", event("evt_2", "cus_2"), 500, "Processing error"},
	}
	for _, sc := range scenarios {
		scheme := "stripe"
		if sc.secret == "" {
			scheme = ""
		}
		res := s.post(t, scheme, sc.secret, "/functions/stripeWebhook", "application/json", sc.body, webhooks.Options{})
		if res.Status != sc.status || res.Body != sc.answer {
			t.Fatalf("%s: %d %s, want %d %s", sc.name, res.Status, res.Body, sc.status, sc.answer)
		}
	}
	if sub := s.docs(t, "subscriptions", map[string]any{"_id": "sub_1"})[0]; sub["status"] != "active" {
		t.Fatalf("subscription = %v", sub)
	}
	failed := s.docs(t, "webhook_log", map[string]any{"event_id": "evt_2"})
	if len(failed) != 1 || failed[0]["status"] != "failed" || !strings.Contains(failed[0]["error"].(string), "no subscription for customer cus_2") {
		t.Fatalf("failed entry = %v", failed)
	}
	s.insert(t, "subscriptions", map[string]any{"_id": "sub_2", "customer": "cus_2", "status": "past_due"})
	if res := s.post(t, "stripe", "whsec_example", "/functions/stripeWebhook", "application/json", event("evt_2", "cus_2"), webhooks.Options{}); res.Status != 200 {
		t.Fatalf("the sender's retry: %d %s", res.Status, res.Body)
	}
	if e := s.docs(t, "webhook_log", map[string]any{"event_id": "evt_2"}); len(e) != 1 || e[0]["status"] != "processed" {
		t.Fatalf("after the retry: %v", e)
	}
	// Every request is in the raw-request log with its body.
	res := s.admin(t, "GET", "/api/admin/inbound?function=stripeWebhook&status=5xx", nil)
	if !strings.Contains(res.Body, `evt_2`) {
		t.Fatalf("inbound log: %s", res.Body)
	}
}

// fakeStripe is a local stand-in for the provider's events API: its events
// served 100 a page with has_more and starting_after.
func fakeStripe(t *testing.T, key string, events []map[string]any) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/events" || r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"error":"unauthorized"}`, 401)
			return
		}
		since, _ := strconv.ParseInt(r.URL.Query().Get("created[gte]"), 10, 64)
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			for i, e := range events {
				if e["id"] == after {
					start = i + 1
				}
			}
		}
		var page []map[string]any
		i := start
		for ; i < len(events) && len(page) < 100; i++ {
			if events[i]["created"].(int64) >= since {
				page = append(page, events[i])
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": page, "has_more": i < len(events)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Scenario 12: the hourly reconciliation applies, page by page, the
// events the webhook never delivered, once.
func TestReconcileStripe(t *testing.T) {
	s := startServer(t, allowLocal)
	s.deploy(t, "stripeWebhook", "reconcileStripe")
	now := time.Now().Unix()
	var events []map[string]any
	for i := range 150 {
		cus := fmt.Sprintf("cus_%d", i)
		s.insert(t, "subscriptions", map[string]any{"_id": "sub_" + cus, "customer": cus, "status": "past_due"})
		events = append(events, map[string]any{"id": fmt.Sprintf("evt_%03d", i), "type": "invoice.paid", "created": now - int64(i),
			"data": map[string]any{"object": map[string]any{"customer": cus}}})
	}
	// Ten of them were delivered by the webhook already.
	for i := range 10 {
		s.insert(t, "webhook_log", map[string]any{"event_id": fmt.Sprintf("evt_%03d", i), "status": "processed", "source": "webhook"})
	}
	provider := fakeStripe(t, "sk_test", events)
	s.secret(t, "STRIPE_SECRET_KEY", "sk_test")
	s.secret(t, "STRIPE_API", provider.URL)
	runs := func() []any {
		res := s.admin(t, "GET", "/api/admin/functions/reconcileStripe/executions", nil)
		return res.Map(t)["executions"].([]any)
	}
	for run := 1; run <= 2; run++ {
		res := s.admin(t, "POST", "/api/admin/schedules/reconcileStripe/run", nil)
		if res.Status != 200 && res.Status != 202 {
			t.Fatalf("run: %d %s", res.Status, res.Body)
		}
		testsupport.WaitForWithin(t, exampleWait, "the reconciliation", func() bool { return len(runs()) == run })
	}
	for i, want := range []string{"reconciled 150 events, recovered 0", "reconciled 150 events, recovered 140"} {
		if b, _ := json.Marshal(runs()[i]); !strings.Contains(string(b), want) || !strings.Contains(string(b), `"status":"ok"`) {
			t.Fatalf("run %d: %s, want %s", 2-i, b, want)
		}
	}
	if n := len(s.docs(t, "subscriptions", map[string]any{"status": "active"})); n != 140 {
		t.Fatalf("%d subscriptions active, want the 140 recovered", n)
	}
	if n := len(s.docs(t, "webhook_log", nil)); n != 150 {
		t.Fatalf("%d log entries, want 150: a second run recovered something twice", n)
	}
}

// Scenario 13: every signature scheme, signed as each provider signs.
func TestVerifyWebhookSchemes(t *testing.T) {
	s := startServer(t, allowLocal)
	s.deploy(t, "verifyWebhook")
	secrets := map[string]string{
		"stripe": "whsec_stripe", "github": "gh-secret", "slack": "slack-secret", "twilio": "twilio-token",
		"shopify": "shopify-secret", "standard": webhooks.NewSecret(), "hmac-sha256": "acme-shared",
	}
	for scheme, secret := range secrets {
		s.secret(t, "WEBHOOK_SECRET_"+strings.ToUpper(strings.ReplaceAll(scheme, "-", "_")), secret)
	}
	for scheme, secret := range secrets {
		t.Run(scheme, func(t *testing.T) {
			path := "/functions/verifyWebhook/" + scheme
			ct, body := "application/json", `{"id":"evt_1","kind":"test"}`
			want := `"id":"evt_1"`
			if scheme == "twilio" || scheme == "slack" {
				ct, body, want = "application/x-www-form-urlencoded", url.Values{"From": {"+15550001"}, "id": {"evt_1"}}.Encode(), `"From":"+15550001"`
			}
			opts := webhooks.Options{}
			if scheme == "hmac-sha256" {
				opts = webhooks.Options{Header: "X-Acme-Signature", TimestampHeader: "X-Acme-Timestamp"}
			}
			res := s.post(t, scheme, secret, path, ct, body, opts)
			if res.Status != 200 || !strings.Contains(res.Body, want) {
				t.Fatalf("signed: %d %s", res.Status, res.Body)
			}
			wrong := secret + "-wrong"
			if scheme == "standard" {
				wrong = webhooks.NewSecret()
			}
			res = s.post(t, scheme, wrong, path, ct, body, opts)
			if res.Status != 400 || !strings.Contains(res.Body, "bad signature") {
				t.Fatalf("wrong secret: %d %s", res.Status, res.Body)
			}
			res = s.post(t, "", "", path, ct, body, opts)
			if res.Status != 400 || !strings.Contains(res.Body, "missing header") {
				t.Fatalf("unsigned: %d %s", res.Status, res.Body)
			}
		})
	}
}

// receiver is a customer's webhook endpoint on this machine.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []webhooks.Request
	status int
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, webhooks.Request{Header: req.Header.Clone(), Body: body})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []webhooks.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhooks.Request(nil), r.got...)
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = s
}

// Scenarios 14 to 16: customer endpoints get signed, versioned deliveries
// from the queue; a dead receiver's deliveries die after their attempts,
// alert the operators, and are replayed once it is back; a partner gets a
// one-off signed delivery.
func TestShipOrderWebhooks(t *testing.T) {
	s := startServer(t, allowLocal)
	s.deploy(t, "shipOrder", "webhookAlerts")
	oldFormat, newFormat, partner := newReceiver(t, 200), newReceiver(t, 204), newReceiver(t, 200)
	down := newReceiver(t, 503)
	secrets := map[*receiver]string{}
	ids := map[*receiver]string{}
	for _, e := range []struct {
		r       *receiver
		version int
		retries int
	}{{oldFormat, 1, 0}, {newFormat, 2, 0}, {down, 2, 2}} {
		body := map[string]any{"url": e.r.URL + "/hooks", "events": []string{"order.*"}, "version": e.version}
		if e.retries > 0 {
			body["max_attempts"] = e.retries
		}
		res := s.admin(t, "POST", "/api/admin/webhooks/endpoints", body)
		if res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		ep := res.Map(t)["endpoint"].(map[string]any)
		secrets[e.r], ids[e.r] = ep["secret"].(string), ep["id"].(string)
	}
	partnerSecret := webhooks.NewSecret()
	s.secret(t, "PARTNER_URL", partner.URL)
	s.secret(t, "PARTNER_SECRET", partnerSecret)
	s.secret(t, "OPS_EMAIL", "ops@example.com")
	s.insert(t, "orders", map[string]any{"_id": "ord_1", "carrier": "UPS", "tracking": "1Z999"})
	if res := s.do(t, "POST", "/api/events", map[string]any{"name": "order_shipped", "data": map[string]any{"orderId": "ord_1"}}, s.register(t, "shop@example.com", "Shop").Token); res.Status != 202 {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}
	testsupport.WaitForWithin(t, exampleWait, "the deliveries", func() bool {
		return len(oldFormat.requests()) == 1 && len(newFormat.requests()) == 1 && len(partner.requests()) == 1
	})
	for r, want := range map[*receiver]string{oldFormat: `"data":{"order_id":"ord_1","tracking_number":"1Z999"}`, newFormat: `"data":{"order":{"carrier":"UPS","id":"ord_1","tracking":"1Z999"}}`} {
		got := r.requests()[0]
		if !strings.Contains(string(got.Body), want) {
			t.Errorf("body %s, want %s", got.Body, want)
		}
		if err := webhooks.Verify("standard", got, secrets[r], webhooks.Options{}); err != nil {
			t.Errorf("the customer cannot verify the delivery: %v", err)
		}
	}
	if err := webhooks.Verify("standard", partner.requests()[0], partnerSecret, webhooks.Options{}); err != nil {
		t.Errorf("the partner cannot verify: %v", err)
	}
	// The receiver that is down: dead after its 2 attempts, the operators
	// emailed, and replayed once it answers again.
	var dead string
	testsupport.WaitForWithin(t, exampleWait, "the dead delivery", func() bool {
		res := s.admin(t, "GET", "/api/admin/webhooks/deliveries?status=dead&endpoint="+ids[down], nil)
		ds := res.Map(t)["deliveries"].([]any)
		if len(ds) == 1 {
			dead = ds[0].(map[string]any)["id"].(string)
		}
		return dead != ""
	})
	attempts := s.admin(t, "GET", "/api/admin/webhooks/deliveries/"+dead+"/attempts", nil)
	if n := len(attempts.Map(t)["attempts"].([]any)); n != 2 || !strings.Contains(attempts.Body, `"status":503`) {
		t.Fatalf("attempts: %s", attempts.Body)
	}
	mails := s.waitForOutbox(t, 1)
	if !strings.Contains(mails[0].Subject, "Webhook delivery dead: order.shipped") || !strings.Contains(mails[0].Text, dead) {
		t.Fatalf("alert = %+v", mails[0])
	}
	down.setStatus(200)
	if res := s.admin(t, "POST", "/api/admin/webhooks/endpoints/"+ids[down]+"/replay", map[string]string{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}); !strings.Contains(res.Body, `"replayed":1`) {
		t.Fatalf("replay: %d %s", res.Status, res.Body)
	}
	testsupport.WaitForWithin(t, exampleWait, "the replayed delivery", func() bool {
		res := s.admin(t, "GET", "/api/admin/webhooks/deliveries/"+dead, nil)
		return strings.Contains(res.Body, `"status":"delivered"`)
	})
	reqs := down.requests()
	if reqs[0].Header.Get("webhook-id") != reqs[len(reqs)-1].Header.Get("webhook-id") {
		t.Fatalf("the replay changed the webhook-id")
	}
}
