package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RunOptions say how long each scenario is measured.
type RunOptions struct {
	Workers  int           // default worker count (-workers)
	Duration time.Duration // measured time per scenario (-duration) when Ops is 0
	Ops      uint64        // exact operations per scenario (-n); 0 measures by Duration
	Warmup   time.Duration // unmeasured run before the measurement (-warmup)
	// CPUProfile, when set, names the file the measured loop's CPU
	// profile is written to.
	CPUProfile string
}

// Result is what one scenario measured.
type Result struct {
	Name     string
	Workers  int
	Setup    time.Duration
	Elapsed  time.Duration
	Ops      uint64
	Errors   uint64
	FirstErr error
	P50, P99 time.Duration
	// PeakRSS is the process's peak resident set in bytes during the
	// measured loop (since setup when PeakReset is false).
	PeakRSS   int64
	PeakReset bool
	// CPU is the processor time the whole process used during the
	// measured loop (user and system, every thread, the GC's included).
	CPU time.Duration
}

// OpsPerSec is the measured throughput.
func (r Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Cores is how many processors the process kept busy on average during
// the measured loop. Below GOMAXPROCS with every worker busy, something
// else on the machine took the processors.
func (r Result) Cores() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return r.CPU.Seconds() / r.Elapsed.Seconds()
}

// OpsPerCPUSecond is the throughput per second of processor time, the
// figure that moves least when other work shares the machine.
func (r Result) OpsPerCPUSecond() float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Ops) / r.CPU.Seconds()
}

// Run sets s up, warms it up, then measures it.
func Run(ctx context.Context, s Scenario, env *Env, opts RunOptions) (Result, error) {
	if s.Measure != nil {
		return runMeasure(ctx, s, env, opts)
	}
	res := Result{Name: s.Name, Workers: s.Workers}
	if res.Workers <= 0 {
		res.Workers = max(opts.Workers, 1)
	}
	start := time.Now()
	op, err := s.Setup(ctx, env)
	if err != nil {
		return res, fmt.Errorf("%s: setup: %w", s.Name, err)
	}
	res.Setup = time.Since(start)
	if opts.Warmup > 0 {
		loop(ctx, op, res.Workers, opts.Warmup, 0, 1)
	}
	res.PeakReset = resetPeakRSS() == nil
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	cpu0 := processCPU()
	m := loop(ctx, op, res.Workers, opts.Duration, opts.Ops, 2)
	res.CPU = processCPU() - cpu0
	if opts.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	res.Elapsed, res.Ops, res.Errors, res.FirstErr = m.elapsed, m.ops, m.errors, m.firstErr
	res.P50, res.P99 = m.hist.quantile(0.50), m.hist.quantile(0.99)
	res.PeakRSS, _ = peakRSS()
	return res, nil
}

type measurement struct {
	elapsed  time.Duration
	ops      uint64
	errors   uint64
	firstErr error
	hist     histogram
}

// loop runs op on workers goroutines for d, or until n operations have
// run when n is not zero. seed varies the workers' random sources between
// the warm-up and the measurement.
func loop(ctx context.Context, op Op, workers int, d time.Duration, n uint64, seed uint64) *measurement {
	var (
		stop     atomic.Bool
		claimed  atomic.Uint64
		errCount atomic.Uint64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	hists := make([]histogram, workers)
	done := make([]uint64, workers)
	start := time.Now()
	for id := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{ID: id, Rand: rand.New(rand.NewPCG(seed, uint64(id)))}
			h := &hists[id]
			for !stop.Load() && ctx.Err() == nil {
				if n > 0 && claimed.Add(1) > n {
					break
				}
				t0 := time.Now()
				err := call(ctx, op, w)
				h.record(time.Since(t0))
				w.N++
				if err != nil {
					errCount.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
			done[id] = w.N
		}()
	}
	if n == 0 {
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
	}
	wg.Wait()
	m := &measurement{elapsed: time.Since(start), errors: errCount.Load(), firstErr: firstErr}
	for i := range hists {
		m.hist.merge(&hists[i])
		m.ops += done[i]
	}
	return m
}

// call runs op, turning a panic into an error so that one broken scenario
// is reported in its row instead of ending the whole run.
func call(ctx context.Context, op Op, w *Worker) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return op(ctx, w)
}

// processCPU is the user and system time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
