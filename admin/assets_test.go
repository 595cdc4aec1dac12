package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db/embedded"
)

// newTestApp serves a dashboard over files on a fiber app, with a real
// embedded store for its sessions.
func newTestApp(t *testing.T, files fstest.MapFS) (*Dashboard, *fiber.App) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(t.Context()) })
	d, err := New(Config{}, Deps{Store: st, CheckToken: func(string) bool { return false }, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	d.Bind(app)
	return d, app
}

func get(t *testing.T, app *fiber.App, path string) (int, http.Header, string) {
	t.Helper()
	res, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestWithoutBundle(t *testing.T) {
	t.Parallel()
	for _, files := range []fstest.MapFS{
		{},
		{".keep": {Data: nil}},
		{"app.js": {Data: []byte("x")}}, // half a bundle is none
	} {
		d, app := newTestApp(t, files)
		if d.Built() {
			t.Fatalf("%v counts as a bundle", files)
		}
		for _, path := range []string{"/admin", "/admin/", "/admin/app.js"} {
			status, header, body := get(t, app, path)
			if status != http.StatusServiceUnavailable || strings.TrimSpace(body) != BuildHint || strings.Count(body, "\n") != 1 {
				t.Fatalf("GET %s: %d %q, want 503 and the one-line hint", path, status, body)
			}
			if !strings.HasPrefix(header.Get("Content-Type"), "text/plain") {
				t.Fatalf("GET %s: content type %q", path, header.Get("Content-Type"))
			}
		}
	}
}

func TestServesBundle(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><p>page</p>")},
		"app.js":     {Data: []byte("console.log(1)")},
		"app.css":    {Data: []byte("body{}")},
		".keep":      {Data: nil},
	}
	d, app := newTestApp(t, files)
	if !d.Built() {
		t.Fatal("a bundle with index.html is not built")
	}
	scenarios := []struct {
		path, ctype, body string
	}{
		{"/admin", "text/html", "<p>page</p>"},
		{"/admin/", "text/html", "<p>page</p>"},
		{"/admin/app.js", "text/javascript", "console.log(1)"},
		{"/admin/app.css", "text/css", "body{}"},
		{"/admin/functions/greet", "text/html", "<p>page</p>"}, // the page routes itself
		{"/admin/.keep", "text/html", "<p>page</p>"},           // the placeholder is not served
	}
	for _, s := range scenarios {
		status, header, body := get(t, app, s.path)
		if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), s.ctype) || !strings.Contains(body, s.body) {
			t.Fatalf("GET %s: %d %s %q", s.path, status, header.Get("Content-Type"), body)
		}
		if header.Get("Content-Security-Policy") == "" || header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: security headers missing: %v", s.path, header)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, s := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{SessionTTL: DefaultSessionTTL}, true},
		{Config{SessionTTL: 30}, false},
		{Config{SessionTTL: -1}, false},
	} {
		if err := s.cfg.Validate(); (err == nil) != s.ok {
			t.Errorf("%+v: Validate() = %v", s.cfg, err)
		}
	}
	if (Config{}).WithDefaults().SessionTTL != DefaultSessionTTL {
		t.Error("WithDefaults does not set the session's lifetime")
	}
}
