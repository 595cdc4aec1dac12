package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// wsClient is a gorilla client of /api/ws with its frames in a channel.
type wsClient struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan map[string]any
}

func (ts *testServer) dialWS(t *testing.T, header http.Header) *wsClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+ts.Addr()+"/api/ws", header)
	if err != nil {
		t.Fatalf("dial /api/ws: %v (%v)", err, resp)
	}
	c := &wsClient{t: t, ws: ws, frames: make(chan map[string]any, 1000)}
	go func() {
		defer close(c.frames)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var f map[string]any
			if json.Unmarshal(b, &f) == nil {
				c.frames <- f
			}
		}
	}()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

// joinRaw dials /api/ws with a session token, joins channel and waits
// for the join's ok, on a bare connection that closeOf can read to its
// end.
func (ts *testServer) joinRaw(t *testing.T, token, channel string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+ts.Addr()+"/api/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if err := ws.WriteJSON(map[string]any{"type": "join", "channel": channel, "id": 1}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f map[string]any
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("join %s: %v", channel, err)
		}
		if f["id"] == 1.0 {
			if f["type"] != "ok" {
				t.Fatalf("join %s: %v", channel, f)
			}
			return ws
		}
	}
}

// closeOf reads ws, skipping its frames, until the server closes it (10 s
// at most), and returns the close frame.
func closeOf(t *testing.T, ws *websocket.Conn) *websocket.CloseError {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f map[string]any
		if err := ws.ReadJSON(&f); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("the socket ended with %v, want a close frame", err)
			}
			return ce
		}
	}
}

// call sends frame and returns the first frame that answers its id.
func (c *wsClient) call(frame map[string]any) map[string]any {
	c.t.Helper()
	frame["id"] = time.Now().String()
	if err := c.ws.WriteJSON(frame); err != nil {
		c.t.Fatal(err)
	}
	return c.wait("the answer to "+frame["type"].(string), func(f map[string]any) bool { return f["id"] == frame["id"] })
}

func (c *wsClient) wait(what string, keep func(map[string]any) bool) map[string]any {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed waiting for %s", what)
			}
			if keep(f) {
				return f
			}
		case <-timeout:
			c.t.Fatalf("no %s", what)
		}
	}
}

func errorCode(f map[string]any) string {
	if f["type"] != "error" {
		return ""
	}
	return f["error"].(map[string]any)["code"].(string)
}

// TestChannelsOverHTTP signs connections in with real sessions (the
// Bearer header and the auth frame), refuses what is not a WebSocket, and
// shows channels to the admin API.
func TestChannelsOverHTTP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "password1")

	res := ts.do(t, "GET", "/api/ws", "", "")
	if res.status != http.StatusUpgradeRequired || !strings.Contains(res.body, `"upgrade_required"`) {
		t.Fatalf("plain GET /api/ws: %d %s", res.status, res.body)
	}

	byHeader := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + alice.token}})
	ans := byHeader.call(map[string]any{"type": "join", "channel": "lobby"})
	if ans["type"] != "ok" || !strings.Contains(mustJSON(t, ans["members"]), alice.id) {
		t.Fatalf("join with the Bearer header: %v", ans)
	}
	anon := ts.dialWS(t, nil)
	if code := errorCode(anon.call(map[string]any{"type": "join", "channel": "lobby"})); code != "unauthenticated" {
		t.Fatalf("anonymous join answered %q", code)
	}
	if code := errorCode(anon.call(map[string]any{"type": "auth", "token": "not-a-session"})); code != "unauthenticated" {
		t.Fatalf("auth with a bad token answered %q", code)
	}
	if f := anon.call(map[string]any{"type": "auth", "token": alice.token}); f["type"] != "ok" || f["user"].(map[string]any)["id"] != alice.id {
		t.Fatalf("auth frame: %v", f)
	}
	sent := anon.call(map[string]any{"type": "send", "channel": "lobby", "data": map[string]any{"text": "hi"}})
	if sent["type"] != "ok" || sent["offset"] != 1.0 {
		t.Fatalf("send: %v", sent)
	}
	byHeader.wait("the message", func(f map[string]any) bool { return f["type"] == "message" && f["offset"] == 1.0 })
	testsupport.WaitFor(t, "the chan_in event", func() bool {
		for _, n := range ts.eventNames(t) {
			if n == "chan_in" {
				return true
			}
		}
		return false
	})
	ev := ts.lastEvent(t, "chan_in")
	if ev["channel"] != "lobby" || ev["message"].(bson.M)["text"] != "hi" || ev["user"].(bson.M)["id"] != alice.id || ev["offset"] != int64(1) {
		t.Fatalf("chan_in data %v", ev)
	}

	runScenarios(t, ts, map[string]string{"admin": testAdminToken}, []scenario{
		{name: "list channels", method: "GET", path: "/api/admin/channels", token: "admin",
			wantStatus: 200, wantContent: []string{`"name":"lobby"`, `"offset":1`, alice.id}},
		{name: "list channels without the admin token", method: "GET", path: "/api/admin/channels",
			wantStatus: 401, wantContent: []string{`"unauthenticated"`}},
		{name: "recent messages", method: "GET", path: "/api/admin/channels/lobby/messages?limit=10", token: "admin",
			wantStatus: 200, wantContent: []string{`"offset":1`, `"text":"hi"`}},
		{name: "a channel name with reserved characters", method: "GET", path: "/api/admin/channels/room%3A1/messages", token: "admin",
			wantStatus: 200, wantContent: []string{`"channel":"room:1"`, `"messages":[]`}},
		{name: "a bad channel name", method: "GET", path: "/api/admin/channels/a%20b/messages", token: "admin",
			wantStatus: 400, wantContent: []string{`"invalid_channel"`}},
		{name: "a bad limit", method: "GET", path: "/api/admin/channels/lobby/messages?limit=0", token: "admin",
			wantStatus: 400, wantContent: []string{`"invalid_input"`}},
	})
}

// TestChannelJoinFunction: a function with a channel_join trigger keeps
// room membership in the app's own collection and refuses the others,
// by returning false or with backend.response(403, …).
func TestChannelJoinFunction(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "password1")
	bob := ts.register(t, "bob@example.com", "password1")
	ts.putFunction(t, "rooms", `function handle(input)
  if input.channel:sub(1, 5) ~= "room:" then return true end
  if not input.user then return false end
  if input.channel == "room:loud" then
    return backend.response(403, {error = "this room is closed"})
  end
  return backend.findOne("room_members", {room = input.channel, user = input.user.id}) ~= nil
end`, `[{"event":"channel_join"}]`)
	if _, err := ts.Store().C("room_members").InsertOne(context.Background(), bson.M{"room": "room:1", "user": alice.id}); err != nil {
		t.Fatal(err)
	}
	a := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + alice.token}})
	b := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + bob.token}})
	if f := a.call(map[string]any{"type": "join", "channel": "room:1"}); f["type"] != "ok" {
		t.Fatalf("member's join: %v", f)
	}
	if code := errorCode(b.call(map[string]any{"type": "join", "channel": "room:1"})); code != "forbidden" {
		t.Fatalf("non-member's join answered %q", code)
	}
	f := a.call(map[string]any{"type": "join", "channel": "room:loud"})
	if errorCode(f) != "forbidden" || f["error"].(map[string]any)["message"] != "this room is closed" {
		t.Fatalf("join refused with backend.response: %v", f)
	}
	if f := b.call(map[string]any{"type": "join", "channel": "lobby"}); f["type"] != "ok" {
		t.Fatalf("join outside the function's rooms: %v", f)
	}
	for _, n := range ts.eventNames(t) {
		if n == "channel_join" {
			t.Fatalf("channel_join was recorded as an event: %v", ts.eventNames(t))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestChannelFunctions: a function publishes into a channel and reads
// its members; a chan_in trigger narrowed with channel: runs only for the
// channels it matches.
func TestChannelFunctions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "password1")
	a := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + alice.token}})
	if f := a.call(map[string]any{"type": "join", "channel": "room:1"}); f["type"] != "ok" {
		t.Fatalf("join: %v", f)
	}
	ts.putFunction(t, "announce", `function handle(input)
  return {offset = backend.publish(input.channel, {text = input.text}), members = backend.channels.members(input.channel)}
end`, `[{"invoke":true}]`)
	res := ts.do(t, "POST", "/api/functions/announce", `{"channel":"room:1","text":"hello"}`, "")
	if res.status != http.StatusOK || !strings.Contains(res.body, `"offset":1`) || !strings.Contains(res.body, alice.id) {
		t.Fatalf("announce: %d %s", res.status, res.body)
	}
	m := a.wait("the announcement", func(f map[string]any) bool { return f["type"] == "message" && f["offset"] == 1.0 })
	if m["user"] != nil || m["data"].(map[string]any)["text"] != "hello" {
		t.Fatalf("announcement %v", m)
	}
	res = ts.do(t, "POST", "/api/functions/announce", `{"channel":"no good","text":"x"}`, "")
	if res.status != http.StatusInternalServerError || !strings.Contains(res.body, "invalid channel name") {
		t.Fatalf("publish to a bad name: %d %s", res.status, res.body)
	}

	ts.putFunction(t, "roomLog", `function handle(event)
  backend.create("room_log", {channel = event.channel, user = event.user.id, text = event.message.text, offset = event.offset})
end`, `[{"event":"chan_in","channel":"room:*"}]`)
	if f := a.call(map[string]any{"type": "send", "channel": "lobby", "data": map[string]any{"text": "not logged"}}); f["type"] != "ok" {
		t.Fatalf("send to lobby: %v", f)
	}
	if f := a.call(map[string]any{"type": "send", "channel": "room:1", "data": map[string]any{"text": "logged"}}); f["type"] != "ok" || f["offset"] != 2.0 {
		t.Fatalf("send to room:1: %v", f)
	}
	var logged []bson.M
	testsupport.WaitFor(t, "the room log", func() bool {
		var err error
		logged, err = ts.Store().C("room_log").Find(context.Background(), bson.M{}, nil)
		return err == nil && len(logged) > 0
	})
	if len(logged) != 1 || logged[0]["channel"] != "room:1" || logged[0]["text"] != "logged" || logged[0]["user"] != alice.id || logged[0]["offset"] != int64(2) {
		t.Fatalf("room log %v", logged)
	}
	n, err := ts.Store().C("_jobs").Count(context.Background(), bson.M{"payload.function": "roomLog"})
	if err != nil || n != 1 {
		t.Fatalf("%d roomLog jobs (err %v), want 1: the lobby message must not run it", n, err)
	}
}

// TestSessionExpiryClosesChannels: a socket signed in with a session
// keeps its rights only until the session expires; then it is closed
// with 1008 "signed out", and a socket of a session that has not expired
// stays.
func TestSessionExpiryClosesChannels(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Auth.SessionTTL = 1500 * time.Millisecond
	cfg.Channels.SessionCheck = 50 * time.Millisecond
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "password1")
	expires := time.Now().Add(cfg.Auth.SessionTTL)
	ws := ts.joinRaw(t, alice.token, "lobby")
	ce := closeOf(t, ws)
	// The session lasted about SessionTTL from the register answer;
	// allow for the register round trip before expires was taken.
	if ce.Code != websocket.ClosePolicyViolation || ce.Text != "signed out" || time.Now().Before(expires.Add(-time.Second)) {
		t.Fatalf("closed with %d %q at %s, the session expiring at %s", ce.Code, ce.Text, time.Now().Format(time.StampMilli), expires.Format(time.StampMilli))
	}
	// A session that has not expired keeps its socket.
	bob := ts.register(t, "bob@example.com", "password1")
	c := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + bob.token}})
	if f := c.call(map[string]any{"type": "join", "channel": "lobby"}); f["type"] != "ok" {
		t.Fatalf("bob's join: %v", f)
	}
}

// TestPasswordChangeClosesChannelsAtOnce: a password change ends the
// user's other sessions, and their sockets on this process close at once
// with 1008 "signed out", not at the next channels.session_check.
func TestPasswordChangeClosesChannelsAtOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Channels.SessionCheck = time.Hour
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "password1")
	res := ts.do(t, "POST", "/api/auth/login", `{"email":"alice@example.com","password":"password1"}`, "")
	if res.status != http.StatusOK {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	other, _ := res.json(t)["token"].(string)
	ws := ts.joinRaw(t, other, "lobby")
	if res := ts.do(t, "POST", "/api/auth/password", `{"current_password":"password1","new_password":"password2"}`, alice.token); res.status >= 300 {
		t.Fatalf("change password: %d %s", res.status, res.body)
	}
	if ce := closeOf(t, ws); ce.Code != websocket.ClosePolicyViolation || ce.Text != "signed out" {
		t.Fatalf("closed with %d %q", ce.Code, ce.Text)
	}
	// The session that changed the password keeps its socket.
	c := ts.dialWS(t, http.Header{"Authorization": {"Bearer " + alice.token}})
	if f := c.call(map[string]any{"type": "join", "channel": "lobby"}); f["type"] != "ok" {
		t.Fatalf("the changing session's join: %v", f)
	}
}
