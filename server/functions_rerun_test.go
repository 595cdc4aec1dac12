package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// lastExecution is the newest execution record of function, as the admin
// API lists it, once there are at least n.
func (ts *testServer) lastExecution(t *testing.T, function string, n int) map[string]any {
	t.Helper()
	var list []any
	testsupport.WaitFor(t, "the runs of "+function, func() bool {
		res := ts.do(t, "GET", "/api/admin/functions/"+function+"/executions?limit=1000", "", testAdminToken)
		list, _ = res.json(t)["executions"].([]any)
		return len(list) >= n
	})
	return list[0].(map[string]any)
}

// TestRerunExecution: every run keeps its input, and POST
// …/executions/:id/rerun runs the function's current version again with
// that input and the same trigger context (trigger, event, user and
// rights); an http run's credentials stay redacted.
func TestRerunExecution(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alices password")
	echo := `function handle(input, ctx)
  local who = "anonymous"
  if ctx.user then who = ctx.user.id end
  print("v1", ctx.trigger, who)
  return {input = input, trigger = ctx.trigger, user = who, event = ctx.event}
end`
	ts.putFunction(t, "echo", echo, `[{"invoke": true}, {"event": "order_placed"}]`)
	hook := `function handle(req, ctx)
  return {method = req.method, auth = req.headers["authorization"], sig = req.headers["x-signature"], body = req.body, path = req.path, q = req.query.page,
    replayed = req.replayed == true, at = req.receivedAt and req.receivedAt:unix() or -1}
end`
	ts.putFunction(t, "hook", hook, `[{"http": true}]`)

	vars := map[string]string{"alice": alice.token}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "an invoke by a user", method: "POST", path: "/api/functions/echo", token: "alice",
			body: `{"n": 7, "when": {"$date": "2026-01-02T03:04:05Z"}, "list": [1, "two"]}`, wantStatus: 200,
			wantContent: []string{`"user":"` + alice.id + `"`},
			after: func(t *testing.T, res response, vars map[string]string) {
				e := ts.lastExecution(t, "echo", 1)
				in, _ := e["input"].(map[string]any)
				if in == nil || in["n"] != float64(7) || e["input_cut"] != nil {
					t.Fatalf("the record's input is %v, want the run's input", e)
				}
				vars["invoke"] = e["id"].(string)
			},
		},
		{
			name: "a new version is saved", method: "PUT", path: "/api/admin/functions/echo", token: testAdminToken,
			body: definitionJSON(t, strings.Replace(echo, `"v1"`, `"v2"`, 1), `[{"invoke": true}, {"event": "order_placed"}]`), wantStatus: 200,
		},
		{
			name: "the invoke is re-run: the current version, the same input, user and trigger", method: "POST", path: "/api/admin/functions/echo/executions/{invoke}/rerun", token: testAdminToken,
			wantStatus:  200,
			wantContent: []string{`"rerun_of":"{invoke}"`, `"user":"` + alice.id + `"`, `"trigger":"invoke"`, `"n":7`, `"list":[1,"two"]`, `"message":"v2\tinvoke\t` + alice.id + `"`},
			after: func(t *testing.T, res response, vars map[string]string) {
				id, _ := res.json(t)["execution_id"].(string)
				e := ts.lastExecution(t, "echo", 2)
				if e["id"] != id || id == vars["invoke"] || e["trigger"] != "invoke" || e["identity"] != alice.id || e["version"] != float64(2) {
					t.Fatalf("the re-run's record is %v, want a new v2 invoke run as alice", e)
				}
				// A date stays a date: the function saw it as the first run did.
				if when, _ := e["input"].(map[string]any)["when"].(string); !strings.HasPrefix(when, "2026-01-02T03:04:05") {
					t.Fatalf("the re-run's input.when is %v", e["input"])
				}
			},
		},
		{
			name: "an http run with credentials", method: "POST", path: "/functions/hook?page=3", body: `{"ok":true}`,
			headers:    []string{"Authorization", "Bearer sk_live_secret", "X-Signature", "t=1,v1=abc"},
			wantStatus: 200, wantContent: []string{`"auth":"Bearer sk_live_secret"`, `"replayed":false`, `"at":-1`},
			after: func(t *testing.T, res response, vars map[string]string) {
				e := ts.lastExecution(t, "hook", 1)
				in, _ := e["input"].(map[string]any)
				h, _ := in["headers"].(map[string]any)
				if in["method"] != "POST" || in["body"] != `{"ok":true}` || in["query"] != "page=3" || h["authorization"] != "[redacted]" || h["x-signature"] != "t=1,v1=abc" {
					t.Fatalf("the http run's recorded input is %v", in)
				}
				vars["http"] = e["id"].(string)
			},
			notContent: []string{"[redacted]"},
		},
		{
			name: "the http run is re-run as recorded, credentials still redacted", method: "POST", path: "/api/admin/functions/hook/executions/{http}/rerun", token: testAdminToken,
			wantStatus:  200,
			wantContent: []string{`"method":"POST"`, `"auth":"[redacted]"`, `"sig":"t=1,v1=abc"`, `"body":"{\"ok\":true}"`, `"path":"/functions/hook"`, `"q":"3"`, `"replayed":true`},
			notContent:  []string{"sk_live_secret", `"at":-1`},
			after: func(t *testing.T, res response, vars map[string]string) {
				// receivedAt is when the request first arrived: the first run's start.
				at, _ := res.json(t)["result"].(map[string]any)["at"].(float64)
				if since := time.Since(time.Unix(int64(at), 0)); since < 0 || since > time.Minute {
					t.Fatalf("receivedAt %v is not the first arrival", at)
				}
			},
		},
		{
			name: "an event", method: "POST", path: "/api/events", token: "alice", body: `{"name":"order_placed","data":{"order":42}}`,
			wantStatus: 202, wantEvents: []string{"order_placed"},
			after: func(t *testing.T, res response, vars map[string]string) {
				var e map[string]any
				testsupport.WaitFor(t, "the event's run", func() bool {
					e = ts.lastExecution(t, "echo", 2)
					return e["trigger"] == "event"
				})
				vars["event"] = e["id"].(string)
			},
		},
		{
			name: "the event run is re-run as an event run with full rights", method: "POST", path: "/api/admin/functions/echo/executions/{event}/rerun", token: testAdminToken,
			wantStatus:  200,
			wantContent: []string{`"trigger":"event"`, `"event":"order_placed"`, `"order":42`, `"rerun_of":"{event}"`},
			after: func(t *testing.T, res response, vars map[string]string) {
				if e := ts.lastExecution(t, "echo", 4); e["trigger"] != "event" || e["identity"] != functions.IdentitySystem || e["event"] != "order_placed" {
					t.Fatalf("the re-run's record is %v", e)
				}
			},
		},
		{
			name: "a test-run of unsaved text", method: "POST", path: "/api/admin/functions/test", token: testAdminToken,
			body: `{"name":"echo","source":"function handle(i) return i end","input":{"x":1}}`, wantStatus: 200,
			after: func(t *testing.T, res response, vars map[string]string) {
				vars["test"], _ = res.json(t)["execution_id"].(string)
			},
		},
		{
			name: "cannot be re-run", method: "POST", path: "/api/admin/functions/echo/executions/{test}/rerun", token: testAdminToken,
			wantStatus: 409, wantContent: []string{`"code":"conflict"`, "never saved"},
		},
		{
			name: "an input over 64 KiB", method: "POST", path: "/api/functions/echo",
			body: `{"big":"` + strings.Repeat("x", functions.MaxInputBytes) + `"}`, wantStatus: 200,
			after: func(t *testing.T, res response, vars map[string]string) {
				e := ts.lastExecution(t, "echo", 6)
				preview, _ := e["input_preview"].(string)
				if e["input_cut"] != true || e["input"] != nil || e["input_bytes"].(float64) <= functions.MaxInputBytes ||
					len(preview) != functions.MaxInputBytes || !strings.HasPrefix(preview, `{"big": "xxx`) {
					t.Fatalf("the record of a big input: cut %v, bytes %v, input %v, preview of %d bytes %.40q", e["input_cut"], e["input_bytes"], e["input"] != nil, len(preview), preview)
				}
				vars["big"] = e["id"].(string)
			},
		},
		{
			name: "is kept cut and refused a re-run", method: "POST", path: "/api/admin/functions/echo/executions/{big}/rerun", token: testAdminToken,
			wantStatus: 409, wantContent: []string{`"code":"input_not_kept"`, "65536"},
		},
		{
			name: "an unknown run", method: "POST", path: "/api/admin/functions/echo/executions/" + primitive.NewObjectID().Hex() + "/rerun", token: testAdminToken,
			wantStatus: 404, wantContent: []string{`"code":"not_found"`, "has no run"},
		},
		{
			name: "a run of another function", method: "POST", path: "/api/admin/functions/hook/executions/{invoke}/rerun", token: testAdminToken,
			wantStatus: 404, wantContent: []string{`"code":"not_found"`},
		},
		{
			name: "not an execution id", method: "POST", path: "/api/admin/functions/echo/executions/nope/rerun", token: testAdminToken,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`},
		},
		{
			name: "without the admin token", method: "POST", path: "/api/admin/functions/echo/executions/{invoke}/rerun",
			wantStatus: 401, wantContent: []string{`"code":"unauthenticated"`},
		},
		{
			name: "the user is deleted", method: "GET", path: "/healthz", wantStatus: 200,
			after: func(t *testing.T, res response, vars map[string]string) {
				oid, _ := primitive.ObjectIDFromHex(alice.id)
				if _, err := ts.Store().C(db.Users).DeleteOne(context.Background(), bson.M{"_id": oid}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "a run as a deleted user is not made again", method: "POST", path: "/api/admin/functions/echo/executions/{invoke}/rerun", token: testAdminToken,
			wantStatus: 409, wantContent: []string{`"code":"conflict"`, "no longer exists"},
		},
		{
			name: "the function is deleted", method: "DELETE", path: "/api/admin/functions/hook", token: testAdminToken, wantStatus: http.StatusNoContent,
		},
		{
			name: "its runs cannot be re-run", method: "POST", path: "/api/admin/functions/hook/executions/{http}/rerun", token: testAdminToken,
			wantStatus: 404, wantContent: []string{`"code":"not_found"`},
		},
	})
}
