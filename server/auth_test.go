package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestAuthFlow(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	vars := map[string]string{}
	remember := func(key string) func(*testing.T, response, map[string]string) {
		return func(t *testing.T, res response, vars map[string]string) {
			vars[key] = res.json(t)["token"].(string)
		}
	}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "register", method: "POST", path: "/api/auth/register",
			body:        `{"email":"  Alice@Example.com ","password":"correct horse","name":"Alice"}`,
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"email":"alice@example.com"`, `"name":"Alice"`, `"token":"`, `"expires_at":"`, `"created_at":{"$date":"`},
			notContent:  []string{"password", "correct horse"},
			wantEvents:  []string{"user_registered"},
			after: func(t *testing.T, res response, vars map[string]string) {
				user := res.json(t)["user"].(map[string]any)
				vars["alice_id"] = user["id"].(string)
				vars["alice_reg"] = res.json(t)["token"].(string)
				ev := ts.lastEvent(t, "user_registered")["user"]
				if m, ok := ev.(bson.M); ok {
					ev = map[string]any(m)
				}
				evUser, ok := ev.(map[string]any)
				if !ok {
					t.Fatalf("event user is %T", ev)
				}
				for _, k := range []string{"id", "email", "name", "created_at"} {
					if _, ok := evUser[k]; !ok {
						t.Errorf("user_registered user lacks %s: %v", k, evUser)
					}
				}
				if evUser["id"] != vars["alice_id"] || evUser["email"] != "alice@example.com" {
					t.Errorf("user_registered user = %v", evUser)
				}
				if _, ok := evUser["password_hash"]; ok {
					t.Error("user_registered carries the password hash")
				}
			},
		},
		{
			name: "duplicate email in another case", method: "POST", path: "/api/auth/register",
			body:        `{"email":"ALICE@example.COM","password":"another pass"}`,
			wantStatus:  http.StatusConflict,
			wantContent: []string{`{"error":{"code":"email_taken","message":"an account with this email already exists"}}`},
		},
		{
			name: "invalid email", method: "POST", path: "/api/auth/register",
			body:        `{"email":"alice-at-example.com","password":"long enough"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_input"`, `is not a valid address`},
		},
		{
			name: "display-name email", method: "POST", path: "/api/auth/register",
			body:        `{"email":"Alice <bob@example.com>","password":"long enough"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`is not a valid address`},
		},
		{
			name: "short password", method: "POST", path: "/api/auth/register",
			body:        `{"email":"short@example.com","password":"1234567"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`{"error":{"code":"invalid_input","message":"password must be at least 8 characters"}}`},
		},
		{
			name: "password beyond bcrypt's 72 bytes", method: "POST", path: "/api/auth/register",
			body:        `{"email":"long@example.com","password":"` + string(make73()) + `"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`password must be at most 72 bytes`},
		},
		{
			name: "missing password", method: "POST", path: "/api/auth/register",
			body:        `{"email":"nopw@example.com"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`{"error":{"code":"invalid_input","message":"password is required"}}`},
		},
		{
			name: "email of the wrong type", method: "POST", path: "/api/auth/register",
			body:        `{"email":5,"password":"long enough"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`{"error":{"code":"invalid_input","message":"email must be a string"}}`},
		},
		{
			name: "malformed JSON", method: "POST", path: "/api/auth/register",
			body:        `{"email":"x@example.com",`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`{"error":{"code":"invalid_json","message":"request body is not valid JSON"}}`},
		},
		{
			name: "empty body", method: "POST", path: "/api/auth/register",
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`request body is empty`},
		},
		{
			name: "unknown field", method: "POST", path: "/api/auth/register",
			body:        `{"email":"x@example.com","password":"long enough","admin":true}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`unknown field admin`},
		},
		{
			name: "login", method: "POST", path: "/api/auth/login",
			body:        `{"email":"ALICE@example.com","password":"correct horse"}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"id":"{alice_id}"`, `"token":"`},
			notContent:  []string{"password"},
			wantEvents:  []string{"user_login"},
			after:       remember("alice"),
		},
		{
			name: "me", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"user":{"id":"{alice_id}","email":"alice@example.com","name":"Alice","verified":false,"created_at":{"$date":"`},
			notContent:  []string{"password"},
		},
		{
			name: "logout", method: "POST", path: "/api/auth/logout", token: "alice",
			wantStatus: http.StatusNoContent,
		},
		{
			name: "me after logout", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`{"error":{"code":"unauthenticated","message":"session is invalid or has expired"}}`},
		},
		{
			name: "logout again", method: "POST", path: "/api/auth/logout", token: "alice",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "wrong password", method: "POST", path: "/api/auth/login",
			body:        `{"email":"alice@example.com","password":"wrong horse"}`,
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`{"error":{"code":"invalid_credentials","message":"invalid email or password"}}`},
		},
		{
			name: "unknown email answers the same", method: "POST", path: "/api/auth/login",
			body:        `{"email":"nobody@example.com","password":"wrong horse"}`,
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`{"error":{"code":"invalid_credentials","message":"invalid email or password"}}`},
		},
		{
			name: "me without a token", method: "GET", path: "/api/auth/me",
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`{"error":{"code":"unauthenticated","message":"sign in required"}}`},
		},
		{
			name: "me with another scheme", method: "GET", path: "/api/auth/me",
			headers:     []string{"Authorization", "Basic YWxpY2U6cHc="},
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`session is invalid or has expired`},
		},
		{
			name: "the register token is a session too", method: "GET", path: "/api/auth/me", token: "alice_reg",
			wantStatus: http.StatusOK,
		},
	})
}

func make73() []byte {
	b := make([]byte, 73)
	for i := range b {
		b[i] = 'p'
	}
	return b
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Auth.Throttle = ThrottleConfig{EmailFailures: 3, AddressFailures: 5, Window: time.Hour}
	// The address comes from this header, so the test can play several clients.
	cfg.Server.ProxyHeader = "X-Forwarded-For"
	ts := startServer(t, cfg, Deps{})
	ts.register(t, "bob@example.com", "bobs password")
	ts.register(t, "dave@example.com", "daves password")

	login := func(email, password, addr string) response {
		return ts.do(t, "POST", "/api/auth/login", `{"email":"`+email+`","password":"`+password+`"}`, "", "X-Forwarded-For", addr)
	}
	wantStatus := func(res response, status int, what string) {
		t.Helper()
		if res.status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, res.status, status, res.body)
		}
	}
	wantThrottled := func(res response, what string) {
		t.Helper()
		wantStatus(res, http.StatusTooManyRequests, what)
		secs, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3600 {
			t.Errorf("%s: Retry-After %q, want 1-3600 seconds", what, res.header.Get("Retry-After"))
		}
		if want := `"code":"too_many_requests"`; !strings.Contains(res.body, want) {
			t.Errorf("%s: body %s lacks %s", what, res.body, want)
		}
	}

	for i := 0; i < 3; i++ {
		wantStatus(login("bob@example.com", "guess", "10.0.0.1"), http.StatusUnauthorized, "bob's failure")
	}
	wantThrottled(login("bob@example.com", "guess", "10.0.0.1"), "4th failure for bob")
	wantThrottled(login("BOB@example.com", "bobs password", "10.0.0.1"), "bob's right password while throttled")
	wantThrottled(login("bob@example.com", "bobs password", "10.0.0.2"), "bob from another address")

	// The address has 3 failures; two more (for anyone) use up its 5.
	wantStatus(login("carol@example.com", "guess", "10.0.0.1"), http.StatusUnauthorized, "carol's 1st failure")
	wantStatus(login("carol@example.com", "guess", "10.0.0.1"), http.StatusUnauthorized, "carol's 2nd failure")
	wantThrottled(login("dave@example.com", "daves password", "10.0.0.1"), "dave from the throttled address")
	// Only the address the proxy added counts; what the client put before it does not.
	wantThrottled(login("dave@example.com", "daves password", "192.0.2.7, 10.0.0.1"), "a forged address before the throttled one")
	wantStatus(login("dave@example.com", "daves password", "10.0.0.2"), http.StatusOK, "dave from another address")
	if names := ts.eventNames(t); names[len(names)-1] != "user_login" {
		t.Errorf("last event %v, want user_login", names)
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Auth.SessionTTL = 300 * time.Millisecond
	ts := startServer(t, cfg, Deps{})
	u := ts.register(t, "ephemeral@example.com", "short lived")
	if res := ts.do(t, "GET", "/api/auth/me", "", u.token); res.status != http.StatusOK {
		t.Fatalf("fresh session: %d %s", res.status, res.body)
	}
	testsupport.WaitFor(t, "the session to expire", func() bool {
		return ts.do(t, "GET", "/api/auth/me", "", u.token).status == http.StatusUnauthorized
	})
	res := ts.do(t, "GET", "/api/db/notes", "", u.token)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "session is invalid or has expired") {
		t.Errorf("expired session on the data API: %d %s", res.status, res.body)
	}
}
