package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "reveal", `function handle(input)
  local v = backend.env(input.name)
  return {found = v ~= nil, value = v}
end`, `[{"invoke": true}]`)
	runScenarios(t, ts, nil, []scenario{
		{
			name: "none yet", method: "GET", path: "/api/admin/secrets", token: testAdminToken,
			wantStatus: http.StatusOK, wantContent: []string{`{"secrets":[],"next":""}`},
		},
		{
			name: "set", method: "PUT", path: "/api/admin/secrets/STRIPE_KEY", token: testAdminToken,
			body: `{"value": "sk_test_123"}`, wantStatus: http.StatusNoContent,
		},
		{
			name: "set another", method: "PUT", path: "/api/admin/secrets/API.token-2", token: testAdminToken,
			body: `{"value": ""}`, wantStatus: http.StatusNoContent,
		},
		{
			name: "names only", method: "GET", path: "/api/admin/secrets", token: testAdminToken,
			wantStatus: http.StatusOK, wantContent: []string{`{"secrets":["API.token-2","STRIPE_KEY"],"next":""}`},
			notContent: []string{"sk_test_123"},
		},
		{
			name: "whether one is set, never its value", method: "GET", path: "/api/admin/secrets/STRIPE_KEY", token: testAdminToken,
			wantStatus: http.StatusOK, wantContent: []string{`{"name":"STRIPE_KEY"}`}, notContent: []string{"sk_test_123"},
		},
		{
			name: "one that is not set", method: "GET", path: "/api/admin/secrets/NOPE", token: testAdminToken,
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`},
		},
		{
			name: "a name no secret can have", method: "GET", path: "/api/admin/secrets/9lives", token: testAdminToken,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_input"`},
		},
		{
			name: "whether one is set needs the admin token", method: "GET", path: "/api/admin/secrets/STRIPE_KEY",
			wantStatus: http.StatusUnauthorized, wantContent: []string{`"code":"unauthenticated"`},
		},
		{
			name: "a function reads it", method: "POST", path: "/api/functions/reveal", body: `{"name":"STRIPE_KEY"}`,
			wantStatus: http.StatusOK, wantContent: []string{`{"found":true,"value":"sk_test_123"}`},
		},
		{
			name: "replace", method: "PUT", path: "/api/admin/secrets/STRIPE_KEY", token: testAdminToken,
			body: `{"value": "sk_live_456"}`, wantStatus: http.StatusNoContent,
		},
		{
			name: "the function reads the new value", method: "POST", path: "/api/functions/reveal", body: `{"name":"STRIPE_KEY"}`,
			wantStatus: http.StatusOK, wantContent: []string{`{"found":true,"value":"sk_live_456"}`},
		},
		{
			name: "delete", method: "DELETE", path: "/api/admin/secrets/STRIPE_KEY", token: testAdminToken,
			wantStatus: http.StatusNoContent,
		},
		{
			name: "a deleted secret is nil", method: "POST", path: "/api/functions/reveal", body: `{"name":"STRIPE_KEY"}`,
			wantStatus: http.StatusOK, wantContent: []string{`{"found":false}`},
			notContent: []string{"sk_"},
		},
		{
			name: "delete again", method: "DELETE", path: "/api/admin/secrets/STRIPE_KEY", token: testAdminToken,
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`, `secret not found: \"STRIPE_KEY\"`},
		},
		{
			name: "a bad name", method: "PUT", path: "/api/admin/secrets/9bad", token: testAdminToken,
			body:        `{"value": "x"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_input"`, `secret name \"9bad\": use 1-128 letters, digits, _, . or -, starting with a letter or _`},
		},
		{
			name: "no value", method: "PUT", path: "/api/admin/secrets/K", token: testAdminToken,
			body: `{}`, wantStatus: http.StatusBadRequest, wantContent: []string{`value is required (a string)`},
		},
		{
			name: "a value that is not a string", method: "PUT", path: "/api/admin/secrets/K", token: testAdminToken,
			body: `{"value": 5}`, wantStatus: http.StatusBadRequest, wantContent: []string{`value must not be a number`},
		},
		{
			name: "an unknown field", method: "PUT", path: "/api/admin/secrets/K", token: testAdminToken,
			body: `{"value": "x", "ttl": 5}`, wantStatus: http.StatusBadRequest, wantContent: []string{`unknown field ttl (expected value)`},
		},
		{
			name: "too long", method: "PUT", path: "/api/admin/secrets/K", token: testAdminToken,
			body:        `{"value": "` + strings.Repeat("x", 64<<10+1) + `"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`secret \"K\" is longer than 64 KiB`},
		},
	})
}
