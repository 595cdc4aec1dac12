package examples_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

// chatClient is a WebSocket client of /api/ws, as an app's chat screen.
type chatClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (s *testServer) chat(t *testing.T, token string) *chatClient {
	t.Helper()
	url := "ws://" + strings.TrimPrefix(s.URL(), "http://") + "/api/ws"
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return &chatClient{t: t, ws: ws}
}

// call sends a frame and reads up to its answer, returning it.
func (c *chatClient) call(frame map[string]any) map[string]any {
	c.t.Helper()
	frame["id"] = "q"
	if err := c.ws.WriteJSON(frame); err != nil {
		c.t.Fatal(err)
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		var f map[string]any
		if err := c.ws.ReadJSON(&f); err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if f["id"] == "q" {
			if f["type"] != "ok" {
				c.t.Fatalf("%v answered %v", frame, f)
			}
			return f
		}
	}
}

// Scenario 8: messages sent in a channel become chat_history documents,
// written by a function on chan_in, with no change to the clients.
func TestChatHistory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "chatHistory")
	ada := s.register(t, "ada@example.com", "Ada Lovelace")
	grace := s.register(t, "grace@example.com", "Grace Hopper")
	a, g := s.chat(t, ada.Token), s.chat(t, grace.Token)
	a.call(map[string]any{"type": "join", "channel": "room:1"})
	g.call(map[string]any{"type": "join", "channel": "room:1"})
	a.call(map[string]any{"type": "send", "channel": "room:1", "data": map[string]any{"text": "Hello, Grace"}})
	g.call(map[string]any{"type": "send", "channel": "room:1", "data": "Hi Ada"})
	before := time.Now().Add(-time.Minute)

	var history []map[string]any
	testsupport.WaitForWithin(t, exampleWait, "two chat_history documents", func() bool {
		history = s.docs(t, "chat_history", nil)
		return len(history) >= 2
	})
	if len(history) != 2 {
		t.Fatalf("chat_history: %v", history)
	}
	byUser := map[string]map[string]any{}
	for _, h := range history {
		u, _ := h["user"].(bson.M)
		byUser[u["name"].(string)] = h
		ts, ok := h["timestamp"].(primitive.DateTime)
		if h["channel"] != "room:1" || !ok || ts.Time().Before(before) {
			t.Errorf("entry %v", h)
		}
	}
	if m, _ := byUser["Ada Lovelace"]["message"].(bson.M); m["text"] != "Hello, Grace" || byUser["Ada Lovelace"]["user"].(bson.M)["id"] != ada.ID {
		t.Errorf("Ada's entry %v", byUser["Ada Lovelace"])
	}
	if byUser["Grace Hopper"]["message"] != "Hi Ada" {
		t.Errorf("Grace's entry %v", byUser["Grace Hopper"])
	}
}

// The built-in history serves a client that joins later, with no
// function at all: the channel's history rule is enough.
func TestChatHistoryBuiltIn(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(cfg *server.Config) {
		n := 50
		cfg.Channels.Rules = map[string]channels.Rule{"room:*": {Send: channels.Member, History: &n}}
	})
	ada := s.register(t, "ada@example.com", "Ada Lovelace")
	a := s.chat(t, ada.Token)
	a.call(map[string]any{"type": "join", "channel": "room:1"})
	for _, text := range []string{"one", "two", "three"} {
		a.call(map[string]any{"type": "send", "channel": "room:1", "data": text})
	}
	late := s.chat(t, s.register(t, "late@example.com", "Late Comer").Token)
	ans := late.call(map[string]any{"type": "join", "channel": "room:1"})
	msgs, _ := ans["messages"].([]any)
	var got []string
	for _, m := range msgs {
		got = append(got, m.(map[string]any)["data"].(string))
	}
	if strings.Join(got, ",") != "one,two,three" {
		t.Fatalf("late joiner saw %v", got)
	}
}
