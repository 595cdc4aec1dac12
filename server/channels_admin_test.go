package server

import (
	"net/http"
	"testing"

	"github.com/moonbase-dev/moonbase/channels"
)

// TestAdminChannelRoutes: the admin sees a channel's members and
// publishes into it as the system; a member joined over the WebSocket receives it, it is stored
// with no user and records no chan_in event, and bad input is refused.
func TestAdminChannelRoutes(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Channels.Rules = map[string]channels.Rule{"tiny": {MaxMessageBytes: 16}}
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "password1")
	member := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + alice.token}})
	if f := member.call(map[string]any{"type": "join", "channel": "lobby"}); f["type"] != "ok" {
		t.Fatalf("join: %v", f)
	}

	runScenarios(t, ts, map[string]string{"admin": testAdminToken}, []scenario{
		{name: "publish an object", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			body:       `{"data":{"text":"maintenance at noon"}}`,
			wantStatus: 201, wantContent: []string{`"channel":"lobby"`, `"offset":1`}},
		{name: "publish a string into a name with reserved characters", method: "POST", path: "/api/admin/channels/room%3A1/messages", token: "admin",
			body:       `{"data":"hello"}`,
			wantStatus: 201, wantContent: []string{`"channel":"room:1"`, `"offset":1`}},
		{name: "the message is stored without a user", method: "GET", path: "/api/admin/channels/lobby/messages", token: "admin",
			wantStatus: 200, wantContent: []string{`"offset":1`, `"text":"maintenance at noon"`}, notContent: []string{`"user":{`}},
		{name: "members", method: "GET", path: "/api/admin/channels/lobby/members", token: "admin",
			wantStatus: 200, wantContent: []string{`"channel":"lobby"`, `"id":"` + alice.id + `"`}},
		{name: "no members", method: "GET", path: "/api/admin/channels/room%3A1/members", token: "admin",
			wantStatus: 200, wantContent: []string{`"channel":"room:1"`, `"members":[]`}},
		{name: "members of a bad channel name", method: "GET", path: "/api/admin/channels/a%20b/members", token: "admin",
			wantStatus: 400, wantContent: []string{`"invalid_channel"`}},
		{name: "members without the admin token", method: "GET", path: "/api/admin/channels/lobby/members",
			wantStatus: 401, wantContent: []string{`"unauthenticated"`}},
		{name: "without the admin token", method: "POST", path: "/api/admin/channels/lobby/messages",
			body: `{"data":1}`, wantStatus: 401, wantContent: []string{`"unauthenticated"`}},
		{name: "with a user's token", method: "POST", path: "/api/admin/channels/lobby/messages", token: alice.token,
			body: `{"data":1}`, wantStatus: 401, wantContent: []string{`"unauthenticated"`}},
		{name: "no data", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			body: `{}`, wantStatus: 400, wantContent: []string{`"invalid_input"`, "data is required"}},
		{name: "null data", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			body: `{"data":null}`, wantStatus: 400, wantContent: []string{`"invalid_input"`, "data is required"}},
		{name: "an unknown field", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			body: `{"data":1,"user":"x"}`, wantStatus: 400, wantContent: []string{`"invalid_input"`, "user"}},
		{name: "not JSON", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			body: `{"data":`, wantStatus: 400, wantContent: []string{`"invalid_json"`}},
		{name: "an empty body", method: "POST", path: "/api/admin/channels/lobby/messages", token: "admin",
			wantStatus: 400, wantContent: []string{`"invalid_input"`}},
		{name: "a bad channel name", method: "POST", path: "/api/admin/channels/a%20b/messages", token: "admin",
			body: `{"data":1}`, wantStatus: 400, wantContent: []string{`"invalid_channel"`}},
		{name: "over the channel's size limit", method: "POST", path: "/api/admin/channels/tiny/messages", token: "admin",
			body: `{"data":"far more than sixteen bytes"}`, wantStatus: 413, wantContent: []string{`"message_too_large"`}},
		{name: "nothing stored for the refused message", method: "GET", path: "/api/admin/channels/tiny/messages", token: "admin",
			wantStatus: 200, wantContent: []string{`"messages":[]`}},
	})

	f := member.wait("the admin's message", func(f map[string]any) bool { return f["type"] == "message" && f["channel"] == "lobby" })
	if data, _ := f["data"].(map[string]any); data["text"] != "maintenance at noon" || f["user"] != nil {
		t.Fatalf("the member received %v", f)
	}
	for _, n := range ts.eventNames(t) {
		if n == "chan_in" {
			t.Fatalf("a message published by the admin recorded chan_in: %v", ts.eventNames(t))
		}
	}
}
