package engine

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

func TestRunNeedsTheTriggerItWasCalledBy(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "internal", Source: `function handle() return "ran" end`, Triggers: []functions.Trigger{{Event: "x"}}})
	mustSave(t, r, functions.Definition{Name: "public", Source: `function handle() return "ran" end`, Triggers: []functions.Trigger{{Invoke: true}}})
	for _, s := range []struct {
		name, trigger string
		ok            bool
	}{
		{"internal", functions.TriggerInvoke, false},
		{"internal", functions.TriggerHTTP, false},
		{"internal", functions.TriggerEvent, true},
		{"internal", functions.TriggerSchedule, true},
		{"public", functions.TriggerInvoke, true},
		{"public", functions.TriggerHTTP, false},
		{"missing", functions.TriggerEvent, false},
	} {
		res, err := r.Run(ctx, s.name, nil, RunOptions{Trigger: s.trigger})
		if s.ok && (err != nil || res.Value != "ran") {
			t.Errorf("%s by %s: %v %v", s.name, s.trigger, res.Value, err)
		}
		if !s.ok && (!errors.Is(err, functions.ErrFunctionNotFound) || err.Error() != `function not found: "`+s.name+`"`) {
			t.Errorf("%s by %s: %v", s.name, s.trigger, err)
		}
	}
}

func TestHandlerGetsInputAndContext(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	fn := mustSave(t, r, functions.Definition{Name: "chat", Handler: "onChatMessage", Source: `
function onChatMessage(event, ctx)
  return {
    channel = event.channel, trigger = ctx.trigger, event = ctx.event, id = ctx.id, at = ctx.at,
    user = ctx.user, attempt = ctx.attempt, fn = ctx["function"], version = ctx.version,
    execution = ctx.executionId,
  }
end`})
	at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	res, err := r.Run(ctx, "chat", map[string]any{"channel": "general"}, RunOptions{
		Trigger: functions.TriggerEvent, Event: "chan_in", ID: "ev1", At: at, Attempt: 2,
		User: map[string]any{"id": "u1", "email": "ada@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{
		"channel": "general", "trigger": "event", "event": "chan_in", "id": "ev1", "at": primitive.NewDateTimeFromTime(at),
		"user": bson.M{"id": "u1", "email": "ada@example.com"}, "attempt": int64(2), "fn": "chat", "version": int64(fn.Version),
		"execution": res.ExecutionID,
	}
	if !reflect.DeepEqual(res.Value, want) {
		t.Errorf("got  %#v\nwant %#v", res.Value, want)
	}
	if res.Function != "chat" || res.Version != 1 || res.Duration <= 0 || len(res.ExecutionID) != 24 {
		t.Errorf("result %+v", res)
	}
	_, err = r.Run(ctx, "chat", nil, RunOptions{Trigger: functions.TriggerEvent, User: map[string]any{"email": "x"}})
	if !errors.Is(err, ErrInvalidInput) || err.Error() != "invalid function input: the user has no id" {
		t.Errorf("user without id: %v", err)
	}
	_, err = r.Run(ctx, "chat", map[string]any{"c": make(chan int)}, RunOptions{Trigger: functions.TriggerEvent})
	if !errors.Is(err, ErrInvalidInput) || err.Error() != "invalid function input: at c: a Go value of type chan int cannot be passed to Lua" {
		t.Errorf("bad input: %v", err)
	}
}

func TestResponsesChooseTheStatus(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct {
		name, src, trigger string
		status             int
		value              any
		headers            map[string]string
	}{
		{"response with a table", `return backend.response(401, {error = "sign in"})`, functions.TriggerInvoke, 401, bson.M{"error": "sign in"}, nil},
		{"response with headers", `return backend.response(201, "made", {["Content-Type"] = "text/plain", ["X-Id"] = 7})`, functions.TriggerHTTP, 201,
			"made", map[string]string{"Content-Type": "text/plain", "X-Id": "7"}},
		{"response without a body", `return backend.response(204)`, functions.TriggerInvoke, 204, nil, nil},
		{"plain table for http", `return {status = 302, headers = {Location = "/x"}}`, functions.TriggerHTTP, 302, nil, map[string]string{"Location": "/x"}},
		{"plain table for invoke is a value", `return {status = 302, body = "x"}`, functions.TriggerInvoke, 0, bson.M{"status": int64(302), "body": "x"}, nil},
		{"table with other keys for http is a value", `return {status = 200, message = "x"}`, functions.TriggerHTTP, 0, bson.M{"status": int64(200), "message": "x"}, nil},
		{"a plain value", `return "ok"`, functions.TriggerHTTP, 0, "ok", nil},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			def := functions.Definition{Name: "t", Source: "function handle() " + s.src + " end"}
			res, err := r.Test(context.Background(), def, nil, RunOptions{})
			if s.trigger == functions.TriggerHTTP {
				// Test always runs as "test"; run a saved http function instead.
				def.Name = "h" + strings.ReplaceAll(s.name, " ", "")
				def.Triggers = []functions.Trigger{{HTTP: true}, {Invoke: true}}
				mustSave(t, r, def)
				res, err = r.Run(context.Background(), def.Name, nil, RunOptions{Trigger: s.trigger})
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != s.status || !reflect.DeepEqual(res.Value, s.value) || !reflect.DeepEqual(res.Headers, s.headers) {
				t.Errorf("got %d %#v %v", res.Status, res.Value, res.Headers)
			}
		})
	}
	for src, want := range map[string]string{
		`backend.response(42)`:                     `function "t" failed at line 1: bad argument #1 to response (status 42 is not an HTTP status (100-599))`,
		`backend.response(200, "", {["a b"] = 1})`: `function "t" failed at line 1: bad argument #3 to response (headers must be a table of name = value strings (header a b))`,
	} {
		if got := runErr(t, r, "function handle() return "+src+" end"); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
		}
	}
}

func TestExecutionsAreRecordedInBatches(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "job", Source: "function handle(input)\n  print('working on', input.n)\n  if input.n == 2 then error('bad input') end\n  return input.n\nend"})
	var ids []string
	for n := 1; n <= 3; n++ {
		res, _ := r.Run(ctx, "job", map[string]any{"n": n}, RunOptions{Trigger: functions.TriggerEvent, Event: "e", ID: "id", Attempt: 1, User: map[string]any{"id": "u9"}})
		ids = append(ids, res.ExecutionID)
	}
	execs, err := r.Executions(ctx, "job", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(execs) != 3 {
		t.Fatalf("%d records", len(execs))
	}
	for i, e := range execs {
		if e.ID != ids[2-i] || e.Function != "job" || e.Version != 1 || e.Trigger != "event" || e.Event != "e" || e.EventID != "id" || e.User != "u9" || e.Attempt != 1 || e.DurationMs <= 0 {
			t.Errorf("record %d: %+v", i, e)
		}
	}
	if e := execs[1]; e.Status != functions.StatusError || e.Error != `function "job" failed at line 3: bad input` || e.Line != 3 || !strings.Contains(e.Traceback, "job:3") {
		t.Errorf("failed run's record: %+v", e)
	}
	if e := execs[0]; e.Status != functions.StatusOK || len(e.Logs) != 1 || e.Logs[0].Message != "working on\t3" || e.Logs[0].Level != "print" {
		t.Errorf("ok run's record: %+v", e)
	}
	if one, _ := r.Executions(ctx, "job", 1); len(one) != 1 || one[0].ID != ids[2] {
		t.Errorf("limit 1: %+v", one)
	}
	after, err := r.ExecutionsAfter(ctx, "job", ids[0], 10)
	if err != nil || len(after) != 2 || after[0].ID != ids[2] || after[1].ID != ids[1] {
		t.Errorf("after the first: %+v %v", after, err)
	}
	if _, err := r.ExecutionsAfter(ctx, "job", "x", 10); !errors.Is(err, functions.ErrInvalidExecutionID) || err.Error() != `invalid execution id: "x"` {
		t.Errorf("a bad id: %v", err)
	}
}

// Records still buffered are written by a graceful shutdown.
func TestShutdownWritesBufferedExecutions(t *testing.T) {
	t.Parallel()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	r, err := NewRegistry(Config{}, Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		if _, err := r.Test(ctx, functions.Definition{Name: "t", Source: "function handle() end"}, nil, RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	execs, err := r.Executions(ctx, "t", 10)
	if err != nil || len(execs) != 5 {
		t.Fatalf("%d records after shutdown (%v)", len(execs), err)
	}
	for _, e := range execs {
		if e.Trigger != functions.TriggerTest {
			t.Errorf("record %+v", e)
		}
	}
	if _, err := r.Run(ctx, "t", nil, RunOptions{}); !errors.Is(err, functions.ErrClosed) {
		t.Errorf("run after shutdown: %v", err)
	}
}

// Shutdown lets a run finish within its deadline, stops one that would
// not, and keeps both runs' records.
func TestShutdownWaitsForRunsThenStopsThem(t *testing.T) {
	t.Parallel()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	r, err := NewRegistry(Config{Timeout: time.Minute}, Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "spin", Source: `function handle() while true do end end`})
	mustSave(t, r, functions.Definition{Name: "short", Source: `function handle() local t = os.clock() while os.clock() - t < 0.2 do end return "done" end`})
	results := make(chan error, 2)
	for _, name := range []string{"spin", "short"} {
		go func() {
			_, err := r.Run(ctx, name, nil, RunOptions{Trigger: functions.TriggerEvent})
			results <- err
		}()
	}
	testsupport.WaitFor(t, "both runs to start", func() bool {
		r.watch.mu.Lock()
		defer r.watch.mu.Unlock()
		return len(r.watch.runs) == 2
	})
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	var canceled, ok int
	for range 2 {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, ErrCanceled):
			canceled++
		default:
			t.Errorf("run ended with %v", err)
		}
	}
	if ok != 1 || canceled != 1 {
		t.Errorf("%d finished, %d canceled", ok, canceled)
	}
	for _, name := range []string{"spin", "short"} {
		if execs, err := r.Executions(ctx, name, 10); err != nil || len(execs) != 1 {
			t.Errorf("%d records of %s after shutdown (%v)", len(execs), name, err)
		}
	}
}

func TestExecuteFunction(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{MaxCallDepth: 4}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "processData", Source: `function handle(input, ctx)
  if input.id == 0 then error("no id") end
  return backend.response(202, {processed = input.id, trigger = ctx.trigger, user = ctx.user and ctx.user.id})
end`})
	mustSave(t, r, functions.Definition{Name: "caller", Triggers: []functions.Trigger{{Invoke: true}}, Source: `function handle(input)
  local result, status = backend.executeFunction("processData", {id = input.id})
  return {result = result, status = status}
end`})
	mustSave(t, r, functions.Definition{Name: "loop", Source: `function handle() return backend.executeFunction("loop") end`})
	res, err := r.Run(ctx, "caller", map[string]any{"id": 123}, RunOptions{Trigger: functions.TriggerInvoke, User: map[string]any{"id": "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{"result": bson.M{"processed": int64(123), "trigger": "function", "user": "u1"}, "status": int64(202)}
	if !reflect.DeepEqual(res.Value, want) {
		t.Errorf("got %#v", res.Value)
	}
	for fn, wantErr := range map[string]string{
		"caller": `function "caller" failed at line 2: backend.executeFunction: function "processData" failed at line 2: no id`,
		"loop":   `function "loop" failed at line 1: backend.executeFunction: function "loop" failed at line 1: backend.executeFunction: function "loop" failed at line 1: backend.executeFunction: function "loop" failed at line 1: backend.executeFunction: function "loop" failed at line 1: backend.executeFunction: calls nest more than 4 deep (do two functions call each other in a loop?)`,
	} {
		_, err := r.Run(ctx, fn, map[string]any{"id": 0}, RunOptions{Trigger: functions.TriggerEvent})
		if err == nil || err.Error() != wantErr {
			t.Errorf("%s\n got: %v\nwant: %s", fn, err, wantErr)
		}
	}
	if got := runErr(t, r, `function handle() backend.executeFunction("nope") end`); got != `function "t" failed at line 1: backend.executeFunction: no function named "nope"` {
		t.Errorf("missing function: %s", got)
	}
}

func TestTestRunsUnsavedSource(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	res, err := r.Test(ctx, functions.Definition{Source: "function main(input, ctx) print('hi') return {input.x, ctx.trigger} end", Handler: "main"}, map[string]any{"x": 1}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Value, bson.A{int64(1), "test"}) || res.Function != TestName || res.Version != 0 {
		t.Errorf("got %+v", res)
	}
	execs, err := r.Executions(ctx, TestName, 5)
	if err != nil || len(execs) != 1 || execs[0].Trigger != functions.TriggerTest || execs[0].Logs[0].Message != "hi" {
		t.Errorf("records %+v %v", execs, err)
	}
	// A test-run may pretend to come from a trigger, which ctx shows.
	res, err = r.Test(ctx, functions.Definition{Name: "t", Source: "function handle(input, ctx) return {ctx.trigger, ctx.event} end"}, nil,
		RunOptions{Trigger: functions.TriggerEvent, Event: "user_registered"})
	if err != nil || !reflect.DeepEqual(res.Value, bson.A{"event", "user_registered"}) || res.Version != 0 {
		t.Errorf("an event test-run: %+v %v", res, err)
	}
	_, err = r.Test(ctx, functions.Definition{Source: "function handle(\n"}, nil, RunOptions{})
	var ce *CompileError
	if !errors.As(err, &ce) || err.Error() != `function "test": syntax error at line 2: unexpected end of source: syntax error` {
		t.Errorf("a syntax error: %v", err)
	}
	if list, _ := r.List(ctx); len(list) != 0 {
		t.Errorf("Test saved %v", list)
	}
}
