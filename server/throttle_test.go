package server

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestThrottleWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	th := newThrottle(ThrottleConfig{EmailFailures: 2, AddressFailures: 3, Window: 10 * time.Minute})
	th.now = func() time.Time { return now }

	steps := []struct {
		name        string
		advance     time.Duration
		fail        [2]string // email, address; empty: no failure
		check       [2]string
		throttled   bool
		retryAfter  time.Duration
		succeedUser string
	}{
		{name: "fresh", check: [2]string{"a", "1"}},
		{name: "one failure", fail: [2]string{"a", "1"}, check: [2]string{"a", "1"}},
		{name: "two failures", advance: time.Minute, fail: [2]string{"a", "1"}, check: [2]string{"a", "1"}, throttled: true, retryAfter: 9 * time.Minute},
		{name: "other email, same address", check: [2]string{"b", "1"}},
		{name: "address used up", fail: [2]string{"b", "1"}, check: [2]string{"c", "1"}, throttled: true, retryAfter: 9 * time.Minute},
		{name: "other address, throttled email", check: [2]string{"a", "2"}, throttled: true, retryAfter: 9 * time.Minute},
		{name: "window over", advance: 9 * time.Minute, check: [2]string{"a", "1"}},
		{name: "success clears the email", fail: [2]string{"d", "3"}, succeedUser: "d", check: [2]string{"d", "3"}},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.fail[0] != "" {
			th.fail(s.fail[0], s.fail[1])
		}
		if s.succeedUser != "" {
			th.fail(s.succeedUser, "3")
			th.succeed(s.succeedUser)
		}
		err := th.check(s.check[0], s.check[1])
		var te *ThrottledError
		if got := errors.As(err, &te); got != s.throttled {
			t.Fatalf("%s: throttled = %v (%v), want %v", s.name, got, err, s.throttled)
		}
		if s.throttled && te.RetryAfter != s.retryAfter {
			t.Errorf("%s: retry after %v, want %v", s.name, te.RetryAfter, s.retryAfter)
		}
		if s.throttled && !errors.Is(err, ErrThrottled) {
			t.Errorf("%s: %v is not ErrThrottled", s.name, err)
		}
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	th := newThrottle(ThrottleConfig{EmailFailures: 5, AddressFailures: 5, Window: time.Hour})
	for i := 0; i < maxThrottleKeys; i++ {
		th.fail(strconv.Itoa(i), "x")
	}
	if n := len(th.windows); n > maxThrottleKeys {
		t.Errorf("%d windows held, want at most %d", n, maxThrottleKeys)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int{time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, time.Minute: 60} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
