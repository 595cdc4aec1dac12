package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// registerUser signs up a user through the app's API and returns its
// session token.
func registerUser(t *testing.T, cli adminCLI, email string) string {
	t.Helper()
	body := `{"email": "` + email + `", "password": "correct horse battery", "name": "Ada"}`
	res, err := http.Post(cli.url+"/api/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ans struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ans); err != nil || res.StatusCode != http.StatusCreated || ans.Token == "" {
		t.Fatalf("register %s: %d %v", email, res.StatusCode, err)
	}
	return ans.Token
}

// TestFunctionsInvokeAsUser: --user EMAIL and --user-token TOKEN run the
// function as that signed-in user; without them nobody is signed in.
func TestFunctionsInvokeAsUser(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	token := registerUser(t, cli, "ada@example.com")
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "whoami.lua", `function handle(input, ctx)
  if ctx.user == nil then return "nobody" end
  return ctx.user.email
end
`), "--invoke")

	scenarios := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{"nobody", nil, "\"nobody\"\n", ""},
		{"by email", []string{"--user", "ada@example.com"}, "\"ada@example.com\"\n", ""},
		{"by email, as typed", []string{"--user", " Ada@Example.com"}, "\"ada@example.com\"\n", ""},
		{"by token", []string{"--user-token", token}, "\"ada@example.com\"\n", ""},
		{"unknown email", []string{"--user", "bob@example.com"}, "", "moonbase: user not found: no account has the email \"bob@example.com\"\n"},
		{"wrong token", []string{"--user-token", "nope"}, "", "moonbase: user_token is not the token of a current session: sign in again\n"},
		{"both", []string{"--user", "ada@example.com", "--user-token", token}, "", "moonbase: give --user or --user-token, not both\n"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			r := cli.run(append([]string{"functions", "invoke", "whoami"}, s.args...)...)
			if r.stdout != s.wantStdout || r.stderr != s.wantStderr || (r.err == nil) != (s.wantStderr == "") {
				t.Errorf("got stdout %q stderr %q err %v\nwant stdout %q stderr %q", r.stdout, r.stderr, r.err, s.wantStdout, s.wantStderr)
			}
		})
	}
}

// TestFunctionsInvokeErrorStatus: a function that answers an error status
// prints its answer and exits non-zero, with or without --json.
func TestFunctionsInvokeErrorStatus(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "guard.lua", `function handle(input)
  if input.deny then
    return backend.response(403, {error = "not yours"})
  end
  return backend.response(201, {id = 1})
end
`), "--invoke")

	if r := cli.run("functions", "invoke", "guard"); r.err != nil || r.stdout != "{\n  \"id\": 1\n}\n" || r.stderr != "(answered with status 201)\n" {
		t.Errorf("a 201 answer: %+v", r)
	}
	r := cli.run("functions", "invoke", "guard", "--data", `{"deny": true}`)
	if want := "moonbase: function \"guard\" answered 403 Forbidden\n"; r.err == nil || r.stderr != want || r.stdout != "{\n  \"error\": \"not yours\"\n}\n" {
		t.Errorf("a 403 answer: %+v, want stderr %q", r, want)
	}
	r = cli.run("functions", "invoke", "guard", "--data", `{"deny": true}`, "--json")
	if r.err == nil || !strings.Contains(r.stdout, `"status": 403`) || r.stderr != "moonbase: function \"guard\" answered 403 Forbidden\n" {
		t.Errorf("a 403 answer with --json: %+v", r)
	}
}
