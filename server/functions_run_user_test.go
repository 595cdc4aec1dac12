package server

import (
	"net/http"
	"testing"
)

// TestAdminRunAsUser: a test run acts as the user its user (an email) or
// user_token names, with that user's data rights, and refuses a user it
// cannot find.
func TestAdminRunAsUser(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ada := ts.register(t, "ada@example.com", "correct horse battery")
	ts.putFunction(t, "whoami", `function handle(input, ctx)
  if ctx.user == nil then return {who = "nobody", seen = backend.count("notes")} end
  return {who = ctx.user.email, seen = backend.count("notes")}
end`, `[{"invoke": true}]`)
	// A note of someone else: a user sees only their own under the default
	// owner rule, nobody (full rights) sees it.
	if res := ts.do(t, "POST", "/api/db/notes", `{"text": "not Ada's"}`, ts.register(t, "bo@example.com", "correct horse battery").token); res.status != http.StatusCreated {
		t.Fatalf("create a note: %d %s", res.status, res.body)
	}
	runScenarios(t, ts, map[string]string{"admin": testAdminToken, "ada": ada.token}, []scenario{
		{
			name: "nobody", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{}`,
			wantStatus: http.StatusOK, wantContent: []string{`"result":{"seen":1,"who":"nobody"}`},
		},
		{
			name: "by email", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user": "ADA@example.com"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"result":{"seen":0,"who":"ada@example.com"}`},
		},
		{
			name: "by session token", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user_token": "{ada}"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"result":{"seen":0,"who":"ada@example.com"}`},
		},
		{
			name: "an email with no account", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user": "cy@example.com"}`,
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`, `user not found: no account has the email \"cy@example.com\"`},
		},
		{
			name: "not an email", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user": "ada"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_input"`, `email \"ada\" is not a valid address`},
		},
		{
			name: "a token of no session", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user_token": "nope"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_input"`, `user_token is not the token of a current session: sign in again`},
		},
		{
			name: "both", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"user": "ada@example.com", "user_token": "{ada}"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`give user or user_token, not both`},
		},
		{
			name: "an unknown field names the known ones", method: "POST", path: "/api/admin/functions/whoami/run", token: "admin", body: `{"as": "ada@example.com"}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`unknown field as (expected input, trigger, user, user_token)`},
		},
	})
}
