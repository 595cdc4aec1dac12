package testsupport

import (
	"testing"
	"time"
)

// DefaultTimeout is how long WaitFor waits before it fails the test.
const DefaultTimeout = 10 * time.Second

// pollInterval is how long the waits sleep between two looks at cond.
const pollInterval = 5 * time.Millisecond

// WaitFor polls cond until it holds, failing the test after DefaultTimeout.
// what names the awaited condition in the failure.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForWithin(t, DefaultTimeout, what, cond)
}

// WaitForWithin polls cond until it holds, failing the test after timeout.
func WaitForWithin(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
			return
		}
		time.Sleep(pollInterval)
	}
}
