package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestHTTPTriggerMethods checks methods: [POST] on an http trigger: any
// other method is answered 405 with Allow before the function runs, and
// bad method lists are refused when saved.
func TestHTTPTriggerMethods(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	saveFunctionAt(t, ts.URL(), "hook", map[string]any{
		"triggers": []any{map[string]any{"http": true, "methods": []string{"post"}}},
		"source":   `function handle(input) backend.asServiceRole.create("runs", {m = input.method}) return "ok" end`,
	})
	res := ts.do(t, "GET", "/functions/hook", "", "")
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "POST" || !strings.Contains(res.body, `"code":"method_not_allowed"`) {
		t.Fatalf("GET: %d %v %s", res.status, res.header, res.body)
	}
	if res := ts.do(t, "POST", "/functions/hook", `{}`, ""); res.status != 200 || res.body != "ok" {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	if n := len(ts.docs(t, "runs", nil)); n != 1 {
		t.Fatalf("the function ran %d times, want once (the GET must not run it)", n)
	}
	for _, s := range []struct{ name, triggers, says string }{
		{"unknown method", `[{"http": true, "methods": ["FETCH"]}]`, `method \"FETCH\"`},
		{"twice", `[{"http": true, "methods": ["POST", "post"]}]`, "listed twice"},
		{"not http", `[{"invoke": true, "methods": ["POST"]}]`, "methods go with an http trigger"},
	} {
		t.Run(s.name, func(t *testing.T) {
			res := ts.do(t, "PUT", "/api/admin/functions/bad", `{"source":"function handle() end","triggers":`+s.triggers+`}`, testAdminToken)
			if res.status != 400 || !strings.Contains(res.body, s.says) {
				t.Fatalf("%d %s, want 400 saying %s", res.status, res.body, s.says)
			}
		})
	}
}

// TestInboundLog checks the raw-request log: every request to an http
// trigger recorded with its raw body, redacted credentials and the
// answer; listed by function and status; replayed to the current version.
func TestInboundLog(t *testing.T) {
	ts := startServer(t, webhookConfig(t, true), Deps{})
	save := func(answer string) {
		saveFunctionAt(t, ts.URL(), "inbox", map[string]any{
			"triggers": []any{map[string]any{"http": true, "methods": []string{"POST"}}},
			"source": `function handle(input)
  if input.json and input.json.fail then return backend.response(500, "Processing error") end
  return "` + answer + `"
end`,
		})
	}
	save("v1")
	raw := `{"id": "evt_1",  "amount": 10}`
	ts.do(t, "POST", "/functions/inbox?src=test", raw, "", "Authorization", "Bearer secret-token", "X-Signature", "sig-1")
	ts.do(t, "POST", "/functions/inbox", `{"fail": true}`, "")
	ts.do(t, "GET", "/functions/inbox", "", "")
	ts.do(t, "POST", "/functions/nosuch", `{}`, "")

	res := ts.do(t, "GET", "/api/admin/inbound?function=inbox", "", testAdminToken)
	if res.status != 200 {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	reqs := res.json(t)["requests"].([]any)
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3 (the unknown function's is not): %s", len(reqs), res.body)
	}
	first := reqs[2].(map[string]any)
	headers := first["headers"].(map[string]any)
	if first["body"] != raw || first["status"] != float64(200) || first["answer"] != "v1" ||
		headers["authorization"] != "[redacted]" || headers["x-signature"] != "sig-1" ||
		!strings.HasSuffix(first["url"].(string), "/functions/inbox?src=test") || first["query"] != "src=test" {
		t.Fatalf("first request = %v", first)
	}
	if strings.Contains(res.body, "secret-token") {
		t.Fatalf("a credential was logged: %s", res.body)
	}
	for _, s := range []struct {
		query string
		want  int
	}{{"status=5xx", 1}, {"status=405", 1}, {"status=2xx", 1}, {"function=other", 0}} {
		res := ts.do(t, "GET", "/api/admin/inbound?"+s.query, "", testAdminToken)
		if n := len(res.json(t)["requests"].([]any)); n != s.want {
			t.Errorf("%s: %d requests, want %d", s.query, n, s.want)
		}
	}
	if res := ts.do(t, "GET", "/api/admin/inbound?status=teapot", "", testAdminToken); res.status != 400 {
		t.Fatalf("bad status: %d %s", res.status, res.body)
	}

	save("v2")
	id := first["id"].(string)
	res = ts.do(t, "POST", "/api/admin/inbound/"+id+"/replay", "", testAdminToken)
	if res.status != 200 || !strings.Contains(res.body, `"answer":"v2"`) || !strings.Contains(res.body, `"replay_of":"`+id+`"`) {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "POST", "/api/admin/inbound/in_nope/replay", "", testAdminToken); res.status != 404 {
		t.Fatalf("replay unknown: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "GET", "/api/admin/inbound", "", ""); res.status != 401 {
		t.Fatalf("without the admin token: %d", res.status)
	}
}
