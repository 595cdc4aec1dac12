package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// hookReceiver is a local receiver of outbound webhooks.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []webhooks.Request
}

func newHookReceiver(t *testing.T, status int) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, webhooks.Request{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) requests() []webhooks.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhooks.Request(nil), r.got...)
}

func webhookConfig(t *testing.T, allowLoopback bool) Config {
	cfg := testConfig(t)
	if allowLoopback {
		cfg.Functions.HTTP.AllowHosts = []string{"127.0.0.1"}
	}
	cfg.Webhooks.BackoffBase = 20 * time.Millisecond
	cfg.Webhooks.BackoffMax = 100 * time.Millisecond
	cfg.Events.PollInterval = 20 * time.Millisecond
	return cfg
}

// TestWebhooksAdminApi walks the admin routes of outbound webhooks: an
// endpoint created with its secret shown once, a message emitted and
// delivered signed, its deliveries and attempts listed, replayed, the
// endpoint rotated, disabled, deleted; and bad input answered 400.
func TestWebhooksAdminApi(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	recv := newHookReceiver(t, 200)
	vars := map[string]string{"admin": testAdminToken, "url": recv.URL + "/hooks"}
	scenarios := []scenario{
		{name: "needs the admin token", method: "GET", path: "/api/admin/webhooks/endpoints", wantStatus: 401},
		{name: "create", method: "POST", path: "/api/admin/webhooks/endpoints", token: "admin",
			body:       `{"url":"{url}","events":["order.*"],"description":"shop","metadata":{"tenant":"acme"}}`,
			wantStatus: 201, wantContent: []string{`"secret":"whsec_`, `"tenant":"acme"`, `"version":1`},
			after: func(t *testing.T, res response, vars map[string]string) {
				ep := res.json(t)["endpoint"].(map[string]any)
				vars["ep"], vars["secret"] = ep["id"].(string), ep["secret"].(string)
			}},
		{name: "get hides the secret", method: "GET", path: "/api/admin/webhooks/endpoints/{ep}", token: "admin",
			wantStatus: 200, wantContent: []string{`"id":"{ep}"`}, notContent: []string{"whsec_"}},
		{name: "list", method: "GET", path: "/api/admin/webhooks/endpoints?limit=10", token: "admin",
			wantStatus: 200, wantContent: []string{`"id":"{ep}"`, `"next":""`}, notContent: []string{"whsec_"}},
		{name: "bad url", method: "POST", path: "/api/admin/webhooks/endpoints", token: "admin",
			body: `{"url":"not a url","events":["*"]}`, wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "absolute http or https"}},
		{name: "bad filter", method: "POST", path: "/api/admin/webhooks/endpoints", token: "admin",
			body: `{"url":"{url}","events":["order.[a-z]+"]}`, wantStatus: 400, wantContent: []string{"event filter"}},
		{name: "unknown field", method: "POST", path: "/api/admin/webhooks/endpoints", token: "admin",
			body: `{"url":"{url}","events":["*"],"secret":"mine"}`, wantStatus: 400, wantContent: []string{"unknown field secret"}},
		{name: "malformed JSON", method: "POST", path: "/api/admin/webhooks/endpoints", token: "admin",
			body: `{"url":`, wantStatus: 400},
		{name: "emit", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"type":"order.paid","payload":{"id":42}}`, wantStatus: 202, wantContent: []string{`"deliveries":1`},
			after: func(t *testing.T, res response, vars map[string]string) {
				vars["msg"] = res.json(t)["message"].(map[string]any)["id"].(string)
			}},
		{name: "emit without type", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"payload":{}}`, wantStatus: 400, wantContent: []string{"type is required"}},
		{name: "emit a bad type", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"type":"no spaces allowed","payload":{}}`, wantStatus: 400, wantContent: []string{"event type"}},
		{name: "emit a bad version", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"type":"a","payload":{},"versions":{"two":{}}}`, wantStatus: 400, wantContent: []string{"versions"}},
		{name: "emit over the cap", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"type":"a","payload":"` + strings.Repeat("x", webhooks.DefaultMaxPayloadBytes) + `"}`, wantStatus: 400,
			wantContent: []string{`"code":"payload_too_large"`}},
	}
	runScenarios(t, ts, vars, scenarios)
	var delivery string
	testsupport.WaitFor(t, "the delivery", func() bool {
		res := ts.do(t, "GET", "/api/admin/webhooks/deliveries?status=delivered&endpoint="+vars["ep"], "", testAdminToken)
		ds := res.json(t)["deliveries"].([]any)
		if len(ds) == 1 {
			delivery = ds[0].(map[string]any)["id"].(string)
		}
		return delivery != ""
	})
	got := recv.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests", len(got))
	}
	if err := webhooks.Verify("standard", got[0], vars["secret"], webhooks.Options{}); err != nil {
		t.Fatalf("delivery does not verify: %v", err)
	}
	vars["dlv"] = delivery
	runScenarios(t, ts, vars, []scenario{
		{name: "messages", method: "GET", path: "/api/admin/webhooks/messages?type=order.paid", token: "admin",
			wantStatus: 200, wantContent: []string{`"id":"{msg}"`, `"id":42`}},
		{name: "attempts", method: "GET", path: "/api/admin/webhooks/deliveries/{dlv}/attempts", token: "admin",
			wantStatus: 200, wantContent: []string{`"status":200`, `"response_body":"thanks"`, `"duration_ms"`}},
		{name: "bad status filter", method: "GET", path: "/api/admin/webhooks/deliveries?status=lost", token: "admin",
			wantStatus: 400, wantContent: []string{"pending, delivered or dead"}},
		{name: "unknown delivery", method: "GET", path: "/api/admin/webhooks/deliveries/dlv_nope/attempts", token: "admin", wantStatus: 404},
		{name: "replay", method: "POST", path: "/api/admin/webhooks/deliveries/{dlv}/replay", token: "admin",
			wantStatus: 200, wantContent: []string{`"status":"pending"`, `"replays":1`}},
		{name: "replay since, bad time", method: "POST", path: "/api/admin/webhooks/endpoints/{ep}/replay", token: "admin",
			body: `{"since":"yesterday"}`, wantStatus: 400, wantContent: []string{"since"}},
		{name: "replay since", method: "POST", path: "/api/admin/webhooks/endpoints/{ep}/replay", token: "admin",
			body: `{"since":"2020-01-01T00:00:00Z"}`, wantStatus: 200, wantContent: []string{`"replayed":0`}},
		{name: "rotate", method: "POST", path: "/api/admin/webhooks/endpoints/{ep}/rotate", token: "admin",
			wantStatus: 200, wantContent: []string{`"secret":"whsec_`, `"previous_secret_until"`}, notContent: []string{"{secret}"}},
		{name: "update", method: "PATCH", path: "/api/admin/webhooks/endpoints/{ep}", token: "admin",
			body: `{"version":2,"rate_limit":5}`, wantStatus: 200, wantContent: []string{`"version":2`, `"rate_limit":5`}},
		{name: "disable", method: "POST", path: "/api/admin/webhooks/endpoints/{ep}/disable", token: "admin",
			wantStatus: 200, wantContent: []string{`"disabled":true`, "disabled by an admin"}},
		{name: "emit skips a disabled endpoint", method: "POST", path: "/api/admin/webhooks/emit", token: "admin",
			body: `{"type":"order.paid","payload":{}}`, wantStatus: 202, wantContent: []string{`"deliveries":0`}},
		{name: "enable", method: "POST", path: "/api/admin/webhooks/endpoints/{ep}/enable", token: "admin",
			wantStatus: 200, wantContent: []string{`"disabled":false`}},
		{name: "delete", method: "DELETE", path: "/api/admin/webhooks/endpoints/{ep}", token: "admin", wantStatus: 204},
		{name: "deleted", method: "GET", path: "/api/admin/webhooks/endpoints/{ep}", token: "admin", wantStatus: 404,
			wantContent: []string{`"code":"not_found"`}},
	})
	testsupport.WaitFor(t, "the replayed delivery", func() bool { return len(recv.requests()) == 2 })
	if a, b := recv.requests()[0].Header.Get("webhook-id"), recv.requests()[1].Header.Get("webhook-id"); a != b {
		t.Fatalf("a replay carries webhook-id %q, the first delivery %q", b, a)
	}
}

// TestWebhookURLGuard checks that endpoints pointing at loopback are
// refused unless functions.http.allow_hosts allows them: at creation for
// an address, and at connect time for an endpoint saved while it was
// allowed.
func TestWebhookURLGuard(t *testing.T) {
	recv := newHookReceiver(t, 200)
	cfg := webhookConfig(t, true)
	ts := startServer(t, cfg, Deps{})
	res := ts.do(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+recv.URL+`","events":["*"]}`, testAdminToken)
	if res.status != 201 {
		t.Fatalf("create with 127.0.0.1 allowed: %d %s", res.status, res.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	strict := cfg
	strict.Functions.HTTP.AllowHosts = nil
	strict.Webhooks.MaxAttempts = 1
	ts2 := startServer(t, strict, Deps{})
	for _, u := range []string{recv.URL, "http://localhost:9/x", "http://[::1]:9/"} {
		res := ts2.do(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+u+`","events":["*"]}`, testAdminToken)
		if res.status != 400 || !strings.Contains(res.body, "loopback") || !strings.Contains(res.body, "allow_hosts") {
			t.Fatalf("create %s without allow_hosts: %d %s", u, res.status, res.body)
		}
	}
	res = ts2.do(t, "POST", "/api/admin/webhooks/emit", `{"type":"ping","payload":{}}`, testAdminToken)
	if res.status != 202 {
		t.Fatalf("emit: %d %s", res.status, res.body)
	}
	var dead map[string]any
	testsupport.WaitFor(t, "the refused delivery to die", func() bool {
		res := ts2.do(t, "GET", "/api/admin/webhooks/deliveries?status=dead", "", testAdminToken)
		ds := res.json(t)["deliveries"].([]any)
		if len(ds) == 1 {
			dead = ds[0].(map[string]any)
		}
		return dead != nil
	})
	if !strings.Contains(dead["last_error"].(string), "refusing to connect to 127.0.0.1") {
		t.Fatalf("last_error = %v", dead["last_error"])
	}
	if n := len(recv.requests()); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}
	testsupport.WaitFor(t, "webhook_dead", func() bool { return slices.Contains(ts2.eventNames(t), "webhook_dead") })
	b, _ := json.Marshal(ts2.lastEvent(t, "webhook_dead"))
	if !strings.Contains(string(b), dead["id"].(string)) {
		t.Fatalf("webhook_dead = %s", b)
	}
}
