package server

import (
	"net/http"
	"testing"
	"time"
)

func TestAccountLinksAreSpaced(t *testing.T) {
	t.Parallel()
	cfg := accountConfig(t)
	cfg.Auth.LinkInterval = time.Hour
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	var first string
	runScenarios(t, ts, map[string]string{"alice": alice.token}, []scenario{
		{
			name: "a reset link", method: "POST", path: "/api/auth/password-reset", body: `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted,
			after:      func(_ *testing.T, res response, _ map[string]string) { first = res.body },
		},
		{
			name: "another at once is the same answer and no email", method: "POST", path: "/api/auth/password-reset", body: `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, res response, _ map[string]string) {
				if res.body != first {
					t.Errorf("answers differ: %s and %s", first, res.body)
				}
				// The reset jobs queue the emails: once both ran, one
				// email job means one email.
				ts.awaitResetJobsDone(t, 2)
				if n := len(ts.emailJobs(t, "")); n != 1 {
					t.Errorf("%d emails queued, want 1", n)
				}
			},
		},
		{
			name: "a verification link", method: "POST", path: "/api/auth/verify-email/request", token: "alice",
			wantStatus: http.StatusAccepted,
		},
		{
			name: "another at once is refused with when to retry", method: "POST", path: "/api/auth/verify-email/request", token: "alice",
			wantStatus:  http.StatusTooManyRequests,
			wantContent: []string{`a verification link was sent a moment ago, try again in`},
			after: func(t *testing.T, res response, _ map[string]string) {
				if ra := res.header.Get("Retry-After"); ra == "" || ra == "0" {
					t.Errorf("Retry-After %q", ra)
				}
				if n := len(ts.emailJobs(t, "")); n != 2 {
					t.Errorf("%d emails queued, want 2", n)
				}
			},
		},
	})
}

func TestChangeEmail(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	ts.register(t, "bob@example.com", "bob's password")
	vars := map[string]string{"alice": alice.token}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "a wrong password", method: "POST", path: "/api/auth/email", token: "alice",
			body:       `{"new_email":"ada@example.com","password":"guess"}`,
			wantStatus: http.StatusForbidden, wantContent: []string{`"code":"wrong_password"`},
		},
		{
			name: "the same email", method: "POST", path: "/api/auth/email", token: "alice",
			body:       `{"new_email":"ALICE@example.com","password":"alice's password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`alice@example.com is already the email of this account`},
		},
		{
			name: "not an email", method: "POST", path: "/api/auth/email", token: "alice",
			body:       `{"new_email":"a@[127.0.0.1]","password":"alice's password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`address literal`},
		},
		{
			name: "anonymous", method: "POST", path: "/api/auth/email",
			body:       `{"new_email":"ada@example.com","password":"alice's password"}`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "asked", method: "POST", path: "/api/auth/email", token: "alice",
			body:        `{"new_email":"Ada@Example.com","password":"alice's password"}`,
			wantStatus:  http.StatusAccepted,
			wantContent: []string{`a confirmation link has been sent to ada@example.com`},
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["change"] = ts.awaitLink(t, "ada@example.com", "Confirm your new email", 1)
				if n := len(ts.mailsTo(t, "alice@example.com")); n != 0 {
					t.Errorf("%d emails to the old address", n)
				}
			},
		},
		{
			name: "not changed before the link is used", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus: http.StatusOK, wantContent: []string{`"email":"alice@example.com"`},
		},
		{
			name: "confirmed", method: "POST", path: "/api/auth/email/confirm", body: `{"token":"{change}"}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"email":"ada@example.com"`, `"verified":true`},
			wantEvents:  []string{"user_updated"},
		},
		{
			name: "the link works once", method: "POST", path: "/api/auth/email/confirm", body: `{"token":"{change}"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "the new email signs in", method: "POST", path: "/api/auth/login",
			body:       `{"email":"ada@example.com","password":"alice's password"}`,
			wantStatus: http.StatusOK, wantEvents: []string{"user_login"},
		},
		{
			name: "the old one does not", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"alice's password"}`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "ask for an email another account has", method: "POST", path: "/api/auth/email", token: "alice",
			body:       `{"new_email":"bob@example.com","password":"alice's password"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["taken"] = ts.awaitLink(t, "bob@example.com", "Confirm your new email", 1)
			},
		},
		{
			name: "confirming it is a conflict", method: "POST", path: "/api/auth/email/confirm", body: `{"token":"{taken}"}`,
			wantStatus: http.StatusConflict, wantContent: []string{`"code":"email_taken"`},
		},
		{
			name: "and changes nothing", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus: http.StatusOK, wantContent: []string{`"email":"ada@example.com"`},
		},
	})
}
