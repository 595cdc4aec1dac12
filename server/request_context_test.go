package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// closedSoon reports whether done closes within a few seconds.
func closedSoon(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// newTestRequestContext is a request's context with timeout under a
// server context that cancel stops, as the server stopping does.
func newTestRequestContext(t *testing.T, timeout time.Duration) (rc *requestContext, cancel context.CancelFunc) {
	parent, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return newRequestContext(parent, timeout, "id-1"), cancel
}

func TestRequestContext(t *testing.T) {
	t.Parallel()
	type step func(t *testing.T, parentCancel context.CancelFunc, rc *requestContext)
	ask := func(t *testing.T, _ context.CancelFunc, rc *requestContext) { _ = rc.Done() }
	end := func(t *testing.T, _ context.CancelFunc, rc *requestContext) { rc.end() }
	stopServer := func(t *testing.T, cancel context.CancelFunc, _ *requestContext) { cancel() }
	scenarios := []struct {
		name    string
		timeout time.Duration
		steps   []step
		wantErr error
	}{
		{"answered", time.Hour, []step{end}, context.Canceled},
		{"answered after Done was asked for", time.Hour, []step{ask, end}, context.Canceled},
		{"Done asked for once answered", time.Hour, []step{end, ask}, context.Canceled},
		{"past its deadline", time.Millisecond, nil, context.DeadlineExceeded},
		{"past its deadline, Done asked for first", time.Millisecond, []step{ask}, context.DeadlineExceeded},
		{"the server stops", time.Hour, []step{stopServer}, context.Canceled},
		{"the server stops after Done was asked for", time.Hour, []step{ask, stopServer}, context.Canceled},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rc, cancel := newTestRequestContext(t, sc.timeout)
			if d, ok := rc.Deadline(); !ok || time.Until(d) > sc.timeout {
				t.Errorf("deadline %v %v, want within %v", d, ok, sc.timeout)
			}
			if sc.timeout == time.Hour && rc.Err() != nil {
				t.Fatalf("Err %v before anything happened", rc.Err())
			}
			for _, s := range sc.steps {
				s(t, cancel, rc)
			}
			if !closedSoon(rc.Done()) {
				t.Fatal("Done not closed")
			}
			if err := rc.Err(); !errors.Is(err, sc.wantErr) {
				t.Errorf("Err %v, want %v", err, sc.wantErr)
			}
			// Whatever happens next, the answer stays.
			rc.end()
			cancel()
			if err := rc.Err(); !errors.Is(err, sc.wantErr) {
				t.Errorf("Err later %v, want %v", err, sc.wantErr)
			}
		})
	}
}

func TestRequestContextDerived(t *testing.T) {
	t.Parallel()
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "base")
	rc := newRequestContext(parent, time.Hour, "id-1")
	child, cancel := context.WithCancel(rc)
	defer cancel()
	if got := child.Value(key{}); got != "base" {
		t.Errorf("value %v, want the parent's", got)
	}
	if child.Err() != nil {
		t.Fatalf("child Err %v before the request ended", child.Err())
	}
	rc.end()
	if !closedSoon(child.Done()) || !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("child not cancelled with the request: %v", child.Err())
	}
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.RequestTimeout = 2 * time.Second
	ts := startServer(t, cfg, Deps{})
	ts.putFunction(t, "spin", "function handle(input, ctx)\n  while true do end\nend", `[{"invoke":true}]`, "timeout", `"30s"`)
	began := time.Now()
	res := ts.do(t, "POST", "/api/functions/spin", "", "")
	if res.status != http.StatusGatewayTimeout || !strings.Contains(res.body, `"code":"timeout"`) ||
		!strings.Contains(res.body, "request_timeout") || strings.Contains(res.body, "30s") {
		t.Errorf("%d %s, want 504 timeout naming request_timeout", res.status, res.body)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("took %v for a 2s request timeout", took)
	}
}

func TestRequestLogLine(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "correct horse battery")
	res := ts.do(t, "GET", "/api/auth/me", "", alice.token, HeaderRequestID, "trace-7")
	if res.status != http.StatusOK {
		t.Fatalf("me: %d %s", res.status, res.body)
	}
	line := "request_id=trace-7 method=GET path=/api/auth/me status=200 duration_ms="
	testsupport.WaitFor(t, "the request's log line", func() bool {
		return containsLine(ts.logs.String(), line, " ip=127.0.0.1 user_id="+alice.id)
	})
	// Health checks log at debug level, so a server at info level does not
	// fill its log with them.
	ts.do(t, "GET", "/healthz", "", "", HeaderRequestID, "probe-1")
	ts.do(t, "GET", "/api/nothing", "", "", HeaderRequestID, "after-probe")
	testsupport.WaitFor(t, "the next request's log line", func() bool { return strings.Contains(ts.logs.String(), "request_id=after-probe") })
	if !strings.Contains(ts.logs.String(), "request_id=probe-1 method=GET path=/healthz status=200") {
		t.Errorf("health check not logged at debug level:\n%s", ts.logs.String())
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	t.Parallel()
	a, b := newRequestIDs(), newRequestIDs()
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{a.next(), b.next()} {
			if seen[id] || !saneRequestID(id) {
				t.Fatalf("id %q repeated or not sane", id)
			}
			seen[id] = true
		}
	}
}

// TestRequestContextCause checks that context.Cause agrees with Err, as
// the context package promises: it looks through Value for the nearest
// cancellable context, which must be the request's own, not the server's.
func TestRequestContextCause(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		timeout time.Duration
		ask     bool
	}{
		{"answered", time.Hour, false},
		{"answered after Done was asked for", time.Hour, true},
		{"past its deadline", time.Millisecond, false},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rc, _ := newTestRequestContext(t, sc.timeout)
			if cause := context.Cause(rc); cause != nil {
				t.Fatalf("Cause %v before anything happened", cause)
			}
			if sc.ask {
				_ = rc.Done()
			}
			if sc.timeout == time.Hour {
				rc.end()
			} else {
				testsupport.WaitFor(t, "the deadline", func() bool { return !time.Now().Before(rc.deadline) })
			}
			if err, cause := rc.Err(), context.Cause(rc); err == nil || cause == nil {
				t.Errorf("Err %v, Cause %v: want both set", err, cause)
			}
		})
	}
}
