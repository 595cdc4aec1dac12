package engine

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"
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

// hookCoroutines makes coroutine.create and coroutine.wrap give each new
// coroutine the run's own vmCtx. gopher-lua runs a coroutine on a state of
// its own, with a context it derives from the creator's, whose Done counts
// nothing: a loop inside coroutine.wrap would otherwise escape the run's
// looks at itself (its deadline, its turn, the memory check) and be left
// to the watchdog alone. The thread is read from what the originals
// return: the value create returns, the upvalue of the function wrap
// returns.
func (v *vm) hookCoroutines(co *lua.LTable) {
	for _, name := range []string{"create", "wrap"} {
		orig, ok := co.RawGetString(name).(*lua.LFunction)
		if !ok {
			continue
		}
		co.RawSetString(name, v.L.NewFunction(func(L *lua.LState) int {
			L.Push(orig)
			L.Push(L.Get(1))
			L.Call(1, 1)
			var th *lua.LState
			switch x := L.Get(-1).(type) {
			case *lua.LState:
				th = x
			case *lua.LFunction:
				if len(x.Upvalues) > 0 {
					th, _ = x.Upvalues[0].Value().(*lua.LState)
				}
			}
			if th != nil && v.run != nil {
				th.SetContext(&v.run.vmctx)
			}
			return 1
		}))
	}
}
