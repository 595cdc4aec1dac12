package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"go.mongodb.org/mongo-driver/bson"
)

// testRequest is an http request as the server hands it over; reads
// counts the calls that read it.
type testRequest struct {
	method, path, rawQuery, body string
	url                          string
	headers, query               [][2]string
	json                         any
	reads                        int
}

func (r *testRequest) Method() string   { r.reads++; return r.method }
func (r *testRequest) Path() string     { r.reads++; return r.path }
func (r *testRequest) RawQuery() string { r.reads++; return r.rawQuery }
func (r *testRequest) URL() string      { r.reads++; return r.url }
func (r *testRequest) Body() string     { r.reads++; return r.body }
func (r *testRequest) NumHeaders() int  { return len(r.headers) }
func (r *testRequest) NumQuery() int    { return len(r.query) }
func (r *testRequest) JSON() (any, bool) {
	r.reads++
	return r.json, r.json != nil
}

func (r *testRequest) VisitHeaders(f func(name, value string)) {
	r.reads++
	for _, h := range r.headers {
		f(h[0], h[1])
	}
}

func (r *testRequest) VisitQuery(f func(name, value string)) {
	r.reads++
	for _, q := range r.query {
		f(q[0], q[1])
	}
}

func newTestRequest() *testRequest {
	return &testRequest{
		method: "POST", path: "/functions/hook/x", rawQuery: "q=1&q=2&p=", body: `{"a":[1,2]}`,
		url:     "https://example.com/functions/hook/x?q=1&q=2&p=",
		headers: [][2]string{{"host", "example.com"}, {"x-multi", "one"}, {"content-type", "application/json"}, {"x-multi", "two"}},
		query:   [][2]string{{"q", "1"}, {"q", "2"}, {"p", ""}},
		json:    bson.M{"a": bson.A{int64(1), int64(2)}},
	}
}

// eagerInput is the table newTestRequest's input is, as a Go value.
func eagerInput() map[string]any {
	return map[string]any{
		"method": "POST", "path": "/functions/hook/x", "rawQuery": "q=1&q=2&p=", "body": `{"a":[1,2]}`,
		"url":     "https://example.com/functions/hook/x?q=1&q=2&p=",
		"headers": map[string]any{"host": "example.com", "x-multi": "one, two", "content-type": "application/json"},
		"query":   map[string]any{"q": "1", "p": ""},
		"json":    bson.M{"a": bson.A{int64(1), int64(2)}},
	}
}

// TestHTTPInputIsTheRequestTable checks that whatever a handler does with
// an http run's input (built when first looked at), it sees what it would
// see of the same table built before the run.
func TestHTTPInputIsTheRequestTable(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ name, body string }{
		{"the input returned", `return input`},
		{"a field", `return input.headers["x-multi"]`},
		{"pairs", `local ks = {} for k in pairs(input) do ks[#ks+1] = k end table.sort(ks) return table.concat(ks, ",")`},
		{"next", `return next(input) ~= nil`},
		{"rawget", `return rawget(input, "method")`},
		{"rawget of an absent key", `return rawget(input, "nope") == nil`},
		{"rawset then pairs", `rawset(input, "headers", nil) local n = 0 for _ in pairs(input) do n = n + 1 end return {n, input.headers == nil}`},
		{"a field removed", `input.query = nil return {input.query == nil, input.method}`},
		{"a field added", `input.extra = 1 return input`},
		{"an array item added", `table.insert(input, "x") return {#input, input[1], input.method}`},
		{"length", `return #input`},
		{"ipairs", `local n = 0 for _ in ipairs(input) do n = n + 1 end return n`},
		{"getmetatable", `return getmetatable(input)`},
		{"setmetatable", `return {pcall(setmetatable, input, {})}`},
		{"json.encode", `return backend.json.decode(backend.json.encode(input))`},
		{"print", `print(input) return 1`},
		{"backend.object", `return backend.object(input)`},
		{"backend.array", `return {pcall(backend.array, input)}`},
		{"nested in a value", `return {req = input}`},
		{"query", `return {input.query.q, input.query.p}`},
		{"json", `return input.json.a[2]`},
		{"a number key", `input[2.5] = true return input[2.5]`},
		{"a nil key", `return {pcall(function() input[nil] = 1 end)}`},
		{"untouched", `return {message = "hello"}`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			src := "function handle(input, ctx) " + s.body + " end"
			req := newTestRequest()
			lazy, lazyErr := runSource(t, r, src, req, RunOptions{})
			eager, eagerErr := runSource(t, r, src, eagerInput(), RunOptions{})
			if (lazyErr == nil) != (eagerErr == nil) || (lazyErr != nil && lazyErr.Error() != eagerErr.Error()) {
				t.Fatalf("errors differ: %v, want %v", lazyErr, eagerErr)
			}
			if !reflect.DeepEqual(lazy.Value, eager.Value) {
				t.Errorf("got %#v, want %#v", lazy.Value, eager.Value)
			}
			if !reflect.DeepEqual(lazy.Logs, eager.Logs) && !sameLogText(lazy.Logs, eager.Logs) {
				t.Errorf("printed %v, want %v", lazy.Logs, eager.Logs)
			}
			// The execution record keeps the request whatever the
			// handler does; beyond that, an untouched input is never read.
			recorded := newTestRequest()
			r.recordedInput(recorded)
			if s.name == "untouched" && req.reads != recorded.reads {
				t.Errorf("a handler that never looks at its input read the request %d times beyond the record's %d", req.reads-recorded.reads, recorded.reads)
			}
		})
	}
}

// sameLogText compares logs by their text: their times differ.
func sameLogText(a, b []functions.LogLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Level != b[i].Level || a[i].Message != b[i].Message {
			return false
		}
	}
	return true
}

// TestHTTPInputAfterTheRun checks that a state keeps no request after a
// run, and that the next run on it gets its own input, whatever the last
// one did to the tables the state keeps.
func TestHTTPInputAfterTheRun(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	src := `function handle(input) if input.method then return input.path end return "none" end`
	for _, path := range []string{"/a", "/b"} {
		req := newTestRequest()
		req.path = path
		res, err := runSource(t, r, src, req, RunOptions{})
		if err != nil || res.Value != path {
			t.Fatalf("got %v %v, want %s", res.Value, err, path)
		}
	}
	// What one run does to its input does not reach the next, whose
	// request has other headers, no query and no JSON.
	meddle := `function handle(input)
  input.headers.added = "x"
  table.insert(input.query, "item")
  input.json.a = nil
  rawset(input.headers, "host", nil)
  return 1
end`
	if _, err := runSource(t, r, meddle, newTestRequest(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	next := &testRequest{method: "GET", path: "/p", headers: [][2]string{{"x-other", "1"}}}
	res, err := runSource(t, r, `function handle(input) return input end`, next, RunOptions{})
	want := bson.M{"method": "GET", "path": "/p", "rawQuery": "", "url": "", "body": "", "headers": bson.M{"x-other": "1"}, "query": bson.M{}}
	if err != nil || !reflect.DeepEqual(res.Value, want) {
		t.Fatalf("got %#v %v, want %#v", res.Value, err, want)
	}
	for range 2 {
		res, err = runSource(t, r, `function handle(input) local n = 0 for k in pairs(input.headers) do n = n + 1 end return {n, input.headers["x-multi"], #input.query} end`, newTestRequest(), RunOptions{})
		if err != nil || !reflect.DeepEqual(res.Value, bson.A{int64(3), "one, two", int64(0)}) {
			t.Fatalf("got %#v %v", res.Value, err)
		}
	}
	res, err = runSource(t, r, `function handle(input) return input.method end`, map[string]any{"method": "GET"}, RunOptions{})
	if err != nil || res.Value != "GET" {
		t.Fatalf("got %v %v", res.Value, err)
	}
	v := r.getVM()
	defer r.putVM(v)
	if v.httpIn != nil || v.httpReq != nil {
		t.Errorf("a state kept an http input after its run")
	}
	if v.httpKept.input == nil || v.httpKept.headers == nil {
		t.Errorf("the state kept no tables for the next http run")
	}
}

// TestHTTPInputTooDeep checks that a JSON body the conversion refuses
// leaves json out rather than fail the run: the function still has the
// raw body.
func TestHTTPInputTooDeep(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	var deep any = bson.M{}
	for range maxNesting + 2 {
		deep = bson.M{"x": deep}
	}
	req := newTestRequest()
	req.json, req.body = deep, strings.Repeat(`{"x":`, maxNesting+2)+"{}"+strings.Repeat("}", maxNesting+2)
	res, err := runSource(t, r, `function handle(input) return {input.json == nil, #input.body} end`, req, RunOptions{})
	if err != nil || !reflect.DeepEqual(res.Value, bson.A{true, int64(len(req.body))}) {
		t.Errorf("got %#v %v", res.Value, err)
	}
}

// replayedRequest is a request run again from the inbound log.
type replayedRequest struct {
	*testRequest
	at time.Time
}

func (r replayedRequest) ReceivedAt() time.Time { return r.at }

// A replayed request's input says so and carries its first receipt as a
// date; a live request's has neither field, and the kept input table of a
// replay run does not pass them on to the next run.
func TestHTTPInputOfAReplay(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	at := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	src := `function handle(input) return {input.replayed == true, input.receivedAt and input.receivedAt:unix() or -1} end`
	scenarios := []struct {
		name string
		req  HTTPRequest
		want bson.A
	}{
		{"replayed", replayedRequest{newTestRequest(), at}, bson.A{true, at.Unix()}},
		{"live, after a replay on the same state", newTestRequest(), bson.A{false, int64(-1)}},
	}
	for _, s := range scenarios {
		res, err := runSource(t, r, src, s.req, RunOptions{})
		if err != nil || !reflect.DeepEqual(res.Value, s.want) {
			t.Fatalf("%s: got %#v %v, want %#v", s.name, res.Value, err, s.want)
		}
	}
}
