package engine

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
)

// now is backend.now(): the current time, to the millisecond (the
// precision the store keeps).
func (v *vm) now(L *lua.LState) int {
	L.Push(v.newDate(time.Now().Truncate(time.Millisecond)))
	return 1
}

// date is backend.date(value, timezone?): a date from an RFC 3339 or
// "2006-01-02[ 15:04[:05]]" string, a {year, month, day, hour, min, sec,
// ms} table, unix seconds, or another date; with no value, now. A string
// without a zone and a table are read in timezone (default UTC).
func (v *vm) date(L *lua.LState) int {
	loc := time.UTC
	if tz := L.OptString(2, ""); tz != "" {
		loc = v.location(L, tz)
	}
	switch x := L.Get(1).(type) {
	case *lua.LNilType:
		return v.now(L)
	case lua.LString:
		t, err := parseDate(strings.TrimSpace(string(x)), loc)
		if err != nil {
			L.RaiseError("backend.date: %s", err.Error())
		}
		L.Push(v.newDate(t))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.Abs(f) > 1e13 {
			L.RaiseError("backend.date: %v is not a unix time in seconds", f)
		}
		sec, frac := math.Modf(f)
		L.Push(v.newDate(time.Unix(int64(sec), int64(frac*1e9))))
	case *lua.LTable:
		field := func(k string, def int, required bool) int {
			switch n := x.RawGetString(k).(type) {
			case lua.LNumber:
				if float64(n) != math.Trunc(float64(n)) || math.Abs(float64(n)) > 1e6 {
					L.RaiseError("backend.date: %s must be a whole number, got %v", k, n)
				}
				return int(n)
			case *lua.LNilType:
				if required {
					L.RaiseError("backend.date: the table needs year, month and day")
				}
				return def
			default:
				L.RaiseError("backend.date: %s must be a number, got %s", k, typeName(n))
			}
			return 0
		}
		t := time.Date(field("year", 0, true), time.Month(field("month", 0, true)), field("day", 0, true),
			field("hour", 0, false), field("min", 0, false), field("sec", 0, false), field("ms", 0, false)*1e6, loc)
		L.Push(v.newDate(t))
	case *lua.LUserData:
		t := v.dateArg(L, 1)
		L.Push(v.newDate(t))
	default:
		L.ArgError(1, "date string, {year, month, day} table, unix seconds or date expected, got "+typeName(x))
	}
	return 1
}

// response is what backend.response makes: a handler that returns it
// chooses the status, body and headers of its answer.
type response struct {
	status  int
	body    lua.LValue
	headers map[string]string
}

// response is backend.response(status, body?, headers?).
func (v *vm) response(L *lua.LState) int {
	status := L.CheckInt(1)
	if status < 100 || status > 599 {
		L.ArgError(1, fmt.Sprintf("status %d is not an HTTP status (100-599)", status))
	}
	headers, err := headersOf(L.Get(3))
	if err != nil {
		L.ArgError(3, err.Error())
	}
	L.Push(&lua.LUserData{Value: &response{status: status, body: L.Get(2), headers: headers}, Metatable: v.responseMT})
	return 1
}

// headersOf reads a {name = value} table of headers.
func headersOf(lv lua.LValue) (map[string]string, error) {
	if lv == lua.LNil {
		return nil, nil
	}
	t, ok := lv.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("headers must be a table of name = value, got %s", typeName(lv))
	}
	h := map[string]string{}
	var err error
	t.ForEach(func(k, val lua.LValue) {
		name, isStr := k.(lua.LString)
		switch val.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		default:
			isStr = false
		}
		if !isStr || strings.ContainsAny(string(name), " \r\n:") || strings.ContainsAny(lua.LVAsString(val), "\r\n") {
			err = fmt.Errorf("headers must be a table of name = value strings (header %v)", k)
			return
		}
		h[string(name)] = val.String()
	})
	return h, err
}

// responseOf recognises a returned response: backend.response(...) for
// any trigger, and for an http run also a plain table whose only keys are
// status (a number), headers and body.
func (v *vm) responseOf(ret lua.LValue, trigger string) (*response, bool) {
	if ud, ok := ret.(*lua.LUserData); ok && ud.Metatable == v.responseMT {
		return ud.Value.(*response), true
	}
	t, ok := ret.(*lua.LTable)
	if !ok || trigger != functions.TriggerHTTP || t.Metatable == v.objectMT {
		return nil, false
	}
	status, ok := t.RawGetString("status").(lua.LNumber)
	if !ok || status < 100 || status > 599 || float64(status) != math.Trunc(float64(status)) {
		return nil, false
	}
	only := true
	t.ForEach(func(k, _ lua.LValue) {
		switch lua.LVAsString(k) {
		case "status", "headers", "body":
		default:
			only = false
		}
	})
	if !only {
		return nil, false
	}
	headers, err := headersOf(t.RawGetString("headers"))
	if err != nil {
		return nil, false
	}
	return &response{status: int(status), body: t.RawGetString("body"), headers: headers}, true
}

// array is backend.array(t?): marks t (or a new table) to convert as an
// array.
func (v *vm) array(L *lua.LState) int { return v.mark(L, v.arrayMT, "backend.array") }

// object is backend.object(t?): marks t (or a new table) to convert as an
// object.
func (v *vm) object(L *lua.LState) int { return v.mark(L, v.objectMT, "backend.object") }

func (v *vm) mark(L *lua.LState, mt *lua.LTable, call string) int {
	t := L.OptTable(1, nil)
	if t == nil {
		t = L.NewTable()
	}
	if t.Metatable != lua.LNil && t.Metatable != v.objectMT && t.Metatable != v.arrayMT {
		L.RaiseError("%s: the table already has a metatable", call)
	}
	for _, p := range v.frozen {
		if p == t {
			L.RaiseError("%s: library tables cannot be marked", call)
		}
	}
	t.Metatable = mt
	L.Push(t)
	return 1
}
