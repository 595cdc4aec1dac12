package channels

import (
	"context"

	"github.com/gorilla/websocket"
)

// A connection keeps the rights of the session it signed in with only
// while that session lasts. When the session ends, its connections are
// closed with code 1008 (policy violation) and the reason "signed out",
// as Supabase Realtime and Pusher end a connection whose token is
// revoked: the client learns it at once, and reconnects anonymously or
// signs in again, rejoining with since. Closing rather than dropping the
// connection to anonymous keeps one rule simple: a connection's rights
// never change under it.

// closeSignedOut is the reason of the close frame of a connection whose
// session ended.
const closeSignedOut = "signed out"

// EndSession closes the connections on this process signed in with
// session id, at once; it returns how many. The server calls it on
// sign-out. Connections on other processes, and sessions ended in other
// ways (a password change, an expiry), are closed by the session check
// within SessionCheck.
func (h *Hub) EndSession(id string) int {
	if id == "" {
		return 0
	}
	var ended []*conn
	h.mu.Lock()
	for c := range h.conns {
		if s := c.session.Load(); s != nil && *s == id {
			ended = append(ended, c)
		}
	}
	h.mu.Unlock()
	for _, c := range ended {
		c.kill(websocket.ClosePolicyViolation, closeSignedOut)
	}
	return len(ended)
}

// sessionBatch is how many sessions one check looks up at a time.
const sessionBatch = 500

// checkSessions closes the connections whose session no longer signs
// anyone in.
func (h *Hub) checkSessions(ctx context.Context) {
	if h.deps.Auth == nil {
		return
	}
	bySession := map[string][]*conn{}
	h.mu.Lock()
	for c := range h.conns {
		if s := c.session.Load(); s != nil && *s != "" {
			bySession[*s] = append(bySession[*s], c)
		}
	}
	h.mu.Unlock()
	ids := make([]string, 0, len(bySession))
	for id := range bySession {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += sessionBatch {
		batch := ids[start:min(start+sessionBatch, len(ids))]
		live, err := h.deps.Auth.LiveSessions(ctx, batch)
		if err != nil {
			h.logger.Warn("channels: check sessions", "error", err.Error())
			return
		}
		for _, id := range batch {
			if live[id] {
				continue
			}
			for _, c := range bySession[id] {
				// It may have signed in again with another session since.
				if s := c.session.Load(); s != nil && *s == id {
					c.kill(websocket.ClosePolicyViolation, closeSignedOut)
				}
			}
		}
	}
}
