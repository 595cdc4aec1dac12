package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// definitionJSON is a function definition as the admin API takes it.
func definitionJSON(t *testing.T, source string, triggers string, extra ...string) string {
	t.Helper()
	src, err := json.Marshal(source)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"source":` + string(src) + `,"triggers":` + triggers
	for i := 0; i+1 < len(extra); i += 2 {
		body += `,"` + extra[i] + `":` + extra[i+1]
	}
	return body + "}"
}

// putFunction saves a function through the admin API, failing the test
// unless it answers 200 or 201.
func (ts *testServer) putFunction(t *testing.T, name, source, triggers string, extra ...string) map[string]any {
	t.Helper()
	res := ts.do(t, "PUT", "/api/admin/functions/"+name, definitionJSON(t, source, triggers, extra...), testAdminToken)
	if res.status != http.StatusOK && res.status != http.StatusCreated {
		t.Fatalf("save %s: %d %s", name, res.status, res.body)
	}
	return res.json(t)["function"].(map[string]any)
}

// TestFunctionRetryPolicy saves a function's retries and backoff through
// the admin API, shows them back, and sees them on the jobs of its runs.
func TestFunctionRetryPolicy(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	v1 := `function handle(input, ctx) error("the receiver is down") end`
	runScenarios(t, ts, nil, []scenario{
		{
			name: "a retry policy", method: "PUT", path: "/api/admin/functions/deliver", token: testAdminToken,
			body:        definitionJSON(t, v1, `[{"event": "order_placed"}]`, "retries", "7", "backoff", `{"initial": "60s", "max": "24h"}`),
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"retries":7`, `"backoff":{"initial":"1m0s","max":"24h0m0s"}`},
		},
		{
			name: "the same policy again changes nothing", method: "PUT", path: "/api/admin/functions/deliver", token: testAdminToken,
			body:        definitionJSON(t, v1, `[{"event": "order_placed"}]`, "retries", "7", "backoff", `{"max": "1440m", "initial": "1m"}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"version":1`, `"backoff":{"initial":"1m0s","max":"24h0m0s"}`},
		},
	})
	alice := ts.register(t, "alice@example.com", "alice's password")
	if res := ts.do(t, "POST", "/api/events", `{"name": "order_placed"}`, alice.token); res.status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}
	var job map[string]any
	testsupport.WaitFor(t, "the first attempt to fail", func() bool {
		var ans struct {
			Jobs []map[string]any `json:"jobs"`
		}
		res := ts.do(t, "GET", "/api/admin/jobs?status=pending", "", testAdminToken)
		if err := json.Unmarshal([]byte(res.body), &ans); err != nil || len(ans.Jobs) != 1 {
			return false
		}
		job = ans.Jobs[0]
		errs, _ := job["errors"].([]any)
		return len(errs) == 1
	})
	backoff, _ := job["backoff"].(map[string]any)
	if job["max_attempts"] != float64(8) || backoff["initial"] != "1m0s" || backoff["max"] != "24h0m0s" {
		t.Errorf("the run's job %v: 8 attempts and the function's backoff", job)
	}
	retry := job["errors"].([]any)[0].(map[string]any)
	at, _ := time.Parse(time.RFC3339Nano, retry["at"].(string))
	retryAt, _ := time.Parse(time.RFC3339Nano, retry["retry_at"].(string))
	if wait := retryAt.Sub(at); wait < 45*time.Second || wait > time.Minute {
		t.Errorf("the first retry waits %s, want 45s to 60s: %v", wait, retry)
	}
}

func TestFunctionsAdmin(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	v1 := `function handle(input, ctx)
  print("hello from v1")
  return {version = 1, name = input.name}
end`
	v2 := `function handle(input, ctx)
  return {version = 2}
end`
	broken := "function handle(input, ctx)\n  local x = 1\n  return {x = }\nend"
	admin := testAdminToken
	runScenarios(t, ts, map[string]string{"admin": admin}, []scenario{
		{
			name: "create", method: "PUT", path: "/api/admin/functions/greet", token: "admin",
			body:        definitionJSON(t, v1, `[{"invoke": true}]`, "timeout", `"2s"`, "retries", "2"),
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"name":"greet"`, `"version":1`, `"handler":"handle"`, `"triggers":[{"invoke":true}]`, `"timeout":"2s"`, `"retries":2`, `"source":"function handle`},
		},
		{
			name: "saving the same again changes nothing", method: "PUT", path: "/api/admin/functions/greet", token: "admin",
			body:        definitionJSON(t, v1, `[{"invoke": true}]`, "timeout", `"2s"`, "retries", "2"),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"version":1`},
		},
		{
			name: "a syntax error is refused with its line", method: "PUT", path: "/api/admin/functions/greet", token: "admin",
			body:        definitionJSON(t, broken, `[{"invoke": true}]`),
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"compile_error"`, `function \"greet\": syntax error at line 3`, `"details":{"column":`, `"line":3`},
		},
		{
			name: "and changes nothing", method: "GET", path: "/api/admin/functions/greet", token: "admin",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"version":1`, `hello from v1`},
		},
		{
			name: "the old source still runs", method: "POST", path: "/api/functions/greet", body: `{"name":"Ada"}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"name":"Ada","version":1}`},
		},
		{
			name: "update", method: "PUT", path: "/api/admin/functions/greet", token: "admin",
			body:        definitionJSON(t, v2, `[{"invoke": true}]`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"version":2`},
			notContent:  []string{`"timeout"`, `"retries"`},
		},
		{
			name: "the new version runs at once", method: "POST", path: "/api/functions/greet", body: `{}`,
			wantStatus: http.StatusOK, wantContent: []string{`{"version":2}`},
		},
		{
			name: "list", method: "GET", path: "/api/admin/functions", token: "admin",
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"functions":[{"name":"greet","version":2,"handler":"handle","triggers":[{"invoke":true}],"created_at":"`},
			notContent:  []string{`"source"`},
		},
		{
			name: "versions, newest first", method: "GET", path: "/api/admin/functions/greet/versions", token: "admin",
			wantStatus:  http.StatusOK,
			wantContent: []string{`{"versions":[{"version":2,"created_at":"`, `},{"version":1,"created_at":"`, `hello from v1`},
		},
		{
			name: "rollback saves the old source as a new version", method: "POST", path: "/api/admin/functions/greet/rollback", token: "admin",
			body:        `{"version": 1}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"version":3`, `hello from v1`, `"timeout":"2s"`},
		},
		{
			name: "the rolled back source runs", method: "POST", path: "/api/functions/greet", body: `{"name":"Bo"}`,
			wantStatus: http.StatusOK, wantContent: []string{`"version":1`},
		},
		{
			name: "rollback to a version that never was", method: "POST", path: "/api/admin/functions/greet/rollback", token: "admin",
			body:        `{"version": 99}`,
			wantStatus:  http.StatusNotFound,
			wantContent: []string{`"code":"not_found"`, `function \"greet\" has no version 99`},
		},
		{
			name: "rollback needs a version number", method: "POST", path: "/api/admin/functions/greet/rollback", token: "admin",
			body:        `{"version": "one"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_input"`, `version must be a version number (1 or more)`},
		},
		{
			name: "rollback of a missing function", method: "POST", path: "/api/admin/functions/nope/rollback", token: "admin",
			body:        `{"version": 1}`,
			wantStatus:  http.StatusNotFound,
			wantContent: []string{`function not found: \"nope\"`},
		},
		{
			name: "executions, newest first, with output", method: "GET", path: "/api/admin/functions/greet/executions?limit=2", token: "admin",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"function":"greet","version":3,"trigger":"invoke"`, `"status":"ok"`, `"output":[{"at":"`, `"level":"print","message":"hello from v1"`},
			after: func(t *testing.T, res response, vars map[string]string) {
				execs := res.json(t)["executions"].([]any)
				if len(execs) != 2 {
					t.Fatalf("%d executions, want 2 (the limit)", len(execs))
				}
				vars["newest"] = execs[0].(map[string]any)["id"].(string)
				vars["older"] = execs[1].(map[string]any)["id"].(string)
			},
		},
		{
			name: "executions after an id", method: "GET", path: "/api/admin/functions/greet/executions?after={older}", token: "admin",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"id":"{newest}"`},
			notContent:  []string{`"id":"{older}"`},
		},
		{
			name: "executions after a bad id", method: "GET", path: "/api/admin/functions/greet/executions?after=zzz", token: "admin",
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_input"`, `after must be an execution id (24 hexadecimal digits), not \"zzz\"`},
		},
		{
			name: "executions with a bad limit", method: "GET", path: "/api/admin/functions/greet/executions?limit=0", token: "admin",
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`limit must be a number from 1 to 1000`},
		},
		{
			name: "a test run of the saved function", method: "POST", path: "/api/admin/functions/greet/run", token: "admin",
			body:        `{"input": {"name": "Cy"}}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"result":{"name":"Cy","version":1}`, `"status":200`, `"message":"hello from v1"`, `"execution_id":"`},
		},
		{
			name: "a test run with an unknown trigger", method: "POST", path: "/api/admin/functions/greet/run", token: "admin",
			body:        `{"trigger": "cron"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`trigger \"cron\": use test, invoke, http, event or schedule`},
		},
		{
			name: "a test run as http of a function without that trigger", method: "POST", path: "/api/admin/functions/greet/run", token: "admin",
			body:        `{"trigger": "http"}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`function \"greet\" has no http trigger`},
		},
		{
			name: "unsaved source fails: still 200, with the error and line", method: "POST", path: "/api/admin/functions/test", token: "admin",
			body:        `{"source": "function handle(input)\n  print('before')\n  error('nope')\nend", "input": {}}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"result":null`, `"status":500`, `"error":"function \"test\" failed at line 3: nope"`, `"line":3`, `"message":"before"`},
		},
		{
			name: "unsaved source that does not compile", method: "POST", path: "/api/admin/functions/test", token: "admin",
			body:        `{"name": "draft", "source": "function handle(", "input": {}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"compile_error"`, `function \"draft\": syntax error at line 1`},
		},
		{
			name: "delete", method: "DELETE", path: "/api/admin/functions/greet", token: "admin",
			wantStatus: http.StatusNoContent,
		},
		{
			name: "deleted is gone", method: "GET", path: "/api/admin/functions/greet", token: "admin",
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`, `function not found: \"greet\"`},
		},
		{
			name: "and cannot be invoked", method: "POST", path: "/api/functions/greet", body: `{}`,
			wantStatus: http.StatusNotFound,
		},
		{
			name: "delete again", method: "DELETE", path: "/api/admin/functions/greet", token: "admin",
			wantStatus: http.StatusNotFound,
		},
	})
}

// TestFunctionDefinitionRefusals checks every bad definition gets its exact
// answer and saves nothing.
func TestFunctionDefinitionRefusals(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ok := "function handle() return 1 end"
	blueMoon := events.ValidateSchedule("every blue moon", "").Error()
	mars := events.ValidateSchedule("daily at 09:00", "Mars/Olympus").Error()
	scenarios := []struct {
		name, path, body, code, message string
	}{
		{"two kinds in one trigger", "f", definitionJSON(t, ok, `[{"invoke": true, "http": true}]`),
			"invalid_trigger", `function "f": trigger 1: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"an empty trigger", "f", definitionJSON(t, ok, `[{"invoke": true}, {}]`),
			"invalid_trigger", `function "f": trigger 2: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"a schedule that does not parse", "f", definitionJSON(t, ok, `[{"schedule": "every blue moon"}]`),
			"invalid_trigger", `function "f": trigger 1: schedule "every blue moon": ` + blueMoon},
		{"an unknown time zone", "f", definitionJSON(t, ok, `[{"schedule": "daily at 09:00", "timezone": "Mars/Olympus"}]`),
			"invalid_trigger", `function "f": trigger 1: schedule "daily at 09:00": ` + mars},
		{"a bad event name", "f", definitionJSON(t, ok, `[{"event": "order placed!"}]`),
			"invalid_trigger", `function "f": trigger 1: event "order placed!": use letters, digits, _ . : or -, starting with a letter`},
		{"a collection on an event without one", "f", definitionJSON(t, ok, `[{"event": "user_registered", "collection": "orders"}]`),
			"invalid_trigger", `function "f": trigger 1: collection narrows doc_created, doc_updated and doc_deleted; "user_registered" carries no collection`},
		{"a collection without an event", "f", definitionJSON(t, ok, `[{"invoke": true, "collection": "orders"}]`),
			"invalid_trigger", `function "f": trigger 1: collection goes with an event trigger`},
		{"a time zone without a schedule", "f", definitionJSON(t, ok, `[{"http": true, "timezone": "Europe/Paris"}]`),
			"invalid_trigger", `function "f": trigger 1: timezone goes with a schedule trigger`},
		{"a trigger that is not an object", "f", definitionJSON(t, ok, `["invoke"]`),
			"invalid_trigger", `triggers: got a string; a trigger is {"invoke": true}, {"http": true}, {"event": NAME, "collection": COL} or {"schedule": EXPR, "timezone": TZ}`},
		{"a misspelt field", "f", `{"source": "x", "tirggers": []}`,
			"invalid_input", `unknown field tirggers (a definition has name, source, handler, triggers, timeout, retries, backoff; a trigger has invoke, http, event, collection, schedule, timezone)`},
		{"a misspelt trigger key", "f", definitionJSON(t, ok, `[{"invoek": true}]`),
			"invalid_input", `unknown field invoek`},
		{"a timeout without a unit", "f", definitionJSON(t, ok, `[]`, "timeout", "10"),
			"invalid_definition", `timeout must be a string such as "10s" or "1m30s", got 10`},
		{"a timeout over the maximum", "f", definitionJSON(t, ok, `[]`, "timeout", `"1h"`),
			"invalid_definition", `function "f": timeout 1h0m0s is longer than the server's max_timeout of 5m0s`},
		{"negative retries", "f", definitionJSON(t, ok, `[]`, "retries", "-1"),
			"invalid_definition", `function "f": retries is -1; use 0 to 99`},
		{"a backoff without max", "f", definitionJSON(t, ok, `[]`, "backoff", `{"initial": "60s"}`),
			"invalid_definition", `function "f": backoff needs both initial and max, as in {"initial": "60s", "max": "24h"}`},
		{"a backoff with a number", "f", definitionJSON(t, ok, `[]`, "backoff", `{"initial": 60, "max": "24h"}`),
			"invalid_definition", `backoff.initial must be a string such as "60s" or "24h", got 60`},
		{"a backoff with an unknown field", "f", definitionJSON(t, ok, `[]`, "backoff", `{"initial": "1s", "max": "1m", "jitter": true}`),
			"invalid_definition", `backoff has no field "jitter" (it has initial and max`},
		{"a backoff whose max is below initial", "f", definitionJSON(t, ok, `[]`, "backoff", `{"initial": "1h", "max": "1m"}`),
			"invalid_definition", `function "f": backoff.max 1m0s is shorter than backoff.initial 1h0m0s`},
		{"a backoff too short", "f", definitionJSON(t, ok, `[]`, "backoff", `{"initial": "1ms", "max": "1s"}`),
			"invalid_definition", `function "f": backoff.initial 1ms is shorter than 100ms`},
		{"an empty source", "f", definitionJSON(t, " ", `[]`),
			"invalid_definition", `function "f": the source is empty`},
		{"a handler the source lacks", "f", definitionJSON(t, ok, `[]`, "handler", `"onMessage"`),
			"compile_error", `onMessage`},
		{"a name the path contradicts", "f", `{"name": "g", "source": "x", "triggers": []}`,
			"invalid_input", `name "g" in the body differs from "f" in the path`},
		{"a name that cannot be a URL segment", "9lives", definitionJSON(t, ok, `[]`),
			"invalid_definition", `function name "9lives": use 1-64 letters, digits, _ or -, starting with a letter`},
		{"no body", "f", "",
			"invalid_input", `request body is empty; send a function definition {name, source, handler, triggers, timeout, retries, backoff}`},
		{"not JSON", "f", `{"source": `,
			"invalid_json", `request body is not valid JSON`},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			res := ts.do(t, "PUT", "/api/admin/functions/"+sc.path, sc.body, testAdminToken)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.status, res.body)
			}
			e := res.json(t)["error"].(map[string]any)
			if e["code"] != sc.code || !strings.Contains(e["message"].(string), sc.message) {
				t.Errorf("got %s %q\nwant %s containing %q", e["code"], e["message"], sc.code, sc.message)
			}
		})
	}
	if n, err := ts.Store().C(db.Functions).Count(context.Background(), nil); err != nil || n != 0 {
		t.Errorf("%d functions saved (err %v), want none", n, err)
	}
}

// TestFunctionSchedulesFollowSaves checks that saving, changing and
// deleting a function keeps its schedules in step.
func TestFunctionSchedulesFollowSaves(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	schedules := func() []string {
		docs, err := ts.Store().C(db.Schedules).Find(context.Background(), bson.M{"function": "nightly"}, &db.FindOptions{Sort: bson.D{{Key: "expression", Value: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range docs {
			out = append(out, d["expression"].(string)+" "+d["timezone"].(string))
		}
		return out
	}
	src := "function handle() end"
	ts.putFunction(t, "nightly", src, `[{"schedule": "daily at 09:00", "timezone": "Europe/Paris"}, {"schedule": "0 3 * * *"}]`)
	if got := strings.Join(schedules(), "; "); got != "0 3 * * * UTC; daily at 09:00 Europe/Paris" {
		t.Errorf("after create: %q", got)
	}
	ts.putFunction(t, "nightly", src, `[{"schedule": "0 3 * * *"}, {"invoke": true}]`)
	if got := strings.Join(schedules(), "; "); got != "0 3 * * * UTC" {
		t.Errorf("after update: %q", got)
	}
	if res := ts.do(t, "POST", "/api/admin/functions/nightly/rollback", `{"version": 1}`, testAdminToken); res.status != http.StatusOK {
		t.Fatalf("rollback: %d %s", res.status, res.body)
	}
	if got := len(schedules()); got != 2 {
		t.Errorf("after rollback: %d schedules, want 2", got)
	}
	if res := ts.do(t, "DELETE", "/api/admin/functions/nightly", "", testAdminToken); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if got := schedules(); len(got) != 0 {
		t.Errorf("after delete: %q", got)
	}
}

// TestFunctionsAdminNeedsTheToken checks every functions, deploy and
// secrets route refuses a missing or wrong admin token.
func TestFunctionsAdminNeedsTheToken(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "f", "function handle() return 1 end", `[{"invoke": true}]`)
	routes := []struct{ method, path, body string }{
		{"GET", "/api/admin/functions", ""},
		{"PUT", "/api/admin/functions/f", definitionJSON(t, "function handle() return 2 end", `[]`)},
		{"GET", "/api/admin/functions/f", ""},
		{"DELETE", "/api/admin/functions/f", ""},
		{"GET", "/api/admin/functions/f/versions", ""},
		{"POST", "/api/admin/functions/f/rollback", `{"version": 1}`},
		{"GET", "/api/admin/functions/f/executions", ""},
		{"POST", "/api/admin/functions/f/run", `{}`},
		{"POST", "/api/admin/functions/test", `{"source": "function handle() end"}`},
		{"POST", "/api/admin/deploy", `{"functions": []}`},
		{"PUT", "/api/admin/secrets/KEY", `{"value": "v"}`},
		{"GET", "/api/admin/secrets", ""},
		{"DELETE", "/api/admin/secrets/KEY", ""},
	}
	for _, r := range routes {
		for _, token := range []string{"", "not-the-admin-token-at-all"} {
			res := ts.do(t, r.method, r.path, r.body, token)
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `"code":"unauthenticated"`) {
				t.Errorf("%s %s with token %q: %d %s", r.method, r.path, token, res.status, res.body)
			}
		}
	}
	fn := ts.do(t, "GET", "/api/admin/functions/f", "", testAdminToken)
	if fn.status != http.StatusOK || !strings.Contains(fn.body, `"version":1`) {
		t.Errorf("the function changed: %d %s", fn.status, fn.body)
	}
}
