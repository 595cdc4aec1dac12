package engine

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestErrorsAfterManyTailCallsStaySmall checks that an error raised after
// millions of tail calls, or a run stopped in the middle of them, ends
// quickly with a short traceback, whichever way the run ends.
func TestErrorsAfterManyTailCallsStaySmall(t *testing.T) {
	t.Parallel()
	// The runs stopped by their timeout have 1 s; the others, which end by
	// their error, 20 s, which a loaded machine (or the race detector)
	// cannot reach.
	const timeout = time.Second
	stops := newTestRegistry(t, Config{Timeout: timeout}, Deps{})
	fails := newTestRegistry(t, Config{Timeout: 20 * time.Second}, Deps{})
	chain := "local function f(n) if n == 0 then error('boom') end return f(n - 1) end\n"
	endless := "local function g(n) return g(n + 1) end\n"
	scenarios := []struct {
		name, src string
		stopped   bool   // the run ends by its timeout
		want      string // the error's message, when it is not stopped
	}{
		{"error at the top", chain + "function handle() return f(5e4) end", false, `function "t" failed at line 1: boom`},
		{"timeout at the top", endless + "function handle() return g(1) end", true, ""},
		{"error in the chunk", chain + "f(5e4)\nfunction handle() end", false, `function "t" failed at line 1: boom`},
		{"inside pcall", chain + "function handle() local ok, err = pcall(f, 5e4) error(err, 0) end", false, `function "t" failed at line 1: boom`},
		{"timeout inside pcall", endless + "function handle() while true do pcall(g, 1) end end", true, ""},
		{"inside xpcall", chain + "function handle() local ok, err = xpcall(function() return f(5e4) end, function(e) return 'handled: ' .. e end) error(err, 0) end", false, `function "t" failed: handled: t:1: boom`},
		{"a failing xpcall handler", chain + "function handle() local ok, err = xpcall(function() return f(5e4) end, function(e) return f(5e4) end) error(err, 0) end", false, `function "t" failed at line 1: boom`},
		{"inside a coroutine", chain + "function handle() local co = coroutine.wrap(function() return f(5e4) end) return co() end", false, ""},
		{"timeout inside a coroutine", endless + "function handle() return coroutine.wrap(function() return g(1) end)() end", true, ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			r, limit := fails, 20*time.Second
			if s.stopped {
				r, limit = stops, timeout
			}
			start := time.Now()
			_, err := runSource(t, r, s.src, nil, RunOptions{})
			took := time.Since(start)
			var re *RunError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a *RunError", err)
			}
			if s.stopped != errors.Is(err, ErrTimeout) {
				t.Errorf("got %v; stopped by its timeout: %v", err, s.stopped)
			}
			if s.want != "" && err.Error() != s.want {
				t.Errorf("error\n got: %s\nwant: %s", err, s.want)
			}
			if len(err.Error()) > 512 || len(re.Traceback) > 2048 || strings.Contains(re.Traceback, "(tailcall)") {
				t.Errorf("error of %d bytes, traceback of %d bytes:\n%s", len(err.Error()), len(re.Traceback), re.Traceback)
			}
			if took > limit+time.Second {
				t.Errorf("the run took %s for a timeout of %s", took, limit)
			}
		})
	}
}

// TestPcallKeepsClosuresIntact checks that a closure made in a call that
// failed under pcall keeps the values it closed over.
func TestPcallKeepsClosuresIntact(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	src := `function handle()
  local f
  local ok = pcall(function() local x = 1 f = function() return x end error("e") end)
  local ok2 = xpcall(function() local y = 2 local g = f f = function() return g() + y end error("e") end, function(e) return e end)
  local a, b, c = 10, 20, 30
  return f() + a - 10
end`
	res, err := runSource(t, r, src, nil, RunOptions{})
	if err != nil || res.Value != int64(3) {
		t.Fatalf("got %v %v, want 3", res.Value, err)
	}
}

// TestTracebackIsBounded checks that a deep stack gives a short traceback
// that names the frames nearest the error.
func TestTracebackIsBounded(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	_, err := runSource(t, r, "local function f(n) if n == 0 then error('deep') end return 1 + f(n - 1) end\nfunction handle() return f(150) end", nil, RunOptions{})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
	lines := strings.Split(re.Traceback, "\n")
	if len(lines) < 3 || len(lines) > traceMaxFrames+1 || !strings.HasPrefix(lines[0], "t:1: in ") || lines[len(lines)-1] != "…" {
		t.Errorf("traceback:\n%s", re.Traceback)
	}
}
