package server

import (
	"context"
	"sync"
	"time"
)

// requestContext is the context of one request: the server's base context
// (cancelled when the server stops) with the request's deadline
// (server.request_timeout). It also carries the request's id.
//
// Why not context.WithTimeout: that starts a timer and registers the
// request with the base context, shared by every request, and both are
// undone when the request ends, all for a deadline most requests never
// wait on. Here nothing is started until someone asks for Done, when the
// standard context is built after all; Err alone reads the clock and the
// parent. A request that never asks costs one allocation.
type requestContext struct {
	parent   context.Context
	deadline time.Time
	id       string

	mu     sync.Mutex
	err    error           // the first non-nil answer of Err, kept so it never changes
	std    context.Context // built by the first Done; then answers for the rest
	cancel context.CancelFunc
	ended  bool
}

func newRequestContext(parent context.Context, timeout time.Duration, id string) *requestContext {
	return &requestContext{parent: parent, deadline: time.Now().Add(timeout), id: id}
}

// Deadline is the request's deadline.
func (c *requestContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done is closed when the deadline passes, the server stops or the request
// has been answered.
func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.standard().Done()
}

// standard builds the standard context once; c.mu is held.
func (c *requestContext) standard() context.Context {
	if c.std == nil {
		c.std, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.ended {
			c.cancel()
		}
	}
	return c.std
}

// Err is context.DeadlineExceeded once the deadline has passed, the base
// context's error once the server stops, context.Canceled once the
// request has been answered; whichever comes first stays.
func (c *requestContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = c.current()
	}
	return c.err
}

// current is why the request must stop, ending aside; c.mu is held.
func (c *requestContext) current() error {
	switch {
	case c.std != nil:
		return c.std.Err()
	case c.parent.Err() != nil:
		return c.parent.Err()
	case !time.Now().Before(c.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

// Value reads the parent's values. Once Done has been asked for it reads
// through the standard context, so that contexts derived from this one
// find their cancellable parent, as with any standard context, instead of
// watching Done from a goroutine of their own.
func (c *requestContext) Value(key any) any {
	c.mu.Lock()
	std := c.std
	c.mu.Unlock()
	if std != nil {
		return std.Value(key)
	}
	return c.parent.Value(key)
}

// end marks the request answered: Err is context.Canceled from then on
// unless it already had another answer, and Done is closed.
func (c *requestContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	if c.err == nil {
		if c.err = c.current(); c.err == nil {
			c.err = context.Canceled
		}
	}
	if c.std != nil {
		c.cancel()
	}
}
