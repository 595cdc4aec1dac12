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
// than longRunAfter, its heavy loops (the pattern matcher's steps) go
// through turns: at most max(1, GOMAXPROCS/2) long runs compute at once,
// each for longRunSlice before it lets the next one in, and a long run
// yields the processor at each check so that short runs waiting for it
// go first. A long run waiting for its turn still ends at its timeout.

// longRunAfter is the age past which a run's heavy loops take turns.
const longRunAfter = 50 * time.Millisecond

// longRunSlice is how long a long run computes before it gives the turn.
const longRunSlice = 10 * time.Millisecond

// turns holds the slots long runs compute in.
type turns chan struct{}

func newTurns() turns { return make(turns, max(1, runtime.GOMAXPROCS(0)/2)) }

// take is called from a run's heavy loops: a young run goes on; a long
// one takes a slot (or keeps it for its slice) and yields. It raises the
// run's stop as a Lua error when the run is stopped while it waits.
func (ru *run) take(L *lua.LState) {
	now := time.Now()
	if now.Sub(ru.ctx.started) < longRunAfter {
		return
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
		case <-ru.ctx.Done():
			L.RaiseError("%s", ru.ctx.Err().Error())
		}
		return
	}
	runtime.Gosched()
}

// endTurn gives back the slot a run holds, when it ends.
func (ru *run) endTurn() {
	if !ru.turnAt.IsZero() {
		<-ru.reg.turns
		ru.turnAt = time.Time{}
	}
}
