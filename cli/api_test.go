package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closedURL is the URL of a port on 127.0.0.1 that nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	real := startMoonbase(t)
	down := closedURL(t)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	}))
	t.Cleanup(html.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>welcome</html>"))
	}))
	t.Cleanup(notJSON.Close)

	scenarios := []struct {
		name string
		args []string
		want string // the whole of stderr
	}{
		{"server down", []string{"functions", "list", "--url", down, "--token", cliTestToken},
			"moonbase: cannot reach the server at " + down + ": connection refused (is `moonbase serve` running there?)\n"},
		{"wrong token", []string{"functions", "list", "--url", real.url, "--token", "wrong"},
			"moonbase: admin token missing or wrong (check MOONBASE_ADMIN_TOKEN or --token)\n"},
		{"the server's own message", []string{"functions", "delete", "nope", "--url", real.url, "--token", cliTestToken},
			"moonbase: function not found: \"nope\"\n"},
		{"an answer that is not Moonbase's error", []string{"secrets", "list", "--url", html.URL, "--token", cliTestToken},
			"moonbase: the server answered 502 Bad Gateway\n"},
		{"a success that is not JSON", []string{"secrets", "list", "--url", notJSON.URL, "--token", cliTestToken},
			"moonbase: the server at " + notJSON.URL + " answered GET /api/admin/secrets?limit=1000&after= with something that is not JSON; is --url a Moonbase server?\n"},
		{"a URL that is not http", []string{"jobs", "list", "--url", "ftp://example.com", "--token", cliTestToken},
			"moonbase: server URL \"ftp://example.com\" is not an http:// or https:// URL\n"},
		{"wrong number of arguments", []string{"functions", "delete", "--url", real.url, "--token", cliTestToken},
			"moonbase: usage: moonbase functions delete NAME [flags]\n"},
		{"unknown subcommand", []string{"functions", "lst", "--url", real.url, "--token", cliTestToken},
			"moonbase: unknown command \"lst\" for \"moonbase functions\"; see `moonbase functions --help`\n"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, "", s.args...)
			if r.err == nil {
				t.Fatalf("succeeded; stdout %q", r.stdout)
			}
			if r.stderr != s.want {
				t.Errorf("stderr\n got %q\nwant %q", r.stderr, s.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing (no usage dump)", r.stdout)
			}
		})
	}
}

// TestClientEnvironment reads the server and token from MOONBASE_URL and
// MOONBASE_ADMIN_TOKEN; it changes the environment, so it runs alone.
func TestClientEnvironment(t *testing.T) {
	real := startMoonbase(t)
	real.ok("secrets", "set", "STRIPE_KEY", "sk_test")
	down := closedURL(t)

	t.Setenv("MOONBASE_URL", down)
	t.Setenv("MOONBASE_ADMIN_TOKEN", "")
	r := runCLI(t, "", "secrets", "list")
	if want := "moonbase: MOONBASE_ADMIN_TOKEN is not set (or pass --token): the admin API needs the admin token\n"; r.stderr != want {
		t.Errorf("without a token: stderr %q, want %q", r.stderr, want)
	}
	t.Setenv("MOONBASE_ADMIN_TOKEN", cliTestToken)
	if r := runCLI(t, "", "secrets", "list"); !strings.Contains(r.stderr, "cannot reach the server at "+down+":") {
		t.Errorf("MOONBASE_URL was not used: %+v", r)
	}
	t.Setenv("MOONBASE_URL", real.url)
	if r := runCLI(t, "", "secrets", "list"); r.err != nil || r.stdout != "STRIPE_KEY\n" {
		t.Errorf("from the environment: %+v", r)
	}
	// Flags win over the environment.
	if r := runCLI(t, "", "secrets", "list", "--token", "wrong"); r.err == nil || !strings.Contains(r.stderr, "admin token missing or wrong") {
		t.Errorf("--token did not override MOONBASE_ADMIN_TOKEN: %+v", r)
	}
	t.Setenv("MOONBASE_URL", down)
	if r := runCLI(t, "", "secrets", "list", "--url", real.url+"/"); r.err != nil {
		t.Errorf("--url did not override MOONBASE_URL: %+v", r)
	}
}
