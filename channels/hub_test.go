package channels

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

var testRules = map[string]Rule{
	"public:*":  {Join: Public, Send: Public},
	"members:*": {Join: Authenticated, Send: Member},
	"readonly":  {Join: Public, Send: None},
	"closed":    {Join: None, Send: Authenticated},
	"chat:*":    {Join: Authenticated, Send: Member, History: intp(5)},
	"quiet:*":   {Join: Authenticated, Send: Authenticated, Presence: boolp(false)},
	"small:*":   {Join: Authenticated, Send: Authenticated, MaxMessageBytes: 64},
}

// TestRules checks each access level for anonymous, signed-in and other
// users, on configured patterns, private user channels and the default.
func TestRules(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), withRules(testRules), Deps{})
	scenarios := []struct {
		name    string
		token   string // "" stays anonymous
		frames  []map[string]any
		wantErr string // of the last frame; "" is ok
	}{
		{"anonymous joins a default channel", "", []map[string]any{{"type": "join", "channel": "lobby"}}, "unauthenticated"},
		{"signed-in joins a default channel", "tok-alice", []map[string]any{{"type": "join", "channel": "lobby"}}, ""},
		{"anonymous sends to a default channel", "", []map[string]any{{"type": "send", "channel": "lobby", "data": 1}}, "unauthenticated"},
		{"signed-in sends to a default channel without joining", "tok-alice", []map[string]any{{"type": "send", "channel": "lobby", "data": 1}}, ""},
		{"anonymous joins a public channel", "", []map[string]any{{"type": "join", "channel": "public:news"}}, ""},
		{"anonymous sends to a public channel", "", []map[string]any{{"type": "send", "channel": "public:news", "data": "hi"}}, ""},
		{"member-only send without joining", "tok-alice", []map[string]any{{"type": "send", "channel": "members:x", "data": 1}}, "not_joined"},
		{"member-only send after joining", "tok-alice", []map[string]any{{"type": "join", "channel": "members:x"}, {"type": "send", "channel": "members:x", "data": 1}}, ""},
		{"join none", "tok-alice", []map[string]any{{"type": "join", "channel": "closed"}}, "forbidden"},
		{"send none", "tok-alice", []map[string]any{{"type": "join", "channel": "readonly"}, {"type": "send", "channel": "readonly", "data": 1}}, "forbidden"},
		{"send to a write-only channel", "tok-alice", []map[string]any{{"type": "send", "channel": "closed", "data": 1}}, ""},
		{"own private channel", "tok-alice", []map[string]any{{"type": "join", "channel": "user:u-alice"}, {"type": "send", "channel": "user:u-alice", "data": 1}}, ""},
		{"another user's private channel", "tok-bob", []map[string]any{{"type": "join", "channel": "user:u-alice"}}, "forbidden"},
		{"anonymous on a private channel", "", []map[string]any{{"type": "join", "channel": "user:u-alice"}}, "unauthenticated"},
		{"send to another user's private channel", "tok-bob", []map[string]any{{"type": "send", "channel": "user:u-alice", "data": 1}}, "forbidden"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, h.url, nil)
			if s.token != "" {
				c.call(map[string]any{"type": "auth", "token": s.token}).mustOK()
			}
			var last answer
			for i, f := range s.frames {
				last = c.call(f)
				if i < len(s.frames)-1 {
					last.mustOK()
				}
			}
			if s.wantErr == "" {
				last.mustOK()
			} else {
				last.mustError(s.wantErr)
			}
		})
	}
}

// TestBearerHeader signs a connection in with the upgrade's
// Authorization header; a bad token is an error frame and the connection
// stays open and anonymous.
func TestBearerHeader(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{}, Deps{})
	good := dial(t, h.url, http.Header{"Authorization": {"Bearer tok-bob"}})
	ans := good.join("lobby")
	if got := ids(ans["members"]); !slices.Equal(got, []string{bob.ID}) {
		t.Fatalf("members %v, want bob", got)
	}
	bad := dial(t, h.url, http.Header{"Authorization": {"Bearer nope"}})
	first := bad.next("the error about the token", func(map[string]any) bool { return true })
	if first["type"] != TypeError || first["error"].(map[string]any)["code"] != "unauthenticated" {
		t.Fatalf("first frame %v, want an unauthenticated error", first)
	}
	bad.call(map[string]any{"type": "join", "channel": "lobby"}).mustError("unauthenticated")
	bad.call(map[string]any{"type": "join", "channel": "public:x"}).mustError("unauthenticated") // default rule: authenticated
	bad.call(map[string]any{"type": "auth", "token": "tok-alice"}).mustOK()
	bad.join("lobby")
}

// TestBadFrames sends every kind of bad frame; each gets an error frame
// with its code and the connection keeps working.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), withRules(testRules), Deps{})
	c := signedIn(t, h.url, "tok-alice")
	scenarios := []struct {
		name  string
		raw   string
		binar bool
		code  string
	}{
		{"not JSON", `{"type":`, false, "invalid_input"},
		{"not an object", `[1,2]`, false, "invalid_input"},
		{"no type", `{"channel":"x"}`, false, "invalid_input"},
		{"unknown type", `{"type":"subscribe","channel":"x"}`, false, "invalid_input"},
		{"type of the wrong kind", `{"type":5}`, false, "invalid_input"},
		{"join without channel", `{"type":"join"}`, false, "invalid_channel"},
		{"join with a bad name", `{"type":"join","channel":"a b"}`, false, "invalid_channel"},
		{"join with a wildcard", `{"type":"join","channel":"room:*"}`, false, "invalid_channel"},
		{"join with a long name", `{"type":"join","channel":"` + strings.Repeat("x", MaxNameLen+1) + `"}`, false, "invalid_channel"},
		{"join with a negative since", `{"type":"join","channel":"x","since":-1}`, false, "invalid_input"},
		{"join with a since that is not a number", `{"type":"join","channel":"x","since":"3"}`, false, "invalid_input"},
		{"send without data", `{"type":"send","channel":"lobby"}`, false, "invalid_input"},
		{"send with a bad name", `{"type":"send","channel":"","data":1}`, false, "invalid_channel"},
		{"leave without joining", `{"type":"leave","channel":"lobby"}`, false, "not_joined"},
		{"auth without token", `{"type":"auth"}`, false, "invalid_input"},
		{"auth with an unknown token", `{"type":"auth","token":"nope"}`, false, "unauthenticated"},
		{"binary frame", `{"type":"ping"}`, true, "invalid_input"},
		{"data too large for the channel", `{"type":"send","channel":"small:x","data":"` + strings.Repeat("x", 100) + `"}`, false, "message_too_large"},
		{"frame over the connection's limit", `{"type":"send","channel":"lobby","data":"` + strings.Repeat("x", DefaultMaxMessageBytes+maxFrameSlack) + `"}`, false, "message_too_large"},
		{"huge id", `{"type":"ping","id":"` + strings.Repeat("x", 300) + `"}`, false, "invalid_input"},
	}
	for _, s := range scenarios {
		kind := websocket.TextMessage
		if s.binar {
			kind = websocket.BinaryMessage
		}
		if err := c.ws.WriteMessage(kind, []byte(s.raw)); err != nil {
			t.Fatalf("%s: write: %v", s.name, err)
		}
		f := c.next("the answer to "+s.name, func(map[string]any) bool { return true })
		if f["type"] != TypeError || f["error"].(map[string]any)["code"] != s.code {
			t.Errorf("%s: got %v, want error %s", s.name, f, s.code)
		}
		c.call(map[string]any{"type": "ping"}) // still open and answering
	}
	// A failed auth leaves the signed-in user as it was.
	c.join("lobby")
}

// TestIDsComeBack checks that an answer carries its frame's id as sent,
// whatever JSON it is.
func TestIDsComeBack(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{}, Deps{})
	c := dial(t, h.url, nil)
	for _, raw := range []string{`7`, `"abc"`, `{"n":1}`} {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","id":`+raw+`}`)); err != nil {
			t.Fatal(err)
		}
		f := c.next("pong", func(f map[string]any) bool { return f["type"] == TypePong })
		if got := fmt.Sprint(f["id"]); got == "<nil>" {
			t.Errorf("id %s did not come back: %v", raw, f)
		}
	}
}

// TestDeliveryInOrder has several clients send at once; every member,
// senders included, gets every message once, in offset order, with no
// offset missing.
func TestDeliveryInOrder(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{}, Deps{})
	const senders, each = 4, 25
	clients := make([]*client, senders)
	for i := range clients {
		clients[i] = signedIn(t, h.url, "tok-alice")
		clients[i].join("room")
	}
	watcher := signedIn(t, h.url, "tok-bob")
	watcher.join("room")
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				c.write(map[string]any{"type": "send", "channel": "room", "data": map[string]any{"from": i, "n": j}})
			}
		}()
	}
	wg.Wait()
	for _, c := range append(clients, watcher) {
		got := c.messages("room", senders*each)
		for i, m := range got {
			if int64(m["offset"].(float64)) != int64(i+1) {
				t.Fatalf("message %d has offset %v; want every offset once, in order", i+1, m["offset"])
			}
		}
	}
	if n := len(h.sink.all()); n != senders*each {
		t.Fatalf("sink got %d messages, want %d", n, senders*each)
	}
	m := h.sink.all()[0]
	ev := m.EventData()
	for _, k := range []string{"channel", "user", "message", "offset", "at"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("chan_in data lacks %s: %v", k, ev)
		}
	}
	if u := ev["user"].(map[string]any); u["id"] != alice.ID || u["name"] != alice.Name {
		t.Errorf("chan_in user %v, want alice", u)
	}
}

// TestMessageFrame checks one message frame field by field.
func TestMessageFrame(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{}, Deps{})
	a := signedIn(t, h.url, "tok-alice")
	a.join("room")
	off := a.send("room", map[string]any{"text": "hello", "n": 3})
	m := a.message("room", off)
	if m["user"].(map[string]any)["id"] != alice.ID || m["data"].(map[string]any)["text"] != "hello" || m["at"] == nil {
		t.Fatalf("message frame %v", m)
	}
	// A function's message has no user and fires no chan_in.
	off2, err := h.Publish(context.Background(), "room", map[string]any{"text": "from the server"})
	if err != nil || off2 != off+1 {
		t.Fatalf("Publish = %d, %v; want %d", off2, err, off+1)
	}
	if m := a.message("room", off2); m["user"] != nil {
		t.Fatalf("published message has a user: %v", m)
	}
	if n := len(h.sink.all()); n != 1 {
		t.Fatalf("sink got %d messages, want only the client's", n)
	}
	if _, err := h.Publish(context.Background(), "bad name", 1); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("Publish to a bad name: %v", err)
	}
	if _, err := h.Publish(context.Background(), "room", make(chan int)); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("Publish of a value JSON cannot hold: %v", err)
	}
}

// joinRule is a JoinAuthorizer that admits only the users listed per
// channel, as an app keeping room membership in its own collection would.
type joinRule map[string][]string

func (j joinRule) AuthorizeJoin(_ context.Context, channel string, u *User) error {
	allowed, ok := j[channel]
	if !ok {
		return nil
	}
	if u != nil && slices.Contains(allowed, u.ID) {
		return nil
	}
	return &RefusedError{Function: "rooms", Message: "not a member of this room"}
}

// TestJoinAuthorizer: a join the rules allow can still be refused by the
// channel_join hook, with its message, and nothing of the refused join
// remains (no presence, no messages).
func TestJoinAuthorizer(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{}, Deps{Joins: joinRule{"room:vip": {alice.ID}}})
	a := signedIn(t, h.url, "tok-alice")
	a.join("room:vip")
	b := signedIn(t, h.url, "tok-bob")
	ans := b.call(map[string]any{"type": "join", "channel": "room:vip"})
	ans.mustError("forbidden")
	if msg := ans.f["error"].(map[string]any)["message"]; msg != "not a member of this room" {
		t.Fatalf("refusal message %q", msg)
	}
	b.join("room:open")
	off := a.send("room:vip", "secret")
	a.message("room:vip", off)
	members, err := h.Members(context.Background(), "room:vip")
	if err != nil || len(members) != 1 || members[0].ID != alice.ID {
		t.Fatalf("members %v, %v; want alice alone", members, err)
	}
	// Bob's connection got nothing from room:vip.
	b.call(map[string]any{"type": "ping"})
	for _, f := range b.kept {
		if f["channel"] == "room:vip" {
			t.Fatalf("refused member got %v", f)
		}
	}
}
