package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestInvokeTrigger(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	ts.putFunction(t, "echo", `function handle(input, ctx)
  return {input = input, trigger = ctx.trigger, user = ctx.user}
end`, `[{"invoke": true}]`)
	ts.putFunction(t, "whoami", `function handle(input, ctx)
  if ctx.user == nil then
    return backend.response(401, {error = "sign in first"})
  end
  return backend.response(200, "hello " .. ctx.user.email, {["X-Greeting"] = "yes", ["Content-Type"] = "text/x-greeting"})
end`, `[{"invoke": true}]`)
	ts.putFunction(t, "boom", "function handle(input)\n  local t = nil\n  return t.field\nend", `[{"invoke": true}]`)
	ts.putFunction(t, "hidden", "function handle() return 'secret' end", `[{"http": true}]`)
	ts.putFunction(t, "dates", `function handle()
  return {at = backend.date("2024-05-01T10:00:00Z"), n = 3, f = 1.5, list = {}, obj = backend.object()}
end`, `[{"invoke": true}]`)
	ts.putFunction(t, "dateIn", `function handle(input)
  return {kind = type(input.at), after = input.at > backend.date("2026-01-01T00:00:00Z"), nextDay = input.at + 86400}
end`, `[{"invoke": true}]`)
	runScenarios(t, ts, map[string]string{"alice": alice.token, "alice_id": alice.id}, []scenario{
		{
			name: "anonymous: input in, return value out as JSON", method: "POST", path: "/api/functions/echo",
			body:        `{"name":"Ada","n":2,"nested":{"ok":true},"list":[1,2.5]}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"input":{"list":[1,2.5],"n":2,"name":"Ada","nested":{"ok":true}}`, `"trigger":"invoke"`},
			notContent:  []string{`"user"`},
			after: func(t *testing.T, res response, _ map[string]string) {
				if ct := res.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			},
		},
		{
			name: "the signed-in user is ctx.user", method: "POST", path: "/api/functions/echo", token: "alice",
			body:        `{}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"user":{"created_at":{"$date":"`, `"email":"alice@example.com"`, `"id":"{alice_id}"`},
		},
		{
			name: "an empty body is an empty object", method: "POST", path: "/api/functions/echo",
			wantStatus: http.StatusOK, wantContent: []string{`"input":{}`},
		},
		{
			name: "any JSON value is an input", method: "POST", path: "/api/functions/echo", body: `[1,"two"]`,
			wantStatus: http.StatusOK, wantContent: []string{`"input":[1,"two"]`},
		},
		{
			name: "a body that is not JSON", method: "POST", path: "/api/functions/echo", body: `{"name":`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
		},
		{
			name: "JSON naming a field twice is refused by name", method: "POST", path: "/api/functions/echo", body: `{"a":1,"a":2}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_document"`, `field appears twice`},
		},
		{
			name: "a second JSON value after the first is not JSON", method: "POST", path: "/api/functions/echo", body: `{"a":1} {}`,
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`, `request body is not valid JSON`},
		},
		{
			name: "a token that is no session is refused, not anonymous", method: "POST", path: "/api/functions/echo", token: "not-a-session",
			body:       `{}`,
			wantStatus: http.StatusUnauthorized, wantContent: []string{`"code":"unauthenticated"`},
		},
		{
			name: "the function chooses 401 when nobody is signed in", method: "POST", path: "/api/functions/whoami",
			wantStatus: http.StatusUnauthorized, wantContent: []string{`{"error":"sign in first"}`},
		},
		{
			name: "and its own body and headers otherwise", method: "POST", path: "/api/functions/whoami", token: "alice",
			wantStatus: http.StatusOK,
			after: func(t *testing.T, res response, _ map[string]string) {
				if res.body != "hello alice@example.com" || res.header.Get("X-Greeting") != "yes" || res.header.Get("Content-Type") != "text/x-greeting" {
					t.Errorf("got %q %v", res.body, res.header)
				}
			},
		},
		{
			name: "dates, integers, floats, empty tables", method: "POST", path: "/api/functions/dates",
			wantStatus:  http.StatusOK,
			wantContent: []string{`"at":{"$date":"2024-05-01T10:00:00.000Z"}`, `"n":3`, `"f":1.5`, `"list":[]`, `"obj":{}`},
		},
		{
			name: "a {$date} in the input reaches the function as a date", method: "POST", path: "/api/functions/dateIn",
			body:        `{"at":{"$date":"2026-01-15T09:30:00Z"}}`,
			wantStatus:  http.StatusOK,
			wantContent: []string{`"kind":"userdata"`, `"after":true`, `"nextDay":{"$date":"2026-01-16T09:30:00.000Z"}`},
		},
		{
			name: "a bad {$date} in the input is refused", method: "POST", path: "/api/functions/dateIn",
			body:        `{"at":{"$date":"someday"}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`$date takes an ISO 8601`},
		},
		{
			name: "an uncaught Lua error is a 500 naming the function and line", method: "POST", path: "/api/functions/boom",
			wantStatus:  http.StatusInternalServerError,
			wantContent: []string{`"code":"function_error"`, `"message":"function \"boom\" failed at line 3: attempt to index a non-table object(nil) with key 'field'"`},
			notContent:  []string{".go", "goroutine"},
		},
		{
			name: "a missing function", method: "POST", path: "/api/functions/nope",
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`, `function not found: \"nope\"`},
		},
		{
			name: "a function without the invoke trigger looks missing", method: "POST", path: "/api/functions/hidden",
			wantStatus: http.StatusNotFound, wantContent: []string{`function not found: \"hidden\"`},
			notContent: []string{"secret"},
		},
		{
			name: "invoke is POST only", method: "GET", path: "/api/functions/echo",
			wantStatus: http.StatusMethodNotAllowed,
		},
	})
	execs := ts.do(t, "GET", "/api/admin/functions/boom/executions", "", testAdminToken)
	if !strings.Contains(execs.body, `"status":"error"`) || !strings.Contains(execs.body, `"line":3`) {
		t.Errorf("boom's execution record: %s", execs.body)
	}
	mine := ts.do(t, "GET", "/api/admin/functions/echo/executions", "", testAdminToken)
	if !strings.Contains(mine.body, `"user":"`+alice.id+`"`) {
		t.Errorf("echo's records do not name the user: %s", mine.body)
	}
}

// TestInvokeActsWithTheUsersRights checks the data calls of an invoked
// function: a signed-in user's run sees that user's documents only under
// the owner rule, asServiceRole sees all, and an anonymous run is refused
// the owner rule's collection.
func TestInvokeActsWithTheUsersRights(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	bob := ts.register(t, "bob@example.com", "bob's password")
	res := ts.do(t, "POST", "/api/db/notes", `{"title":"bob's secret"}`, bob.token)
	if res.status != http.StatusCreated {
		t.Fatalf("bob's note: %d %s", res.status, res.body)
	}
	bobNote := res.json(t)["_id"].(string)
	ts.putFunction(t, "peek", `function handle(input, ctx)
  local id = input.id or input.json.id -- invoke input, or an http request
  local mine = backend.query("notes", {})
  local all = backend.asServiceRole.query("notes", {})
  return {
    mine = #mine,
    all = #all,
    direct = backend.get("notes", id) ~= nil,
    service = backend.asServiceRole.get("notes", id) ~= nil,
  }
end`, `[{"invoke": true}, {"http": true}]`)
	ts.putFunction(t, "write", `function handle(input, ctx)
  local doc = backend.create("notes", {title = "from a function"})
  return {owner = doc._owner}
end`, `[{"invoke": true}]`)
	body := `{"id":"` + bobNote + `"}`
	runScenarios(t, ts, map[string]string{"alice": alice.token, "bob": bob.token, "alice_id": alice.id}, []scenario{
		{
			name: "alice cannot read bob's note", method: "POST", path: "/api/functions/peek", token: "alice", body: body,
			wantStatus: http.StatusOK, wantContent: []string{`"all":1`, `"direct":false`, `"mine":0`, `"service":true`},
		},
		{
			name: "bob can", method: "POST", path: "/api/functions/peek", token: "bob", body: body,
			wantStatus: http.StatusOK, wantContent: []string{`"all":1`, `"direct":true`, `"mine":1`, `"service":true`},
		},
		{
			name: "anonymous runs are refused the owner rule's collection", method: "POST", path: "/api/functions/peek", body: body,
			wantStatus:  http.StatusInternalServerError,
			wantContent: []string{`backend.query: sign in required: the rules of collection \"notes\" do not let an anonymous caller`},
			notContent:  []string{"bob's secret"},
		},
		{
			name: "what alice's run creates is alice's", method: "POST", path: "/api/functions/write", token: "alice",
			wantStatus: http.StatusOK, wantContent: []string{`{"owner":"{alice_id}"}`},
		},
		{
			name: "the http trigger acts as the user of the Bearer token", method: "POST", path: "/functions/peek", token: "alice", body: body,
			wantStatus: http.StatusOK, wantContent: []string{`"all":2`, `"direct":false`, `"mine":1`, `"service":true`},
		},
		{
			name: "an Authorization header that is no session leaves the http run anonymous", method: "POST", path: "/functions/peek", token: "whsec_not_a_session", body: body,
			wantStatus: http.StatusInternalServerError, wantContent: []string{`do not let an anonymous caller`},
			notContent: []string{"bob's secret"},
		},
	})
}

func TestHTTPTrigger(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "hook", `function handle(req, ctx)
  return {
    status = 201,
    headers = {["X-Echo"] = "yes"},
    body = {
      method = req.method, path = req.path, body = req.body, json = req.json,
      sig = req.headers["x-signature"], ctype = req.headers["content-type"],
      multi = req.headers["x-multi"], q = req.query.q, raw = req.rawQuery,
      user = ctx.user, trigger = ctx.trigger,
    },
  }
end`, `[{"http": true}]`)
	ts.putFunction(t, "text", `function handle(req) return "Already processed" end`, `[{"http": true}]`)
	ts.putFunction(t, "teapot", `function handle(req) return backend.response(418, "short and stout") end`, `[{"http": true}]`)
	ts.putFunction(t, "plain", `function handle(req) return {ok = true} end`, `[{"http": true}]`)
	ts.putFunction(t, "invokeonly", `function handle() return 1 end`, `[{"invoke": true}]`)

	raw := "{\"b\": 2,  \"a\":[1, 2.50]}\n"
	req, err := http.NewRequest("POST", ts.URL()+"/functions/hook/sub/path?q=one&q=two&x=%20y", strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Signature", "t=1,v1=abc+/==")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got := response{status: res.StatusCode, header: res.Header, body: string(b)}.json(t)
	if res.StatusCode != http.StatusCreated || res.Header.Get("X-Echo") != "yes" {
		t.Errorf("status %d, headers %v", res.StatusCode, res.Header)
	}
	want := map[string]any{
		"method": "POST", "path": "/functions/hook/sub/path", "body": raw,
		"sig": "t=1,v1=abc+/==", "ctype": "application/json; charset=utf-8", "multi": "one, two",
		"q": "one", "raw": "q=one&q=two&x=%20y", "trigger": "http",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if js, _ := got["json"].(map[string]any); js["b"] != float64(2) || len(js["a"].([]any)) != 2 {
		t.Errorf("json = %#v", got["json"])
	}
	if _, ok := got["user"]; ok {
		t.Errorf("an http run has a user: %v", got["user"])
	}

	runScenarios(t, ts, nil, []scenario{
		{
			name: "a body that is not JSON has no json", method: "PUT", path: "/functions/hook",
			body: "a=1&b=2", headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			wantStatus: http.StatusCreated, wantContent: []string{`"body":"a=1\u0026b=2"`, `"method":"PUT"`},
			notContent: []string{`"json"`},
		},
		{
			name: "GET works too", method: "GET", path: "/functions/hook",
			wantStatus: http.StatusCreated, wantContent: []string{`"method":"GET"`, `"body":""`},
		},
		{
			name: "a returned string is sent as it is", method: "POST", path: "/functions/text",
			wantStatus: http.StatusOK,
			after: func(t *testing.T, res response, _ map[string]string) {
				if res.body != "Already processed" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
					t.Errorf("got %q (%s)", res.body, res.header.Get("Content-Type"))
				}
			},
		},
		{
			name: "backend.response", method: "DELETE", path: "/functions/teapot",
			wantStatus: http.StatusTeapot,
			after: func(t *testing.T, res response, _ map[string]string) {
				if res.body != "short and stout" {
					t.Errorf("body %q", res.body)
				}
			},
		},
		{
			name: "a returned table is JSON", method: "GET", path: "/functions/plain",
			wantStatus: http.StatusOK, wantContent: []string{`{"ok":true}`},
		},
		{
			name: "a function without the http trigger looks missing", method: "POST", path: "/functions/invokeonly",
			wantStatus: http.StatusNotFound, wantContent: []string{`function not found: \"invokeonly\"`},
		},
		{
			name: "a missing function", method: "GET", path: "/functions/nope",
			wantStatus: http.StatusNotFound,
		},
		{
			name: "the body limit applies", method: "POST", path: "/functions/text",
			body:       strings.Repeat("x", 1<<20+1),
			wantStatus: http.StatusRequestEntityTooLarge, wantContent: []string{`"code":"body_too_large"`},
		},
	})
}

// TestFunctionTimeout checks an endless loop ends at its timeout, is
// recorded as such, and does not hold up other requests meanwhile.
func TestFunctionTimeout(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "spin", `function handle()
  backend.asServiceRole.create("marks", {started = true})
  while true do end
end`, `[{"invoke": true}]`, "timeout", `"3s"`)
	ts.putFunction(t, "quick", `function handle() return {ok = true} end`, `[{"invoke": true}]`)

	var spun atomic.Bool
	done := make(chan response, 1)
	go func() {
		res := ts.do(t, "POST", "/api/functions/spin", "", "")
		spun.Store(true)
		done <- res
	}()
	testsupport.WaitFor(t, "the loop to start", func() bool {
		n, err := ts.Store().C("marks").Count(context.Background(), bson.M{})
		return err == nil && n > 0
	})
	for range 3 {
		if res := ts.do(t, "POST", "/api/functions/quick", "", ""); res.status != http.StatusOK {
			t.Errorf("quick: %d %s", res.status, res.body)
		}
		if res := ts.do(t, "GET", "/healthz", "", ""); res.status != http.StatusOK {
			t.Errorf("healthz: %d", res.status)
		}
	}
	if spun.Load() {
		t.Errorf("the loop ended before the other requests were answered")
	}
	var res response
	select {
	case res = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the loop was never stopped")
	}
	if res.status != http.StatusGatewayTimeout || !strings.Contains(res.body, `"code":"timeout"`) ||
		!strings.Contains(res.body, `function \"spin\" stopped: timed out after 3s`) {
		t.Errorf("got %d %s", res.status, res.body)
	}
	execs := ts.do(t, "GET", "/api/admin/functions/spin/executions", "", testAdminToken)
	if !strings.Contains(execs.body, `"status":"timeout"`) {
		t.Errorf("execution record: %s", execs.body)
	}
	requireRunsOK(t, ts.Server, "quick", 3)
}

func TestHeaderKey(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"Content-Type", "X-Signature", "host", "X-MIXED-case_9", "Dnt", "",
		strings.Repeat("X-Long", 20), "X-Ünïcode", "X-Bad\xffByte",
	} {
		if got, want := headerKey([]byte(name)), strings.ToLower(name); got != want {
			t.Errorf("headerKey(%q) = %q, want %q", name, got, want)
		}
	}
}
