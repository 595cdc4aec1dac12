package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// runCtx is the context of one run, set on the Lua state for the run's
// length and passed to every Go call the run makes (store, HTTP).
//
// Why not context.WithTimeout: gopher-lua, once a state has a context,
// calls ctx.Done() before every instruction. Done here returns a plain
// field, the cheapest a context can be, and nothing is allocated besides the
// struct and its channel: no timer, and no goroutine to follow a parent
// that is not one of the standard library's contexts (fasthttp's request
// context is not, and WithTimeout over it started a goroutine per call).
// The deadline, the parent's cancellation and the memory limit are all
// enforced by one watchdog goroutine for every run in progress (see
// watchdog.go), which closes done with the reason.
type runCtx struct {
	parent   context.Context
	started  time.Time
	deadline time.Time
	done     chan struct{}

	mu     sync.Mutex
	err    error
	after  map[int]func() // AfterFunc callbacks still to call
	nextID int

	// waiting is above zero while the run waits in a Go call (a query, an
	// HTTP request): it cannot be growing the Lua heap meanwhile, which the
	// memory watchdog uses to pick the run to stop.
	waiting atomic.Int32
	// heapLow is the least live heap the watchdog has seen while the run
	// was in progress (-1 until it first saw it), objectsLow the least of
	// the heap's objects, garbage included: how much the heap grew while
	// the run was in progress is measured from them. Only the watchdog's
	// goroutine touches them.
	heapLow    int64
	objectsLow int64
}

func newRunCtx(parent context.Context, started, deadline time.Time) *runCtx {
	return &runCtx{parent: parent, started: started, deadline: deadline, done: make(chan struct{}), heapLow: -1}
}

// Deadline is the run's deadline.
func (c *runCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done is closed when the run must stop, and when it has ended.
func (c *runCtx) Done() <-chan struct{} { return c.done }

// Err is why Done was closed: ErrTimeout, ErrMemoryLimit, ErrCanceled, or
// errRunEnded once the run is over.
func (c *runCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value reads the parent's values (request ids and the like).
func (c *runCtx) Value(key any) any { return c.parent.Value(key) }

// cancel stops the run for err; only the first reason counts. It reports
// whether this call was the one that stopped it.
func (c *runCtx) cancel(err error) bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false
	}
	c.err = err
	close(c.done)
	after := c.after
	c.after = nil
	c.mu.Unlock()
	for _, f := range after {
		f()
	}
	return true
}

// AfterFunc arranges for f to be called when the run is stopped or ends.
// context.WithCancel uses it to follow this context without a goroutine,
// which matters because gopher-lua derives a context for every coroutine a
// function creates.
func (c *runCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	if c.after == nil {
		c.after = make(map[int]func())
	}
	id := c.nextID
	c.nextID++
	c.after[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, pending := c.after[id]
		delete(c.after, id)
		return pending
	}
}

// stopped is the reason the run was stopped, or nil.
func (c *runCtx) stopped() error {
	err := c.Err()
	if err == errRunEnded {
		return nil
	}
	return err
}

// wait marks the run as waiting in a Go call until the returned function
// is called.
func (c *runCtx) wait() func() {
	c.waiting.Add(1)
	return func() { c.waiting.Add(-1) }
}
