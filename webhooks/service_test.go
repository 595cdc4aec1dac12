package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

var quiet = slog.New(slog.DiscardHandler)

// env is a webhooks service on a real embedded store and a real queue.
type env struct {
	store db.Store
	jobs  *events.Service
	svc   *Service
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	jobs, err := events.New(events.Config{Workers: 8, PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second}, events.Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = 20 * time.Millisecond
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 200 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	svc, err := New(cfg, Deps{Store: store, Queue: jobs.Queue, Emitter: jobs.Bus, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = jobs.Shutdown(ctx)
		_ = svc.Close(ctx)
	})
	return &env{store: store, jobs: jobs, svc: svc}
}

// receiver is a local webhook receiver that records what it gets and
// answers with answer.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []Request
	answer func(n int, w http.ResponseWriter)
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, Request{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone(), Body: body})
		n := len(r.got)
		r.mu.Unlock()
		if r.answer != nil {
			r.answer(n, w)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

func ptr[T any](v T) *T { return &v }

func (e *env) endpoint(t *testing.T, url string, filter []string, mod func(*EndpointInput)) Endpoint {
	t.Helper()
	in := EndpointInput{URL: &url, Events: &filter}
	if mod != nil {
		mod(&in)
	}
	ep, err := e.svc.CreateEndpoint(context.Background(), in)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return ep
}

func (e *env) waitStatus(t *testing.T, id, status string) Delivery {
	t.Helper()
	var d Delivery
	testsupport.WaitForWithin(t, 10*time.Second, "delivery "+id+" to be "+status, func() bool {
		var err error
		d, err = e.svc.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status == status
	})
	return d
}

func (e *env) deliveriesOf(t *testing.T, msg string) []Delivery {
	t.Helper()
	ds, err := e.svc.ListDeliveries(context.Background(), DeliveryQuery{Message: msg, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (e *env) countEvents(t *testing.T, name string) int {
	t.Helper()
	n, err := e.store.C(db.Events).Count(context.Background(), bson.M{"name": name})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func ok200(_ int, w http.ResponseWriter) { w.WriteHeader(200) }

// TestEmitDeliversSignedToSubscribers checks the whole path: an emitted
// message reaches each subscribed endpoint once, signed with its own
// secret the Standard Webhooks way, in its payload version, and every
// attempt is recorded.
func TestEmitDeliversSignedToSubscribers(t *testing.T) {
	e := newEnv(t, Config{})
	orders := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("X-Receiver", "orders")
		w.WriteHeader(204)
	})
	all := newReceiver(t, ok200)
	users := newReceiver(t, ok200)
	epOrders := e.endpoint(t, orders.URL+"/hook", []string{"order.*"}, func(in *EndpointInput) { in.Version = ptr(2) })
	epAll := e.endpoint(t, all.URL, []string{"*"}, nil)
	e.endpoint(t, users.URL, []string{"user.created"}, nil)
	if !strings.HasPrefix(epOrders.Secret, SecretPrefix) {
		t.Fatalf("secret %q is not shown at creation", epOrders.Secret)
	}
	msg, err := e.svc.Emit(context.Background(), "order.paid", map[string]any{"id": 7}, map[int]any{2: map[string]any{"order": map[string]any{"id": 7}}})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Deliveries != 2 {
		t.Fatalf("%d deliveries, want 2 (orders, all)", msg.Deliveries)
	}
	for _, d := range e.deliveriesOf(t, msg.ID) {
		e.waitStatus(t, d.ID, StatusDelivered)
	}
	for _, s := range []struct {
		r      *receiver
		secret string
		data   string
	}{{orders, epOrders.Secret, `"data":{"order":{"id":7}}`}, {all, epAll.Secret, `"data":{"id":7}`}} {
		got := s.r.requests()
		if len(got) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(got))
		}
		r := got[0]
		if r.Header.Get("webhook-id") != msg.ID {
			t.Errorf("webhook-id %q, want the message id %q", r.Header.Get("webhook-id"), msg.ID)
		}
		if err := Verify("standard", r, s.secret, Options{}); err != nil {
			t.Errorf("receiver cannot verify the delivery: %v", err)
		}
		if !strings.Contains(string(r.Body), s.data) || !strings.Contains(string(r.Body), `"type":"order.paid"`) {
			t.Errorf("body %s, want %s", r.Body, s.data)
		}
	}
	if n := len(users.requests()); n != 0 {
		t.Fatalf("an endpoint not subscribed got %d requests", n)
	}
	ds, _ := e.svc.ListDeliveries(context.Background(), DeliveryQuery{Endpoint: epOrders.ID, Limit: 10})
	atts, err := e.svc.Attempts(context.Background(), ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || atts[0].Status != 204 || atts[0].ResponseHeaders["X-Receiver"] != "orders" || atts[0].At.IsZero() {
		t.Fatalf("attempts = %+v", atts)
	}
}

// TestRetriesThenDeliveredOrDead checks failing receivers: retried on the
// backoff, Retry-After honoured, dead after the last attempt with
// webhook_dead, then replayed.
func TestRetriesThenDeliveredOrDead(t *testing.T) {
	e := newEnv(t, Config{})
	flaky := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, strings.Repeat("x", 3000))
			return
		}
		w.WriteHeader(200)
	})
	ep := e.endpoint(t, flaky.URL, []string{"*"}, nil)
	msg, err := e.svc.Emit(context.Background(), "ping", map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDelivered)
	atts, _ := e.svc.Attempts(context.Background(), d.ID)
	if len(atts) != 3 || atts[0].Status != 500 || atts[2].Status != 200 {
		t.Fatalf("attempts = %+v", atts)
	}
	if len(atts[0].ResponseBody) != MaxResponseSnippet || atts[0].RetryAt.IsZero() {
		t.Fatalf("first attempt keeps %d bytes of the answer and retry_at %v", len(atts[0].ResponseBody), atts[0].RetryAt)
	}
	ids := map[string]bool{}
	for _, r := range flaky.requests() {
		ids[r.Header.Get("webhook-id")] = true
	}
	if len(ids) != 1 {
		t.Fatalf("retries carried %d webhook-ids, want 1", len(ids))
	}
	if got, _ := e.svc.Endpoint(context.Background(), ep.ID); !got.FailingSince.IsZero() {
		t.Fatalf("a success leaves failing_since %v", got.FailingSince)
	}

	// The receiver fails until it is mended; a mended receiver holds each
	// request until release is closed, so the replayed delivery is
	// certainly in flight while the test tries to replay it again.
	var down sync.Mutex
	broken := true
	release := make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(letGo)
	dead := newReceiver(t, func(_ int, w http.ResponseWriter) {
		down.Lock()
		failing := broken
		down.Unlock()
		if failing {
			w.WriteHeader(502)
			return
		}
		<-release
		w.WriteHeader(200)
	})
	ep2 := e.endpoint(t, dead.URL, []string{"ping"}, func(in *EndpointInput) { in.MaxAttempts = ptr(2) })
	msg, err = e.svc.Emit(context.Background(), "ping", map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dd Delivery
	for _, x := range e.deliveriesOf(t, msg.ID) {
		if x.EndpointID == ep2.ID {
			dd = e.waitStatus(t, x.ID, StatusDead)
		}
	}
	if dd.Attempts != 2 || dd.LastStatus != 502 {
		t.Fatalf("dead delivery = %+v", dd)
	}
	testsupport.WaitForWithin(t, 5*time.Second, "webhook_dead and job_dead", func() bool {
		return e.countEvents(t, events.WebhookDead) == 1 && e.countEvents(t, events.JobDead) == 1
	})
	if _, err := e.svc.Replay(context.Background(), "dlv_nope"); !errors.Is(err, ErrDeliveryNotFound) {
		t.Fatalf("replay unknown: %v", err)
	}
	down.Lock()
	broken = false
	down.Unlock()
	n, err := e.svc.ReplayFailed(context.Background(), ep2.ID, time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("ReplayFailed = %d, %v", n, err)
	}
	if _, err := e.svc.Replay(context.Background(), dd.ID); !errors.Is(err, ErrNotReplayable) {
		t.Fatalf("replaying a pending delivery: %v", err)
	}
	letGo()
	e.waitStatus(t, dd.ID, StatusDelivered)
	if n, _ := e.svc.ReplayFailed(context.Background(), ep2.ID, time.Now().Add(-time.Hour)); n != 0 {
		t.Fatalf("nothing is dead any more, but %d were replayed", n)
	}
	if _, err := e.svc.ReplayFailed(context.Background(), "ep_nope", time.Now()); !errors.Is(err, ErrEndpointNotFound) {
		t.Fatalf("replay failed of unknown endpoint: %v", err)
	}
}

// TestRetryAfterAndGone checks a 429 with Retry-After and a 410.
func TestRetryAfterAndGone(t *testing.T) {
	e := newEnv(t, Config{BackoffMax: time.Hour})
	busy := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(200)
	})
	e.endpoint(t, busy.URL, []string{"*"}, nil)
	msg, _ := e.svc.Emit(context.Background(), "ping", nil, nil)
	d := e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDelivered)
	atts, _ := e.svc.Attempts(context.Background(), d.ID)
	if len(atts) != 2 {
		t.Fatalf("attempts = %+v", atts)
	}
	if wait := atts[0].RetryAt.Sub(atts[0].At); wait < 900*time.Millisecond || wait > 2*time.Second {
		t.Fatalf("retried %s after a Retry-After of 1s", wait)
	}

	gone := newReceiver(t, func(int, http.ResponseWriter) {})
	gone.answer = func(_ int, w http.ResponseWriter) { w.WriteHeader(410) }
	ep := e.endpoint(t, gone.URL, []string{"bye"}, nil)
	msg, _ = e.svc.Emit(context.Background(), "bye", nil, nil)
	for _, d := range e.deliveriesOf(t, msg.ID) {
		if d.EndpointID == ep.ID {
			e.waitStatus(t, d.ID, StatusDead)
		}
	}
	got, _ := e.svc.Endpoint(context.Background(), ep.ID)
	if !got.Disabled || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("endpoint after 410: %+v", got)
	}
	testsupport.WaitForWithin(t, 5*time.Second, "webhook_endpoint_disabled", func() bool { return e.countEvents(t, events.WebhookEndpointDisabled) == 1 })
	if len(gone.requests()) != 1 {
		t.Fatalf("a 410 was retried")
	}
	msg, _ = e.svc.Emit(context.Background(), "bye", nil, nil)
	for _, d := range e.deliveriesOf(t, msg.ID) {
		if d.EndpointID == ep.ID {
			t.Fatalf("a disabled endpoint got a delivery")
		}
	}
}

// TestFailingForDaysDisables checks that an endpoint whose attempts all
// failed for DisableAfter is disabled, with an event.
func TestFailingForDaysDisables(t *testing.T) {
	e := newEnv(t, Config{DisableAfter: 5 * 24 * time.Hour})
	down := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(500) })
	ep := e.endpoint(t, down.URL, []string{"*"}, nil)
	if _, err := e.store.C(db.WebhookEndpoints).UpdateOne(context.Background(), db.ByID(ep.ID),
		bson.M{"$set": bson.M{"failing_since": time.Now().Add(-121 * time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	msg, _ := e.svc.Emit(context.Background(), "ping", nil, nil)
	d := e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDead)
	if d.Attempts != 1 {
		t.Fatalf("%d attempts, want the one that found the endpoint failing for 5 days", d.Attempts)
	}
	got, _ := e.svc.Endpoint(context.Background(), ep.ID)
	if !got.Disabled || !strings.Contains(got.DisabledReason, "120h") {
		t.Fatalf("endpoint = %+v", got)
	}
	testsupport.WaitForWithin(t, 5*time.Second, "webhook_endpoint_disabled", func() bool { return e.countEvents(t, events.WebhookEndpointDisabled) == 1 })
	again, err := e.svc.SetDisabled(context.Background(), ep.ID, false, "")
	if err != nil || again.Disabled || !again.FailingSince.IsZero() {
		t.Fatalf("enable: %+v, %v", again, err)
	}
}

// TestHangingReceiverTimesOut checks that a receiver that never answers
// costs one timeout per attempt, recorded as the attempt's error.
func TestHangingReceiverTimesOut(t *testing.T) {
	e := newEnv(t, Config{Timeout: 200 * time.Millisecond, MaxAttempts: 2})
	release := make(chan struct{})
	hang := newReceiver(t, func(_ int, w http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) })
	e.endpoint(t, hang.URL, []string{"*"}, nil)
	msg, _ := e.svc.Emit(context.Background(), "ping", nil, nil)
	d := e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDead)
	atts, _ := e.svc.Attempts(context.Background(), d.ID)
	if len(atts) != 2 || !strings.Contains(atts[0].Error, "Timeout") && !strings.Contains(atts[0].Error, "deadline") {
		t.Fatalf("attempts = %+v", atts)
	}
}

// TestResetConnectionFails checks a receiver that drops the connection.
func TestResetConnectionFails(t *testing.T) {
	e := newEnv(t, Config{MaxAttempts: 1})
	reset := newReceiver(t, func(_ int, w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	e.endpoint(t, reset.URL, []string{"*"}, nil)
	msg, _ := e.svc.Emit(context.Background(), "ping", nil, nil)
	d := e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDead)
	if d.LastError == "" || d.LastStatus != 0 {
		t.Fatalf("delivery = %+v", d)
	}
}

// TestRotationSignsWithBoth checks that after a rotation each delivery
// verifies with the old secret and with the new one.
func TestRotationSignsWithBoth(t *testing.T) {
	e := newEnv(t, Config{})
	r := newReceiver(t, ok200)
	ep := e.endpoint(t, r.URL, []string{"*"}, nil)
	rotated, err := e.svc.RotateSecret(context.Background(), ep.ID)
	if err != nil || rotated.Secret == ep.Secret || rotated.PreviousSecretUntil.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("rotate: %+v, %v", rotated, err)
	}
	shown, _ := e.svc.Endpoint(context.Background(), ep.ID)
	if shown.Secret != "" {
		t.Fatalf("the secret is shown again")
	}
	msg, _ := e.svc.Emit(context.Background(), "ping", nil, nil)
	e.waitStatus(t, e.deliveriesOf(t, msg.ID)[0].ID, StatusDelivered)
	req := r.requests()[0]
	if n := len(strings.Fields(req.Header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	for _, sec := range []string{ep.Secret, rotated.Secret} {
		if err := Verify("standard", req, sec, Options{}); err != nil {
			t.Errorf("verify with %s: %v", sec, err)
		}
	}
	if _, err := e.svc.RotateSecret(context.Background(), "ep_nope"); !errors.Is(err, ErrEndpointNotFound) {
		t.Fatalf("rotate unknown: %v", err)
	}
}

// TestBadInputQueuesNothing checks endpoints and messages refused with a
// clear error, and that a refused emit leaves nothing behind.
func TestBadInputQueuesNothing(t *testing.T) {
	e := newEnv(t, Config{MaxPayloadBytes: 1024})
	r := newReceiver(t, ok200)
	e.endpoint(t, r.URL, []string{"*"}, nil)
	scenarios := []struct {
		name string
		in   EndpointInput
		says string
	}{
		{"no url", EndpointInput{Events: &[]string{"*"}}, "url is required"},
		{"relative url", EndpointInput{URL: ptr("/hook"), Events: &[]string{"*"}}, "absolute http or https"},
		{"ftp url", EndpointInput{URL: ptr("ftp://x.example/"), Events: &[]string{"*"}}, "absolute http or https"},
		{"no events", EndpointInput{URL: ptr("https://x.example/")}, "events is required"},
		{"empty events", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{}}, "events is empty"},
		{"bad filter", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{"order.**"}}, `event filter "order.**"`},
		{"regex filter", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{"order|user"}}, "write an event type"},
		{"version 0", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{"*"}, Version: ptr(0)}, "version 0"},
		{"rate limit", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{"*"}, RateLimit: ptr(-1)}, "rate_limit"},
		{"attempts", EndpointInput{URL: ptr("https://x.example/"), Events: &[]string{"*"}, MaxAttempts: ptr(101)}, "max_attempts"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := e.svc.CreateEndpoint(context.Background(), s.in)
			if !errors.Is(err, ErrInvalidEndpoint) || !strings.Contains(err.Error(), s.says) {
				t.Fatalf("got %v, want ErrInvalidEndpoint saying %q", err, s.says)
			}
		})
	}
	if _, err := e.svc.Emit(context.Background(), "big", strings.Repeat("x", 2000), nil); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("big payload: %v", err)
	}
	if _, err := e.svc.Emit(context.Background(), "bad type!", nil, nil); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("bad type: %v", err)
	}
	if _, err := e.svc.Emit(context.Background(), "x", nil, map[int]any{0: 1}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("version 0: %v", err)
	}
	if _, err := e.svc.Emit(context.Background(), "x", func() {}, nil); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("unencodable payload: %v", err)
	}
	if _, _, err := e.svc.Send(context.Background(), "https://x.example/", 1, SendOptions{Secret: "plain"}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("send with a bad secret: %v", err)
	}
	if _, _, err := e.svc.Send(context.Background(), "https://x.example/", 1, SendOptions{Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("send with a header injection: %v", err)
	}
	for _, c := range []string{db.WebhookMessages, db.Deliveries} {
		if n, _ := e.store.C(c).Count(context.Background(), bson.M{}); n != 0 {
			t.Fatalf("%s has %d documents after refused input", c, n)
		}
	}
	if _, err := e.svc.ListDeliveries(context.Background(), DeliveryQuery{Status: "lost"}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("bad status filter: %v", err)
	}
}

// TestSendOneOff checks a signed one-off delivery with extra headers.
func TestSendOneOff(t *testing.T) {
	e := newEnv(t, Config{})
	r := newReceiver(t, ok200)
	secret := NewSecret()
	msg, id, err := e.svc.Send(context.Background(), r.URL+"/in", map[string]any{"hello": "world"}, SendOptions{Secret: secret, Headers: map[string]string{"x-tenant": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, StatusDelivered)
	req := r.requests()[0]
	if req.Header.Get("X-Tenant") != "acme" || string(req.Body) != `{"hello":"world"}` || req.Header.Get("webhook-id") != msg.ID {
		t.Fatalf("request = %+v %s", req.Header, req.Body)
	}
	if err := Verify("standard", req, secret, Options{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// TestRateLimitPaces checks an endpoint's rate_limit on one instance.
func TestRateLimitPaces(t *testing.T) {
	e := newEnv(t, Config{})
	r := newReceiver(t, ok200)
	e.endpoint(t, r.URL, []string{"*"}, func(in *EndpointInput) { in.RateLimit = ptr(20) })
	start := time.Now()
	for range 8 {
		if _, err := e.svc.Emit(context.Background(), "tick", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	testsupport.WaitForWithin(t, 10*time.Second, "8 deliveries", func() bool { return len(r.requests()) == 8 })
	if took := time.Since(start); took < 330*time.Millisecond {
		t.Fatalf("8 deliveries at 20/s took %s, want at least 350ms", took)
	}
}
