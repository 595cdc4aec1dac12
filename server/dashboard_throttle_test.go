package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/admin"
)

// TestDashboardSignInThrottled: wrong admin tokens given to the
// dashboard's sign-in are counted per client address, like users' failed
// sign-ins; once an address has used up auth.throttle.address_failures,
// even the right token is refused with 429 and Retry-After until the
// window ends, while other addresses and users' sign-ins are unaffected.
func TestDashboardSignInThrottled(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Auth.Throttle = ThrottleConfig{EmailFailures: 3, AddressFailures: 3, Window: time.Hour}
	// The address comes from this header, so the test can play several clients.
	cfg.Server.ProxyHeader = "X-Forwarded-For"
	ts := startServer(t, cfg, Deps{})
	ts.register(t, "bob@example.com", "bobs password")

	const (
		right = `{"token":"` + testAdminToken + `"}`
		wrong = `{"token":"mbadmin_not-the-token-at-all"}`
	)
	steps := []struct {
		name, path, body, addr string
		status                 int
		code                   string
	}{
		{"1st wrong token", "/admin/session", wrong, "10.0.0.1", 401, "invalid_token"},
		{"a malformed body is not a guess", "/admin/session", `{"token":""}`, "10.0.0.1", 400, "invalid_input"},
		{"2nd wrong token", "/admin/session", wrong, "10.0.0.1", 401, "invalid_token"},
		{"3rd wrong token", "/admin/session", wrong, "10.0.0.1", 401, "invalid_token"},
		{"4th wrong token is throttled", "/admin/session", wrong, "10.0.0.1", 429, "too_many_requests"},
		{"the right token from the throttled address", "/admin/session", right, "10.0.0.1", 429, "too_many_requests"},
		{"a forged address before the throttled one", "/admin/session", right, "192.0.2.7, 10.0.0.1", 429, "too_many_requests"},
		{"the right token from another address", "/admin/session", right, "10.0.0.2", 200, ""},
		{"a user's sign-in from the throttled address", "/api/auth/login", `{"email":"bob@example.com","password":"bobs password"}`, "10.0.0.1", 200, ""},
	}
	for _, s := range steps {
		res := ts.do(t, "POST", s.path, s.body, "", "X-Forwarded-For", s.addr)
		if res.status != s.status {
			t.Fatalf("%s: status %d %s, want %d", s.name, res.status, res.body, s.status)
		}
		if s.code != "" && !strings.Contains(res.body, `"code":"`+s.code+`"`) {
			t.Fatalf("%s: body %s lacks code %s", s.name, res.body, s.code)
		}
		if s.status == http.StatusTooManyRequests {
			secs, err := strconv.Atoi(res.header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 3600 {
				t.Fatalf("%s: Retry-After %q, want 1-3600 seconds", s.name, res.header.Get("Retry-After"))
			}
			if !strings.Contains(res.body, "admin token") {
				t.Fatalf("%s: body %s does not say what was throttled", s.name, res.body)
			}
			if len(res.header.Values("Set-Cookie")) > 0 {
				t.Fatalf("%s: a throttled sign-in set a cookie", s.name)
			}
		}
	}
	// Only the sign-in from 10.0.0.2 made a session.
	n, err := ts.Store().C(admin.SessionsCollection).Count(context.Background(), nil)
	if err != nil || n != 1 {
		t.Fatalf("%d dashboard sessions (%v), want 1", n, err)
	}
}
