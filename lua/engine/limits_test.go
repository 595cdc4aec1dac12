package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStringBuildingIsCapped(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct {
		name, src, want string
	}{
		{"string.rep 1e10", `function handle() return string.rep("x", 1e10) end`,
			`function "t" failed at line 1: string.rep: the result would be 9.3 GiB, more than the limit of 16 MiB`},
		{"string.rep with a separator", `function handle() return ("ab"):rep(5e6, "--") end`,
			`function "t" failed at line 1: string.rep: the result would be 19.1 MiB, more than the limit of 16 MiB`},
		{"string.format width", `function handle() return string.format("%999999999d", 1) end`,
			`function "t" failed at line 1: string.format: invalid format (width or precision too long)`},
		{"string.format precision", `function handle() return string.format("%.100f", 1) end`,
			`function "t" failed at line 1: string.format: invalid format (width or precision too long)`},
		{"string.format of many strings", `function handle() local s = string.rep("x", 1e6) return string.format(string.rep("%s", 20), s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s) end`,
			`function "t" failed at line 1: string.format: the result would be 19.1 MiB, more than the limit of 16 MiB`},
		{"hex.encode", `function handle() return backend.hex.encode(string.rep("x", 9e6)) end`,
			`function "t" failed at line 1: backend.hex.encode: the result would be 17.2 MiB, more than the limit of 16 MiB`},
		{"base64.encode", `function handle() return backend.base64.encode(string.rep("x", 13e6)) end`,
			`function "t" failed at line 1: backend.base64.encode: the result would be 16.5 MiB, more than the limit of 16 MiB`},
		{"base64.urlEncode", `function handle() return backend.base64.urlEncode(string.rep("x", 13e6)) end`,
			`function "t" failed at line 1: backend.base64.urlEncode: the result would be 16.5 MiB, more than the limit of 16 MiB`},
		{"doubling with ..", `function handle() local s = "x" while true do s = s .. s end end`,
			`function "t" failed at line 1: concatenation (..): the result would be 32 MiB, more than the limit of 16 MiB`},
		{"a chain of ..", `function handle() local s = string.rep("x", 6e6) return s .. "-" .. s .. "-" .. s end`,
			`function "t" failed at line 1: concatenation (..): the result would be 17.2 MiB, more than the limit of 16 MiB`},
		{".. in loaded code", `function handle() local s = string.rep("x", 9e6) return load("return ...  .. ...")(s) end`,
			`function "t" failed: =(load):1: concatenation (..): the result would be 17.2 MiB, more than the limit of 16 MiB`},
		{"string.gsub with a string", `function handle() return string.gsub(string.rep("x", 100000), "", string.rep("y", 1000)) end`,
			`function "t" failed at line 1: string.gsub: the result would be 95.5 MiB, more than the limit of 16 MiB`},
		{"string.gsub with a function", `function handle() local big = string.rep("y", 1e6)
			return string.gsub(string.rep("x", 100), "x", function() return big end) end`,
			`function "t" failed at line 2: string.gsub: the result would be 16.2 MiB, more than the limit of 16 MiB`},
		{"table.concat", `function handle() return table.concat({"a", "b", "c"}, string.rep("-", 1e7)) end`,
			`function "t" failed at line 1: table.concat: the result would be 19.1 MiB, more than the limit of 16 MiB`},
		{"json.encode", `function handle() local s = string.rep("x", 9e6) return backend.json.encode({s, s}) end`,
			`function "t" failed at line 1: backend.json.encode: at [2]: the value to encode is larger than the limit of 16 MiB`},
		{"a table that repeats itself", `function handle() local t = {string.rep("x", 1e6)} for i = 1, 30 do t = {t, t} end return backend.json.encode(t) end`,
			`function "t" failed at line 1: backend.json.encode: at [1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][2][1][1][1][1][1]: the value to encode is larger than the limit of 16 MiB`},
		{"crypto.randomBytes", `function handle() return backend.crypto.randomBytes(1e9) end`,
			`function "t" failed at line 1: backend.crypto.randomBytes: n must be from 0 to 1048576`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if got := runErr(t, r, s.src); got != s.want {
				t.Errorf("error\n got: %s\nwant: %s", got, s.want)
			}
		})
	}
}

func TestDeepRecursionEndsTheRun(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ name, src, want string }{
		{"plain", "local function f(n) return 1 + f(n + 1) end\nfunction handle() return f(1) end",
			`function "t" failed at line 1: stack overflow`},
		{"through metamethods", "local t = setmetatable({}, {__index = function(t, k) return t[k .. 'x'] end})\nfunction handle() return t.a end",
			`function "t" failed at line 1: stack overflow`},
		{"nested values", "function handle() local t = {} for i = 1, 100 do t = {t} end return t end",
			`function "t" failed: cannot send what the handler returned: at [1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1]: tables nest deeper than 64 levels`},
		{"a cycle", "function handle() local t = {} t.self = t return t end",
			`function "t" failed: cannot send what the handler returned: at self: a table contains itself (a cycle)`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if got := runErr(t, r, s.src); got != s.want {
				t.Errorf("error\n got: %s\nwant: %s", got, s.want)
			}
		})
	}
	// pcall does not hide a stack overflow forever: it unwinds.
	if got := runErr(t, r, "local function f() pcall(f) end\nfunction handle() f() return 1 end"); got != "" {
		t.Errorf("pcall recursion: %s", got)
	}
}

func TestTimeoutStopsTheRunAndOthersCarryOn(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "spin", Source: `function handle() while true do end end`, Timeout: functions.Duration(300 * time.Millisecond)})
	mustSave(t, r, functions.Definition{Name: "quick", Source: `function handle(input) return input.n * 2 end`})

	done := make(chan error, 1)
	started := time.Now()
	go func() {
		_, err := r.Run(ctx, "spin", nil, RunOptions{Trigger: functions.TriggerSchedule})
		done <- err
	}()
	for i := range 20 {
		res, err := r.Run(ctx, "quick", map[string]any{"n": i}, RunOptions{Trigger: functions.TriggerEvent})
		if err != nil || res.Value != int64(2*i) {
			t.Fatalf("quick run %d while spinning: %v %v", i, res.Value, err)
		}
	}
	err := <-done
	took := time.Since(started)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("the run took %s for a 300ms timeout", took)
	}
	if want := `function "spin" stopped: timed out after 300ms (at line 1)`; err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
	execs, err := r.Executions(ctx, "spin", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(execs) != 1 || execs[0].Status != functions.StatusTimeout || execs[0].Error != `function "spin" stopped: timed out after 300ms (at line 1)` || execs[0].Trigger != functions.TriggerSchedule {
		t.Fatalf("execution records: %+v", execs)
	}
}

func TestTimeoutCannotBeSwallowed(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{Timeout: 200 * time.Millisecond}, Deps{})
	for name, src := range map[string]string{
		"pcall":     `function handle() while true do pcall(function() while true do end end) end end`,
		"coroutine": `function handle() coroutine.wrap(function() while true do end end)() return 1 end`,
		"returning": `function handle() pcall(function() while true do end end) return "escaped" end`,
		"gsub loop": `function handle() while true do string.gsub("abc", "%w", function(c) return c end) end end`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runSource(t, r, src, nil, RunOptions{})
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("got %v, want ErrTimeout", err)
			}
		})
	}
}

func TestCanceledCallerStopsTheRun(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := r.Test(ctx, functions.Definition{Name: "t", Source: `function handle() while true do end end`}, nil, RunOptions{})
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v, want ErrCanceled", err)
	}
}

// TestCallersDeadlineStopsTheRun checks that a run stopped by its
// caller's deadline, shorter than the function's timeout, says so.
func TestCallersDeadlineStopsTheRun(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{Timeout: 30 * time.Second}, Deps{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := r.Test(ctx, functions.Definition{Name: "t", Source: `function handle() while true do end end`}, nil, RunOptions{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "its caller's deadline came before the function's timeout of 30s") || strings.Contains(msg, "timed out after 30s") {
		t.Errorf("error: %s", msg)
	}
}

func TestReturnedValueAndOutputAreCapped(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{MaxReturnBytes: 1024, MaxLogBytes: 256}, Deps{})
	got := runErr(t, r, `function handle() return {text = string.rep("x", 2000)} end`)
	if want := `function "t" failed: cannot send what the handler returned: at text: the returned value is larger than the limit of 1 KiB`; got != want {
		t.Errorf("error\n got: %s\nwant: %s", got, want)
	}
	res, err := runSource(t, r, `function handle() for i = 1, 100 do print("line", i) end backend.log.error(string.rep("y", 500)) return 1 end`, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Logs[len(res.Logs)-1]
	if last.Message != "output cut: a run keeps at most 256 bytes" || last.Level != "warn" {
		t.Errorf("last line %+v", last)
	}
	if res.Logs[0].Message != "line\t1" || res.Logs[0].Level != "print" {
		t.Errorf("first line %+v", res.Logs[0])
	}
	size := 0
	for _, l := range res.Logs[:len(res.Logs)-1] {
		size += len(l.Message) + len(l.Level) + 32
	}
	if size > 256 {
		t.Errorf("kept %d bytes of output", size)
	}
}

// The memory tests do not run in parallel: the limit is on the process's
// heap.
func TestMemoryLimitStopsAGrowingTable(t *testing.T) {
	r := newTestRegistry(t, Config{MemoryLimit: 32 << 20, Timeout: time.Minute}, Deps{})
	scenarios := []struct{ name, src string }{
		{"table", `function handle() local t = {} while true do t[#t+1] = string.rep("x", 1000) end end`},
		{"strings kept in a table", `function handle() local t, s = {}, string.rep("x", 1e5) while true do t[#t+1] = s .. #t end end`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := runSource(t, r, s.src, nil, RunOptions{})
			if !errors.Is(err, ErrMemoryLimit) {
				t.Fatalf("got %v, want ErrMemoryLimit", err)
			}
			if want := `function "t" stopped: memory limit exceeded: the server's heap passed 32 MiB while this run was growing it`; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n got: %s\nwant: %s…", err, want)
			}
			// The server carries on.
			res, err := runSource(t, r, `function handle() return "still here" end`, nil, RunOptions{})
			if err != nil || res.Value != "still here" {
				t.Fatalf("after the limit: %v %v", res.Value, err)
			}
		})
	}
}

// The run chosen is the one growing the heap, not an older one that waits
// on a request.
func TestMemoryLimitSparesAWaitingRun(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		w.Write([]byte("done"))
	}))
	defer slow.Close()
	defer close(release)
	r := newTestRegistry(t, Config{MemoryLimit: 64 << 20, Timeout: time.Minute, HTTP: HTTPConfig{AllowHosts: []string{"127.0.0.1"}}}, Deps{})
	var wg sync.WaitGroup
	wg.Add(1)
	var waitingErr error
	go func() {
		defer wg.Done()
		_, waitingErr = runSource(t, r, `function handle(input) return backend.http.request(input.url).body end`, map[string]any{"url": slow.URL}, RunOptions{})
	}()
	testsupport.WaitFor(t, "the waiting run to start", func() bool {
		r.watch.mu.Lock()
		defer r.watch.mu.Unlock()
		return len(r.watch.runs) == 1
	})
	_, err := runSource(t, r, `function handle() local t = {} while true do t[#t+1] = string.rep("x", 1000) end end`, nil, RunOptions{})
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("the growing run: %v, want ErrMemoryLimit", err)
	}
	release <- struct{}{}
	wg.Wait()
	if waitingErr != nil {
		t.Fatalf("the waiting run: %v", waitingErr)
	}
}

// A heap that is large for reasons of its own blames no run.
func TestMemoryLimitBlamesNoRunForAHeapItDidNotGrow(t *testing.T) {
	r := newTestRegistry(t, Config{MemoryLimit: 32 << 20, Timeout: time.Minute}, Deps{})
	hold := make([]byte, 48<<20)
	for i := range hold {
		hold[i] = byte(i)
	}
	res, err := runSource(t, r, `function handle() local t = os.clock() local n = 0 while os.clock() - t < 0.3 do n = n + 1 end return "done" end`, nil, RunOptions{})
	if err != nil || res.Value != "done" {
		t.Fatalf("got %v %v", res.Value, err)
	}
	runtime.KeepAlive(hold)
}

// Concatenating a few bytes at a time copies the whole string every time,
// so such a loop cannot outgrow memory before its timeout: in a second it
// builds a few hundred kilobytes. It ends by the timeout.
func TestSlowConcatenationEndsByTimeout(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{Timeout: 500 * time.Millisecond}, Deps{})
	_, err := runSource(t, r, `function handle() local s = "" while true do s = s .. "xxxxxxxx" end end`, nil, RunOptions{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func mustSave(t testing.TB, r *Registry, def functions.Definition) functions.Function {
	t.Helper()
	fn, err := r.Save(context.Background(), def)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// TestConcatenationKeepsItsMeaning checks that the checked .. does what
// Lua's does: numbers, metamethods, one value per operand, errors.
func TestConcatenationKeepsItsMeaning(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	src := `function handle(...)
  local mt = {__concat = function(a, b)
    local x = type(a) == "table" and a.v or a
    local y = type(b) == "table" and b.v or b
    return "<" .. x .. "|" .. y .. ">"
  end}
  local o = setmetatable({v = "o"}, mt)
  local function two() return "a", "b" end
  local ok, err = pcall(function() return "x" .. nil end)
  return {
    "n" .. 1 .. 2.5 .. -3,
    "a" .. o .. "b",
    o .. "z",
    "[" .. two(),
    select("#", ...) .. "",
    err,
    "k" .. ("v"):rep(2),
  }
end`
	res, err := runSource(t, r, src, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "[n12.5-3 a<o|b> <o|z> [a 2 t:9: cannot perform concat operation between string and nil kvv]"
	if got := fmt.Sprint(res.Value); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
