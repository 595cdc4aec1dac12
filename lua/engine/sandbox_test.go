package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
)

// runErr runs src and returns its error message ("" when it succeeded).
func runErr(t *testing.T, r *Registry, src string) string {
	t.Helper()
	_, err := runSource(t, r, src, nil, RunOptions{})
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSandboxRefusesWhatIsNotAvailable(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct {
		name, src, want string
	}{
		{"os.execute", `function handle() os.execute("ls") end`,
			`function "t" failed at line 1: os.execute is not available in Moonbase functions: only os.time, os.date and os.clock are`},
		{"os.exit", `function handle() os.exit(1) end`,
			`function "t" failed at line 1: os.exit is not available in Moonbase functions: only os.time, os.date and os.clock are`},
		{"os.getenv", `function handle() return os.getenv("HOME") end`,
			`function "t" failed at line 1: os.getenv is not available in Moonbase functions: only os.time, os.date and os.clock are`},
		{"io.open", `function handle() io.open("/etc/passwd") end`,
			`function "t" failed at line 1: io.open is not available in Moonbase functions: functions cannot reach the server's files`},
		{"require", `function handle() require("os") end`,
			`function "t" failed at line 1: require is not available in Moonbase functions: a function is one source file; put shared code in it`},
		{"dofile", `function handle() dofile("/etc/passwd") end`,
			`function "t" failed at line 1: dofile is not available in Moonbase functions: functions cannot read the server's files`},
		{"loadfile", `function handle() loadfile("/etc/passwd") end`,
			`function "t" failed at line 1: loadfile is not available in Moonbase functions: functions cannot read the server's files`},
		{"debug", `function handle() debug.getinfo(1) end`,
			`function "t" failed at line 1: debug.getinfo is not available in Moonbase functions: it would reach into other runs`},
		{"package", `function handle() return package.loaded end`,
			`function "t" failed at line 1: package.loaded is not available in Moonbase functions: a function is one source file`},
		{"collectgarbage", `function handle() collectgarbage() end`,
			`function "t" failed at line 1: collectgarbage is not available in Moonbase functions: the server manages memory for every run`},
		{"setfenv", `function handle() setfenv(1, {}) end`,
			`function "t" failed at line 1: setfenv is not available in Moonbase functions: each run has its own globals already`},
		{"string.dump", `function handle() string.dump(handle) end`,
			`function "t" failed at line 1: attempt to call a non-function object`},
		{"binary chunk", `function handle() local f, err = load("\27LuaQ\0\1\4\8") assert(f == nil) error(err, 0) end`,
			`function "t" failed: binary chunks are not supported: load only accepts Lua source text`},
		{"binary chunk via loadstring", `function handle() local f, err = loadstring("\27Lua") error(err, 0) end`,
			`function "t" failed: binary chunks are not supported: load only accepts Lua source text`},
		{"library write", `function handle() string.upper = nil end`,
			`function "t" failed at line 1: cannot set string.upper: string is read-only (keep your own values in local variables or tables)`},
		{"backend write", `function handle() backend.query = print end`,
			`function "t" failed at line 1: cannot set backend.query: backend is read-only (keep your own values in local variables or tables)`},
		{"nested backend write", `function handle() backend.http.request = print end`,
			`function "t" failed at line 1: cannot set backend.http.request: backend.http is read-only (keep your own values in local variables or tables)`},
		{"globals metatable", `function handle() setmetatable(_G, {}) end`,
			`function "t" failed at line 1: cannot change a protected metatable`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if got := runErr(t, r, s.src); got != s.want {
				t.Errorf("error\n got: %s\nwant: %s", got, s.want)
			}
		})
	}
}

func TestSandboxKeepsWhatIsSafe(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct {
		name, src string
		want      any
	}{
		{"load text", `function handle() return load("return 1 + 1")() end`, int64(2)},
		{"loadstring sees the run's globals", `x = 5 function handle() return loadstring("return x")() end`, int64(5)},
		{"load reader", `function handle() local parts = {"return ", "40 + 2"} local i = 0
			return load(function() i = i + 1 return parts[i] end)() end`, int64(42)},
		{"string methods", `function handle() return ("ab"):rep(3, "-") .. ("X"):lower() end`, "ab-ab-abx"},
		{"string metatable hidden", `function handle() return getmetatable("") end`, false},
		{"os.time", `function handle() return os.time() > 1700000000 end`, true},
		{"os.date", `function handle() return os.date("!%Y-%m-%d", 0) end`, "1970-01-01"},
		{"os.clock", `function handle() return type(os.clock()) end`, "number"},
		{"math", `function handle() return math.floor(math.max(1.5, 2.5)) end`, int64(2)},
		{"table", `function handle() local t = {3, 1, 2} table.sort(t) return table.concat(t, ",") end`, "1,2,3"},
		{"coroutine", `function handle() local co = coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) end)
			return co() + co() end`, int64(3)},
		{"pcall catches errors", `function handle() local ok, err = pcall(error, "x", 0) return {ok = ok, err = err} end`,
			map[string]any{"ok": false, "err": "x"}},
		{"string.format", `function handle() return string.format("%5.2f|%d|%s|%q", 1.5, 3, "x", "a") end`, ` 1.50|3|x|"a"`},
		{"gsub with a function", `function handle() return (string.gsub("a-b", "%w", function(c) return c:upper() end)) end`, "A-B"},
		{"gsub with a table", `function handle() return (string.gsub("a-b", "%w", {a = "1"})) end`, "1-b"},
		{"gsub with captures", `function handle() return (string.gsub("hello world", "(%w+)", "<%1>")) end`, "<hello> <world>"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res, err := runSource(t, r, s.src, nil, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(res.Value) != fmt.Sprint(s.want) {
				t.Errorf("got %#v, want %#v", res.Value, s.want)
			}
		})
	}
}

// A global set by one run is not visible to the next run on the same
// state, whoever runs it.
func TestGlobalsDoNotLeakBetweenRuns(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	ctx := context.Background()
	src := `
seen = seen
function handle(input)
  local before = {counter = counter, secret = secret, seen = seen}
  counter = (counter or 0) + 1
  secret = input.secret
  _G.viaG = true
  rawset(_G, "raw", true)
  return {before = before, viaG = viaG}
end`
	if _, err := r.Save(ctx, functions.Definition{Name: "leaky", Source: src, Triggers: []functions.Trigger{{Invoke: true}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		res, err := r.Run(ctx, "leaky", map[string]any{"secret": fmt.Sprint("user-", i)}, RunOptions{Trigger: functions.TriggerInvoke})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(res.Value)
		if got != "map[before:[] viaG:true]" {
			t.Fatalf("run %d saw %s", i, got)
		}
	}
}

// Runs of one function on one state share its globals table, emptied
// between them, only while each leaves it as a new table would be; pairs
// over _G lists only the run's own globals either way.
func TestGlobalsTableIsReusedOnlyWhenClean(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	ctx := context.Background()
	src := `
function handle(input)
  local names = {}
  for k in pairs(_G) do names[#names + 1] = k end
  if input.set then _G[input.set] = input.set end
  if input.unset then _G[input.unset] = 1 _G[input.unset] = nil end
  if input.item then _G[1] = 1 _G[1] = nil end
  return table.concat(names, " ")
end`
	for _, name := range []string{"f", "g"} {
		if _, err := r.Save(ctx, functions.Definition{Name: name, Source: src}); err != nil {
			t.Fatal(err)
		}
	}
	globals := func() *lua.LTable {
		r.pool.mu.Lock()
		defer r.pool.mu.Unlock()
		return r.pool.idle[0].globals
	}
	var last *lua.LTable
	for i, s := range []struct {
		fn     string
		input  map[string]any
		reused bool // the run left its table for the next
		kept   bool // the run had the last run's table
	}{
		{"f", map[string]any{}, true, false},
		{"f", map[string]any{}, true, true},
		{"f", map[string]any{"set": "alpha"}, false, true}, // a global of the handler's own
		{"f", map[string]any{}, true, false},
		{"f", map[string]any{"unset": "beta"}, false, true},
		{"f", map[string]any{"item": true}, false, false},
		{"f", map[string]any{}, true, false},
		{"g", map[string]any{}, true, false},
	} {
		res, err := r.Run(ctx, s.fn, s.input, RunOptions{Trigger: functions.TriggerEvent})
		if err != nil {
			t.Fatal(err)
		}
		if res.Value != "_G handle" {
			t.Errorf("run %d saw the globals %q", i, res.Value)
		}
		now := globals()
		if (now != nil) != s.reused {
			t.Errorf("run %d: table left for reuse %v, want %v", i, now != nil, s.reused)
		}
		if now != nil && (now == last) != s.kept {
			t.Errorf("run %d: ran in the last run's table %v, want %v", i, now == last, s.kept)
		}
		if now != nil {
			last = now
		}
	}
}

// Two runs of the same function at the same time never see each other's
// globals.
func TestConcurrentRunsHaveTheirOwnGlobals(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	src := `
function handle(input)
  me = input.id
  for i = 1, 500 do
    if me ~= input.id then error("saw another run's global: " .. tostring(me)) end
    local s = tostring(i)
  end
  return me
end`
	if _, err := r.Save(ctx, functions.Definition{Name: "mine", Source: src}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := fmt.Sprintf("%d-%d", g, i)
				res, err := r.Run(ctx, "mine", map[string]any{"id": id}, RunOptions{Trigger: functions.TriggerEvent})
				if err != nil {
					errs <- err
					return
				}
				if res.Value != id {
					errs <- fmt.Errorf("run %s returned %v", id, res.Value)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Raw writes cannot put anything into the tables every run shares.
func TestRawWritesCannotReachSharedTables(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	for src, want := range map[string]string{
		`rawset(string, "shared", "leak")`: `function "t" failed at line 1: rawset: string is read-only`,
		`table.insert(math, "x")`:          `function "t" failed at line 1: table.insert: math is read-only`,
		`table.remove(backend.crypto)`:     `function "t" failed at line 1: table.remove: backend.crypto is read-only`,
		`rawset(ctx, "mine", true)`:        `function "t" failed at line 1: rawset: ctx is read-only`,
		`ctx.mine = true`:                  `function "t" failed at line 1: cannot set ctx.mine: ctx is read-only`,
		`rawset(io, "open", print)`:        `function "t" failed at line 1: rawset: io is read-only`,
		`setmetatable(ctx, nil)`:           `function "t" failed at line 1: cannot change a protected metatable`,
	} {
		if got := runErr(t, r, "function handle(input, ctx) "+src+" end"); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
		}
	}
	// ctx's own fields cannot be changed either.
	for field, src := range map[string]string{
		"trigger":  `ctx.trigger = "forged"`,
		"attempt":  `ctx.attempt = 99`,
		"function": `ctx["function"] = "other"`,
		"user":     `ctx.user = {id = "admin"}`,
	} {
		want := `function "t" failed at line 1: cannot set ctx.` + field + `: ctx is read-only`
		if got := runErr(t, r, "function handle(input, ctx) "+src+" end"); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
		}
	}
	// It still reads like a table.
	res, err := runSource(t, r, `function handle(input, ctx)
  local n = 0 for k in pairs(ctx) do n = n + 1 end
  return {n = n, next = next(ctx) ~= nil, raw = rawget(ctx, "trigger"), json = backend.json.decode(backend.json.encode(ctx)).trigger}
end`, nil, RunOptions{})
	if err != nil || fmt.Sprint(res.Value) != "map[json:test n:6 next:true raw:test]" {
		t.Fatalf("reading ctx: %v %v", res.Value, err)
	}
	res, err = runSource(t, r, `function handle(input, ctx) return {ctx.trigger, ctx.attempt, string.shared == nil} end`, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Value) != "[test 1 true]" {
		t.Fatalf("the next run saw %v", res.Value)
	}
}

// Runs on one state each find their own values in ctx, though the state
// reuses the table, its date, and the values that did not change.
func TestContextIsEachRunsOwn(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "c", Source: `function handle(input, ctx)
  return {ctx.at:iso(), ctx.event or "-", ctx.id or "-", ctx.attempt, ctx.trigger, ctx.user and ctx.user.id or "-"}
end`})
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, s := range []struct {
		opts RunOptions
		want string
	}{
		{RunOptions{Trigger: functions.TriggerEvent, Event: "a", ID: "1", At: base, Attempt: 2}, "[2026-03-04T05:06:07.000Z a 1 2 event -]"},
		{RunOptions{Trigger: functions.TriggerEvent, Event: "a", ID: "2", At: base.Add(time.Hour)}, "[2026-03-04T06:06:07.000Z a 2 1 event -]"},
		{RunOptions{Trigger: functions.TriggerSchedule, At: base, User: map[string]any{"id": "u1"}}, "[2026-03-04T05:06:07.000Z - - 1 schedule u1]"},
		{RunOptions{Trigger: functions.TriggerEvent, Event: "b", ID: "2", At: base, Attempt: 3}, "[2026-03-04T05:06:07.000Z b 2 3 event -]"},
	} {
		res, err := r.Run(ctx, "c", nil, s.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Value); got != s.want {
			t.Errorf("run %d: got %s, want %s", i, got, s.want)
		}
	}
}

// A state whose shared tables were changed all the same is not reused.
func TestTamperedStateIsNotReused(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	v := r.getVM()
	v.frozen[0].RawSetString("leak", lua.LTrue)
	if v.intact() {
		t.Fatal("a changed proxy passed as intact")
	}
	v.broken = !v.intact()
	r.putVM(v)
	if got := r.getVM(); got == v {
		t.Fatal("the tampered state was reused")
	}
}

func TestHandlerErrorsNameTheFunctionAndLine(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	src := "function handle(input)\n  local user = nil\n  return user.name\nend\n"
	if _, err := r.Save(ctx, functions.Definition{Name: "broken", Source: src}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Run(ctx, "broken", nil, RunOptions{Trigger: functions.TriggerEvent})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RunError", err)
	}
	if re.Line != 3 || re.Function != "broken" || re.Version != 1 {
		t.Errorf("got %+v", re)
	}
	want := `function "broken" failed at line 3: attempt to index a non-table object(nil) with key 'name'`
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
	if strings.Contains(re.Traceback, ".go") || !strings.Contains(re.Traceback, "broken:3") {
		t.Errorf("traceback %q", re.Traceback)
	}
}

// The order pairs lists globals in is the run's own, never the order an
// earlier run on the same state set the same names in.
func TestGlobalsOrderIsTheRunsOwn(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	ctx := context.Background()
	src := `
function handle(input)
  for _, n in ipairs(input.set) do _G[n] = true end
  local names = {}
  for k in pairs(_G) do
    if k ~= "_G" and k ~= "handle" then names[#names + 1] = k end
  end
  return table.concat(names, " ")
end`
	if _, err := r.Save(ctx, functions.Definition{Name: "order", Source: src}); err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]any{{"secret_a", "secret_b"}, {"secret_b", "secret_a"}, {"secret_a", "secret_b"}} {
		res, err := r.Run(ctx, "order", map[string]any{"set": set}, RunOptions{Trigger: functions.TriggerEvent})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(set[0], " ", set[1])
		if res.Value != want {
			t.Errorf("a run setting %v listed %q, want %q", set, res.Value, want)
		}
	}
}
