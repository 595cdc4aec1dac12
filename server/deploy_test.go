package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// deployBody is a deploy request of the given definitions.
func deployBody(t *testing.T, dryRun bool, defs ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"functions": defs, "dry_run": dryRun})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeploy(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "existing", "function handle() return 'v1' end", `[{"invoke": true}]`)
	good := func(name, answer string) map[string]any {
		return map[string]any{
			"name":     name,
			"source":   "function handle() return '" + answer + "' end",
			"triggers": []any{map[string]any{"invoke": true}},
		}
	}
	broken := map[string]any{"name": "broken", "source": "function handle()\n  return (\nend", "triggers": []any{}}
	badTrigger := map[string]any{"name": "badtrigger", "source": "function handle() end", "triggers": []any{map[string]any{"schedule": "whenever"}}}

	runScenarios(t, ts, nil, []scenario{
		{
			name: "one broken function refuses the whole deploy", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:       deployBody(t, false, good("alpha", "a"), broken, good("existing", "v2"), badTrigger),
			wantStatus: http.StatusBadRequest,
			wantContent: []string{
				`"code":"deploy_refused"`,
				`"message":"deploy refused, nothing was changed: function \"broken\": syntax error at line 3`,
				`"details":[{"name":"broken","error":"function \"broken\": syntax error at line 3`,
				`{"name":"badtrigger","error":"function \"badtrigger\": trigger 1: schedule \"whenever\": `,
			},
			notContent: []string{`"name":"alpha"`, `"name":"existing"`},
		},
		{
			name: "nothing was created", method: "GET", path: "/api/admin/functions/alpha", token: testAdminToken,
			wantStatus: http.StatusNotFound,
		},
		{
			name: "nothing was updated", method: "POST", path: "/api/functions/existing",
			wantStatus: http.StatusOK, wantContent: []string{`"v1"`},
		},
		{
			name: "a dry run says what would change", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, true, good("alpha", "a"), good("existing", "v2")),
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"functions":[{"name":"alpha","action":"created"},{"name":"existing","action":"updated","version":1}]}`},
		},
		{
			name: "and changes nothing", method: "GET", path: "/api/admin/functions/alpha", token: testAdminToken,
			wantStatus: http.StatusNotFound,
		},
		{
			name: "deploy", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, false, good("alpha", "a"), good("existing", "v2")),
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"functions":[{"name":"alpha","action":"created","version":1},{"name":"existing","action":"updated","version":2}]}`},
		},
		{
			name: "deployed functions run", method: "POST", path: "/api/functions/existing",
			wantStatus: http.StatusOK, wantContent: []string{`"v2"`},
		},
		{
			name: "deploying the same again", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, false, good("alpha", "a"), good("existing", "v2")),
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"functions":[{"name":"alpha","action":"unchanged","version":1},{"name":"existing","action":"unchanged","version":2}]}`},
		},
		{
			name: "the same name twice", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, false, good("alpha", "a"), good("alpha", "b")),
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"details":[{"name":"alpha","error":"function \"alpha\" is in the deploy twice"}]`},
		},
		{
			name: "a definition without a name", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, false, map[string]any{"source": "function handle() end"}),
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"details":[{"name":"#1","error":"function \"#1\": function 1 has no name"}]`},
		},
		{
			name: "an unknown key in a definition", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        deployBody(t, false, map[string]any{"name": "x", "source": "function handle() end", "entry": "main.lua"}),
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`{"name":"x","error":"function \"x\": unknown field entry`},
		},
		{
			name: "no functions", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        `{"functions": []}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_input"`, `functions is empty: give at least one function definition`},
		},
		{
			name: "an unknown key in the request", method: "POST", path: "/api/admin/deploy", token: testAdminToken,
			body:        `{"functions": [], "dryrun": true}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`unknown field dryrun (expected functions, dry_run)`},
		},
	})
	list := ts.do(t, "GET", "/api/admin/functions", "", testAdminToken)
	if strings.Contains(list.body, "broken") || strings.Contains(list.body, "badtrigger") {
		t.Errorf("refused functions were saved: %s", list.body)
	}
}
