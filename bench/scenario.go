package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
)

// Scenario is one measured workload. Setup prepares it (opening a store,
// loading data) outside the measurement and returns the operation the
// workers then run in a loop; every operation is timed on its own.
type Scenario struct {
	// Name is "area/implementation/workload", e.g. "store/embedded/get-by-id".
	Name string
	// About says in one line what an operation does.
	About string
	// Workers overrides the -workers flag when not zero.
	Workers int
	// Setup runs once before the measured loop. Resources it opens are
	// released through env.Cleanup; data shared by several scenarios is
	// built once through Shared.
	Setup func(ctx context.Context, env *Env) (Op, error)
	// Measure, when set, takes the place of Setup and the timed loop, for
	// a workload the loop cannot drive: a server in a process of its own
	// under an external load generator, or a queue drained in the
	// background. It returns what it measured, its CPU and peak RSS those
	// of the processes it measured; opts says for how long.
	Measure func(ctx context.Context, env *Env, opts RunOptions) (Result, error)
}

// Op performs one operation. It is called concurrently from every worker,
// each with its own *Worker; an error counts against the scenario and does
// not stop it.
type Op func(ctx context.Context, w *Worker) error

// Worker is the state one worker goroutine owns.
type Worker struct {
	// ID numbers the workers from 0.
	ID int
	// Rand is the worker's own random source, seeded from its ID so runs
	// are repeatable.
	Rand *rand.Rand
	// N counts the operations this worker has completed.
	N uint64
}

// Env is what scenarios share during one run of the benchmark.
type Env struct {
	// Docs is the size of the collections lookups run against (-docs).
	Docs int
	// Dir is a scratch directory, removed when the run ends.
	Dir string

	mu       sync.Mutex
	shared   map[string]*sharedValue
	cleanups []func() error
}

type sharedValue struct {
	once sync.Once
	val  any
	err  error
}

// NewEnv returns an Env for a run over collections of docs documents with
// scratch space in dir.
func NewEnv(docs int, dir string) *Env {
	return &Env{Docs: docs, Dir: dir, shared: map[string]*sharedValue{}}
}

// Cleanup registers fn to run when the benchmark ends, after every
// scenario, in reverse order of registration.
func (e *Env) Cleanup(fn func() error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, fn)
}

// Close runs the registered cleanups and returns their errors joined.
func (e *Env) Close() error {
	e.mu.Lock()
	fns := e.cleanups
	e.cleanups = nil
	e.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shared returns the value stored under key, building it with build the
// first time any scenario asks, so that for example the 100,000-document
// collection is loaded once for every lookup scenario of a store.
func Shared[T any](e *Env, key string, build func() (T, error)) (T, error) {
	e.mu.Lock()
	sv, ok := e.shared[key]
	if !ok {
		sv = &sharedValue{}
		e.shared[key] = sv
	}
	e.mu.Unlock()
	sv.once.Do(func() { sv.val, sv.err = build() })
	if sv.err != nil {
		var zero T
		return zero, sv.err
	}
	v, ok := sv.val.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("shared value %q is a %T, not the type asked for", key, sv.val)
	}
	return v, nil
}
