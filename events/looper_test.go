package events

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// A long wait, so that only a signal or the loop's own "again" can bring
// the next tick within a test's time.
const longWait = time.Hour

func TestLooperTicks(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		// later starts with startLater instead of start.
		later bool
		// signals is how many times the test signals the loop.
		signals int
		// again is how many ticks ask for another at once.
		again int64
		want  int64
	}{
		{name: "start ticks at once", want: 1},
		{name: "startLater waits for the first tick", later: true, want: 0},
		{name: "a signal cuts the wait short", signals: 1, want: 2},
		{name: "a signal cuts startLater's first wait short", later: true, signals: 1, want: 1},
		{name: "again ticks at once", again: 3, want: 4},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			l := newLooper("test")
			var ticks atomic.Int64
			tick := func(context.Context) bool { return ticks.Add(1) <= s.again }
			wait := func() time.Duration { return longWait }
			start := l.start
			if s.later {
				start = l.startLater
			}
			if err := start(tick, wait); err != nil {
				t.Fatalf("start: %v", err)
			}
			if s.want > 0 && s.signals == 0 {
				testsupport.WaitFor(t, "the first ticks", func() bool { return ticks.Load() == s.want })
			}
			for i := range s.signals {
				// A signal sent during a tick is kept for the next wait,
				// so each is sent once the ticks before it are done.
				before := int64(i)
				if !s.later {
					before++
				}
				testsupport.WaitFor(t, "the ticks before the signal", func() bool { return ticks.Load() == before })
				l.signal()
				testsupport.WaitFor(t, "the tick the signal brings", func() bool { return ticks.Load() == before+1 })
			}
			if err := l.shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if got := ticks.Load(); got != s.want {
				t.Errorf("ticks = %d, want %d", got, s.want)
			}
		})
	}
}

func TestLooperShutdown(t *testing.T) {
	t.Parallel()
	t.Run("before start, twice", func(t *testing.T) {
		l := newLooper("test")
		for i := range 2 {
			if err := l.shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown %d: %v", i+1, err)
			}
		}
	})
	t.Run("start twice", func(t *testing.T) {
		l := newLooper("test")
		t.Cleanup(func() { _ = l.shutdown(context.Background()) })
		noop := func(context.Context) bool { return false }
		wait := func() time.Duration { return longWait }
		if err := l.start(noop, wait); err != nil {
			t.Fatalf("first start: %v", err)
		}
		if err := l.start(noop, wait); !errors.Is(err, ErrAlreadyStarted) {
			t.Fatalf("second start: %v, want ErrAlreadyStarted", err)
		}
	})
	t.Run("cancels the running tick and waits for it", func(t *testing.T) {
		l := newLooper("test")
		entered := make(chan struct{})
		var returned atomic.Bool
		err := l.start(func(ctx context.Context) bool {
			close(entered)
			<-ctx.Done()
			returned.Store(true)
			return true
		}, func() time.Duration { return longWait })
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		<-entered
		if err := l.shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if !returned.Load() {
			t.Fatal("shutdown returned before the tick did")
		}
		// Asking again at once after the stop does not tick again: the
		// tick above would close entered twice and panic.
		if err := l.shutdown(context.Background()); err != nil {
			t.Fatalf("second shutdown: %v", err)
		}
	})
	t.Run("gives up when ctx ends", func(t *testing.T) {
		l := newLooper("test")
		entered := make(chan struct{})
		release := make(chan struct{})
		err := l.start(func(context.Context) bool {
			close(entered)
			<-release // a tick that ignores its context
			return false
		}, func() time.Duration { return longWait })
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.shutdown(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("shutdown: %v, want context.Canceled", err)
		}
		close(release)
		if err := l.shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown after the tick returned: %v", err)
		}
	})
	t.Run("after shutdown, start does not tick", func(t *testing.T) {
		l := newLooper("test")
		if err := l.shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		var ticks atomic.Int64
		err := l.start(func(context.Context) bool { ticks.Add(1); return false }, func() time.Duration { return longWait })
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		if err := l.shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if n := ticks.Load(); n != 0 {
			t.Errorf("ticks = %d, want 0", n)
		}
	})
}
