package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestDashboardCompileAndPreview(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	tok := testAdminToken
	runScenarios(t, ts, nil, []scenario{
		{name: "compiles", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"source":"function handle(input) return 1 end"}`, wantStatus: 200, wantContent: []string{`"ok":true`}},
		{name: "syntax error at its line and column", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"name":"greet","source":"function handle(input)\n  return 1 +\nend"}`, wantStatus: 400,
			wantContent: []string{`"code":"compile_error"`, `"line":3`, `"column":`, `function \"greet\"`}},
		{name: "missing handler", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"source":"function other() end","handler":"handle"}`, wantStatus: 400, wantContent: []string{`"code":"compile_error"`, `"line":0`}},
		{name: "another handler", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"source":"function onChat(e) end","handler":"onChat"}`, wantStatus: 200},
		{name: "bad handler name", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"source":"x = 1","handler":"1x"}`, wantStatus: 400, wantContent: []string{`"code":"invalid_definition"`}},
		{name: "unknown field", method: "POST", path: "/api/admin/functions/compile", token: tok,
			body: `{"source":"x = 1","triggers":[]}`, wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "triggers"}},
		{name: "empty body", method: "POST", path: "/api/admin/functions/compile", token: tok, wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
		{name: "needs the admin token", method: "POST", path: "/api/admin/functions/compile",
			body: `{"source":"x = 1"}`, wantStatus: 401},
		{name: "a compile saves nothing", method: "GET", path: "/api/admin/functions", token: tok, wantStatus: 200,
			wantContent: []string{`"functions":[]`}},

		{name: "phrase preview", method: "GET", path: "/api/admin/schedules/preview?expression=every+monday+at+08:00&timezone=Europe/Paris", token: tok,
			wantStatus: 200, wantContent: []string{`"timezone":"Europe/Paris"`, `"normalized":"0 8 * * 1"`, `T08:00:00+01:00`},
			after: func(t *testing.T, res response, _ map[string]string) {
				requireNext(t, res, 5, time.Monday, 8, "Europe/Paris")
			}},
		{name: "cron preview, count", method: "GET", path: "/api/admin/schedules/preview?expression=30+6+*+*+*&count=3", token: tok,
			wantStatus: 200, wantContent: []string{`"timezone":"UTC"`},
			after: func(t *testing.T, res response, _ map[string]string) {
				requireNext(t, res, 3, -1, 6, "UTC")
			}},
		{name: "RRULE preview", method: "GET", path: "/api/admin/schedules/preview?expression=FREQ%3DMONTHLY%3BBYDAY%3D1MO%3BBYHOUR%3D9&timezone=America/New_York", token: tok,
			wantStatus: 200, after: func(t *testing.T, res response, _ map[string]string) {
				requireNext(t, res, 5, time.Monday, 9, "America/New_York")
			}},
		{name: "bad expression", method: "GET", path: "/api/admin/schedules/preview?expression=daily+at+29:00", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_trigger"`, "29:00"}},
		{name: "bad zone", method: "GET", path: "/api/admin/schedules/preview?expression=daily+at+09:00&timezone=Mars/Olympus", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_trigger"`, "Mars/Olympus"}},
		{name: "no expression", method: "GET", path: "/api/admin/schedules/preview", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
		{name: "count out of range", method: "GET", path: "/api/admin/schedules/preview?expression=@daily&count=51", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
	})
}

// requireNext checks a preview lists n increasing occurrences on weekday
// (-1 for any) at hour in zone.
func requireNext(t *testing.T, res response, n int, weekday time.Weekday, hour int, zone string) {
	t.Helper()
	var p struct {
		Next []time.Time `json:"next"`
	}
	if err := json.Unmarshal([]byte(res.body), &p); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Next) != n {
		t.Fatalf("%d occurrences, want %d: %s", len(p.Next), n, res.body)
	}
	for i, at := range p.Next {
		at = at.In(loc)
		if at.Hour() != hour || (weekday >= 0 && at.Weekday() != weekday) || (i > 0 && !at.After(p.Next[i-1])) || !at.After(time.Now()) {
			t.Fatalf("occurrence %d is %s: %s", i, at, res.body)
		}
	}
}

func TestDashboardStats(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	tok := testAdminToken
	ts.putFunction(t, "flaky", `function handle(input) if input.fail then error("asked to fail") end return input end`, `[{"invoke":true}]`)
	for i := 0; i < 7; i++ {
		body := `{"input":{"fail":` + strconv.FormatBool(i%3 == 0) + `}}`
		if res := ts.do(t, "POST", "/api/admin/functions/flaky/run", body, tok); res.status != 200 {
			t.Fatalf("run: %d %s", res.status, res.body)
		}
	}
	var st struct {
		Runs          int     `json:"runs"`
		Errors        int     `json:"errors"`
		ErrorRate     float64 `json:"error_rate"`
		P50           float64 `json:"p50_ms"`
		P99           float64 `json:"p99_ms"`
		BucketSeconds int     `json:"bucket_seconds"`
		Buckets       []struct {
			Runs, Errors int
		} `json:"buckets"`
		LastRun *struct {
			Status string `json:"status"`
		} `json:"last_run"`
	}
	for _, w := range []struct {
		window string
		bucket int
	}{{"1h", 60}, {"24h", 1440}, {"15m", 15}} {
		res := ts.do(t, "GET", "/api/admin/functions/flaky/stats?window="+w.window, "", tok)
		if res.status != 200 || json.Unmarshal([]byte(res.body), &st) != nil {
			t.Fatalf("stats %s: %d %s", w.window, res.status, res.body)
		}
		sumRuns, sumErrs := 0, 0
		for _, b := range st.Buckets {
			sumRuns += b.Runs
			sumErrs += b.Errors
		}
		if st.Runs != 7 || st.Errors != 3 || sumRuns != 7 || sumErrs != 3 || st.BucketSeconds != w.bucket || len(st.Buckets) < 60 || len(st.Buckets) > 61 {
			t.Fatalf("stats %s: %+v", w.window, st)
		}
		if st.ErrorRate < 0.42 || st.ErrorRate > 0.43 || st.P50 <= 0 || st.P99 < st.P50 || st.LastRun == nil || st.LastRun.Status != "error" {
			t.Fatalf("stats %s: %+v", w.window, st)
		}
	}
	runScenarios(t, ts, nil, []scenario{
		{name: "no runs", method: "GET", path: "/api/admin/functions/never/stats", token: tok, wantStatus: 200,
			wantContent: []string{`"runs":0`, `"last_run":null`, `"error_rate":0`}},
		{name: "bad window", method: "GET", path: "/api/admin/functions/flaky/stats?window=2h", token: tok, wantStatus: 400,
			wantContent: []string{`"code":"invalid_input"`, "2h"}},
		{name: "bad name", method: "GET", path: "/api/admin/functions/1bad/stats", token: tok, wantStatus: 400},
		{name: "needs the admin token", method: "GET", path: "/api/admin/functions/flaky/stats", wantStatus: 401},
		{name: "job stats", method: "GET", path: "/api/admin/jobs/stats?window=1h", token: tok, wantStatus: 200,
			wantContent: []string{`"bucket_seconds":60`, `"now":{`, `"dead":`, `"pending":`}},
		{name: "job stats bad window", method: "GET", path: "/api/admin/jobs/stats?window=forever", token: tok, wantStatus: 400},
	})
}

func TestDashboardJobStatsCountQueue(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "fails", `function handle(input) error("no") end`, `[{"event":"tick"}]`, "retries", "0")
	ts.putFunction(t, "works", `function handle(input) return 1 end`, `[{"event":"tick"}]`)
	for i := 0; i < 2; i++ {
		if res := ts.do(t, "POST", "/api/admin/events", `{"name":"tick","data":{"i":`+strconv.Itoa(i)+`}}`, testAdminToken); res.status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", res.status, res.body)
		}
	}
	var st struct {
		Buckets []struct{ Created, Done, Dead int } `json:"buckets"`
		Now     map[string]int                      `json:"now"`
	}
	testsupport.WaitFor(t, "two done and two dead jobs", func() bool {
		res := ts.do(t, "GET", "/api/admin/jobs/stats", "", testAdminToken)
		if json.Unmarshal([]byte(res.body), &st) != nil {
			return false
		}
		// The retention sweeper's own job counts among the done ones. The
		// buckets are read before the counts of now, so they may lag a
		// job that finished in between.
		created, done, dead := 0, 0, 0
		for _, b := range st.Buckets {
			created, done, dead = created+b.Created, done+b.Done, dead+b.Dead
		}
		return st.Now["dead"] == 2 && st.Now["done"] >= 2 && st.Now["pending"] == 0 && st.Now["running"] == 0 &&
			dead == 2 && done == st.Now["done"]
	})
	created, done, dead := 0, 0, 0
	for _, b := range st.Buckets {
		created, done, dead = created+b.Created, done+b.Done, dead+b.Dead
	}
	if created < 4 || dead != 2 || done != st.Now["done"] || created != done+dead {
		t.Fatalf("buckets count %d created, %d done, %d dead; now %v", created, done, dead, st.Now)
	}
	// Jobs page with skip.
	var page struct {
		Jobs []struct{ ID string } `json:"jobs"`
	}
	first := ts.do(t, "GET", "/api/admin/jobs?limit=1", "", testAdminToken)
	second := ts.do(t, "GET", "/api/admin/jobs?limit=1&skip=1", "", testAdminToken)
	var a, b = page, page
	if json.Unmarshal([]byte(first.body), &a) != nil || json.Unmarshal([]byte(second.body), &b) != nil || len(a.Jobs) != 1 || len(b.Jobs) != 1 || a.Jobs[0].ID == b.Jobs[0].ID {
		t.Fatalf("paging jobs: %s then %s", first.body, second.body)
	}
	if res := ts.do(t, "GET", "/api/admin/jobs?skip=-1", "", testAdminToken); res.status != http.StatusBadRequest {
		t.Fatalf("skip=-1: %d", res.status)
	}
}

func TestDashboardBrowseAndUsers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	tok := testAdminToken
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := ts.Store().C("vault").InsertOne(ctx, bson.M{"_id": "v" + strconv.Itoa(i), "n": i, "secret": i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	ts.register(t, "ada@example.com", "correct horse battery")
	ts.register(t, "grace@example.com", "correct horse battery")
	ts.register(t, "alan@sample.org", "correct horse battery")
	runScenarios(t, ts, nil, []scenario{
		{name: "browse a closed collection", method: "GET", path: "/api/admin/collections/vault/documents?limit=2", token: tok, wantStatus: 200,
			wantContent: []string{`"total":5`, `"_id":"v4"`, `"_id":"v3"`}, notContent: []string{`"_id":"v2"`}},
		{name: "next page", method: "GET", path: "/api/admin/collections/vault/documents?limit=2&skip=2", token: tok, wantStatus: 200,
			wantContent: []string{`"_id":"v2"`, `"_id":"v1"`, `"skip":2`}},
		{name: "filter", method: "GET", path: "/api/admin/collections/vault/documents?filter=" + urlQuery(`{"secret":true}`), token: tok, wantStatus: 200,
			wantContent: []string{`"total":3`}, notContent: []string{`"_id":"v1"`}},
		{name: "refused operator", method: "GET", path: "/api/admin/collections/vault/documents?filter=" + urlQuery(`{"$where":"1"}`), token: tok, wantStatus: 400,
			wantContent: []string{`"code":"invalid_query"`}},
		{name: "bad JSON filter", method: "GET", path: "/api/admin/collections/vault/documents?filter=%7B", token: tok, wantStatus: 400},
		{name: "bad limit", method: "GET", path: "/api/admin/collections/vault/documents?limit=0", token: tok, wantStatus: 400},
		{name: "a system collection", method: "GET", path: "/api/admin/collections/_users/documents", token: tok, wantStatus: 404,
			notContent: []string{"password"}},
		{name: "a bad name", method: "GET", path: "/api/admin/collections/no%20pe/documents", token: tok, wantStatus: 400},
		{name: "one document", method: "GET", path: "/api/admin/collections/vault/documents/v3", token: tok, wantStatus: 200,
			wantContent: []string{`"document":{`, `"n":3`}},
		{name: "a missing document", method: "GET", path: "/api/admin/collections/vault/documents/v9", token: tok, wantStatus: 404},
		{name: "browsing needs the admin token", method: "GET", path: "/api/admin/collections/vault/documents", wantStatus: 401},

		{name: "users", method: "GET", path: "/api/admin/users", token: tok, wantStatus: 200,
			wantContent: []string{`"total":3`, "ada@example.com", "alan@sample.org"}, notContent: []string{"password", "hash"}},
		{name: "search by email", method: "GET", path: "/api/admin/users?email=EXAMPLE.com", token: tok, wantStatus: 200,
			wantContent: []string{`"total":2`, "grace@example.com"}, notContent: []string{"alan@"}},
		{name: "search is not a pattern", method: "GET", path: "/api/admin/users?email=.*", token: tok, wantStatus: 200,
			wantContent: []string{`"total":0`}},
		{name: "users page", method: "GET", path: "/api/admin/users?limit=1&skip=2", token: tok, wantStatus: 200,
			wantContent: []string{`"total":3`, "ada@example.com"}, notContent: []string{"grace@"}},
		{name: "users bad limit", method: "GET", path: "/api/admin/users?limit=5000", token: tok, wantStatus: 400},
		{name: "users bad skip", method: "GET", path: "/api/admin/users?skip=x", token: tok, wantStatus: 400},
		{name: "users need the admin token", method: "GET", path: "/api/admin/users", wantStatus: 401},

		{name: "publish a custom event", method: "POST", path: "/api/admin/events", token: tok, body: `{"name":"order_shipped","data":{"order":"A-1"}}`,
			wantStatus: 202, wantContent: []string{`"id":`}, wantEvents: []string{"order_shipped"}},
		{name: "a system event's name", method: "POST", path: "/api/admin/events", token: tok, body: `{"name":"user_registered"}`,
			wantStatus: 400, wantContent: []string{`"code":"invalid_event_name"`}},
		{name: "data not an object", method: "POST", path: "/api/admin/events", token: tok, body: `{"name":"x","data":[1]}`,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
		{name: "unknown field", method: "POST", path: "/api/admin/events", token: tok, body: `{"name":"x","when":1}`,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
	})
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func TestDashboardTestRunContext(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ada := ts.register(t, "ada@example.com", "correct horse battery")
	src, _ := json.Marshal(`function handle(input, ctx)
  print("as", ctx.trigger)
  if ctx.trigger == "http" then return {status = 201, body = "made"} end
  return {trigger = ctx.trigger, event = ctx.event, email = ctx.user and ctx.user.email, input = input}
end`)
	body := func(extra string) string { return `{"name":"ctx","source":` + string(src) + extra + `}` }
	vars := map[string]string{"ada": ada.id}
	tok := testAdminToken
	runScenarios(t, ts, vars, []scenario{
		{name: "default is test", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"input":{"a":1}`),
			wantStatus: 200, wantContent: []string{`"trigger":"test"`, `"input":{"a":1}`, `"message":"as\ttest"`}, notContent: []string{`"email"`}},
		{name: "as an event", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"event","event":"user_registered"`),
			wantStatus: 200, wantContent: []string{`"trigger":"event"`, `"event":"user_registered"`}},
		{name: "invoked by a user", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"invoke","user":"{ada}"`),
			wantStatus: 200, wantContent: []string{`"trigger":"invoke"`, `"email":"ada@example.com"`}},
		{name: "an http request", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"http"`),
			wantStatus: 200, wantContent: []string{`"status":201`, `"result":"made"`}},
		{name: "a schedule tick", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"schedule"`),
			wantStatus: 200, wantContent: []string{`"trigger":"schedule"`}},
		{name: "unknown trigger", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"cron"`),
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "cron"}},
		{name: "event run without its name", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"event"`),
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
		{name: "event name without an event run", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"event":"x"`),
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`}},
		{name: "a user on a schedule run", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"schedule","user":"{ada}"`),
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "no caller"}},
		{name: "an unknown user", method: "POST", path: "/api/admin/functions/test", token: tok, body: body(`,"trigger":"invoke","user":"65a000000000000000000001"`),
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "no such user"}},
		{name: "test-runs are not in the function's stats", method: "GET", path: "/api/admin/functions/ctx/stats", token: tok,
			wantStatus: 200, wantContent: []string{`"runs":0`, `"last_run":{`}},
		{name: "but they are in its executions", method: "GET", path: "/api/admin/functions/ctx/executions", token: tok,
			wantStatus: 200, wantContent: []string{`"trigger":"schedule"`, `"trigger":"invoke"`, `"version":0`}},
		{name: "executions by trigger", method: "GET", path: "/api/admin/functions/ctx/executions?trigger=schedule", token: tok,
			wantStatus: 200, wantContent: []string{`"trigger":"schedule"`}, notContent: []string{`"trigger":"invoke"`, `"trigger":"test"`}},
		{name: "executions by status", method: "GET", path: "/api/admin/functions/ctx/executions?status=error", token: tok,
			wantStatus: 200, wantContent: []string{`"executions":[]`}},
		{name: "executions by status and trigger", method: "GET", path: "/api/admin/functions/ctx/executions?status=ok&trigger=http&limit=1", token: tok,
			wantStatus: 200, wantContent: []string{`"trigger":"http"`}, notContent: []string{`"trigger":"event"`}},
		{name: "executions with a bad status", method: "GET", path: "/api/admin/functions/ctx/executions?status=failed", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "failed"}},
		{name: "executions with a bad trigger", method: "GET", path: "/api/admin/functions/ctx/executions?trigger=cron", token: tok,
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, "cron"}},
	})
}
