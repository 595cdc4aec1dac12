package engine

import (
	"runtime"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Long runs take turns.
//
// A run that computes for long (a pattern that backtracks until its
// timeout, sent again and again by an attacker) would otherwise share the
// processors evenly with every short run, and four of them on two cores
// leave the short runs a fraction of what they had. So once a run is older
// than longRunAfter, its heavy loops (the pattern matcher's steps, and the
// Lua instructions themselves, see vmctx.go) go through turns: at most
// max(1, GOMAXPROCS/2) long runs compute at once,
// each for longRunSlice before it lets the next one in, and a long run
// yields the processor at each check so that short runs waiting for it
// go first. A long run waiting for its turn still ends at its timeout.

// longRunAfter is the age past which a run's heavy loops take turns.
const longRunAfter = 10 * time.Millisecond

// longRunSlice is how long a long run computes before it gives the turn.
const longRunSlice = 10 * time.Millisecond

// turns holds the slots long runs compute in.
type turns chan struct{}

func newTurns() turns { return make(turns, max(1, runtime.GOMAXPROCS(0)/2)) }

// take is called from a run's heavy loops: a young run goes on; a long
// one takes a slot (or keeps it for its slice) and yields. It raises the
// run's stop as a Lua error when the run is stopped while it waits.
func (ru *run) take(L *lua.LState) {
	if !ru.turn(time.Now()) {
		L.RaiseError("%s", ru.ctx.Err().Error())
	}
}

// tick is take for the Lua instructions themselves (vmctx.go): it also
// stops a run past its deadline at once and checks the memory limit when
// the watchdog is late (watchdog.fromRun), and leaves raising the stop to
// the instruction loop, which sees Done closed.
func (ru *run) tick() {
	now := time.Now()
	if now.After(ru.ctx.deadline) {
		ru.ctx.cancel(ErrTimeout)
		return
	}
	ru.reg.watch.fromRun(now)
	ru.turn(now)
}

// turn does take's work; it reports false when the run was stopped while
// it waited for its turn. A run waiting for its turn does not count as
// waiting in a Go call (runCtx.waiting): what it built before it has to
// wait is as much to blame as what the run holding the turn builds, and
// the memory watchdog stops them all at once.
func (ru *run) turn(now time.Time) bool {
	if now.Sub(ru.ctx.started) < longRunAfter {
		// Young runs yield too: forty requests arriving at once would
		// otherwise each keep a processor for the scheduler's whole
		// slice (10ms) before their first turn, and a request that is
		// not a run (/healthz) waited behind all of them.
		runtime.Gosched()
		return true
	}
	if ru.turnAt.IsZero() || now.Sub(ru.turnAt) >= longRunSlice {
		if !ru.turnAt.IsZero() {
			<-ru.reg.turns
			ru.turnAt = time.Time{}
			runtime.Gosched()
		}
		select {
		case ru.reg.turns <- struct{}{}:
			ru.turnAt = time.Now()
			return true
		case <-ru.ctx.Done():
			return false
		}
	}
	runtime.Gosched()
	return true
}

// wait marks the run as waiting in a Go call (a query, a request, another
// function) until the returned function is called, and gives back its turn
// meanwhile: a long run waiting on the network computes nothing, and the
// other long runs must not wait for it.
func (ru *run) wait() func() {
	ru.endTurn()
	return ru.ctx.wait()
}

// endTurn gives back the slot a run holds, when it ends.
func (ru *run) endTurn() {
	if !ru.turnAt.IsZero() {
		<-ru.reg.turns
		ru.turnAt = time.Time{}
	}
}

// builtBetweenTicks is how many bytes of strings a run builds in library
// calls between two ticks. Counting instructions alone is not enough: one
// instruction can build a string of Config.MaxStringBytes, and a thousand
// of them between two ticks would be gigabytes.
const builtBetweenTicks = 1 << 20

// built charges size bytes, about to be built by a library call (.., the
// string library, the encoders), to the run on this state: past
// builtBetweenTicks since its last tick, the run ticks (run.tick) before
// it builds them, and raises its stop if that stopped it.
func (v *vm) built(L *lua.LState, size int64) {
	ru := v.run
	if ru == nil {
		return
	}
	ru.builtSince += size
	if ru.builtSince < builtBetweenTicks {
		return
	}
	ru.builtSince = 0
	ru.tick()
	if stop := ru.ctx.stopped(); stop != nil {
		L.RaiseError("%s", stop.Error())
	}
}
