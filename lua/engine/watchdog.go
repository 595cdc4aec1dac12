package engine

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
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
// heap passes Config.MemoryLimit (as the last collection measured it), the
// watchdog stops every run during which the live heap grew by at least an
// eighth of the limit, so that a heap already large, or grown by the
// server itself, blames no run: it only warns. The growth is counted from
// the heap's lowest while the run was in progress: a run that started
// while the garbage of others was still to be collected would otherwise
// be measured from a high point the heap then fell from. Runs executing
// Lua are stopped first; runs waiting on a query or request only when no
// run executing Lua is to blame. Stopping them all at once matters: eight runs
// growing tables together would otherwise each be stopped in turn while
// the others kept growing. The watchdog then waits for the stopped runs to
// end (for victimGrace at most), and hands their memory back to the
// operating system before judging the heap anew; while it waits, a heap
// that still grows by an eighth of the limit stops the runs still going.
//
// The live heap is known only as of the last collection, and on busy
// processors collections take long while runs allocate at full speed, so
// the heap's objects counted as they are allocated (garbage included) are
// watched too: past the limit, the runs that grew them by an eighth are
// stopped without waiting for a collection to say what is live. Without
// it, eight runs building strings on a machine whose processors other work
// kept busy grew the heap to 1.6 times the limit before a collection
// reported it. The collections the watchdog starts (to hand memory back)
// run beside it, so that it never stops looking.
//
// The watchdog's goroutine is one among many: forty runs computing at once
// kept it waiting for a processor for a third of a second while the heap
// grew past the limit. So the runs check too: a run executing Lua looks
// every thousand instructions, or every MiB of strings it builds, and when
// no check has been made for a tick it makes one in the watchdog's place
// (fromRun). The runs growing the heap are the ones sure to be executing.
//
// The Go runtime's own soft memory limit is set to Config.MemoryLimit (see
// setRuntimeLimit), so the collector works harder as the heap nears the
// limit and garbage does not carry the process past it between two looks.
// (An eighth above the limit let garbage carry the heap further past it
// while the processors were busy.)
type watchdog struct {
	limit int64 // bytes; <= 0 turns the memory check off
	log   *slog.Logger

	mu       sync.Mutex
	runs     map[*runCtx]struct{}
	refusing bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// checking is held while a check runs, by the watchdog's goroutine or
	// by a run (see fromRun); lastCheck is when the last one started, in
	// Unix nanoseconds.
	checking  sync.Mutex
	lastCheck atomic.Int64

	// Touched under checking only.
	victims   []*runCtx
	stoppedAt time.Time
	// lowSinceStop is the least the heap's objects, garbage included,
	// have been since runs were last stopped.
	lowSinceStop int64
	// freeing is set once the stopped runs have ended and their memory
	// is being handed back.
	freeing bool

	// gcPercent is the collector's setting (GOGC) when the watchdog
	// started, which floorGC raises while runs are in progress, or 0 when
	// the watchdog leaves the collector alone; gcSet is what it set last.
	gcPercent int
	gcSet     int

	// lastFree is when the watchdog last started handing memory back;
	// rest is the heap's objects and free pages right after it did.
	lastFree time.Time
	rest     atomic.Int64

	// collecting is set while a collection the watchdog started runs;
	// collections counts them for close.
	collecting   atomic.Bool
	collections  sync.WaitGroup
	lastIdleWarn time.Time
	samples      []metrics.Sample
}

const (
	metricLive  = "/gc/heap/live:bytes"
	metricTotal = "/memory/classes/heap/objects:bytes"
	metricFree  = "/memory/classes/heap/free:bytes"
)

// newWatchdog starts a watchdog for limit. paceGC lets it raise the
// collector's setting while runs are in progress (see floorGC): only the
// registry that set the runtime's soft limit to its own limit does, and
// not when the operator set GOGC.
func newWatchdog(limit int64, log *slog.Logger, paceGC bool) *watchdog {
	w := &watchdog{
		limit:   limit,
		log:     log,
		runs:    make(map[*runCtx]struct{}),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		samples: []metrics.Sample{{Name: metricLive}, {Name: metricTotal}, {Name: metricFree}},
	}
	if limit > 0 {
		metrics.Read(w.samples)
		w.rest.Store(sampleBytes(w.samples[1]) + sampleBytes(w.samples[2]))
		if paceGC && os.Getenv("GOGC") == "" {
			w.gcPercent = debug.SetGCPercent(100)
			debug.SetGCPercent(w.gcPercent)
			w.gcSet = w.gcPercent
		}
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
	w.collections.Wait()
	w.checking.Lock()
	w.unfloorGC()
	w.checking.Unlock()
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
			w.checking.Lock()
			w.lastCheck.Store(time.Now().UnixNano())
			more := w.check(now)
			w.checking.Unlock()
			if !more {
				ticker.Stop()
				ticker = nil
			}
		case <-w.stop:
			ticker.Stop()
			return
		}
	}
}

// fromRun is called by runs as they execute Lua (run.tick): when the
// watchdog's goroutine has not checked for a tick, the run checks in its
// place. A hundred runs computing at once keep the processors so busy
// that the watchdog's goroutine, one among them, waited a third of a
// second for its turn while the heap grew past the limit; the runs that
// grow it are the ones sure to be executing.
func (w *watchdog) fromRun(now time.Time) {
	if now.UnixNano()-w.lastCheck.Load() < int64(watchdogTick) || !w.checking.TryLock() {
		return
	}
	defer w.checking.Unlock()
	w.lastCheck.Store(now.UnixNano())
	w.check(now)
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
		return w.idle(now)
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
		objects := sampleBytes(w.samples[1])
		for _, c := range active {
			if c.heapLow < 0 {
				c.heapLow, c.objectsLow = live, objects
			}
			c.heapLow, c.objectsLow = min(c.heapLow, live), min(c.objectsLow, objects)
		}
		w.floorGC(live)
		w.checkMemory(now, active)
	}
	return true
}

// floorGC keeps the collector from starting a cycle before the heap
// reaches half the limit while runs are in progress. A wave of runs that
// allocate fast, starting from a heap of a few MiB, otherwise set off ten
// collections in a tenth of a second, and their assists fell on every
// goroutine that allocated, the server's other requests included: the
// slowest /healthz with forty memory bombs went from 130-170 ms to 75-85
// ms. The runtime's soft limit, which is the limit, still bounds the heap,
// and the collector goes back to its own setting once the runs have ended
// (see idle).
func (w *watchdog) floorGC(live int64) {
	if w.gcPercent <= 0 {
		return // not ours to pace (see newWatchdog), or GOGC=off
	}
	want := w.gcPercent
	if floor := w.limit / 2; live > 0 && live*int64(100+w.gcPercent)/100 < floor {
		want = int(floor*100/live) - 100
	}
	if want != w.gcSet && (want > w.gcSet*5/4 || want < w.gcSet*4/5 || want == w.gcPercent) {
		debug.SetGCPercent(want)
		w.gcSet = want
	}
}

// idleFreeEvery is how often at most the watchdog hands memory back when
// the runs end without having been stopped: handing it back costs a full
// collection, and a busy server whose runs often all end at once would
// otherwise pay one each time.
const idleFreeEvery = time.Second

// idle is check once the last run has ended. When runs were stopped for
// memory, or the heap with its garbage and its free pages not yet returned
// has grown by an eighth of the limit since memory was last handed back,
// that memory goes back to the operating system now rather than at the
// scavenger's pace (eight runs that each built a string of 16 MiB and
// ended by themselves left the process 90 MiB larger for as long as the
// test waited). A collection still under way is waited for first: it may
// be the one that frees them, or a forced one that returns nothing. It
// reports whether to keep looking.
func (w *watchdog) idle(now time.Time) bool {
	w.unfloorGC()
	if w.collecting.Load() {
		return true
	}
	grown := false
	if w.limit > 0 {
		metrics.Read(w.samples)
		grown = sampleBytes(w.samples[1])+sampleBytes(w.samples[2]) > w.rest.Load()+w.limit/8
	}
	if len(w.victims) == 0 && !grown {
		w.freeing = false
		return false
	}
	if len(w.victims) == 0 && now.Sub(w.lastFree) < idleFreeEvery {
		return true
	}
	w.victims, w.freeing = nil, false
	w.collect(w.free)
	return false
}

// unfloorGC puts the collector's setting back as it was.
func (w *watchdog) unfloorGC() {
	if w.gcSet != w.gcPercent {
		debug.SetGCPercent(w.gcPercent)
		w.gcSet = w.gcPercent
	}
}

// free hands the heap's free memory back to the operating system and
// notes what the heap is after it, the measure idle judges growth by.
func (w *watchdog) free() {
	debug.FreeOSMemory()
	samples := []metrics.Sample{{Name: metricTotal}, {Name: metricFree}}
	metrics.Read(samples)
	w.rest.Store(sampleBytes(samples[0]) + sampleBytes(samples[1]))
}

// victimGrace is how long the watchdog waits for the runs it stopped to
// end before it judges the heap again without them.
const victimGrace = time.Second

// checkMemory stops the runs to blame when the heap is past the limit.
func (w *watchdog) checkMemory(now time.Time, active []*runCtx) {
	objects := sampleBytes(w.samples[1])
	if len(w.victims) > 0 {
		// Their memory is not free until they have ended and the
		// collection that hands it back is over.
		waiting := w.freeing && w.collecting.Load()
		for _, c := range w.victims {
			if w.isActive(c) && now.Sub(w.stoppedAt) < victimGrace {
				waiting = true
			}
		}
		if waiting {
			// The stopped runs allocate no more, so a heap past the limit
			// that grows by an eighth of it from its lowest since they
			// were stopped is another run's doing: a run that started
			// late, and had not grown the heap by an eighth when the
			// others were stopped, would otherwise grow it for as long as
			// they take to end and their memory to be collected.
			w.lowSinceStop = min(w.lowSinceStop, objects)
			if objects > w.limit && objects-w.lowSinceStop >= w.limit/8 {
				w.blame(now, objects, active, func(c *runCtx) bool { return true })
			}
			return
		}
		if !w.freeing {
			// What the stopped runs held goes back to the operating
			// system now, not at the scavenger's pace; the heap is judged
			// anew once that is done.
			w.freeing = true
			w.collect(w.free)
			return
		}
		w.victims, w.freeing = nil, false
	}
	// The live heap as the last collection measured it: past the limit,
	// the runs to blame are stopped at once, without waiting for a
	// collection of the watchdog's own (the runtime's memory limit keeps
	// collections frequent as the heap nears the limit). That measure is
	// one collection old, though, and when the processors are busy a
	// collection takes long while runs allocate at full speed (the
	// runtime caps the collector's share of the processors). The heap's
	// objects, garbage included, are counted as they are allocated; the
	// runtime's soft limit, which is the limit and counts more than the
	// heap's objects, has the collector keep them under it, so objects
	// past the limit mean it is not keeping up, and the runs that grew
	// them are stopped without waiting for it to say what is live. A run
	// is to blame by either measure.
	live := sampleBytes(w.samples[0])
	overLive, overObjects := live > w.limit, objects > w.limit
	if overLive || overObjects {
		w.blame(now, max(live, objects), active, func(c *runCtx) bool {
			return (overLive && live-c.heapLow >= w.limit/8) || (overObjects && objects-c.objectsLow >= w.limit/8)
		})
	}
}

// collect runs f, a collection, in a goroutine of its own unless one is
// under way already.
func (w *watchdog) collect(f func()) {
	if !w.collecting.CompareAndSwap(false, true) {
		return
	}
	w.lastFree = time.Now()
	w.collections.Add(1)
	go func() {
		defer w.collections.Done()
		defer w.collecting.Store(false)
		f()
	}()
}

// blame stops the runs to blame for a heap of heap bytes: those grew says
// grew it while they ran, the ones executing Lua first, the ones waiting
// on a query or request only when no run executing Lua is to blame.
func (w *watchdog) blame(now time.Time, heap int64, active []*runCtx, grew func(c *runCtx) bool) {
	var executing, waiting []*runCtx
	for _, c := range active {
		if c.Err() != nil || !grew(c) {
			continue // stopped already, or the heap has not grown while it ran
		}
		if c.waiting.Load() == 0 {
			executing = append(executing, c)
		} else {
			waiting = append(waiting, c)
		}
	}
	picks := executing
	if len(picks) == 0 {
		picks = waiting
	}
	stopped := 0
	for _, c := range picks {
		if c.cancel(ErrMemoryLimit) {
			w.victims = append(w.victims, c)
			stopped++
		}
	}
	switch {
	case stopped > 0:
		w.stoppedAt = now
		metrics.Read(w.samples)
		w.lowSinceStop = sampleBytes(w.samples[1])
		w.log.Warn("stopped function runs: memory limit exceeded", "runs", stopped, "heap_bytes", heap, "limit_bytes", w.limit)
	case len(w.victims) == 0 && now.Sub(w.lastIdleWarn) > time.Minute:
		w.lastIdleWarn = now
		w.log.Warn("the heap is past functions.memory_limit, but no function run grew it; raise the limit", "heap_bytes", heap, "limit_bytes", w.limit)
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

// setRuntimeLimit sets the Go runtime's soft memory limit to limit,
// unless one is set already (by GOMEMLIMIT, or by another registry), and
// returns the function that puts back what was there and whether it set it.
func setRuntimeLimit(limit int64) (restore func(), set bool) {
	if limit <= 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return func() {}, false
	}
	debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(math.MaxInt64) }, true
}
