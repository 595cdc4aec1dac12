package engine

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// errRunEnded closes a run's context once it is over, so that goroutines
// that followed it (coroutines derive contexts from it) end too.
var errRunEnded = errors.New("run ended")

// watchdogTick is how often the watchdog looks at the runs in progress. A
// timeout fires at most this late; the memory limit is checked as often.
const watchdogTick = 5 * time.Millisecond

// watchdog enforces what a run cannot enforce on itself: its deadline, its
// caller's cancellation, and the process's memory limit. It wakes every
// watchdogTick while runs are in progress and sleeps otherwise.
//
// Memory: gopher-lua has no allocation limit, and Go cannot say which
// goroutine allocated what, so the limit is on the process: when the live
// heap passes Config.MemoryLimit (checked by a forced collection, at most
// every forcedGCEvery, once the heap with its garbage is past it), the
// watchdog stops one run. It chooses among the runs during which the live
// heap grew by at least an eighth of the limit (so that a heap already
// large, or grown by the server itself, blames no run: it only warns),
// preferring one executing Lua to one waiting on a query or request, and
// then the one that has run longest (a run that grows memory without bound
// is, by the time it matters, the old one). It then waits for that run to
// end and collects again before judging the heap anew, so one growth stops
// one run.
type watchdog struct {
	limit int64 // bytes; <= 0 turns the memory check off
	log   *slog.Logger

	mu       sync.Mutex
	runs     map[*runCtx]struct{}
	refusing bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// Touched by the watchdog goroutine only.
	victim       *runCtx
	lastGC       time.Time
	lastIdleWarn time.Time
	samples      []metrics.Sample
}

// forcedGCEvery spaces the collections the watchdog forces.
const forcedGCEvery = 50 * time.Millisecond

const (
	metricLive  = "/gc/heap/live:bytes"
	metricTotal = "/memory/classes/heap/objects:bytes"
)

func newWatchdog(limit int64, log *slog.Logger) *watchdog {
	w := &watchdog{
		limit:   limit,
		log:     log,
		runs:    make(map[*runCtx]struct{}),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		samples: []metrics.Sample{{Name: metricLive}, {Name: metricTotal}},
	}
	go w.loop()
	return w
}

// add starts watching c; after refuse it says no, so that no run can
// start once shutdown has begun waiting for the runs in progress.
func (w *watchdog) add(c *runCtx) bool {
	w.mu.Lock()
	if w.refusing {
		w.mu.Unlock()
		return false
	}
	w.runs[c] = struct{}{}
	first := len(w.runs) == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// refuse makes add refuse new runs.
func (w *watchdog) refuse() {
	w.mu.Lock()
	w.refusing = true
	w.mu.Unlock()
}

// remove stops watching c.
func (w *watchdog) remove(c *runCtx) {
	w.mu.Lock()
	delete(w.runs, c)
	w.mu.Unlock()
}

// drain waits until no run is in progress, or ctx ends; it reports
// whether the runs are over.
func (w *watchdog) drain(ctx context.Context) bool {
	t := time.NewTicker(watchdogTick)
	defer t.Stop()
	for {
		w.mu.Lock()
		n := len(w.runs)
		w.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
}

// cancelAll stops every run in progress for err.
func (w *watchdog) cancelAll(err error) {
	w.mu.Lock()
	runs := make([]*runCtx, 0, len(w.runs))
	for c := range w.runs {
		runs = append(runs, c)
	}
	w.mu.Unlock()
	for _, c := range runs {
		c.cancel(err)
	}
}

// close stops the watchdog goroutine and waits for it.
func (w *watchdog) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *watchdog) loop() {
	defer close(w.done)
	var ticker *time.Ticker
	for {
		if ticker == nil {
			select {
			case <-w.wake:
				ticker = time.NewTicker(watchdogTick)
			case <-w.stop:
				return
			}
		}
		select {
		case now := <-ticker.C:
			if !w.check(now) {
				ticker.Stop()
				ticker = nil
			}
		case <-w.stop:
			ticker.Stop()
			return
		}
	}
}

// check enforces deadlines, cancellations and the memory limit once, and
// reports whether any run is still in progress.
func (w *watchdog) check(now time.Time) bool {
	w.mu.Lock()
	active := make([]*runCtx, 0, len(w.runs))
	for c := range w.runs {
		active = append(active, c)
	}
	w.mu.Unlock()
	if len(active) == 0 {
		w.victim = nil
		return false
	}
	for _, c := range active {
		if now.After(c.deadline) {
			c.cancel(ErrTimeout)
			continue
		}
		select {
		case <-c.parent.Done():
			if errors.Is(c.parent.Err(), context.DeadlineExceeded) {
				c.cancel(ErrTimeout)
			} else {
				c.cancel(ErrCanceled)
			}
		default:
		}
	}
	if w.limit > 0 {
		metrics.Read(w.samples)
		live := sampleBytes(w.samples[0])
		for _, c := range active {
			if c.heapAtStart < 0 {
				c.heapAtStart = live
			}
		}
		w.checkMemory(now, active)
	}
	return true
}

// checkMemory stops one run when the live heap is past the limit.
func (w *watchdog) checkMemory(now time.Time, active []*runCtx) {
	if w.victim != nil {
		if w.isActive(w.victim) {
			return // its memory is not free yet
		}
		w.victim = nil
		runtime.GC()
		w.lastGC = time.Now()
	}
	if sampleBytes(w.samples[1]) <= w.limit || now.Sub(w.lastGC) < forcedGCEvery {
		return
	}
	// The heap, garbage included, is past the limit: collect, so that the
	// decision rests on what is live now, not on a figure from before a
	// big structure became garbage.
	runtime.GC()
	w.lastGC = time.Now()
	metrics.Read(w.samples)
	live := sampleBytes(w.samples[0])
	if live <= w.limit {
		return
	}
	var pick *runCtx
	for _, c := range active {
		if c.Err() != nil || live-c.heapAtStart < w.limit/8 {
			continue // stopped already, or the heap has not grown while it ran
		}
		better := pick == nil ||
			(c.waiting.Load() == 0 && pick.waiting.Load() > 0) ||
			((c.waiting.Load() == 0) == (pick.waiting.Load() == 0) && c.started.Before(pick.started))
		if better {
			pick = c
		}
	}
	switch {
	case pick != nil:
		if pick.cancel(ErrMemoryLimit) {
			w.victim = pick
			w.log.Warn("stopped a function run: memory limit exceeded", "heap_live_bytes", live, "limit_bytes", w.limit)
		}
	case now.Sub(w.lastIdleWarn) > time.Minute:
		w.lastIdleWarn = now
		w.log.Warn("the heap is past functions.memory_limit, but no function run grew it; raise the limit", "heap_live_bytes", live, "limit_bytes", w.limit)
	}
}

func (w *watchdog) isActive(c *runCtx) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.runs[c]
	return ok
}

func sampleBytes(s metrics.Sample) int64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s.Value.Uint64())
}
