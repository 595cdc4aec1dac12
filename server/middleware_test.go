package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"none sent", "", false},
		{"a sane id is kept", "req-42.abc:Z_9", true},
		{"spaces are not", "two words", false},
		{"log injection is not", "x\" level=ERROR msg=\"forged", false},
		{"too long is not", strings.Repeat("a", 129), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var header []string
			if c.sent != "" {
				header = []string{HeaderRequestID, c.sent}
			}
			res := ts.do(t, "GET", "/api/auth/me", "", "", header...)
			id := res.header.Get(HeaderRequestID)
			if c.kept && id != c.sent {
				t.Errorf("id %q, want the client's %q", id, c.sent)
			}
			if !c.kept && (id == "" || id == c.sent || !saneRequestID(id)) {
				t.Errorf("id %q, want a fresh one", id)
			}
			line := "request_id=" + id + " method=GET path=/api/auth/me status=401"
			testsupport.WaitFor(t, "the request's log line", func() bool { return strings.Contains(ts.logs.String(), line) })
		})
	}
}

func TestErrorsForUnknownRoutes(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	runScenarios(t, ts, nil, []scenario{
		{
			name: "no such route", method: "GET", path: "/api/nothing",
			wantStatus:  http.StatusNotFound,
			wantContent: []string{`{"error":{"code":"not_found","message":"no such route"}}`},
		},
		{
			name: "wrong method", method: "PUT", path: "/api/auth/me",
			wantStatus:  http.StatusMethodNotAllowed,
			wantContent: []string{`{"error":{"code":"method_not_allowed","message":"method not allowed on this route"}}`},
		},
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.CORSOrigins = []string{"https://app.example.com"}
	ts := startServer(t, cfg, Deps{})

	pre := ts.do(t, "OPTIONS", "/api/db/notes", "", "",
		"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
	if h := pre.header.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Authorization") {
		t.Errorf("preflight allows headers %q", h)
	}
	other := ts.do(t, "GET", "/healthz", "", "", "Origin", "https://evil.example.com")
	if got := other.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("another origin got Access-Control-Allow-Origin %q", got)
	}
	same := ts.do(t, "GET", "/healthz", "", "", "Origin", "https://app.example.com")
	if got := same.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, HeaderRequestID) {
		t.Errorf("exposed headers %q", got)
	}
}
