package engine

import (
	"context"
	"time"
)

// vmCtx is the context set on a run's Lua state. gopher-lua calls its Done
// before every instruction, which makes it the one place a run's Lua code
// can be looked at from inside as it executes: every vmCheckEvery
// instructions, the run checks its own deadline and, once it is long,
// takes its turn among long runs (turns.go). So a run that only computes
// (a table growing in a loop, a tight numeric loop) takes turns like a
// pattern that backtracks, and a hundred such runs leave the processors to
// short runs, the watchdog and the server's other requests; without it
// they are all runnable at once and everything else waits behind them.
//
// It is set on the state only: Go calls the run makes get the run's
// runCtx, so that Done's counter is touched by the run's goroutine alone.
type vmCtx struct {
	ru *run
	n  uint32
}

// vmCheckEvery is one less than how many instructions pass between two
// looks (a power of two, for a mask).
const vmCheckEvery = 1<<10 - 1

func (c *vmCtx) Done() <-chan struct{} {
	c.n++
	if c.n&vmCheckEvery == 0 {
		c.ru.tick()
	}
	return c.ru.ctx.done
}

func (c *vmCtx) Deadline() (time.Time, bool) { return c.ru.ctx.Deadline() }
func (c *vmCtx) Err() error                  { return c.ru.ctx.Err() }
func (c *vmCtx) Value(key any) any           { return c.ru.ctx.Value(key) }

// AfterFunc lets context.WithCancel (gopher-lua derives a context for
// every coroutine) follow the run without a goroutine of its own, which
// would call Done from another goroutine.
func (c *vmCtx) AfterFunc(f func()) (stop func() bool) { return c.ru.ctx.AfterFunc(f) }

var _ context.Context = (*vmCtx)(nil)
