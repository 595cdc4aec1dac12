package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// TestAdminListsPage pages through the outbox, events, secrets and
// schedules three at a time with the cursor each answers in next, and
// finds every item once, in the order of the whole list, even where
// items share a time; and refuses limits and cursors that cannot be.
func TestAdminListsPage(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ctx := context.Background()
	// Seven of each; several outbox messages and events share a time, so
	// the pages must break ties by id.
	// Recent, so that no retention sweep takes them while the test pages.
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	for i := range 7 {
		if _, err := ts.Store().C(db.Outbox).InsertOne(ctx, bson.M{"to": bson.A{fmt.Sprintf("u%d@example.com", i)}, "subject": fmt.Sprintf("m%d", i), "text": "hi", "created_at": at.Add(time.Duration(i/3) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Store().C(db.Events).InsertOne(ctx, bson.M{"_id": fmt.Sprintf("65a00000000000000000000%d", i), "name": "tick", "data": bson.M{"i": i}, "at": at.Add(time.Duration(i/2) * time.Second), "depth": 0, "dispatched": true}); err != nil {
			t.Fatal(err)
		}
		if res := ts.do(t, "PUT", fmt.Sprintf("/api/admin/secrets/KEY_%d", 6-i), `{"value":"v"}`, testAdminToken); res.status != http.StatusNoContent {
			t.Fatalf("set secret: %d %s", res.status, res.body)
		}
		due := at.Add(time.Duration(i/3) * time.Second)
		if _, err := ts.Store().C(db.Jobs).InsertOne(ctx, bson.M{"_id": primitive.NewObjectIDFromTimestamp(due).Hex(), "kind": "function", "status": "dead", "key": fmt.Sprintf("k%d", i),
			"attempt": 1, "max_attempts": 1, "run_at": due, "created_at": due, "updated_at": due, "finished_at": due, "last_error": "no",
			"payload": bson.M{"function": "gone", "trigger": "event", "input": bson.M{}}}); err != nil {
			t.Fatal(err)
		}
		ts.putFunction(t, fmt.Sprintf("job-%d", 6-i), `function handle() end`, fmt.Sprintf(`[{"schedule": "every day at 0%d:00"}]`, i))
	}
	if res := ts.do(t, "POST", "/api/admin/events", `{"name":"other","data":{}}`, testAdminToken); res.status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", res.status, res.body)
	}

	lists := []struct {
		path, key, cursor string
		id                func(item any) string // the item's identity, which next must carry
		want              int
	}{
		{"/api/admin/outbox", "messages", "before", func(v any) string { return v.(map[string]any)["id"].(string) }, 7},
		{"/api/admin/events?name=tick", "events", "before", func(v any) string { return v.(map[string]any)["id"].(string) }, 7},
		{"/api/admin/events", "events", "before", func(v any) string { return v.(map[string]any)["id"].(string) }, 8},
		{"/api/admin/secrets", "secrets", "after", func(v any) string { return v.(string) }, 7},
		{"/api/admin/jobs?status=dead", "jobs", "after", func(v any) string { return v.(map[string]any)["id"].(string) }, 7},
		{"/api/admin/schedules", "schedules", "after", func(v any) string { return v.(map[string]any)["id"].(string) }, 7},
	}
	for _, l := range lists {
		t.Run(l.path, func(t *testing.T) {
			sep := "?"
			if strings.Contains(l.path, "?") {
				sep = "&"
			}
			whole := ts.do(t, "GET", l.path+sep+"limit=1000", "", testAdminToken).json(t)
			var want []string
			for _, item := range whole[l.key].([]any) {
				want = append(want, l.id(item))
			}
			if len(want) != l.want || whole["next"] != "" {
				t.Fatalf("the whole list has %d items and next %q, want %d and \"\"", len(want), whole["next"], l.want)
			}
			var got []string
			cursor, pages := "", 0
			for {
				res := ts.do(t, "GET", l.path+sep+"limit=3&"+l.cursor+"="+url.QueryEscape(cursor), "", testAdminToken)
				if res.status != http.StatusOK {
					t.Fatalf("page %d: %d %s", pages, res.status, res.body)
				}
				page := res.json(t)
				items := page[l.key].([]any)
				for _, item := range items {
					got = append(got, l.id(item))
				}
				pages++
				next, _ := page["next"].(string)
				if len(items) == 3 && next != l.id(items[2]) {
					t.Fatalf("a full page's next is %q, want its last item %q", next, l.id(items[2]))
				}
				if next == "" || pages > 5 {
					break
				}
				cursor = next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged three at a time:\n%v\nwant the whole list's order:\n%v", got, want)
			}
			if wantPages := (l.want + 3) / 3; pages != wantPages {
				t.Fatalf("%d pages, want %d", pages, wantPages)
			}
		})
	}

	bad := []struct {
		name, path, code string
	}{
		{"limit 0", "/api/admin/outbox?limit=0", "invalid_input"},
		{"limit not a number", "/api/admin/events?limit=ten", "invalid_input"},
		{"limit over the cap", "/api/admin/secrets?limit=1001", "invalid_input"},
		{"limit over the cap", "/api/admin/schedules?limit=5000", "invalid_input"},
		{"an unknown event", "/api/admin/events?before=65a0000000000000000000ff", "invalid_input"},
		{"an unknown message", "/api/admin/outbox?before=nope", "invalid_input"},
		{"a cursor too long", "/api/admin/secrets?after=" + strings.Repeat("A", 300), "invalid_input"},
		{"a job cursor that names no job", "/api/admin/jobs?status=dead&after=nope", "invalid_input"},
		{"a job cursor and skip", "/api/admin/jobs?after=nope&skip=50", "invalid_input"},
		{"a cursor too long", "/api/admin/schedules?after=" + strings.Repeat("a", 300), "invalid_input"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			res := ts.do(t, "GET", b.path, "", testAdminToken)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, `"code":"`+b.code+`"`) {
				t.Fatalf("%s: %d %s, want 400 %s", b.path, res.status, res.body, b.code)
			}
		})
	}
	// A cursor past the end is an empty last page, not an error.
	for _, path := range []string{"/api/admin/secrets?after=ZZZ", "/api/admin/schedules?after=zzz"} {
		if res := ts.do(t, "GET", path, "", testAdminToken); res.status != http.StatusOK || !strings.Contains(res.body, `"next":""`) {
			t.Fatalf("%s: %d %s", path, res.status, res.body)
		}
	}
}

// TestExecutionsPage pages through a function's runs with before and
// next, with and without a status filter, and finds each run once in the
// order of the whole list.
func TestExecutionsPage(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ts.putFunction(t, "flaky", `function handle(input) if input.fail then error("asked to fail") end return input.i end`, `[{"invoke": true}]`)
	for i := range 13 {
		res := ts.do(t, "POST", "/api/functions/flaky", fmt.Sprintf(`{"i":%d,"fail":%v}`, i, i%3 == 0), "")
		if res.status != http.StatusOK && res.status != http.StatusInternalServerError {
			t.Fatalf("invoke: %d %s", res.status, res.body)
		}
	}
	ids := func(page map[string]any) []string {
		var out []string
		for _, e := range page["executions"].([]any) {
			out = append(out, e.(map[string]any)["id"].(string))
		}
		return out
	}
	for _, filter := range []struct {
		query string
		want  int
	}{{"", 13}, {"&status=error", 5}, {"&status=ok&trigger=invoke", 8}} {
		t.Run("filter"+filter.query, func(t *testing.T) {
			whole := ts.do(t, "GET", "/api/admin/functions/flaky/executions?limit=1000"+filter.query, "", testAdminToken).json(t)
			want := ids(whole)
			if len(want) != filter.want || whole["next"] != "" {
				t.Fatalf("the whole list has %d runs, next %q; want %d and \"\"", len(want), whole["next"], filter.want)
			}
			var got []string
			before := ""
			for pages := 0; pages < 10; pages++ {
				res := ts.do(t, "GET", "/api/admin/functions/flaky/executions?limit=2&before="+before+filter.query, "", testAdminToken)
				if res.status != http.StatusOK {
					t.Fatalf("page %d: %d %s", pages, res.status, res.body)
				}
				page := res.json(t)
				got = append(got, ids(page)...)
				if before, _ = page["next"].(string); before == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged two at a time:\n%v\nwant:\n%v", got, want)
			}
		})
	}
	newest := ts.lastExecution(t, "flaky", 13)["id"].(string)
	for _, b := range []struct {
		name, query string
		status      int
		code        string
	}{
		{"before is not an id", "before=nope", 400, "invalid_input"},
		{"before and after", "before=" + newest + "&after=" + newest, 400, "invalid_input"},
		{"before names no run of the function", "before=65a000000000000000000001", 404, "not_found"},
	} {
		t.Run(b.name, func(t *testing.T) {
			res := ts.do(t, "GET", "/api/admin/functions/flaky/executions?"+b.query, "", testAdminToken)
			if res.status != b.status || !strings.Contains(res.body, `"code":"`+b.code+`"`) {
				t.Fatalf("%d %s, want %d %s", res.status, res.body, b.status, b.code)
			}
		})
	}
}
