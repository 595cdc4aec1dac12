package server

import (
	"strconv"
	"testing"
	"time"
)

func TestSessionCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newSessionCache(5 * time.Second)
	c.now = func() time.Time { return now }
	alice := &User{ID: "a"}

	c.put("h1", alice, now.Add(time.Hour))
	c.put("h2", alice, now.Add(2*time.Second)) // the session ends before the entry would
	steps := []struct {
		name    string
		advance time.Duration
		forget  string
		hash    string
		hit     bool
	}{
		{name: "fresh", hash: "h1", hit: true},
		{name: "unknown", hash: "h3"},
		{name: "within the TTL", advance: 4 * time.Second, hash: "h1", hit: true},
		{name: "session expired first", hash: "h2"},
		{name: "TTL over", advance: time.Second, hash: "h1"},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if _, hit := c.get(s.hash); hit != s.hit {
			t.Errorf("%s: hit %v, want %v", s.name, hit, s.hit)
		}
	}
	c.put("h1", alice, now.Add(time.Hour))
	c.forget("h1")
	if _, hit := c.get("h1"); hit {
		t.Error("a forgotten session is still cached")
	}

	off := newSessionCache(0)
	off.put("h", alice, now.Add(time.Hour))
	if _, hit := off.get("h"); hit {
		t.Error("a cache with TTL 0 cached")
	}

	// A full cache forgets the session used least recently, not all of them.
	c.put("active", alice, now.Add(time.Hour))
	for i := 0; i < maxCachedSessions+10; i++ {
		c.put(strconv.Itoa(i), alice, now.Add(time.Hour))
		if i%1000 == 0 {
			if _, hit := c.get("active"); !hit {
				t.Fatalf("after %d other sessions the active one was dropped", i)
			}
		}
	}
	if n := c.entries.Len(); n > maxCachedSessions {
		t.Errorf("%d entries, want at most %d", n, maxCachedSessions)
	}
	if _, hit := c.get("active"); !hit {
		t.Error("a full cache dropped the session in use")
	}
	if _, hit := c.get("0"); hit {
		t.Error("a full cache kept the session used least recently")
	}
	if _, hit := c.get(strconv.Itoa(maxCachedSessions + 9)); !hit {
		t.Error("a full cache dropped the newest session")
	}
}
