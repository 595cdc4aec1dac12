package engine

import (
	"sync"
	"time"
)

// poolShrinkEvery is how often the pool lets go of states that recent
// load did not need.
const poolShrinkEvery = 30 * time.Second

// pool keeps Lua states ready between runs. A run takes an idle state, or
// gets a new one when there is none (it never waits), and gives it back
// when it ends. Since a state is only made when none is idle, the pool
// holds at most as many states as runs were in flight at once: under a
// steady load every run reuses a state and none is made or thrown away.
// At most max states are kept idle. Every poolShrinkEvery, the idle states
// beyond the peak number of runs in flight since the last time are let go,
// but no more than half of them at once, so that a quiet spell between
// bursts does not throw away what the next burst needs.
type pool struct {
	newVM func() *vm
	max   int
	every time.Duration

	mu     sync.Mutex
	idle   []*vm // most recently used last
	busy   int   // states out in runs
	peak   int   // most states out at once since the last shrink
	timer  *time.Timer
	closed bool
}

func newPool(size int, newVM func() *vm) *pool {
	return &pool{newVM: newVM, max: size, every: poolShrinkEvery}
}

// get returns an idle state, or a new one.
func (p *pool) get() *vm {
	p.mu.Lock()
	p.busy++
	p.peak = max(p.peak, p.busy)
	var v *vm
	if n := len(p.idle); n > 0 {
		v = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	if v == nil {
		v = p.newVM()
	}
	return v
}

// put gives back a state that get returned. A state that is not fit for
// reuse, or finds the pool full or closed, is released.
func (p *pool) put(v *vm) {
	p.mu.Lock()
	p.busy--
	keep := !v.broken && !p.closed && len(p.idle) < p.max
	if keep {
		p.idle = append(p.idle, v)
		if p.timer == nil {
			p.timer = time.AfterFunc(p.every, p.tick)
		}
	}
	p.mu.Unlock()
	if !keep {
		v.close()
	}
}

// tick shrinks the pool, and comes back while states are idle.
func (p *pool) tick() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	drop := p.shrinkLocked()
	if len(p.idle) > 0 {
		p.timer.Reset(p.every)
	} else {
		p.timer = nil
	}
	p.mu.Unlock()
	for _, v := range drop {
		v.close()
	}
}

// shrinkLocked takes out the idle states the last period's peak did not
// need, at most half of them, least recently used first, and starts a new
// period.
func (p *pool) shrinkLocked() []*vm {
	n := min(len(p.idle)+p.busy-p.peak, len(p.idle)-len(p.idle)/2)
	p.peak = p.busy
	if n <= 0 {
		return nil
	}
	drop := make([]*vm, n)
	copy(drop, p.idle[:n])
	rest := copy(p.idle, p.idle[n:])
	clear(p.idle[rest:])
	p.idle = p.idle[:rest]
	return drop
}

// close releases the idle states; the states still out are released when
// they come back.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, v := range idle {
		v.close()
	}
}

// size reports how many states are idle and how many are out in runs.
func (p *pool) size() (idle, busy int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle), p.busy
}
