package server

import (
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// maxThrottleKeys bounds the memory the throttle may hold. When it is full,
// expired windows are dropped; if that is not enough, random ones are.
const maxThrottleKeys = 100_000

// throttle counts failed sign-ins per email and per client address in fixed
// windows held in memory: the first failure opens a window, and once a key
// has reached its limit within the window every attempt is refused until
// the window ends. Counts are per process and reset on restart; a
// deployment of several instances throttles per instance.
type throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

func newThrottle(cfg ThrottleConfig) *throttle {
	return &throttle{cfg: cfg, now: time.Now, windows: map[string]*window{}}
}

func emailKey(email string) string { return "email:" + email }
func addrKey(addr string) string   { return "addr:" + addr }

// adminAddrKey counts wrong admin tokens given to the dashboard's sign-in
// apart from users' failed sign-ins, so neither locks the other out.
func adminAddrKey(addr string) string { return "admin:" + addr }

// checkAdmin returns a *ThrottledError when addr has given a wrong admin
// token auth.throttle.address_failures times within the window.
func (t *throttle) checkAdmin(addr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if w := t.current(adminAddrKey(addr), now); w != nil && w.failures >= t.cfg.AddressFailures {
		return &ThrottledError{RetryAfter: w.start.Add(t.cfg.Window).Sub(now), Reason: "too many wrong admin tokens from this address"}
	}
	return nil
}

// failAdmin records one wrong admin token from addr.
func (t *throttle) failAdmin(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failKey(adminAddrKey(addr), t.now())
}

// check returns a *ThrottledError when the email or the address has used up
// its failures in the current window.
func (t *throttle) check(email, addr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range []struct {
		key   string
		limit int
	}{{emailKey(email), t.cfg.EmailFailures}, {addrKey(addr), t.cfg.AddressFailures}} {
		w := t.current(k.key, now)
		if w != nil && w.failures >= k.limit {
			wait = max(wait, w.start.Add(t.cfg.Window).Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// fail records one failed attempt for the email and the address.
func (t *throttle) fail(email, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, key := range []string{emailKey(email), addrKey(addr)} {
		t.failKey(key, now)
	}
}

// failKey counts one failure for key, opening its window if none is open;
// t.mu must be held.
func (t *throttle) failKey(key string, now time.Time) {
	w := t.current(key, now)
	if w == nil {
		if len(t.windows) >= maxThrottleKeys {
			t.prune(now)
		}
		w = &window{start: now}
		t.windows[key] = w
	}
	w.failures++
}

// succeed clears the email's failures: its owner got in. The address keeps
// its count, so one good account does not hide guessing at others.
func (t *throttle) succeed(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.windows, emailKey(email))
}

// current returns key's window if it is still open.
func (t *throttle) current(key string, now time.Time) *window {
	w := t.windows[key]
	if w == nil {
		return nil
	}
	if now.Sub(w.start) >= t.cfg.Window {
		delete(t.windows, key)
		return nil
	}
	return w
}

// prune drops closed windows and, if the map is still full (a flood of
// distinct keys), a random quarter of the rest: a bounded memory matters
// more than a perfect count under such an attack.
func (t *throttle) prune(now time.Time) {
	for k, w := range t.windows {
		if now.Sub(w.start) >= t.cfg.Window {
			delete(t.windows, k)
		}
	}
	for k := range t.windows {
		if len(t.windows) < maxThrottleKeys*3/4 {
			break
		}
		delete(t.windows, k)
	}
}

// adminSignInGuard throttles the dashboard's sign-in (POST /admin/session)
// per client address, as the users' sign-in is: a guessed admin token
// would open everything.
type adminSignInGuard struct{ s *Server }

func (g adminSignInGuard) Check(c *fiber.Ctx) error {
	return g.s.throttle.checkAdmin(g.s.clientAddr(c))
}

func (g adminSignInGuard) Failed(c *fiber.Ctx) {
	addr := g.s.clientAddr(c)
	g.s.throttle.failAdmin(addr)
	g.s.requestLogger(c).Info("wrong admin token at dashboard sign-in", "ip", addr)
}
