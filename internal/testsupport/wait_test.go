package testsupport

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestWaitForReturnsOnceCondHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	WaitFor(t, "the flag", func() bool { return n.Load() == 1 })
}

func TestWaitForWithinFailsAfterTimeout(t *testing.T) {
	f := &fakeTB{}
	start := time.Now()
	WaitForWithin(f, 30*time.Millisecond, "never", func() bool { return false })
	if time.Since(start) < 30*time.Millisecond {
		t.Errorf("gave up after %s, before the timeout", time.Since(start))
	}
	if !strings.Contains(f.failed, "waiting for never") {
		t.Errorf("failure = %q, want it to name the condition", f.failed)
	}
}

func TestWaitForWithinDoesNotFailWhenCondHolds(t *testing.T) {
	f := &fakeTB{}
	WaitForWithin(f, time.Millisecond, "already", func() bool { return true })
	if f.failed != "" {
		t.Errorf("failed with %q", f.failed)
	}
}

func TestLockedBufferConcurrentWrites(t *testing.T) {
	var b LockedBuffer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprint(&b, "ab")
		}()
	}
	wg.Wait()
	if got := b.String(); got != "abababab" {
		t.Errorf("String() = %q", got)
	}
}
