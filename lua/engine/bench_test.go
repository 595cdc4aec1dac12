package engine

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
)

func benchRegistry(b *testing.B, src string) *Registry {
	b.Helper()
	r := newTestRegistry(b, Config{}, Deps{})
	mustSave(b, r, functions.Definition{Name: "bench", Source: src, Triggers: []functions.Trigger{{Invoke: true}, {HTTP: true}}})
	return r
}

func benchRun(b *testing.B, r *Registry, input any) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Run(ctx, "bench", input, RunOptions{Trigger: functions.TriggerInvoke}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRunHello is a whole invoke run of a function answering
// {message = "hello"}: pool, fresh globals, chunk, handler, conversion and
// the execution record.
func BenchmarkRunHello(b *testing.B) {
	r := benchRegistry(b, `function handle(input, ctx) return {message = "hello"} end`)
	benchRun(b, r, map[string]any{})
}

// BenchmarkRunEcho converts a small JSON body into Lua and back.
func BenchmarkRunEcho(b *testing.B) {
	r := benchRegistry(b, `function handle(input, ctx) return input end`)
	benchRun(b, r, map[string]any{"name": "Ada", "n": int64(42), "tags": []any{"a", "b"}, "nested": map[string]any{"x": 1.5, "ok": true}})
}

// BenchmarkFirstRunAfterSave is the first call after saving a new version:
// saving compiles, so the call does not.
func BenchmarkFirstRunAfterSave(b *testing.B) {
	r := newTestRegistry(b, Config{}, Deps{})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		mustSave(b, r, functions.Definition{Name: "fresh", Source: fmt.Sprintf("function handle() return %d end", i)})
		b.StartTimer()
		if _, err := r.Run(ctx, "fresh", nil, RunOptions{Trigger: functions.TriggerEvent}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContextCheck measures what gopher-lua's per-instruction context
// check costs, on a loop and on a tiny handler, with no context, with the
// run context this package uses, and with context.WithTimeout (over a
// standard parent, and over one that is not, as fasthttp's request context
// is not).
func BenchmarkContextCheck(b *testing.B) {
	for _, src := range []struct{ name, code string }{
		{"loop", `local s = 0 for i = 1, 100000 do s = s + i % 7 end return s`},
		{"hello", `return {message = "hello"}`},
	} {
		for _, mode := range []string{"none", "runCtx", "WithTimeout", "WithTimeoutForeignParent"} {
			b.Run(src.name+"/"+mode, func(b *testing.B) {
				L := lua.NewState()
				defer L.Close()
				fn, err := L.LoadString(src.code)
				if err != nil {
					b.Fatal(err)
				}
				foreign := foreignCtx{Context: context.Background(), done: make(chan struct{})}
				b.ReportAllocs()
				for b.Loop() {
					cancel := func() {}
					switch mode {
					case "runCtx":
						now := time.Now()
						rc := newRunCtx(context.Background(), now, now.Add(10*time.Second))
						L.SetContext(rc)
						cancel = func() { rc.cancel(errRunEnded) }
					case "WithTimeout":
						ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
						L.SetContext(ctx)
						cancel = c
					case "WithTimeoutForeignParent":
						ctx, c := context.WithTimeout(foreign, 10*time.Second)
						L.SetContext(ctx)
						cancel = c
					}
					L.Push(fn)
					if err := L.PCall(0, 1, nil); err != nil {
						b.Fatal(err)
					}
					L.Pop(1)
					cancel()
					if mode != "none" {
						L.RemoveContext()
					}
				}
			})
		}
	}
}

// foreignCtx is a cancellable context the standard library does not know.
type foreignCtx struct {
	context.Context
	done chan struct{}
}

func (f foreignCtx) Done() <-chan struct{} { return f.done }

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRunLoop is a whole run of a handler that computes for a while
// (100,000 iterations): what the per-instruction look at the run (its
// deadline, its turn among long runs, see vmctx.go) costs a run that only
// computes.
func BenchmarkRunLoop(b *testing.B) {
	r := benchRegistry(b, `function handle() local s = 0 for i = 1, 100000 do s = s + i % 7 end return s end`)
	benchRun(b, r, map[string]any{})
}

// BenchmarkNewState is the cost of a fresh Lua state with the sandbox,
// which a run pays when the pool has none (after a run was stopped, say).
func BenchmarkNewState(b *testing.B) {
	r := newTestRegistry(b, Config{}, Deps{})
	b.ReportAllocs()
	for b.Loop() {
		v := r.newVM()
		v.L.Close()
	}
}
