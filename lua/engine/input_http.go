package engine

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// HTTPRequest is the input of a run of the http trigger, given to Run in
// place of a Go value. The handler sees it as the table {method, path,
// headers, query, rawQuery, url, body, json}, but that table is built only when
// the run first looks at it: most of a small request's cost was building
// tables of headers and query parameters that the function never read.
// Its methods are called at most once per run, during the run (so while
// the caller still holds the request), and never after Run returns.
type HTTPRequest interface {
	// Method is the request's method, Path its path, RawQuery the query
	// string as sent, and Body the raw body exactly as received.
	Method() string
	Path() string
	// URL is the full URL the sender called, scheme and host included, as
	// it saw it (behind a proxy, from the proxy's forwarded headers):
	// some senders (Twilio) sign it.
	URL() string
	RawQuery() string
	Body() string
	// NumHeaders is how many headers VisitHeaders visits, for sizing.
	NumHeaders() int
	// VisitHeaders calls f for each header in the order received, its
	// name in lower case; the table joins a repeated name's values with
	// ", ".
	VisitHeaders(f func(name, value string))
	// NumQuery is how many parameters VisitQuery visits, for sizing.
	NumQuery() int
	// VisitQuery calls f for each query parameter in order; the first
	// value of a name is kept.
	VisitQuery(f func(name, value string))
	// JSON is the body decoded, when it is JSON the server can read.
	JSON() (any, bool)
}

// ReplayedHTTPRequest is an HTTPRequest run again from the inbound log.
// Its input carries replayed = true and receivedAt, the date the sender's
// request first arrived, against which backend.webhooks.verify checks a
// signed timestamp's tolerance.
type ReplayedHTTPRequest interface {
	HTTPRequest
	ReceivedAt() time.Time
}

// httpInputFields is how many fields the http input table has (a
// replayed request's two more included).
const httpInputFields = 10

// The http input table starts empty, with a metatable (httpInMT) whose
// __index and __newindex fill it and then do what was asked. Filling
// gives it every field and the metatable of any other document
// (objectMT), so from then on it is the table an eager conversion would
// have made. Before that, whatever could tell the difference fills it
// first: reading or writing a field (the metamethods), next, pairs,
// rawget and rawset (wrapped in the sandbox), a conversion to Go (toGo,
// and so json.encode, print, returning it), and any backend call given it
// as an argument. What cannot tell the difference is left alone:
// getmetatable gives "object" and setmetatable is refused, as for a
// document; #, ipairs and unpack see no array items either way.

// A state keeps the input, headers and query tables of its last http run
// for the next one, emptied (see endInput), as it keeps ctx: a gopher-lua
// table pays several allocations for each key it first holds, and an input
// with a few headers cost some sixty. A table is kept only when the run
// left it as the next one needs it: named fields only, and not too many
// names ever held (a table never forgets a key, see runChunk). A kept
// table also remembers the order of the names it held, which pairs
// follows; a run whose request gives its names in another order gets a
// new table (see inRequestOrder), or pairs would show it which names an
// earlier request, maybe another user's, carried.
type httpTables struct {
	input, headers, query *lua.LTable
	// names is room to list a request's names in order.
	names []lua.LString
}

// maxReusedNames caps the names a kept headers or query table has held.
const maxReusedNames = 48

// newHTTPInput is the pending input table for req; it is v.httpIn until
// filled or the run ends.
func (v *vm) newHTTPInput(req HTTPRequest) *lua.LTable {
	t := v.httpKept.input
	if t == nil {
		t = v.L.CreateTable(0, httpInputFields)
		v.httpKept.input = t
	}
	t.Metatable = v.httpInMT
	v.httpIn, v.httpReq = t, req
	return t
}

// keptTable is the kept table *p, or a new one of n fields kept there; it
// is a document either way.
func (v *vm) keptTable(p **lua.LTable, n int) *lua.LTable {
	if *p == nil {
		*p = v.L.CreateTable(0, n)
	}
	(*p).Metatable = v.objectMT
	return *p
}

// fillInput fills t when it is the pending http input; a table with the
// pending metatable that is not (none should exist) becomes a plain
// document rather than loop in its metamethods.
func (v *vm) fillInput(t *lua.LTable) {
	if t != v.httpIn {
		if t.Metatable == v.httpInMT {
			t.Metatable = v.objectMT
		}
		return
	}
	req := v.httpReq
	v.httpIn, v.httpReq = nil, nil
	t.Metatable = v.objectMT
	t.RawSetString("method", lua.LString(req.Method()))
	t.RawSetString("path", lua.LString(req.Path()))

	headers := v.keptTable(&v.httpKept.headers, req.NumHeaders())
	names := v.httpKept.names[:0]
	req.VisitHeaders(func(name, value string) {
		if prev, ok := headers.RawGetString(name).(lua.LString); ok {
			value = string(prev) + ", " + value
		} else {
			names = append(names, lua.LString(name))
		}
		headers.RawSetString(name, lua.LString(value))
	})
	t.RawSetString("headers", v.inRequestOrder(&v.httpKept.headers, names))

	query := v.keptTable(&v.httpKept.query, req.NumQuery())
	names = names[:0]
	req.VisitQuery(func(name, value string) {
		if query.RawGetString(name) == lua.LNil {
			query.RawSetString(name, lua.LString(value))
			names = append(names, lua.LString(name))
		}
	})
	t.RawSetString("query", v.inRequestOrder(&v.httpKept.query, names))
	v.httpKept.names = names[:0]

	t.RawSetString("rawQuery", lua.LString(req.RawQuery()))
	t.RawSetString("url", lua.LString(req.URL()))
	t.RawSetString("body", lua.LString(req.Body()))
	if r, ok := req.(ReplayedHTTPRequest); ok {
		t.RawSetString("replayed", lua.LTrue)
		t.RawSetString("receivedAt", v.newDate(r.ReceivedAt()))
	}
	if j, ok := req.JSON(); ok {
		// A body the conversion refuses (nested past maxNesting) is left
		// as the raw body only, like one past the server's own limits.
		if lj, err := v.goValue(j, 2); err == nil {
			t.RawSetString("json", lj)
		}
	}
}

// inRequestOrder is the filled table *p when pairs lists its names in
// the request's order, names, as it would a new table's; otherwise a new
// table with the same fields, which replaces *p.
func (v *vm) inRequestOrder(p **lua.LTable, names []lua.LString) *lua.LTable {
	t := *p
	i, same := 0, true
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if i == len(names) || k != lua.LValue(names[i]) {
			same = false
			break
		}
		i++
	}
	if same && i == len(names) {
		return t
	}
	n := v.L.CreateTable(0, len(names))
	n.Metatable = v.objectMT
	for _, name := range names {
		n.RawSetString(string(name), t.RawGetString(string(name)))
	}
	*p = n
	return n
}

// endInput forgets a pending input at the end of a run, so that the
// state holds no request after it, and empties the kept tables for the
// next run, or drops those it cannot keep; with keep false, all of them.
func (v *vm) endInput(keep bool) {
	v.httpIn, v.httpReq = nil, nil
	k := &v.httpKept
	if !keep {
		*k = httpTables{}
		return
	}
	if k.input != nil && !v.emptied(k.input, httpInputFields) {
		k.input = nil
	}
	if k.headers != nil && !v.emptied(k.headers, maxReusedNames) {
		k.headers = nil
	}
	if k.query != nil && !v.emptied(k.query, maxReusedNames) {
		k.query = nil
	}
}

// emptied empties t and reports true when it holds named fields only and
// has held no more than maxNames names; otherwise it leaves t as it is.
func (v *vm) emptied(t *lua.LTable, maxNames int) bool {
	held, items, ok := v.tableLens(t)
	if !ok || held > maxNames || items != 0 {
		return false
	}
	if _, named := v.stringKeys(t, held); !named {
		return false
	}
	v.clearKeys(t)
	return true
}

// fillArg fills the pending input when it is the first argument; it wraps
// next, pairs, rawget and rawset.
func (v *vm) fillArg(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if v.httpIn != nil && L.Get(1) == v.httpIn {
			v.fillInput(v.httpIn)
		}
		return orig(L)
	}
}

// fillArgs fills the pending input when it is among a backend call's
// arguments, so that every call sees the whole table.
func (v *vm) fillArgs(L *lua.LState) {
	for i := 1; i <= L.GetTop() && v.httpIn != nil; i++ {
		if L.Get(i) == v.httpIn {
			v.fillInput(v.httpIn)
		}
	}
}

// newHTTPInputMeta is the pending input's metatable.
func (v *vm) newHTTPInputMeta() *lua.LTable {
	L := v.L
	mt := v.typeMeta("object")
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		v.fillInput(t)
		L.Push(L.GetTable(t, L.Get(2)))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		v.fillInput(t)
		L.SetTable(t, L.Get(2), L.Get(3))
		return 0
	}))
	return mt
}
