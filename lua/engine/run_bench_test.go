package engine

import (
	"context"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"testing"
	"time"
)

// benchExec measures one run of src's handler on a pooled state, as
// Registry.execute does it but without the watchdog and the execution
// record: what a run costs the Lua side alone. cpu-ns/op is the process's
// processor time per run (the collector's included), steadier than ns/op
// on a shared machine.
func benchExec(b *testing.B, src string, input any, opts RunOptions) {
	r := newTestRegistry(b, Config{}, Deps{})
	proto, err := compile("bench", src, "handle")
	if err != nil {
		b.Fatal(err)
	}
	c := &cached{fn: functions.Function{Name: "bench", Version: 1, Source: src, Handler: "handle"}, proto: proto}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		start := time.Now()
		ru := &run{reg: r, ctx: newRunCtx(context.Background(), start, start.Add(time.Second)), fn: &c.fn, opts: opts, user: opts.User, id: "0123456789abcdef01234567", timeout: time.Second}
		v := r.getVM()
		if _, err := v.exec(ru, c, input); err != nil {
			b.Fatal(err)
		}
		ru.ctx.cancel(errRunEnded)
		r.putVM(v)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkExec is the Lua side of one run: fresh globals, the chunk, the
// handler with its input and ctx, and the result converted back.
func BenchmarkExec(b *testing.B) {
	hello := `function handle(input, ctx) return {message = "hello"} end`
	b.Run("hello", func(b *testing.B) {
		benchExec(b, hello, map[string]any{}, RunOptions{Trigger: functions.TriggerInvoke})
	})
	b.Run("hello-without-ctx", func(b *testing.B) {
		benchExec(b, `function handle(input) return {message = "hello"} end`, map[string]any{}, RunOptions{Trigger: functions.TriggerInvoke})
	})
	b.Run("hello-http", func(b *testing.B) {
		benchExec(b, hello, newTestRequest(), RunOptions{Trigger: functions.TriggerHTTP})
	})
	b.Run("hello-http-read", func(b *testing.B) {
		benchExec(b, `function handle(input, ctx) return {message = input.method} end`, newTestRequest(), RunOptions{Trigger: functions.TriggerHTTP})
	})
	b.Run("hello-signed-in", func(b *testing.B) {
		benchExec(b, hello, map[string]any{}, RunOptions{Trigger: functions.TriggerInvoke, User: map[string]any{"id": "u1", "email": "ada@example.com"}})
	})
	b.Run("echo", func(b *testing.B) {
		benchExec(b, `function handle(input, ctx) return input end`,
			map[string]any{"name": "Ada", "n": int64(42), "tags": []any{"a", "b"}, "nested": map[string]any{"x": 1.5, "ok": true}},
			RunOptions{Trigger: functions.TriggerInvoke})
	})
	b.Run("globals", func(b *testing.B) {
		benchExec(b, `local function helper(x) return x * 2 end
limit = 10
function handle(input, ctx) count = helper(limit) return {n = count} end`, nil, RunOptions{Trigger: functions.TriggerEvent})
	})
}
