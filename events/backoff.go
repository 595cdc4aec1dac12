package events

import (
	"math/rand/v2"
	"time"
)

// BackoffFunc returns how long to wait before the next attempt of a job
// whose attempt number attempt (1 for the first) has just failed.
type BackoffFunc func(attempt int) time.Duration

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
