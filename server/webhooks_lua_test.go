package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// signedPost sends body to path signed by scheme with secret, as the
// sender would; mod may change the request before it is signed.
func (ts *testServer) signedPost(t *testing.T, scheme, secret, path, contentType, body string, extra ...string) response {
	t.Helper()
	r := webhooks.Request{Method: "POST", URL: ts.URL() + path, Header: http.Header{"Content-Type": {contentType}}, Body: []byte(body)}
	if scheme != "" {
		if err := webhooks.Sign(scheme, &r, secret, webhooks.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	hs := []string{"Content-Type", contentType}
	for k := range r.Header {
		hs = append(hs, k, r.Header.Get(k))
	}
	return ts.do(t, "POST", path, body, "", append(hs, extra...)...)
}

const stripeHandler = `
function handle(input)
  local ok, event = pcall(backend.webhooks.verify, "stripe", input, backend.env("STRIPE_WEBHOOK_SECRET"))
  if not ok then return backend.response(400, "Invalid signature: " .. event) end
  if backend.webhooks.seen(event.id) then return backend.response(200, "Already processed") end
  if event.type == "flaky" and backend.asServiceRole.get("flags", "ok") == nil then
    backend.asServiceRole.create("attempts", {event = event.id})
    return backend.response(500, "Processing error")
  end
  backend.asServiceRole.create("processed", {event = event.id})
  return "OK"
end`

// TestVerifyAndSeenInFunctions runs scenario 11 through a function: a
// Stripe webhook verified, processed once however often it is retried,
// and processed again after a failed run.
func TestVerifyAndSeenInFunctions(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	saveFunctionAt(t, ts.URL(), "stripeWebhook", map[string]any{"triggers": []any{map[string]any{"http": true}}, "source": stripeHandler})
	if res := ts.do(t, "PUT", "/api/admin/secrets/STRIPE_WEBHOOK_SECRET", `{"value":"whsec_test"}`, testAdminToken); res.status != 204 {
		t.Fatalf("secret: %d %s", res.status, res.body)
	}
	const path = "/functions/stripeWebhook"
	paid := `{"id":"evt_1","type":"invoice.paid"}`
	scenarios := []struct {
		name, scheme, secret, body string
		extra                      []string
		status                     int
		says                       string
	}{
		{"unsigned", "", "", paid, nil, 400, "missing header: Stripe-Signature"},
		{"wrong secret", "stripe", "whsec_other", paid, nil, 400, "bad signature"},
		{"stale", "stripe", "whsec_test", paid, []string{"Stripe-Signature", "t=1600000000,v1=00"}, 400, "timestamp outside tolerance"},
		{"valid", "stripe", "whsec_test", paid, nil, 200, "OK"},
		{"retried", "stripe", "whsec_test", paid, nil, 200, "Already processed"},
		{"fails", "stripe", "whsec_test", `{"id":"evt_2","type":"flaky"}`, nil, 500, "Processing error"},
		{"retried after a failure is processed again", "stripe", "whsec_test", `{"id":"evt_2","type":"flaky"}`, nil, 500, "Processing error"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := ts.signedPost(t, s.scheme, s.secret, path, "application/json", s.body, s.extra...)
			if res.status != s.status || !strings.Contains(res.body, s.says) {
				t.Fatalf("%d %s, want %d saying %q", res.status, res.body, s.status, s.says)
			}
		})
	}
	if n := len(ts.docs(t, "attempts", nil)); n != 2 {
		t.Fatalf("the failing event was processed %d times, want 2", n)
	}
	if _, err := ts.Store().C("flags").InsertOne(t.Context(), bson.M{"_id": "ok"}); err != nil {
		t.Fatal(err)
	}
	if res := ts.signedPost(t, "stripe", "whsec_test", path, "application/json", `{"id":"evt_2","type":"flaky"}`); res.status != 200 {
		t.Fatalf("retry once fixed: %d %s", res.status, res.body)
	}
	if res := ts.signedPost(t, "stripe", "whsec_test", path, "application/json", `{"id":"evt_2","type":"flaky"}`); res.body != "Already processed" {
		t.Fatalf("retry after success: %d %s", res.status, res.body)
	}
	if n := len(ts.docs(t, "processed", nil)); n != 2 {
		t.Fatalf("%d events processed, want 2", n)
	}
}

// TestTwilioSeesTheFullURL checks that the http input's url is the URL
// the sender called, so Twilio's signature over it verifies, directly and
// behind a proxy that forwards the scheme and host.
func TestTwilioSeesTheFullURL(t *testing.T) {
	source := `
function handle(input)
  local ok, event = pcall(backend.webhooks.verify, "twilio", input, "tw-token")
  if not ok then return backend.response(400, event .. " (url " .. input.url .. ")") end
  return "Hello " .. event.From
end`
	form := url.Values{"From": {"+15550001"}, "Body": {"hi"}}.Encode()
	for _, proxied := range []bool{false, true} {
		cfg := webhookConfig(t, true)
		if proxied {
			cfg.Server.ProxyHeader = "X-Forwarded-For"
		}
		ts := startServer(t, cfg, Deps{})
		saveFunctionAt(t, ts.URL(), "sms", map[string]any{"triggers": []any{map[string]any{"http": true}}, "source": source})
		signedURL := ts.URL() + "/functions/sms?x=1"
		var extra []string
		if proxied {
			signedURL = "https://api.example.com/functions/sms?x=1"
			extra = []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example.com", "X-Forwarded-For", "203.0.113.9"}
		}
		r := webhooks.Request{URL: signedURL, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form)}
		if err := webhooks.Sign("twilio", &r, "tw-token", webhooks.Options{}); err != nil {
			t.Fatal(err)
		}
		res := ts.do(t, "POST", "/functions/sms?x=1", form, "", append([]string{"Content-Type", "application/x-www-form-urlencoded", "X-Twilio-Signature", r.Header.Get("X-Twilio-Signature")}, extra...)...)
		if res.status != 200 || res.body != "Hello +15550001" {
			t.Fatalf("proxied=%v: %d %s", proxied, res.status, res.body)
		}
		res = ts.do(t, "POST", "/functions/sms?x=2", form, "", append([]string{"Content-Type", "application/x-www-form-urlencoded", "X-Twilio-Signature", r.Header.Get("X-Twilio-Signature")}, extra...)...)
		if res.status != 400 || !strings.Contains(res.body, "bad signature") {
			t.Fatalf("another URL, proxied=%v: %d %s", proxied, res.status, res.body)
		}
	}
}

// TestEmitAndSendFromFunctions checks backend.webhooks.emit with a
// payload per version and backend.webhooks.send, end to end to local
// receivers.
func TestEmitAndSendFromFunctions(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	v1, v2, direct := newHookReceiver(t, 200), newHookReceiver(t, 200), newHookReceiver(t, 200)
	secrets := map[*hookReceiver]string{}
	for _, r := range []struct {
		recv    *hookReceiver
		version int
	}{{v1, 1}, {v2, 2}} {
		res := ts.do(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+r.recv.URL+`","events":["order.paid"],"version":`+map[int]string{1: "1", 2: "2"}[r.version]+`}`, testAdminToken)
		if res.status != 201 {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		secrets[r.recv] = res.json(t)["endpoint"].(map[string]any)["secret"].(string)
	}
	saveFunctionAt(t, ts.URL(), "checkout", map[string]any{"triggers": []any{map[string]any{"invoke": true}}, "source": `
function handle(input)
  local m = backend.webhooks.emit("order.paid", function(version)
    if version >= 2 then return {order = {id = input.id}} end
    return {id = input.id}
  end)
  local d = backend.webhooks.send(input.url, {hello = "world"}, {secret = input.secret, headers = {["X-Tenant"] = "acme"}})
  return {message = m.id, deliveries = m.deliveries, delivery = d}
end`})
	secret := webhooks.NewSecret()
	body := `{"id":7,"url":"` + direct.URL + `","secret":"` + secret + `"}`
	res := ts.do(t, "POST", "/api/functions/checkout", body, "")
	if res.status != 200 || !strings.Contains(res.body, `"deliveries":2`) {
		t.Fatalf("invoke: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "three deliveries", func() bool {
		return len(v1.requests()) == 1 && len(v2.requests()) == 1 && len(direct.requests()) == 1
	})
	for recv, want := range map[*hookReceiver]string{v1: `"data":{"id":7}`, v2: `"data":{"order":{"id":7}}`} {
		got := recv.requests()[0]
		if !strings.Contains(string(got.Body), want) {
			t.Errorf("body %s, want %s", got.Body, want)
		}
		if err := webhooks.Verify("standard", got, secrets[recv], webhooks.Options{}); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	d := direct.requests()[0]
	if d.Header.Get("X-Tenant") != "acme" || string(d.Body) != `{"hello":"world"}` {
		t.Fatalf("send: %v %s", d.Header, d.Body)
	}
	if err := webhooks.Verify("standard", d, secret, webhooks.Options{}); err != nil {
		t.Fatalf("verify send: %v", err)
	}
	res = ts.do(t, "POST", "/api/functions/checkout", `{"id":1,"url":"ftp://nowhere"}`, "")
	if res.status != 500 || !strings.Contains(res.body, "backend.webhooks.send") || !strings.Contains(res.body, "absolute http or https") {
		t.Fatalf("bad url: %d %s", res.status, res.body)
	}
}

// TestCustomerDeliveriesFromFunctions checks the customer-facing read and
// resend: a function lists one endpoint's deliveries with their attempts
// and replays one of them.
func TestCustomerDeliveriesFromFunctions(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	recv := newHookReceiver(t, 500)
	res := ts.do(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+recv.URL+`","events":["*"],"max_attempts":1}`, testAdminToken)
	ep := res.json(t)["endpoint"].(map[string]any)["id"].(string)
	saveFunctionAt(t, ts.URL(), "myDeliveries", map[string]any{"triggers": []any{map[string]any{"invoke": true}}, "source": `
function handle(input)
  if input.resend then backend.webhooks.replay(input.endpoint, input.resend) return "resent" end
  return backend.webhooks.deliveries(input.endpoint, {status = input.status, limit = 10})
end`})
	ts.do(t, "POST", "/api/admin/webhooks/emit", `{"type":"order.paid","payload":{"id":1}}`, testAdminToken)
	var dead string
	testsupport.WaitFor(t, "the dead delivery", func() bool {
		res := ts.do(t, "POST", "/api/functions/myDeliveries", `{"endpoint":"`+ep+`","status":"dead"}`, "")
		var list []map[string]any
		if err := json.Unmarshal([]byte(res.body), &list); err == nil && len(list) == 1 {
			dead = list[0]["id"].(string)
			atts := list[0]["attempts"].([]any)
			if len(atts) != 1 || atts[0].(map[string]any)["status"] != float64(500) || list[0]["attempt_count"] != float64(1) {
				t.Fatalf("delivery = %v", list[0])
			}
		}
		return dead != ""
	})
	other := ts.do(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+recv.URL+`","events":["x"]}`, testAdminToken).json(t)["endpoint"].(map[string]any)["id"].(string)
	if res := ts.do(t, "POST", "/api/functions/myDeliveries", `{"endpoint":"`+other+`","resend":"`+dead+`"}`, ""); res.status != 500 || !strings.Contains(res.body, "webhook delivery not found") {
		t.Fatalf("resend through another endpoint: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "POST", "/api/functions/myDeliveries", `{"endpoint":"ep_nope"}`, ""); res.status != 500 || !strings.Contains(res.body, "webhook endpoint not found") {
		t.Fatalf("unknown endpoint: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "POST", "/api/functions/myDeliveries", `{"endpoint":"`+ep+`","resend":"`+dead+`"}`, ""); res.status != 200 {
		t.Fatalf("resend: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the resent delivery", func() bool { return len(recv.requests()) == 2 })
}
