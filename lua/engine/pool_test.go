package engine

import (
	"context"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"sync"
	"sync/atomic"
	"testing"
)

// countStates makes r's pool count the states it makes.
func countStates(r *Registry) *atomic.Int64 {
	var made atomic.Int64
	r.pool.newVM = func() *vm {
		made.Add(1)
		return r.newVM()
	}
	return &made
}

// Under a steady number of runs in flight, every run reuses a state: the
// pool makes no more states than runs were ever in flight at once.
func TestPoolKeepsAStatePerRunInFlight(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 64}, Deps{})
	made := countStates(r)
	mustSave(t, r, functions.Definition{Name: "work", Source: `function handle(input) local s = 0 for i = 1, 200 do s = s + i end return s end`})
	const inFlight = 24
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for range 50 {
				if _, err := r.Run(context.Background(), "work", nil, RunOptions{Trigger: functions.TriggerEvent}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := made.Load(); n > inFlight {
		t.Errorf("made %d states for %d runs in flight", n, inFlight)
	}
	idle, busy := r.pool.size()
	if busy != 0 || int64(idle) != made.Load() {
		t.Errorf("idle %d, busy %d, made %d: every state made should be idle again", idle, busy, made.Load())
	}
}

// The pool keeps no more than pool_size idle states, and releases the rest.
func TestPoolKeepsAtMostPoolSize(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 3}, Deps{})
	var out []*vm
	for range 5 {
		out = append(out, r.getVM())
	}
	for _, v := range out {
		r.putVM(v)
	}
	if idle, busy := r.pool.size(); idle != 3 || busy != 0 {
		t.Fatalf("idle %d, busy %d; want 3 idle", idle, busy)
	}
	for _, v := range out[3:] {
		if !v.L.IsClosed() {
			t.Error("a state beyond pool_size was kept open")
		}
	}
}

// Each period, the pool lets go of the idle states the period's peak did
// not need, half of them at most, least recently used first.
func TestPoolShrinksToRecentPeakByHalves(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 64}, Deps{})
	p := r.pool
	var out []*vm
	for range 16 {
		out = append(out, p.get())
	}
	for _, v := range out {
		p.put(v)
	}
	shrink := func() []*vm {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.shrinkLocked()
	}
	if drop := shrink(); len(drop) != 0 {
		t.Fatalf("dropped %d states in the period that needed all 16", len(drop))
	}
	// A quiet period: two runs at once at most.
	a, b := p.get(), p.get()
	p.put(a)
	p.put(b)
	drop := shrink()
	if len(drop) != 8 {
		t.Fatalf("dropped %d of 16 idle states after a quiet period, want 8 (half)", len(drop))
	}
	for _, v := range drop {
		if v == a || v == b {
			t.Error("dropped a state that was just used")
		}
	}
	for _, want := range []int{4, 2, 2} {
		shrink()
		if idle, _ := p.size(); idle != want {
			t.Fatalf("idle %d, want %d", idle, want)
		}
		a, b := p.get(), p.get()
		p.put(a)
		p.put(b)
	}
}

// States that come back after the registry shut down are released.
func TestPoolReleasesStatesAfterShutdown(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	idle, out := r.getVM(), r.getVM()
	r.putVM(idle)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.putVM(out)
	if !idle.L.IsClosed() || !out.L.IsClosed() {
		t.Error("a state outlived the registry")
	}
}
