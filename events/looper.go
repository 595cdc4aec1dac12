package events

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// looper is the background goroutine of a long-lived part (the bus's
// redispatch sweep, the retention sweeper, the scheduler, the queue's
// fetcher): it calls a tick function over and over until stopped. Between
// ticks it waits for the part's interval, for a signal, or for the stop,
// whichever comes first. shutdown is idempotent and safe before start.
type looper struct {
	name    string
	started atomic.Bool
	stop    chan struct{}
	once    sync.Once
	done    chan struct{}
	wake    chan struct{}
}

// newLooper returns a looper that names itself name in its errors.
func newLooper(name string) *looper {
	return &looper{
		name: name,
		stop: make(chan struct{}),
		done: make(chan struct{}),
		wake: make(chan struct{}, 1),
	}
}

// tickFunc is one round of a loop's work. ctx ends when the loop is
// stopped. It returns true to be called again at once (it has more to do),
// false to be called again after the loop's wait.
type tickFunc func(ctx context.Context) (again bool)

// start runs tick at once and then as tickFunc says, waiting wait()
// between rounds. It fails with ErrAlreadyStarted on a second call.
func (l *looper) start(tick tickFunc, wait func() time.Duration) error {
	return l.run(tick, wait, false)
}

// startLater is start with a wait before the first tick too.
func (l *looper) startLater(tick tickFunc, wait func() time.Duration) error {
	return l.run(tick, wait, true)
}

func (l *looper) run(tick tickFunc, wait func() time.Duration, waitFirst bool) error {
	if !l.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: %w", l.name, ErrAlreadyStarted)
	}
	go func() {
		defer close(l.done)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-l.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		again := !waitFirst
		for {
			if !again && !l.pause(wait()) {
				return
			}
			select {
			case <-l.stop:
				return
			default:
			}
			again = tick(ctx)
		}
	}()
	return nil
}

// pause waits d, or less when signalled, and reports false when the loop
// was stopped meanwhile.
func (l *looper) pause(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-l.wake:
	case <-l.stop:
		return false
	}
	return true
}

// signal cuts the current wait short; a signal during a tick cuts the
// next wait short. It never blocks.
func (l *looper) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// shutdown stops the loop and waits until its current tick has returned
// or ctx ends. It is idempotent, and returns at once for a loop never
// started.
func (l *looper) shutdown(ctx context.Context) error {
	l.once.Do(func() { close(l.stop) })
	if !l.started.Load() {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s shutdown: %w", l.name, ctx.Err())
	}
}
