package engine

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// How the backend calls reach their run and report errors.

// cur is the run in progress on this state; backend calls made outside a
// run (which the sandbox does not allow) raise.
func (v *vm) cur(L *lua.LState) *run {
	if v.run == nil {
		L.RaiseError("backend calls are only available while a function runs")
	}
	return v.run
}

// raise ends the call with a Lua error "call: message", which the
// function may catch with pcall. An error of a stopped run is reported as
// the stop itself.
func (v *vm) raise(L *lua.LState, call string, err error) {
	if v.run != nil {
		if stop := v.run.ctx.stopped(); stop != nil {
			L.RaiseError("%s", stop.Error())
		}
	}
	msg := err.Error()
	var ce *convError
	if errors.As(err, &ce) {
		msg = ce.Error()
	}
	L.RaiseError("%s: %s", call, strings.TrimSpace(msg))
}

// push converts x to Lua and pushes it, or raises.
func (v *vm) push(L *lua.LState, call string, x any) {
	lv, err := v.toLua(x)
	if err != nil {
		v.raise(L, call, fmt.Errorf("cannot convert the result: %w", err))
	}
	L.Push(lv)
}
