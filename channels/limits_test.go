package channels

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// TestRateLimit refuses frames past the connection's rate with
// too_many_requests and keeps the connection.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{MessagesPerSecond: 5}, Deps{})
	c := dial(t, h.url, nil)
	for i := range 20 {
		c.write(map[string]any{"type": "ping", "id": i})
	}
	pongs, limited := 0, 0
	for pongs+limited < 20 {
		f := c.next("an answer", func(map[string]any) bool { return true })
		switch f["type"] {
		case TypePong:
			pongs++
		case TypeError:
			if f["error"].(map[string]any)["code"] != "too_many_requests" {
				t.Fatalf("unexpected error %v", f)
			}
			limited++
		}
	}
	if pongs < 5 || pongs > 7 || limited == 0 {
		t.Fatalf("%d answered, %d refused; want about 5 answered", pongs, limited)
	}
	testsupport.WaitFor(t, "the rate to allow a frame again", func() bool {
		c.write(map[string]any{"type": "ping"})
		f := c.next("an answer", func(map[string]any) bool { return true })
		return f["type"] == TypePong
	})
}

// TestMaxChannels refuses a join past the connection's channel limit.
func TestMaxChannels(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{MaxChannels: 2}, Deps{})
	c := signedIn(t, h.url, "tok-alice")
	c.join("a")
	c.join("b")
	c.call(map[string]any{"type": "join", "channel": "c"}).mustError("too_many_requests")
	c.call(map[string]any{"type": "join", "channel": "a"}).mustError("invalid_input") // already joined
	c.call(map[string]any{"type": "leave", "channel": "a"}).mustOK()
	c.join("c")
}

// TestSlowConsumer: a client that stops reading is disconnected with 1013
// once its send queue is full, and the others get every message without
// waiting for it.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	cfg := Config{SendQueue: 64, Rules: map[string]Rule{"room": {Join: Public, Send: Public}}}
	h := startHub(t, openStore(t, t.TempDir()), cfg, Deps{})

	// The slow client joins, then never reads again.
	slow, _, err := websocket.DefaultDialer.Dial(h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","channel":"room"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := slow.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	fast := dial(t, h.url, nil)
	fast.join("room")

	payload := strings.Repeat("x", 30<<10)
	const total = 1000 // 30 MB, far more than the socket buffers hold
	ctx := context.Background()
	start := time.Now()
	for range total {
		if _, err := h.Publish(ctx, "room", payload); err != nil {
			t.Fatal(err)
		}
	}
	got := fast.messages("room", total)
	if int64(got[total-1]["offset"].(float64)) != total {
		t.Fatalf("fast client's last offset %v", got[total-1]["offset"])
	}
	testsupport.WaitFor(t, "the slow client dropped", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.conns) == 1
	})
	t.Logf("%d messages of 30 KiB delivered to the fast client in %s", total, time.Since(start))
	// What reached the slow client's buffers ends with the close frame
	// (1013), unless its socket was too full to take even that: a peer
	// that stopped reading entirely sees the connection end (1006).
	_ = slow.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		_, _, err := slow.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok && ce.Code != websocket.CloseTryAgainLater && ce.Code != websocket.CloseAbnormalClosure {
			t.Fatalf("closed with %d %q, want 1013", ce.Code, ce.Text)
		}
		break
	}
}
