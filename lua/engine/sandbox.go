package engine

import (
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// The sandbox every function runs in.
//
//   - Base library without dofile, loadfile, require, module, getfenv,
//     setfenv, collectgarbage (each raises "… is not available"), nor
//     gopher-lua's _printregs and newproxy; print writes to
//     the run's output; load and loadstring compile Lua source text only
//     (a binary chunk is refused), into the run's own globals.
//   - string (without string.dump), table, math and coroutine; os with
//     only time, date and clock (the rest of os raises). No io, no debug,
//     no channel (it would let runs share goroutines), no package: reading
//     any field of them raises "… is not available".
//   - The library tables and the backend module are read-only: each global
//     is an empty proxy whose metatable reads through to the real table and
//     refuses writes, and rawset, table.insert and table.remove refuse the
//     proxies (and ctx). After each run the proxies are checked to be still
//     empty all the same; a state where one is not is thrown away.
//   - Every run gets globals of its own, empty, whose metatable reads
//     through to the sandbox's, so a global set by one run is never seen by
//     another (runChunk says when the table is reused, emptied).
//   - Metatables moonbase owns are protected with __metatable: getmetatable
//     on a string gives false, on a date "date", on a document "object".

// removedGlobals are base library functions that are simply gone.
func removedGlobals() []string { return []string{"_printregs", "gcinfo", "newproxy"} }

// unavailableGlobals are the base library's functions a function cannot
// use; calling one raises an error that says so (rather than "attempt to
// call a nil value").
func unavailableGlobals() map[string]string {
	return map[string]string{
		"dofile":         "functions cannot read the server's files",
		"loadfile":       "functions cannot read the server's files",
		"require":        "a function is one source file; put shared code in it",
		"module":         "a function is one source file; put shared code in it",
		"getfenv":        "each run has its own globals already",
		"setfenv":        "each run has its own globals already",
		"collectgarbage": "the server manages memory for every run",
	}
}

// vm is one Lua state with the sandbox installed, reused run after run. It
// belongs to one goroutine at a time, like the LState itself.
type vm struct {
	reg   *Registry
	L     *lua.LState
	base  *lua.LTable // the sandbox's globals; runs read them through their env
	envMT *lua.LTable // metatable of every run's globals
	// frozen are the read-only proxies, which must stay empty.
	frozen []*lua.LTable
	// readOnly names the tables rawset and table.insert/remove refuse:
	// the proxies and ctx.
	readOnly map[*lua.LTable]string
	// Metatables of moonbase's own Lua values, one set per state.
	objectMT, arrayMT, dateMT, responseMT, ctxMT *lua.LTable
	null                                         *lua.LUserData
	// httpInMT is the metatable of an http run's input until it is
	// filled; httpIn is that input, and httpReq its request, while it is
	// pending (see input_http.go).
	httpInMT *lua.LTable
	httpIn   *lua.LTable
	httpReq  HTTPRequest
	httpKept httpTables
	// ctx is the handler's second argument: an empty read-only proxy of
	// ctxData, which is refilled for every run.
	ctx, ctxData *lua.LTable
	// ctxVals are the values last put in ctx, reused while they are equal.
	ctxVals ctxValues
	// globals is the globals table of the runs on this state (see
	// runChunk), nil when the next run needs a new one; chunk is the last
	// run's chunk made over it. envKeys is room to list its keys.
	globals               *lua.LTable
	chunk                 *lua.LFunction
	envKeys               []lua.LString
	chunkKeys             int // keys the globals held once the chunk ran, -1 if it failed
	keysField, arrayField int // see tableField
	// convStack is room for the stack of a conversion to Go (toGoConv),
	// kept from one conversion to the next.
	convStack []*lua.LTable
	// traceTrampoline and quietTrampoline call a function so that an
	// error leaves it with a bounded traceback (see protect.go).
	traceTrampoline, quietTrampoline *lua.LFunction
	// run is the run in progress, nil between runs.
	run *run
	// broken marks a state that must not be reused.
	broken bool
}

// newVM makes a state with the sandbox and the backend module installed.
// Its tables are made with CreateTable at about their size: NewTable
// reserves room for 32 items and 32 fields in each, which made a state
// weigh 248 KiB instead of the 110 KiB it weighs now.
func (r *Registry) newVM() *vm {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:  true,
		CallStackSize: r.cfg.CallStackSize,
		// The data stack starts small and grows in steps as deep as a run
		// needs: a pooled state that held 4,096 slots from the start
		// weighed 64 KiB more. (MinimizeStackMemory is not used: its call
		// stack panics instead of raising "stack overflow" when full.)
		RegistrySize:     1024,
		RegistryGrowStep: 1024,
		RegistryMaxSize:  256 * 1024,
	})
	v := &vm{reg: r, L: L, readOnly: map[*lua.LTable]string{}, keysField: tableField("keys"), arrayField: tableField("array")}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	v.base = L.G.Global
	base := v.base

	for _, name := range removedGlobals() {
		base.RawSetString(name, lua.LNil)
	}
	for name, why := range unavailableGlobals() {
		base.RawSetString(name, v.unavailableFunc(name, why))
	}
	for name, why := range map[string]string{
		"io":      "functions cannot reach the server's files",
		"debug":   "it would reach into other runs",
		"package": "a function is one source file",
		"channel": "runs cannot share goroutines",
	} {
		base.RawSetString(name, v.unavailableTable(name, why))
	}
	v.traceTrampoline, v.quietTrampoline = v.newTrampoline(true), v.newTrampoline(false)
	base.RawSetString("pcall", L.NewFunction(v.pcall))
	base.RawSetString("xpcall", L.NewFunction(v.xpcall))
	base.RawSetString(concatName, L.NewFunction(v.concat))
	base.RawSetString("print", L.NewFunction(v.print))
	base.RawSetString("load", L.NewFunction(v.load))
	base.RawSetString("loadstring", L.NewFunction(v.loadString))

	str := base.RawGetString("string").(*lua.LTable)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("__index", lua.LNil)
	str.RawSetString("rep", L.NewFunction(v.strRep))
	str.RawSetString("format", L.NewFunction(v.strFormat(str.RawGetString("format").(*lua.LFunction).GFunction)))
	str.RawSetString("find", L.NewFunction(v.strFind))
	str.RawSetString("match", L.NewFunction(v.strMatch))
	str.RawSetString("gmatch", L.NewFunction(v.strGmatch))
	str.RawSetString("gsub", L.NewFunction(v.strGsub))
	// Strings' methods ("x"):rep(3) read the real string table through a
	// metatable of their own, which getmetatable("") does not reveal.
	strMT := L.CreateTable(0, 2)
	strMT.RawSetString("__index", str)
	strMT.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(lua.LString(""), strMT)

	tbl := base.RawGetString("table").(*lua.LTable)
	tbl.RawSetString("concat", L.NewFunction(v.tableConcat))
	for _, name := range []string{"insert", "remove"} {
		tbl.RawSetString(name, L.NewFunction(v.guardWrites("table."+name, tbl.RawGetString(name).(*lua.LFunction).GFunction)))
	}
	base.RawSetString("rawset", L.NewFunction(v.fillArg(v.guardWrites("rawset", base.RawGetString("rawset").(*lua.LFunction).GFunction))))
	for _, name := range []string{"next", "pairs", "rawget"} {
		orig := base.RawGetString(name).(*lua.LFunction)
		f := L.NewFunction(v.fillArg(v.readCtx(orig.GFunction)))
		f.Upvalues = orig.Upvalues // pairs keeps its iterator there
		base.RawSetString(name, f)
	}

	realOS := base.RawGetString("os").(*lua.LTable)
	os := L.CreateTable(0, 12)
	for _, name := range []string{"time", "date", "clock"} {
		os.RawSetString(name, realOS.RawGetString(name))
	}
	for _, name := range []string{"execute", "exit", "getenv", "setenv", "remove", "rename", "tmpname", "setlocale", "difftime"} {
		os.RawSetString(name, v.unavailableFunc("os."+name, "only os.time, os.date and os.clock are"))
	}

	v.objectMT = v.typeMeta("object")
	v.arrayMT = v.typeMeta("array")
	v.dateMT = v.newDateMeta()
	v.responseMT = v.typeMeta("response")
	nullMT := v.typeMeta("null")
	nullMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	v.null = &lua.LUserData{Value: nullValue{}, Metatable: nullMT}
	v.ctxMT = v.typeMeta("object")
	v.ctxMT.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot set ctx.%s: ctx is read-only", lua.LVAsString(L.Get(2)))
		return 0
	}))
	v.httpInMT = v.newHTTPInputMeta()
	v.ctxData = L.CreateTable(0, ctxFields)
	v.ctxMT.RawSetString("__index", v.ctxData)
	v.ctx = L.CreateTable(0, 0)
	v.ctx.Metatable = v.ctxMT
	v.readOnly[v.ctx] = "ctx"

	co := base.RawGetString("coroutine").(*lua.LTable)
	v.hookCoroutines(co)
	for name, t := range map[string]*lua.LTable{"string": str, "table": tbl, "math": base.RawGetString("math").(*lua.LTable), "coroutine": co, "os": os} {
		base.RawSetString(name, v.freeze(t, name))
	}
	base.RawSetString("backend", v.backendModule())

	v.envMT = L.CreateTable(0, 2)
	v.envMT.RawSetString("__index", base)
	v.envMT.RawSetString("__metatable", lua.LFalse)
	return v
}

// unavailableFunc raises "NAME is not available in Moonbase functions".
func (v *vm) unavailableFunc(name, why string) *lua.LFunction {
	return v.L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s is not available in Moonbase functions: %s", name, why)
		return 0
	})
}

// unavailableTable is a library that is not there: reading any field of it
// raises.
func (v *vm) unavailableTable(name, why string) *lua.LTable {
	L := v.L
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s.%s is not available in Moonbase functions: %s", name, lua.LVAsString(L.Get(2)), why)
		return 0
	}))
	mt.RawSetString("__newindex", mt.RawGetString("__index"))
	mt.RawSetString("__metatable", lua.LFalse)
	t := L.CreateTable(0, 0)
	t.Metatable = mt
	v.frozen = append(v.frozen, t)
	v.readOnly[t] = name
	return t
}

// nullValue is what backend.null holds.
type nullValue struct{}

// typeMeta is a protected metatable naming one of moonbase's value kinds:
// getmetatable(x) answers the name.
func (v *vm) typeMeta(name string) *lua.LTable {
	mt := v.L.CreateTable(0, 1)
	mt.RawSetString("__metatable", lua.LString(name))
	return mt
}

// freeze returns an empty read-only proxy of t.
func (v *vm) freeze(t *lua.LTable, name string) *lua.LTable {
	L := v.L
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot set %s.%s: %s is read-only (keep your own values in local variables or tables)", name, lua.LVAsString(L.Get(2)), name)
		return 0
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	p := L.CreateTable(0, 0)
	p.Metatable = mt
	v.frozen = append(v.frozen, p)
	v.readOnly[p] = name
	return p
}

// runChunk is the globals table of a run of proto, empty but for _G, and
// proto's chunk made over it; it leaves the table as L.Env. The table and
// the chunk are the ones the last run on this state used, the table emptied
// by endEnv, when that run was of the same proto and left the table as a
// new one would be after the chunk: string keys only, no more than
// maxReusedGlobals, none but those the chunk defined, and none it set and
// then removed. The last condition is there because a
// gopher-lua table never forgets a key it once held, which it keeps in a
// list, in the order keys came, for pairs: a table reused after other
// names would grow without bound, and pairs would order a run's globals
// after names an earlier run used.
func (v *vm) runChunk(proto *lua.FunctionProto) (*lua.LTable, *lua.LFunction) {
	if v.globals == nil || v.chunk.Proto != proto {
		v.globals = v.L.CreateTable(0, 4)
		v.globals.Metatable = v.envMT
		v.L.Env = v.globals // the chunk is made over L.Env
		v.chunk = v.L.NewFunctionFromProto(proto)
	}
	v.L.Env = v.globals
	v.globals.RawSetString("_G", v.globals)
	return v.globals, v.chunk
}

// endEnv empties the run's globals for the next run on this state, or
// drops the table when it cannot be reused (see runChunk).
func (v *vm) endEnv() {
	env := v.globals
	if env == nil {
		return
	}
	// A key set and removed still counts in the table's own list, and an
	// array item set and removed keeps its slot. Only the names the chunk
	// itself defined may be left: a handler that set globals of its own
	// (perhaps named after its input) would leave their order, which pairs
	// shows, to the next run.
	held, items, ok := v.tableLens(env)
	if env.Metatable != v.envMT || !ok || held != v.chunkKeys || held > maxReusedGlobals || items != 0 {
		v.globals, v.chunk = nil, nil
		return
	}
	if n, named := v.stringKeys(env, held); !named || n != held {
		v.globals, v.chunk = nil, nil
		return
	}
	v.clearKeys(env)
}

// heldKeys is how many keys t's own list holds (see tableLens), or -1
// when that cannot be read.
func (v *vm) heldKeys(t *lua.LTable) int {
	held, _, ok := v.tableLens(t)
	if !ok {
		return -1
	}
	return held
}

// stringKeys lists t's keys (in v.envKeys, for clearKeys) and reports
// how many there are and whether they are all strings, no more than max.
func (v *vm) stringKeys(t *lua.LTable, max int) (n int, named bool) {
	keys, named := v.envKeys[:0], true
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		s, ok := k.(lua.LString)
		if !ok || len(keys) == max {
			named = false
			break
		}
		keys = append(keys, s)
	}
	v.envKeys = keys
	return len(keys), named
}

// clearKeys removes from t the keys stringKeys listed.
func (v *vm) clearKeys(t *lua.LTable) {
	for _, k := range v.envKeys {
		t.RawSetString(string(k), lua.LNil)
	}
	v.envKeys = v.envKeys[:0]
}

// maxReusedGlobals is the most globals a run may leave for its table to be
// reused; a run leaving more gets a new one.
const maxReusedGlobals = 64

// tableLens reads two of LTable's unexported fields: held, how many keys
// t's own list holds (every string or other key it has ever held, set or
// since removed, in the order they came: the order pairs follows), and
// items, the length of its array part. gopher-lua exports neither, and a
// table reused from run to run (the globals, see runChunk; the http
// input's tables, see endInput) must be checked not to have held names
// beyond its present ones, or it would grow without bound and pairs would
// list a run's names after an earlier run's. This and tableField are the
// only code that looks inside an LTable. ok is false when LTable has no
// such fields, and then no table is reused.
func (v *vm) tableLens(t *lua.LTable) (held, items int, ok bool) {
	if v.keysField < 0 || v.arrayField < 0 {
		return 0, 0, false
	}
	rt := reflect.ValueOf(t).Elem()
	return rt.Field(v.keysField).Len(), rt.Field(v.arrayField).Len(), true
}

// tableField is the index of the LTable field name that tableLens reads,
// -1 when LTable has no such field of type []LValue.
func tableField(name string) int {
	f, ok := reflect.TypeFor[lua.LTable]().FieldByName(name)
	if !ok || len(f.Index) != 1 || f.Type != reflect.TypeFor[[]lua.LValue]() {
		return -1
	}
	return f.Index[0]
}

// intact reports whether the read-only proxies are still empty, as a
// last line of defence behind guardWrites.
func (v *vm) intact() bool {
	for _, p := range v.frozen {
		if k, _ := p.Next(lua.LNil); k != lua.LNil {
			return false
		}
	}
	if k, _ := v.ctx.Next(lua.LNil); k != lua.LNil {
		return false
	}
	return v.ctx.Metatable == v.ctxMT
}

// guardWrites wraps a function that writes into its first argument
// without metamethods (rawset, table.insert, table.remove) so that it
// refuses the read-only tables.
func (v *vm) guardWrites(name string, orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok {
			if what, ro := v.readOnly[t]; ro {
				L.RaiseError("%s: %s is read-only", name, what)
			}
		}
		return orig(L)
	}
}

// readCtx wraps a function that reads its first argument without
// metamethods (next, pairs, rawget) so that, given ctx, it reads the
// fields ctx shows rather than its empty proxy.
func (v *vm) readCtx(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.Get(1) == v.ctx {
			L.Replace(1, v.ctxData)
		}
		return orig(L)
	}
}

// close releases the state.
func (v *vm) close() { v.L.Close() }

// loadString is loadstring(source [, name]) for source text only.
func (v *vm) loadString(L *lua.LState) int {
	return v.compileChunk(L, L.CheckString(1), L.OptString(2, "=(load)"))
}

// load is load(source_or_reader [, name]): a string, or a function
// returning pieces of source until nil or "", for source text only.
func (v *vm) load(L *lua.LState) int {
	name := L.OptString(2, "=(load)")
	switch src := L.Get(1).(type) {
	case lua.LString:
		return v.compileChunk(L, string(src), name)
	case *lua.LFunction:
		var b strings.Builder
		for {
			L.Push(src)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			s, ok := piece.(lua.LString)
			if piece == lua.LNil || (ok && s == "") {
				break
			}
			if !ok {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if int64(b.Len()+len(s)) > v.reg.cfg.MaxStringBytes {
				return v.tooLong(L, "load", int64(b.Len()+len(s)))
			}
			b.WriteString(string(s))
		}
		return v.compileChunk(L, b.String(), name)
	default:
		L.ArgError(1, "string or function expected")
		return 0
	}
}

// compileChunk compiles src into a function whose globals are the run's,
// the way loadstring does, refusing precompiled (binary) chunks.
func (v *vm) compileChunk(L *lua.LState, src, name string) int {
	if strings.HasPrefix(src, "\x1b") {
		L.Push(lua.LNil)
		L.Push(lua.LString("binary chunks are not supported: load only accepts Lua source text"))
		return 2
	}
	// As L.Load does, with .. rewritten as compile does it.
	chunk, err := parse.Parse(strings.NewReader(src), name)
	var proto *lua.FunctionProto
	if err == nil {
		proto, err = lua.Compile(rewriteConcat(chunk), name)
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(strings.TrimSpace(err.Error())))
		return 2
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}

// backendModule builds the read-only backend table of one state from
// backendAPI.
func (v *vm) backendModule() *lua.LTable {
	L := v.L
	root := L.CreateTable(0, 8)
	tables := map[string]*lua.LTable{"": root}
	var order []string
	for _, e := range backendAPI() {
		parent, leaf := "", e.name
		if i := strings.LastIndexByte(e.name, '.'); i >= 0 {
			parent, leaf = e.name[:i], e.name[i+1:]
		}
		t, ok := tables[parent]
		if !ok {
			t = L.CreateTable(0, 8)
			tables[parent] = t
			order = append(order, parent)
		}
		if e.fn != nil {
			fn := e.fn
			t.RawSetString(leaf, L.NewFunction(func(L *lua.LState) int {
				if v.httpIn != nil {
					v.fillArgs(L)
				}
				return fn(v, L)
			}))
		} else {
			t.RawSetString(leaf, e.value(v))
		}
	}
	for _, name := range order {
		root.RawSetString(name, v.freeze(tables[name], "backend."+name))
	}
	return v.freeze(root, "backend")
}
