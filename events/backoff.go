package events

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// BackoffFunc returns how long to wait before the next attempt of a job
// whose attempt number attempt (1 for the first) has just failed.
type BackoffFunc func(attempt int) time.Duration

// Backoff is one job's own retry delay, ExponentialBackoff(Initial, Max):
// a function's `backoff: {initial, max}`, kept with each of its jobs.
type Backoff struct {
	Initial time.Duration `json:"initial"`
	Max     time.Duration `json:"max"`
}

// MarshalJSON writes b as the admin API shows it, {"initial": "1m0s",
// "max": "24h0m0s"}.
func (b Backoff) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"initial": b.Initial.String(), "max": b.Max.String()})
}

// delay is the wait before the retry that follows attempt.
func (b Backoff) delay(attempt int) time.Duration {
	return ExponentialBackoff(b.Initial, b.Max)(attempt)
}

// backoffDoc is b as a job and a function keep it: {initial_ms, max_ms}.
func backoffDoc(b Backoff) map[string]any {
	return map[string]any{"initial_ms": b.Initial.Milliseconds(), "max_ms": b.Max.Milliseconds()}
}

// backoffFromDoc reads backoffDoc's form: nil when there is none, or when
// it is not a delay the queue can use.
func backoffFromDoc(v any) *Backoff {
	m := mapOf(v)
	if len(m) == 0 {
		return nil
	}
	b := Backoff{Initial: time.Duration(intOf(m["initial_ms"])) * time.Millisecond, Max: time.Duration(intOf(m["max_ms"])) * time.Millisecond}
	if b.Initial <= 0 || b.Max < b.Initial {
		return nil
	}
	return &b
}

// ExponentialBackoff is the queue's default retry delay:
//
//	delay = min(base·2^(attempt−1), max) · (1 − 0.25·r),  r uniform in [0, 1)
//
// so with base 10s the retries wait about 10s, 20s, 40s, 80s, … up to max.
// The jitter spreads retries of jobs that failed together (an outage) so
// they do not all come back at once; it only ever shortens a delay, by at
// most a quarter, so each delay is still longer than the one before until
// max is reached.
func ExponentialBackoff(base, max time.Duration) BackoffFunc {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		return d - time.Duration(rand.Float64()*0.25*float64(d))
	}
}
