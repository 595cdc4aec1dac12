package server

import (
	"sync"
	"time"
)

// maxCachedSessions bounds the session cache; when full it starts over.
const maxCachedSessions = 10_000

// sessionCache remembers, for a short while, which user a token's hash
// signs in, so a client making many requests costs one session lookup per
// TTL instead of two store reads per request. Signing out on this instance
// forgets the session at once; on another instance of a deployment it is
// forgotten within the TTL (auth.session_cache).
type sessionCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedSession
}

type cachedSession struct {
	user      *User
	expiresAt time.Time // the session's own expiry
	until     time.Time // when this entry must be looked up again
}

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, now: time.Now, entries: map[string]cachedSession{}}
}

// get returns the user of hash if a fresh entry holds it.
func (c *sessionCache) get(hash string) (*User, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok {
		return nil, false
	}
	now := c.now()
	if !now.Before(e.until) || !now.Before(e.expiresAt) {
		delete(c.entries, hash)
		return nil, false
	}
	return e.user, true
}

// put remembers that hash signs in u until the session expires at exp.
func (c *sessionCache) put(hash string, u *User, exp time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedSessions {
		c.entries = map[string]cachedSession{}
	}
	c.entries[hash] = cachedSession{user: u, expiresAt: exp, until: c.now().Add(c.ttl)}
}

// forget drops hash, when its session ends.
func (c *sessionCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, hash)
}
