package engine

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Protected calls without gopher-lua's traceback.
//
// When a protected call (LState.PCall) without a message handler catches
// an error that carries no traceback yet, gopher-lua writes one with a line
// per frame and per tail call, in one call that nothing interrupts: after
// ten seconds of `return f(n + 1)` that is a hundred million lines, minutes
// of work and gigabytes of memory. A message handler avoids it but has
// gopher-lua leave the upvalues of the frames it unwinds open, so closures
// made there would read registers reused since.
//
// So every protected call a run makes (the run's own, pcall and xpcall)
// calls the function through a trampoline, a Go function whose deferred
// recover gives the error a traceback of its own, bounded to
// traceMaxFrames frames, before it reaches PCall: PCall then keeps it and
// builds nothing. The top of a run keeps a real trace for the execution
// record; pcall and xpcall, which drop it, keep a placeholder.

// traceMaxFrames is how many Lua frames a run's traceback keeps.
const traceMaxFrames = 16

// tracePlaceholder is the traceback of an error caught by pcall or xpcall,
// which nobody reads.
const tracePlaceholder = "stack traceback: (not kept)"

// newTrampoline is a Go function that calls its first argument with the
// rest and returns what it returns; an error passing through it leaves
// with a bounded traceback (full) or the placeholder.
func (v *vm) newTrampoline(full bool) *lua.LFunction {
	return v.L.NewFunction(func(L *lua.LState) (n int) {
		defer func() {
			if r := recover(); r != nil {
				panic(withTrace(L, r, full))
			}
		}()
		L.Call(L.GetTop()-1, lua.MultRet)
		return L.GetTop()
	})
}

// withTrace is the error r with a traceback, as PCall will see it. A Go
// panic becomes the ApiErrorPanic gopher-lua would have made of it.
func withTrace(L *lua.LState, r any, full bool) *lua.ApiError {
	e, ok := r.(*lua.ApiError)
	if !ok {
		e = &lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString(fmt.Sprint(r))}
	}
	if e.StackTrace == "" {
		e.StackTrace = tracePlaceholder
		if full {
			e.StackTrace = boundedTrace(L)
		}
	}
	return e
}

// boundedTrace is the Lua frames of L's call stack nearest the error, at
// most traceMaxFrames levels of it, written as gopher-lua writes them. It
// looks at no more levels than it keeps: GetStack counts a frame's tail
// calls as levels, and a level past a frame that made millions of them
// gives the bottom frame, a Go one, which is skipped like the others.
func boundedTrace(L *lua.LState) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	for level := 0; level < traceMaxFrames; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return b.String()
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil || dbg.What == "G" {
			continue
		}
		fmt.Fprintf(&b, "\n\t%s:%d: in ", dbg.Source, dbg.CurrentLine)
		switch {
		case dbg.What == "main":
			b.WriteString("main chunk")
		case dbg.Name != "":
			fmt.Fprintf(&b, "function '%s'", dbg.Name)
		default:
			fmt.Fprintf(&b, "function <%s:%d>", dbg.Source, dbg.LineDefined)
		}
	}
	if _, more := L.GetStack(traceMaxFrames); more {
		b.WriteString("\n\t…")
	}
	return b.String()
}

// protectedCall calls the function below the nargs arguments on the stack
// as PCall does, through the trampoline that keeps a real traceback.
func (v *vm) protectedCall(nargs, nret int) error {
	L := v.L
	L.Insert(v.traceTrampoline, L.GetTop()-nargs)
	return L.PCall(nargs+1, nret, nil)
}

// errorObject is the Lua value of an error PCall returned.
func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// pcall is pcall(f, ...), through the trampoline.
func (v *vm) pcall(L *lua.LState) int {
	fn := L.CheckAny(1)
	if fn.Type() != lua.LTFunction && L.GetMetaField(fn, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + fn.Type().String() + " value"))
		return 2
	}
	top := L.GetTop()
	L.Insert(v.quietTrampoline, 1)
	if err := L.PCall(top, lua.MultRet, nil); err != nil {
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// xpcall is xpcall(f, handler), through the trampoline. The handler is
// called once the failed call has unwound rather than on top of it, which
// a function cannot tell apart (it has no debug library), and which lets
// the handler run even after a stack overflow. An error in the handler is
// what xpcall returns.
func (v *vm) xpcall(L *lua.LState) int {
	fn := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	L.SetTop(0)
	L.Push(v.quietTrampoline)
	L.Push(fn)
	err := L.PCall(1, lua.MultRet, nil)
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	L.SetTop(0)
	L.Push(v.quietTrampoline)
	L.Push(handler)
	L.Push(errorObject(err))
	if err := L.PCall(2, 1, nil); err != nil {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	res := L.Get(-1)
	L.SetTop(0)
	L.Push(lua.LFalse)
	L.Push(res)
	return 2
}
