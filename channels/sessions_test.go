package channels

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// revocable is a session lookup whose sessions can be ended, and whose
// check can be made to fail, as the server's over its store.
type revocable struct {
	mu      sync.Mutex
	users   map[string]User // token → user; the session id is "s:" + token
	ended   map[string]bool
	failing bool
	checks  int
}

func newRevocable() *revocable {
	return &revocable{users: map[string]User{"a1": alice, "a2": alice, "b1": bob}, ended: map[string]bool{}}
}

func (r *revocable) Authenticate(_ context.Context, token string) (*User, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[token]
	if !ok || r.ended["s:"+token] {
		return nil, "", fmt.Errorf("%w: unknown or expired token", ErrUnauthenticated)
	}
	return &u, "s:" + token, nil
}

func (r *revocable) LiveSessions(_ context.Context, ids []string) (map[string]bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks++
	if r.failing {
		return nil, errors.New("store unreachable")
	}
	live := map[string]bool{}
	for _, id := range ids {
		live[id] = !r.ended[id]
	}
	return live, nil
}

func (r *revocable) end(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended["s:"+token] = true
}

func (r *revocable) set(fail bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = fail
	return r.checks
}

func (r *revocable) checked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checks
}

func mustBeOpen(t *testing.T, c *client) {
	t.Helper()
	if f := c.call(map[string]any{"type": "ping"}); f.f["type"] != TypePong {
		t.Fatalf("ping answered %v", f.f)
	}
}

func mustBeSignedOut(t *testing.T, c *client) {
	t.Helper()
	if code, reason := c.closeCode(); code != websocket.ClosePolicyViolation || reason != "signed out" {
		t.Fatalf("closed with %d %q, want 1008 \"signed out\"", code, reason)
	}
}

// TestSignedOutConnectionsClose ends sessions in each way the server
// does and checks that exactly the connections of those sessions close,
// with 1008 "signed out", and that their user leaves presence when it was
// their last connection.
func TestSignedOutConnectionsClose(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		end  func(h *testHub, r *revocable, token string)
	}{
		// A sign-out on this process: the server calls EndSession.
		{"ended here", func(h *testHub, r *revocable, token string) {
			r.end(token)
			if n := h.EndSession("s:" + token); n != 1 {
				t.Errorf("EndSession closed %d connections, want 1", n)
			}
		}},
		// A sign-out on another process, a password change, an expiry:
		// the store says so at the next check.
		{"ended in the store", func(_ *testHub, r *revocable, token string) { r.end(token) }},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			r := newRevocable()
			check := time.Minute
			if s.name == "ended in the store" {
				check = 50 * time.Millisecond
			}
			h := startHub(t, openStore(t, t.TempDir()), Config{SessionCheck: check, Rules: map[string]Rule{"lobby": {Join: Public}}}, Deps{Auth: r})
			tab1 := signedIn(t, h.url, "a1")
			tab1.join("room")
			tab2 := signedIn(t, h.url, "a2")
			tab2.join("room")
			watcher := signedIn(t, h.url, "b1")
			watcher.join("room")
			anon := dial(t, h.url, nil)
			anon.join("lobby")

			s.end(h, r, "a1")
			mustBeSignedOut(t, tab1)
			// Alice keeps her other tab, with its own session.
			mustBeOpen(t, tab2)
			tab2.send("room", "still here")
			watcher.message("room", 1)

			s.end(h, r, "a2")
			mustBeSignedOut(t, tab2)
			watcher.presence("room", func(_, leaves []string) bool { return len(leaves) == 1 && leaves[0] == alice.ID })
			mustBeOpen(t, watcher)
			mustBeOpen(t, anon)
			// The token no longer signs in; the connection stays anonymous.
			again := dial(t, h.url, nil)
			again.call(map[string]any{"type": "auth", "token": "a1"}).mustError("unauthenticated")
			again.join("lobby")
			again.call(map[string]any{"type": "join", "channel": "room"}).mustError("unauthenticated")
		})
	}
}

// TestSessionCheckEdges: a connection that signed in again with another
// session is not closed when the first one ends, and a check that cannot
// reach the store closes nothing.
func TestSessionCheckEdges(t *testing.T) {
	t.Parallel()
	r := newRevocable()
	h := startHub(t, openStore(t, t.TempDir()), Config{SessionCheck: 20 * time.Millisecond}, Deps{Auth: r})
	c := signedIn(t, h.url, "a1")
	c.call(map[string]any{"type": "auth", "token": "a2"}).mustOK()
	c.join("room")
	r.end("a1")
	start := r.checked()
	testsupport.WaitFor(t, "two session checks", func() bool { return r.checked() >= start+2 })
	mustBeOpen(t, c)

	other := signedIn(t, h.url, "b1")
	start = r.set(true)
	r.end("b1")
	testsupport.WaitFor(t, "two failed session checks", func() bool { return r.checked() >= start+2 })
	mustBeOpen(t, other)
	r.set(false)
	mustBeSignedOut(t, other)
	mustBeOpen(t, c)
}
