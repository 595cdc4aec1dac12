package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/admin"
	"github.com/moonbase-dev/moonbase/db"
)

// dashSession is a dashboard sign-in: the cookie's value and the CSRF
// token the page keeps.
type dashSession struct {
	cookie, csrf string
}

// signInDashboard signs in with the admin token and checks the cookie's
// attributes.
func (ts *testServer) signInDashboard(t *testing.T) dashSession {
	t.Helper()
	res := ts.do(t, "POST", "/admin/session", `{"token":"`+testAdminToken+`"}`, "")
	if res.status != http.StatusOK {
		t.Fatalf("sign in: %d %s", res.status, res.body)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == admin.CookieName {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value == "" {
		t.Fatalf("sign in set no %s cookie: %v", admin.CookieName, res.header["Set-Cookie"])
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("cookie is %+v; want HttpOnly, SameSite=Strict, Path=/", cookie)
	}
	csrf, _ := res.json(t)["csrf_token"].(string)
	if len(csrf) < 32 || strings.Contains(res.body, cookie.Value) {
		t.Fatalf("sign-in answer %s: want a CSRF token and never the cookie's value", res.body)
	}
	return dashSession{cookie: cookie.Value, csrf: csrf}
}

func (d dashSession) header(csrf bool, extra ...string) []string {
	h := []string{"Cookie", admin.CookieName + "=" + d.cookie}
	if csrf {
		h = append(h, admin.CSRFHeader, d.csrf)
	}
	return append(h, extra...)
}

func TestDashboardSignIn(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	scenarios := []struct {
		name, body string
		header     []string
		status     int
		code       string
	}{
		{"wrong token", `{"token":"not-the-admin-token-at-all"}`, nil, 401, "invalid_token"},
		{"empty token", `{"token":""}`, nil, 400, "invalid_input"},
		{"no body", ``, nil, 400, "invalid_input"},
		{"not JSON", `token=x`, nil, 400, "invalid_input"},
		{"unknown field", `{"token":"` + testAdminToken + `","remember":true}`, nil, 400, "invalid_input"},
		{"from another origin", `{"token":"` + testAdminToken + `"}`, []string{"Origin", "http://evil.example"}, 403, "csrf_failed"},
		{"cross-site fetch", `{"token":"` + testAdminToken + `"}`, []string{"Sec-Fetch-Site", "cross-site"}, 403, "csrf_failed"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := ts.do(t, "POST", "/admin/session", s.body, "", s.header...)
			if res.status != s.status || !strings.Contains(res.body, `"code":"`+s.code+`"`) {
				t.Fatalf("got %d %s, want %d %s", res.status, res.body, s.status, s.code)
			}
			if len(res.header.Values("Set-Cookie")) > 0 {
				t.Fatalf("a refused sign-in set a cookie: %v", res.header.Values("Set-Cookie"))
			}
		})
	}
	n, err := ts.Store().C(admin.SessionsCollection).Count(context.Background(), nil)
	if err != nil || n != 0 {
		t.Fatalf("refused sign-ins left %d sessions (%v)", n, err)
	}
}

func TestDashboardCookieAndCSRF(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	sess := ts.signInDashboard(t)
	secretExists := func(name string) bool {
		return strings.Contains(ts.do(t, "GET", "/api/admin/secrets", "", testAdminToken).body, `"`+name+`"`)
	}
	scenarios := []struct {
		name    string
		method  string
		path    string
		body    string
		header  []string
		status  int
		code    string
		written string // a secret that must exist afterwards ("" for none)
		refused string // a secret that must not
	}{
		{"read with the cookie", "GET", "/api/admin/functions", "", sess.header(false), 200, "", "", ""},
		{"session answers the CSRF token", "GET", "/admin/session", "", sess.header(false), 200, "", "", ""},
		{"write without the CSRF token", "PUT", "/api/admin/secrets/A", `{"value":"1"}`, sess.header(false), 403, "csrf_failed", "", "A"},
		{"write with a wrong CSRF token", "PUT", "/api/admin/secrets/B", `{"value":"1"}`,
			[]string{"Cookie", admin.CookieName + "=" + sess.cookie, admin.CSRFHeader, "x" + sess.csrf[1:]}, 403, "csrf_failed", "", "B"},
		{"write from another origin", "PUT", "/api/admin/secrets/C", `{"value":"1"}`, sess.header(true, "Origin", "http://evil.example"), 403, "csrf_failed", "", "C"},
		{"write marked cross-site", "PUT", "/api/admin/secrets/D", `{"value":"1"}`, sess.header(true, "Sec-Fetch-Site", "cross-site"), 403, "csrf_failed", "", "D"},
		{"write with the CSRF token", "PUT", "/api/admin/secrets/E", `{"value":"1"}`, sess.header(true), 204, "", "E", ""},
		{"write from the same origin", "PUT", "/api/admin/secrets/F", `{"value":"1"}`, sess.header(true, "Origin", ts.URL(), "Sec-Fetch-Site", "same-origin"), 204, "", "F", ""},
		{"CSRF token without the cookie", "PUT", "/api/admin/secrets/G", `{"value":"1"}`, []string{admin.CSRFHeader, sess.csrf}, 401, "unauthenticated", "", "G"},
		{"unknown cookie", "GET", "/api/admin/functions", "", []string{"Cookie", admin.CookieName + "=forged"}, 401, "unauthenticated", "", ""},
		{"a wrong bearer token decides even with a cookie", "GET", "/api/admin/functions", "", append(sess.header(false), "Authorization", "Bearer wrong"), 401, "unauthenticated", "", ""},
		{"no cookie, no token", "GET", "/api/admin/functions", "", nil, 401, "unauthenticated", "", ""},
		{"sign out without the CSRF token", "DELETE", "/admin/session", "", sess.header(false), 403, "csrf_failed", "", ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := ts.do(t, s.method, s.path, s.body, "", s.header...)
			if res.status != s.status {
				t.Fatalf("got %d %s, want %d", res.status, res.body, s.status)
			}
			if s.code != "" && !strings.Contains(res.body, `"code":"`+s.code+`"`) {
				t.Fatalf("body %s, want code %s", res.body, s.code)
			}
			if s.written != "" && !secretExists(s.written) {
				t.Fatalf("secret %s was not written", s.written)
			}
			if s.refused != "" && secretExists(s.refused) {
				t.Fatalf("a refused write changed something: secret %s exists", s.refused)
			}
		})
	}

	// Signing out ends the session at once; the cookie then opens nothing.
	res := ts.do(t, "DELETE", "/admin/session", "", "", sess.header(true)...)
	if res.status != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", res.status, res.body)
	}
	if sc := strings.Join(res.header.Values("Set-Cookie"), ";"); !strings.Contains(sc, admin.CookieName+"=;") || !strings.Contains(strings.ToLower(sc), "httponly") {
		t.Fatalf("sign out did not clear the cookie: %q", sc)
	}
	for _, path := range []string{"/api/admin/functions", "/admin/session"} {
		if res := ts.do(t, "GET", path, "", "", sess.header(false)...); res.status != http.StatusUnauthorized {
			t.Fatalf("after sign-out GET %s answered %d %s", path, res.status, res.body)
		}
	}
	if res := ts.do(t, "PUT", "/api/admin/secrets/H", `{"value":"1"}`, "", sess.header(true)...); res.status != http.StatusUnauthorized || secretExists("H") {
		t.Fatalf("after sign-out a write answered %d %s", res.status, res.body)
	}
}

func TestDashboardSessionExpires(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	sess := ts.signInDashboard(t)
	other := ts.signInDashboard(t)
	if res := ts.do(t, "GET", "/api/admin/functions", "", "", sess.header(false)...); res.status != http.StatusOK {
		t.Fatalf("fresh session: %d %s", res.status, res.body)
	}
	// Age every session past its end, as the clock would.
	past := time.Now().Add(-time.Minute)
	ctx := context.Background()
	if _, err := ts.Store().C(admin.SessionsCollection).UpdateMany(ctx, bson.M{}, bson.M{"$set": bson.M{"expires_at": past}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []dashSession{sess, other} {
		if res := ts.do(t, "GET", "/api/admin/functions", "", "", s.header(false)...); res.status != http.StatusUnauthorized {
			t.Fatalf("expired session: %d %s", res.status, res.body)
		}
	}
	// The next sign-in clears the expired ones away.
	ts.signInDashboard(t)
	n, err := ts.Store().C(admin.SessionsCollection).Count(ctx, nil)
	if err != nil || n != 1 {
		t.Fatalf("%d sessions after signing in again (%v), want only the new one", n, err)
	}
	// The cookie's value is never stored, only its hash.
	docs, err := ts.Store().C(admin.SessionsCollection).Find(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d["_id"] == sess.cookie || d["_id"] == other.cookie {
			t.Fatal("a session is stored under its cookie's value")
		}
	}
	if !db.IsSystemCollection(admin.SessionsCollection) {
		t.Fatalf("%s must be a system collection, out of the data API's reach", admin.SessionsCollection)
	}
	if res := ts.do(t, "GET", "/api/db/"+admin.SessionsCollection, "", ""); res.status == http.StatusOK {
		t.Fatalf("the data API lists sessions: %s", res.body)
	}
}

func TestDashboardPage(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	res := ts.do(t, "GET", "/admin", "", "")
	switch res.status {
	case http.StatusOK: // built into this binary: the page
		if !strings.Contains(res.body, "/admin/app.js") {
			t.Fatalf("/admin is not the page: %s", res.body)
		}
		js := ts.do(t, "GET", "/admin/app.js", "", "")
		if js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") || js.header.Get("ETag") == "" {
			t.Fatalf("app.js: %d %v", js.status, js.header)
		}
		if again := ts.do(t, "GET", "/admin/app.js", "", "", "If-None-Match", js.header.Get("ETag")); again.status != http.StatusNotModified {
			t.Fatalf("app.js with its ETag: %d", again.status)
		}
		if deep := ts.do(t, "GET", "/admin/functions/x", "", ""); deep.status != 200 || deep.body != res.body {
			t.Fatalf("a deep link does not get the page: %d", deep.status)
		}
	case http.StatusServiceUnavailable: // built without the bundle: one line saying how
		if strings.TrimSpace(res.body) != admin.BuildHint {
			t.Fatalf("/admin without the bundle says %q", res.body)
		}
	default:
		t.Fatalf("/admin: %d %s", res.status, res.body)
	}
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || res.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("/admin headers: %v", res.header)
	}
	if res := ts.do(t, "POST", "/admin", "", ""); res.status != http.StatusMethodNotAllowed && res.status != http.StatusNotFound {
		t.Fatalf("POST /admin: %d", res.status)
	}
}
