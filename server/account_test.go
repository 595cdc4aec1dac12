package server

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// accountConfig is a test server whose mail lands in the outbox quickly
// and whose links point at a local app.
func accountConfig(t *testing.T) Config {
	t.Helper()
	cfg := eventsConfig(t)
	cfg.Auth.AppURL = "http://127.0.0.1/app"
	cfg.Auth.ProfileFields = []string{"name", "avatar"}
	cfg.Auth.LinkInterval = 0
	return cfg
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_%-]+)`)

// mailsTo lists the subjects and texts of the outbox messages to email.
func (ts *testServer) mailsTo(t *testing.T, email string) []bson.M {
	t.Helper()
	docs, err := ts.Store().C(db.Outbox).Find(context.Background(), bson.M{"to": email}, &db.FindOptions{Sort: bson.D{{Key: "created_at", Value: 1}}})
	if err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	return docs
}

// awaitLink waits for the n-th email to email (counting from 1) and
// returns the token of its link, checking its subject.
func (ts *testServer) awaitLink(t *testing.T, email, subject string, n int) string {
	t.Helper()
	var docs []bson.M
	testsupport.WaitFor(t, subject+" email to "+email, func() bool { docs = ts.mailsTo(t, email); return len(docs) >= n })
	msg := docs[n-1]
	if msg["subject"] != subject {
		t.Fatalf("email %d to %s is %q, want %q", n, email, msg["subject"], subject)
	}
	text, _ := msg["text"].(string)
	m := linkToken.FindStringSubmatch(text)
	if m == nil || !strings.Contains(text, "http://127.0.0.1/app/") {
		t.Fatalf("no link in %q", text)
	}
	return m[1]
}

func TestAccountProfile(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	vars := map[string]string{"alice": alice.token, "alice_id": alice.id}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "me", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"id":"{alice_id}"`, `"verified":false`},
			notContent:  []string{"password"},
		},
		{
			name: "set profile fields", method: "PATCH", path: "/api/auth/me", token: "alice",
			body:        `{"name":"Alice A.","avatar":"https://127.0.0.1/a.png"}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"name":"Alice A."`, `"avatar":"https://127.0.0.1/a.png"`},
			wantEvents:  []string{"user_updated"},
			after: func(t *testing.T, _ response, vars map[string]string) {
				ev := ts.lastEvent(t, "user_updated")
				if u, _ := ev["user"].(bson.M); u["name"] != "Alice A." || u["id"] != vars["alice_id"] {
					t.Errorf("user_updated user = %v", ev["user"])
				}
				if f, _ := ev["fields"].(bson.A); len(f) != 2 || f[0] != "avatar" || f[1] != "name" {
					t.Errorf("user_updated fields = %v", ev["fields"])
				}
				if by, _ := ev["by"].(bson.M); by["id"] != vars["alice_id"] {
					t.Errorf("user_updated by = %v, want alice", ev["by"])
				}
			},
		},
		{
			name: "an app field is not the user's to set", method: "PATCH", path: "/api/auth/me", token: "alice",
			body:        `{"plan":"pro"}`,
			wantStatus:  http.StatusForbidden,
			wantContent: []string{`field plan cannot be set by users; they may set name, avatar`},
		},
		{
			name: "nor is the verified flag", method: "PATCH", path: "/api/auth/me", token: "alice",
			body:       `{"verified":true}`,
			wantStatus: http.StatusForbidden,
		},
		{
			name: "email has its own call", method: "PATCH", path: "/api/auth/me", token: "alice",
			body:        `{"email":"mallory@example.com"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`email changes through its own account call`},
		},
		{
			name: "an empty change", method: "PATCH", path: "/api/auth/me", token: "alice", body: `{}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`send the fields to change, of name, avatar`},
		},
		{
			name: "a name of the wrong type", method: "PATCH", path: "/api/auth/me", token: "alice", body: `{"name":5}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`name must be a string`},
		},
		{
			name: "anonymous", method: "PATCH", path: "/api/auth/me", body: `{"name":"x"}`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "app fields set by functions show, dates as dates", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus: http.StatusOK,
			after: func(t *testing.T, _ response, vars map[string]string) {
				oid, _ := primitive.ObjectIDFromHex(vars["alice_id"])
				at := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
				if _, err := ts.Store().C(db.Users).UpdateOne(context.Background(), db.ByID(oid),
					bson.M{"$set": bson.M{"trialEndsAt": at, "isPaid": false}}, nil); err != nil {
					t.Fatal(err)
				}
				res := ts.do(t, "GET", "/api/auth/me", "", vars["alice"])
				for _, want := range []string{`"trialEndsAt":{"$date":"2026-01-15T09:00:00.000Z"}`, `"isPaid":false`, `"name":"Alice A."`} {
					if !strings.Contains(res.body, want) {
						t.Errorf("me lacks %s: %s", want, res.body)
					}
				}
				if strings.Contains(res.body, "password") {
					t.Errorf("me shows the password hash: %s", res.body)
				}
			},
		},
		{
			name: "users is not a data API collection", method: "GET", path: "/api/db/users", token: "alice",
			wantStatus:  http.StatusNotFound,
			wantContent: []string{`users are the accounts`},
			notContent:  []string{"alice@example.com"},
		},
		{
			name: "ask for a verification link", method: "POST", path: "/api/auth/verify-email/request", token: "alice",
			wantStatus:  http.StatusAccepted,
			wantContent: []string{`a verification link has been sent to alice@example.com`},
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["verify"] = ts.awaitLink(t, "alice@example.com", "Verify your email", 1)
			},
		},
		{
			name: "verify with it, signed in or not", method: "POST", path: "/api/auth/verify-email", body: `{"token":"{verify}"}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"verified":true`},
			wantEvents:  []string{"user_updated"},
		},
		{
			name: "the link works once", method: "POST", path: "/api/auth/verify-email", body: `{"token":"{verify}"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "a verified email gets no new link", method: "POST", path: "/api/auth/verify-email/request", token: "alice",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"verified":true`},
		},
		{
			name: "a verification token without its field", method: "POST", path: "/api/auth/verify-email", body: `{"tok":"x"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`unknown field tok (expected token)`},
		},
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	other := ts.do(t, "POST", "/api/auth/login", `{"email":"alice@example.com","password":"alice's password"}`, "")
	if other.status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", other.status, other.body)
	}
	vars := map[string]string{"alice": alice.token, "other": other.json(t)["token"].(string)}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "a wrong current password", method: "POST", path: "/api/auth/password", token: "alice",
			body:        `{"current_password":"guess","new_password":"a new password"}`,
			wantStatus:  http.StatusForbidden,
			wantContent: []string{`"code":"wrong_password"`},
		},
		{
			name: "a new password too short", method: "POST", path: "/api/auth/password", token: "alice",
			body:        `{"current_password":"alice's password","new_password":"short"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`password must be at least 8 characters`},
		},
		{
			name: "a missing field", method: "POST", path: "/api/auth/password", token: "alice",
			body:        `{"current_password":"alice's password"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`new_password is required`},
		},
		{
			name: "anonymous", method: "POST", path: "/api/auth/password",
			body:       `{"current_password":"alice's password","new_password":"a new password"}`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "a reset link pending", method: "POST", path: "/api/auth/password-reset", body: `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["reset"] = ts.awaitLink(t, "alice@example.com", "Reset your password", 1)
			},
		},
		{
			name: "changed", method: "POST", path: "/api/auth/password", token: "alice",
			body:       `{"current_password":"alice's password","new_password":"a new password"}`,
			wantStatus: http.StatusNoContent, wantEvents: []string{"user_updated"},
			after: func(t *testing.T, _ response, _ map[string]string) {
				ev := ts.lastEvent(t, "user_updated")
				if f, _ := ev["fields"].(bson.A); len(f) != 1 || f[0] != "password" {
					t.Errorf("user_updated fields = %v", ev["fields"])
				}
			},
		},
		{
			name: "the session that changed it stays", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus: http.StatusOK,
		},
		{
			name: "the pending reset link no longer works", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{reset}","password":"yet another password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "the other session ended", method: "GET", path: "/api/auth/me", token: "other",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "the old password no longer signs in", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"alice's password"}`,
			wantStatus: http.StatusUnauthorized, wantContent: []string{`"code":"invalid_credentials"`},
		},
		{
			name: "the new one does", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"a new password"}`,
			wantStatus: http.StatusOK, wantEvents: []string{"user_login"},
		},
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	vars := map[string]string{"alice": alice.token}
	expire := func(t *testing.T, token string) {
		t.Helper()
		n, err := ts.Store().C(db.AccountTokens).UpdateOne(context.Background(), db.ByID(tokenHash(token)),
			bson.M{"$set": bson.M{"expires_at": time.Now().Add(-time.Second)}}, nil)
		if err != nil || n.Matched != 1 {
			t.Fatalf("expire token: %v %+v", err, n)
		}
	}
	var known, unknown response
	runScenarios(t, ts, vars, []scenario{
		{
			name: "an email without an account", method: "POST", path: "/api/auth/password-reset",
			body:       `{"email":"nobody@example.com"}`,
			wantStatus: http.StatusAccepted,
			after:      func(_ *testing.T, res response, _ map[string]string) { unknown = res },
		},
		{
			name: "an email with one", method: "POST", path: "/api/auth/password-reset",
			body:       `{"email":"Alice@Example.com"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, res response, vars map[string]string) {
				known = res
				if known.body != unknown.body {
					t.Errorf("the answers differ: %s and %s", known.body, unknown.body)
				}
				vars["first"] = ts.awaitLink(t, "alice@example.com", "Reset your password", 1)
				if n := len(ts.mailsTo(t, "nobody@example.com")); n != 0 {
					t.Errorf("%d emails to an email without an account", n)
				}
			},
		},
		{
			name: "not an email", method: "POST", path: "/api/auth/password-reset", body: `{"email":"alice"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`is not a valid address`},
		},
		{
			name: "a second request replaces the first link", method: "POST", path: "/api/auth/password-reset",
			body:       `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["second"] = ts.awaitLink(t, "alice@example.com", "Reset your password", 2)
			},
		},
		{
			name: "the replaced link", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{first}","password":"a new password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "a token never given", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"made-up","password":"a new password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "a password too short", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{second}","password":"short"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`at least 8 characters`},
		},
		{
			name: "reset", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{second}","password":"a new password"}`,
			wantStatus: http.StatusNoContent, wantEvents: []string{"user_updated"},
			after: func(t *testing.T, _ response, _ map[string]string) {
				ev := ts.lastEvent(t, "user_updated")
				if f, _ := ev["fields"].(bson.A); len(f) != 2 || f[0] != "password" || f[1] != "verified" {
					t.Errorf("user_updated fields = %v", ev["fields"])
				}
				if u, _ := ev["user"].(bson.M); u["verified"] != true {
					t.Errorf("user_updated user = %v, want it verified", ev["user"])
				}
				if by, _ := ev["by"].(bson.M); by["id"] != alice.id {
					t.Errorf("user_updated by = %v, want alice", ev["by"])
				}
			},
		},
		{
			name: "the link works once", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{second}","password":"another password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "every session ended", method: "GET", path: "/api/auth/me", token: "alice",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "the new password signs in, and the email is verified", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"a new password"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"verified":true`}, wantEvents: []string{"user_login"},
		},
		{
			name: "ask again", method: "POST", path: "/api/auth/password-reset", body: `{"email":"alice@example.com"}`,
			wantStatus: http.StatusAccepted,
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["third"] = ts.awaitLink(t, "alice@example.com", "Reset your password", 3)
				expire(t, vars["third"])
			},
		},
		{
			name: "an expired link", method: "POST", path: "/api/auth/password-reset/confirm",
			body:       `{"token":"{third}","password":"another password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_token"`},
		},
		{
			name: "the password is unchanged", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"a new password"}`,
			wantStatus: http.StatusOK, wantEvents: []string{"user_login"},
		},
	})
}

func TestRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	cfg := accountConfig(t)
	cfg.Auth.RequireVerified = true
	ts := startServer(t, cfg, Deps{})
	vars := map[string]string{}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "register gets no session", method: "POST", path: "/api/auth/register",
			body:        `{"email":"carol@example.com","password":"carol's password"}`,
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"verified":false`, `"verification":"sent"`},
			notContent:  []string{`"token"`},
			wantEvents:  []string{"user_registered"},
		},
		{
			name: "nor does login", method: "POST", path: "/api/auth/login",
			body:        `{"email":"carol@example.com","password":"carol's password"}`,
			wantStatus:  http.StatusForbidden,
			wantContent: []string{`"code":"email_not_verified"`},
			after: func(t *testing.T, _ response, vars map[string]string) {
				vars["verify"] = ts.awaitLink(t, "carol@example.com", "Verify your email", 1)
			},
		},
		{
			name: "verify", method: "POST", path: "/api/auth/verify-email", body: `{"token":"{verify}"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"verified":true`}, wantEvents: []string{"user_updated"},
		},
		{
			name: "now login signs in", method: "POST", path: "/api/auth/login",
			body:       `{"email":"carol@example.com","password":"carol's password"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"token"`}, wantEvents: []string{"user_login"},
		},
	})
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		policy    string
		aliceLeft int64
		events    []string
	}{
		{OnDeleteKeep, 2, []string{"user_deleted"}},
		// Each document deleted with the account fires its own
		// doc_deleted, after the account's user_deleted.
		{OnDeleteDelete, 0, []string{"user_deleted", "doc_deleted", "doc_deleted"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.policy, func(t *testing.T) {
			t.Parallel()
			cfg := accountConfig(t)
			cfg.Auth.OnDelete = sc.policy
			ts := startServer(t, cfg, Deps{})
			alice := ts.register(t, "alice@example.com", "alice's password")
			bob := ts.register(t, "bob@example.com", "bob's password")
			for _, w := range []struct{ col, token string }{{"notes", alice.token}, {"posts", alice.token}, {"notes", bob.token}} {
				if res := ts.do(t, "POST", "/api/db/"+w.col, `{"x":1}`, w.token); res.status != http.StatusCreated {
					t.Fatalf("create: %d %s", res.status, res.body)
				}
			}
			owned := func(id string) int64 {
				total := int64(0)
				for _, col := range []string{"notes", "posts"} {
					n, err := ts.Store().C(col).Count(context.Background(), bson.M{db.OwnerField: id})
					if err != nil {
						t.Fatal(err)
					}
					total += n
				}
				return total
			}
			vars := map[string]string{"alice": alice.token}
			runScenarios(t, ts, vars, []scenario{
				{
					name: "without the password", method: "DELETE", path: "/api/auth/me", token: "alice", body: `{}`,
					wantStatus: http.StatusBadRequest, wantContent: []string{`password is required`},
				},
				{
					name: "with a wrong one", method: "DELETE", path: "/api/auth/me", token: "alice", body: `{"password":"guess"}`,
					wantStatus: http.StatusForbidden, wantContent: []string{`"code":"wrong_password"`},
				},
				{
					name: "anonymous", method: "DELETE", path: "/api/auth/me", body: `{"password":"alice's password"}`,
					wantStatus: http.StatusUnauthorized,
				},
				{
					name: "deleted", method: "DELETE", path: "/api/auth/me", token: "alice", body: `{"password":"alice's password"}`,
					wantStatus: http.StatusNoContent, wantEvents: sc.events,
					after: func(t *testing.T, _ response, _ map[string]string) {
						ev := ts.lastEvent(t, "user_deleted")
						if u, _ := ev["user"].(bson.M); u["email"] != "alice@example.com" || ev["on_delete"] != sc.policy {
							t.Errorf("user_deleted = %v", ev)
						}
						gone := map[string]bool{}
						for _, col := range []string{"notes", "posts"} {
							for _, d := range ts.eventDocs(t, "doc_deleted", col) {
								data := d["data"].(bson.M)
								doc, _ := data["doc"].(bson.M)
								user, _ := data["user"].(bson.M)
								if doc[db.OwnerField] != alice.id || user["id"] != alice.id || data["reason"] != ReasonAccountDeleted {
									t.Errorf("doc_deleted of %s = %v", col, data)
								}
								gone[col] = true
							}
						}
						if want := sc.policy == OnDeleteDelete; gone["notes"] != want || gone["posts"] != want {
							t.Errorf("doc_deleted in notes %v, posts %v; want %v", gone["notes"], gone["posts"], want)
						}
						if got := owned(alice.id); got != sc.aliceLeft {
							t.Errorf("%d of alice's documents left, want %d", got, sc.aliceLeft)
						}
						if got := owned(bob.id); got != 1 {
							t.Errorf("%d of bob's documents left, want 1", got)
						}
					},
				},
				{
					name: "the session is gone", method: "GET", path: "/api/auth/me", token: "alice",
					wantStatus: http.StatusUnauthorized,
				},
				{
					name: "so is the account", method: "POST", path: "/api/auth/login",
					body:       `{"email":"alice@example.com","password":"alice's password"}`,
					wantStatus: http.StatusUnauthorized,
				},
				{
					name: "the email is free again", method: "POST", path: "/api/auth/register",
					body:       `{"email":"alice@example.com","password":"alice's password"}`,
					wantStatus: http.StatusCreated, wantEvents: []string{"user_registered"},
				},
			})
		})
	}
}

func TestEmailsCompareNormalized(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.register(t, "victim@example.com", "victim's password")
	runScenarios(t, ts, map[string]string{}, []scenario{
		{
			name: "a full-width letter is the same email", method: "POST", path: "/api/auth/register",
			body:       `{"email":"ｖictim@example.com","password":"attacker's password"}`,
			wantStatus: http.StatusConflict, wantContent: []string{`"code":"email_taken"`},
		},
		{
			name: "so is upper case", method: "POST", path: "/api/auth/register",
			body:       `{"email":"VICTIM@EXAMPLE.COM","password":"attacker's password"}`,
			wantStatus: http.StatusConflict, wantContent: []string{`"code":"email_taken"`},
		},
		{
			name: "and it signs in to the one account", method: "POST", path: "/api/auth/login",
			body:       `{"email":"ｖｉｃｔｉｍ@ｅｘａｍｐｌｅ.ｃｏｍ","password":"victim's password"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"email":"victim@example.com"`}, wantEvents: []string{"user_login"},
		},
		{
			name: "an address-literal domain", method: "POST", path: "/api/auth/register",
			body:       `{"email":"a@[127.0.0.1]","password":"a's password"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`address literal`},
		},
		{
			name: "an IPv6 address literal", method: "POST", path: "/api/auth/register",
			body:       `{"email":"a@[IPv6:::1]","password":"a's password"}`,
			wantStatus: http.StatusBadRequest,
		},
	})
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		in, want, err string
	}{
		{in: " Ada@Example.COM ", want: "ada@example.com"},
		{in: "ｖictim@example.com", want: "victim@example.com"},
		{in: "ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ", want: "ada@example.com"},
		{in: "ﬁ@example.com", want: "fi@example.com"},
		{in: "a@[127.0.0.1]", err: "address literal"},
		{in: "a@[192.168.0.1].example", err: "not a valid address"},
		{in: "Ada <ada@example.com>", err: "not a valid address"},
		{in: "", err: "email is required"},
		{in: "ada@localhost", err: "not a valid address"},
	}
	for _, s := range scenarios {
		got, err := normalizeEmail(s.in)
		switch {
		case s.err == "" && (err != nil || got != s.want):
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", s.in, got, err, s.want)
		case s.err != "" && (err == nil || !strings.Contains(err.Error(), s.err)):
			t.Errorf("normalizeEmail(%q) = %q, %v; want an error with %q", s.in, got, err, s.err)
		}
	}
}
