package server

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// maxCachedSessions bounds the session cache; past it the session used
// least recently is forgotten first.
const maxCachedSessions = 10_000

// sessionCache remembers, for a short while, which user a token's hash
// signs in, so a client making many requests costs one session lookup per
// TTL instead of two store reads per request. Signing out on this instance
// forgets the session at once; on another instance of a deployment it is
// forgotten within the TTL (auth.session_cache). When full it drops the
// least recently used entry, so the active sessions stay cached while a
// flood of one-off tokens churns through the rest.
type sessionCache struct {
	ttl     time.Duration
	now     func() time.Time
	entries *lru.Cache[string, cachedSession] // safe for concurrent use
}

type cachedSession struct {
	user      *User
	expiresAt time.Time // the session's own expiry
	until     time.Time // when this entry must be looked up again
}

func newSessionCache(ttl time.Duration) *sessionCache {
	entries, err := lru.New[string, cachedSession](maxCachedSessions)
	if err != nil { // only for a size under 1
		panic(err)
	}
	return &sessionCache{ttl: ttl, now: time.Now, entries: entries}
}

// get returns the user of hash if a fresh entry holds it.
func (c *sessionCache) get(hash string) (*User, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	e, ok := c.entries.Get(hash)
	if !ok {
		return nil, false
	}
	now := c.now()
	if !now.Before(e.until) || !now.Before(e.expiresAt) {
		c.entries.Remove(hash)
		return nil, false
	}
	return e.user, true
}

// put remembers that hash signs in u until the session expires at exp.
func (c *sessionCache) put(hash string, u *User, exp time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.entries.Add(hash, cachedSession{user: u, expiresAt: exp, until: c.now().Add(c.ttl)})
}

// forget drops hash, when its session ends.
func (c *sessionCache) forget(hash string) {
	c.entries.Remove(hash)
}
