package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// eventsConfig is testConfig with a queue fast enough for tests: retries
// after tens of milliseconds instead of seconds.
func eventsConfig(t *testing.T) Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Events.PollInterval = 20 * time.Millisecond
	cfg.Events.BackoffBase = 20 * time.Millisecond
	cfg.Events.BackoffMax = 100 * time.Millisecond
	cfg.Events.ScheduleTick = 50 * time.Millisecond
	return cfg
}

// publishBody is a POST /api/events body.
func publishBody(t *testing.T, name any, data any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"name": name, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// POST /api/events publishes a custom event for a signed-in user and
// refuses, with the reason and without recording anything, what is not
// one.
func TestPublishEvent(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "password123")
	vars := map[string]string{"alice": alice.token, "alice_id": alice.id}
	big := strings.Repeat("x", 70<<10)
	scenarios := []scenario{
		{name: "signed out", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", nil),
			wantStatus: 401, wantContent: []string{`"code":"unauthenticated"`}},
		{name: "empty body", method: "POST", path: "/api/events", token: "alice",
			wantStatus: 400, wantContent: []string{`request body is empty; send a JSON object`}},
		{name: "malformed JSON", method: "POST", path: "/api/events", body: `{"name":`, token: "alice",
			wantStatus: 400, wantContent: []string{`"code":"invalid_json"`}},
		{name: "no name", method: "POST", path: "/api/events", body: `{"data":{}}`, token: "alice",
			wantStatus: 400, wantContent: []string{`"code":"invalid_event_name"`, `invalid event name \"\": it is empty`}},
		{name: "empty name", method: "POST", path: "/api/events", body: publishBody(t, "", nil), token: "alice",
			wantStatus: 400, wantContent: []string{`invalid event name \"\": it is empty`}},
		{name: "name not a string", method: "POST", path: "/api/events", body: publishBody(t, 42, nil), token: "alice",
			wantStatus: 400, wantContent: []string{`"code":"invalid_input"`, `name must be a string`}},
		{name: "overlong name", method: "POST", path: "/api/events", body: publishBody(t, strings.Repeat("a", 101), nil), token: "alice",
			wantStatus: 400, wantContent: []string{`it is longer than 100 characters`}},
		{name: "odd characters", method: "POST", path: "/api/events", body: publishBody(t, "order placed!", nil), token: "alice",
			wantStatus: 400, wantContent: []string{`invalid event name \"order placed!\": use letters, digits, _ . : or -, starting with a letter`}},
		{name: "leading digit", method: "POST", path: "/api/events", body: publishBody(t, "1order", nil), token: "alice",
			wantStatus: 400, wantContent: []string{`invalid event name \"1order\": use letters`}},
		{name: "system event", method: "POST", path: "/api/events", body: publishBody(t, "user_registered", map[string]any{}), token: "alice",
			wantStatus: 400, wantContent: []string{`invalid event name \"user_registered\": it is a system event, which only Moonbase emits`}},
		{name: "data not an object", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", []int{1}), token: "alice",
			wantStatus: 400, wantContent: []string{`data must be a JSON object`}},
		{name: "data names its own user", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", map[string]any{"user": "mallory"}), token: "alice",
			wantStatus: 400, wantContent: []string{`data.user is set by the server to the signed-in user`}},
		{name: "unknown field", method: "POST", path: "/api/events", body: `{"name":"order_placed","payload":{}}`, token: "alice",
			wantStatus: 400, wantContent: []string{`unknown field payload (expected name, data)`}},
		{name: "data over the event cap", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", map[string]any{"blob": big}), token: "alice",
			wantStatus: 413, wantContent: []string{`"code":"event_too_large"`, `the limit is 65536`}},
		{name: "body over the request cap", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", map[string]any{"blob": strings.Repeat(big, 16)}), token: "alice",
			wantStatus: 413, wantContent: []string{`"code":"body_too_large"`}},
		{name: "published", method: "POST", path: "/api/events", body: publishBody(t, "order_placed", map[string]any{"orderId": 123}), token: "alice",
			wantStatus: 202, wantContent: []string{`"id":"`}, wantEvents: []string{"order_placed"},
			after: func(t *testing.T, res response, _ map[string]string) {
				data := ts.lastEvent(t, "order_placed")
				user, _ := data["user"].(bson.M)
				if data["orderId"] != int64(123) || user == nil || user["id"] != alice.id || user["email"] != alice.email {
					t.Errorf("recorded data %v", data)
				}
				if ev := ts.lastEventID(t, "order_placed"); ev != res.json(t)["id"] {
					t.Errorf("answered id %v, recorded %s", res.json(t)["id"], ev)
				}
			}},
		{name: "an event name with every allowed character", method: "POST", path: "/api/events", body: publishBody(t, "shop.order:paid-v2_x", nil), token: "alice",
			wantStatus: 202, wantEvents: []string{"shop.order:paid-v2_x"}},
	}
	runScenarios(t, ts, vars, scenarios)
}

// GET /api/admin/events lists recorded events newest first, optionally of
// one name, for the admin token only.
func TestAdminEvents(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "password123")
	for _, name := range []string{"a_first", "b_second", "a_first"} {
		if res := ts.do(t, "POST", "/api/events", publishBody(t, name, map[string]any{"n": 1}), alice.token); res.status != 202 {
			t.Fatalf("publish %s: %d %s", name, res.status, res.body)
		}
	}
	scenarios := []scenario{
		{name: "no admin token", method: "GET", path: "/api/admin/events", token: alice.token, wantStatus: 401},
		{name: "every event", method: "GET", path: "/api/admin/events", token: testAdminToken, wantStatus: 200,
			after: func(t *testing.T, res response, _ map[string]string) {
				if got := eventListNames(t, res); strings.Join(got, ",") != "a_first,b_second,a_first,user_registered" {
					t.Errorf("events %v", got)
				}
			}},
		{name: "by name, limited", method: "GET", path: "/api/admin/events?name=a_first&limit=1", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`"data":{"n":1,"user":{`, `"at":"`},
			after: func(t *testing.T, res response, _ map[string]string) {
				if got := eventListNames(t, res); strings.Join(got, ",") != "a_first" {
					t.Errorf("events %v", got)
				}
			}},
		{name: "bad limit", method: "GET", path: "/api/admin/events?limit=0", token: testAdminToken,
			wantStatus: 400, wantContent: []string{`limit must be a whole number from 1 to 1000`}},
		{name: "limit not a number", method: "GET", path: "/api/admin/events?limit=ten", token: testAdminToken,
			wantStatus: 400, wantContent: []string{`limit must be a whole number from 1 to 1000`}},
	}
	runScenarios(t, ts, nil, scenarios)
}

func eventListNames(t *testing.T, res response) []string {
	t.Helper()
	var ans struct {
		Events []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(res.body), &ans); err != nil {
		t.Fatalf("events answer: %v\n%s", err, res.body)
	}
	names := make([]string, len(ans.Events))
	for i, e := range ans.Events {
		if e.ID == "" {
			t.Errorf("event without id: %s", res.body)
		}
		names[i] = e.Name
	}
	return names
}

// lastEventID is the id of the newest event named name.
func (ts *testServer) lastEventID(t *testing.T, name string) string {
	t.Helper()
	res := ts.do(t, "GET", "/api/admin/events?limit=1&name="+name, "", testAdminToken)
	if res.status != http.StatusOK {
		t.Fatalf("admin events: %d %s", res.status, res.body)
	}
	var ans struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(res.body), &ans); err != nil || len(ans.Events) != 1 {
		t.Fatalf("admin events: %v %s", err, res.body)
	}
	return ans.Events[0].ID
}
