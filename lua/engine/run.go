package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// RunOptions say why and for whom a function runs. The handler sees them as
// its second argument, ctx = {trigger, event, id, at, user, attempt,
// function, version, executionId}.
type RunOptions struct {
	// Trigger is one of the Trigger* constants. TriggerInvoke and
	// TriggerHTTP runs need the function to have that trigger; the others
	// run any function.
	Trigger string
	// User is ctx.user: the signed-in user who called the function, or the
	// user an event is about; nil for nobody. It must hold "id" (a
	// string). Whether the data calls act with that user's rights is
	// Rights' decision, not User's.
	User map[string]any
	// Rights say with whose rights the data calls act; the zero value
	// follows the trigger (see RightsOfTrigger).
	Rights Rights
	// Method is an http run's request method, checked against the
	// methods its http trigger lists before the function runs.
	Method string
	// Event is the event's name, for event runs.
	Event string
	// ID identifies what caused the run (the event's id, a schedule
	// occurrence's id); stable across retries.
	ID string
	// At is when the cause happened; zero means now.
	At time.Time
	// Attempt counts the queue's attempts, from 1; zero means 1.
	Attempt int
	// ChainDepth is the triggering event's place in a chain of
	// function-caused events (0 for a run no such event caused); the
	// events of the run's own writes are one deeper.
	ChainDepth int
}

// Rights say with whose rights a run's data calls (backend.query and
// friends) act. backend.asServiceRole acts with full rights whatever they
// are.
type Rights uint8

const (
	// RightsOfTrigger, the zero value, follows the trigger: invoke, http
	// and function runs act as their caller (RightsCaller); event,
	// schedule and test runs, which have none, as the system (RightsFull).
	// A trigger it does not know acts as the caller.
	RightsOfTrigger Rights = iota
	// RightsCaller acts as RunOptions.User under the collections' access
	// rules, or as anonymous when User is nil: public collections only,
	// as the REST API allows.
	RightsCaller
	// RightsFull acts as the system: every collection, every document.
	RightsFull
)

// resolve is r for a run of trigger: RightsCaller or RightsFull.
func (r Rights) resolve(trigger string) Rights {
	if r != RightsOfTrigger {
		return r
	}
	switch trigger {
	case functions.TriggerEvent, functions.TriggerSchedule, functions.TriggerTest:
		return RightsFull
	}
	return RightsCaller
}

// Result is what a run produced. Run returns it also with an error (minus
// Value), so the execution id and the logs are there for a failed run too.
type Result struct {
	// Value is the handler's return value converted to Go (bson.M, bson.A,
	// string, int64, float64, bool, primitive.DateTime, nil), or the body
	// of the response it returned. A string body is meant to be sent as
	// it is; anything else as JSON.
	Value any
	// Status is the HTTP status the function chose by returning
	// backend.response(status, body, headers) (or, for an http run, a
	// table {status=…, headers=…, body=…}); 0 when it did not choose.
	Status int
	// Headers are the response headers the function chose, or nil.
	Headers map[string]string

	ExecutionID string
	Function    string
	Version     int64
	Duration    time.Duration
	Logs        []functions.LogLine
}

// Run runs the current version of the named function with input as its
// first argument (an HTTPRequest is given as the table of the http
// trigger's request). Errors: functions.ErrFunctionNotFound (also for an
// invoke or http run of a function without that trigger), ErrInvalidInput,
// functions.ErrClosed, and *RunError for a run that failed (errors.Is gives
// ErrTimeout, ErrMemoryLimit or ErrCanceled for a stopped one).
func (r *Registry) Run(ctx context.Context, name string, input any, opts RunOptions) (Result, error) {
	return r.runNamed(ctx, name, input, opts, 0)
}

func (r *Registry) runNamed(ctx context.Context, name string, input any, opts RunOptions, depth int) (Result, error) {
	if r.closed.Load() {
		return Result{}, functions.ErrClosed
	}
	c, err := r.lookup(ctx, name)
	if err != nil {
		return Result{}, err
	}
	if (opts.Trigger == functions.TriggerInvoke || opts.Trigger == functions.TriggerHTTP) && !c.fn.Has(opts.Trigger) {
		return Result{}, fmt.Errorf("%w: %q", functions.ErrFunctionNotFound, name)
	}
	if opts.Trigger == functions.TriggerHTTP && opts.Method != "" {
		if ok, allow := c.fn.AllowsMethod(opts.Method); !ok {
			return Result{}, &functions.MethodError{Function: name, Method: opts.Method, Allow: allow}
		}
	}
	return r.execute(ctx, c, input, opts, depth)
}

// Test compiles and runs a definition without saving it, as the admin
// editor's "test" button does. The run is recorded under the definition's
// name (TestName when it has none) with version 0, which no saved version
// has. opts.Trigger is the trigger the run pretends to come from (what
// ctx.trigger says, and for TriggerHTTP how a returned response table is
// read); empty is TriggerTest.
func (r *Registry) Test(ctx context.Context, def functions.Definition, input any, opts RunOptions) (Result, error) {
	if r.closed.Load() {
		return Result{}, functions.ErrClosed
	}
	if def.Name == "" {
		def.Name = TestName
	}
	def, err := r.Store.Normalize(def)
	if err != nil {
		return Result{}, err
	}
	proto, err := compile(def.Name, def.Source, def.Handler)
	if err != nil {
		return Result{}, err
	}
	fn := functions.Function{Name: def.Name, Source: def.Source, Handler: def.Handler, Triggers: def.Triggers, Timeout: def.Timeout, Retries: def.Retries, Backoff: def.Backoff}
	if opts.Trigger == "" {
		opts.Trigger = functions.TriggerTest
	}
	return r.execute(ctx, &cached{fn: fn, proto: proto}, input, opts, 0)
}

// TestName is the name Test gives a definition that has none.
const TestName = "test"

// run is the state of one run, reachable from the backend calls through
// the vm running it.
type run struct {
	reg    *Registry
	ctx    *runCtx
	fn     *functions.Function
	opts   RunOptions
	user   map[string]any
	userID string
	// full is set when the data calls act with full rights (RightsFull);
	// otherwise they act as userID, or as anonymous when it is "".
	full    bool
	depth   int
	id      string
	timeout time.Duration

	logs     []functions.LogLine
	logBytes int64
	logFull  bool
	// turnAt is when the run took its turn among long runs, zero when it
	// holds none (see turns.go).
	turnAt time.Time
	// builtSince is how many bytes of strings the run built in library
	// calls since it last ticked (see vm.built).
	builtSince int64
	// vmctx is the context set on the run's Lua state (vmctx.go).
	vmctx vmCtx
	// seen are the backend.webhooks.seen keys the run claimed, kept or
	// released when it ends.
	seen []string
}

// execute runs c on a pooled state and records the run.
func (r *Registry) execute(ctx context.Context, c *cached, input any, opts RunOptions, depth int) (Result, error) {
	userID, err := userIDOf(opts.User)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	timeout := c.fn.Timeout.D()
	if timeout <= 0 {
		timeout = r.cfg.Timeout
	}
	oid := primitive.NewObjectIDFromTimestamp(start)
	ru := &run{
		reg: r, ctx: newRunCtx(ctx, start, start.Add(timeout)), fn: &c.fn, opts: opts, user: opts.User,
		userID: userID, full: opts.Rights.resolve(opts.Trigger) == RightsFull, depth: depth, id: oid.Hex(), timeout: timeout,
	}
	if !r.watch.add(ru.ctx) {
		return Result{}, functions.ErrClosed
	}
	v := r.getVM()
	out, err := v.exec(ru, c, input)
	ru.endTurn()
	// The run stays watched until its record is queued: Shutdown waits
	// for watched runs to end before it writes the records, so none is
	// queued after the writer has closed.
	defer r.watch.remove(ru.ctx)
	ru.ctx.cancel(errRunEnded)
	r.putVM(v)

	if len(ru.seen) > 0 {
		r.settleSeen(ru, err == nil && out.Status < 500)
	}
	out.ExecutionID, out.Function, out.Version = ru.id, c.fn.Name, c.fn.Version
	out.Duration = time.Since(start)
	out.Logs = ru.logs
	if errors.Is(err, ErrInvalidInput) {
		return Result{}, err
	}
	rec := executionRecord(oid, ru, start, out, err)
	rec.Input = r.recordedInput(input)
	r.Store.Record(rec)
	if err != nil {
		out.Value, out.Status, out.Headers = nil, 0, nil
	}
	return out, err
}

// executionRecord is what the store keeps of a run: its status comes from
// the error, a stopped run's kind included.
func executionRecord(id primitive.ObjectID, ru *run, start time.Time, res Result, err error) functions.RunRecord {
	rec := functions.RunRecord{
		ID: id, Function: res.Function, Version: res.Version, Trigger: ru.opts.Trigger, Start: start, Duration: res.Duration,
		Status: functions.StatusOK, Logs: res.Logs, User: ru.userID, Identity: ru.identity(), Event: ru.opts.Event, EventID: ru.opts.ID, Attempt: ru.opts.Attempt,
	}
	if err != nil {
		rec.Status, rec.Error = functions.StatusError, err.Error()
		var re *RunError
		if errors.As(err, &re) {
			rec.Line, rec.Traceback = re.Line, re.Traceback
			if re.Kind == ErrTimeout {
				rec.Status = functions.StatusTimeout
			}
		}
	}
	return rec
}

// recordedInput is a run's input as its execution record keeps it: an
// http run's request as {method, path, url, query, headers, body}, and
// for a replayed one received_at (its first arrival), with
// the headers Deps.RedactHeader names replaced by "[redacted]"; any other
// input as it is.
func (r *Registry) recordedInput(input any) any {
	req, ok := input.(HTTPRequest)
	if !ok {
		return input
	}
	headers := make(bson.M, req.NumHeaders())
	req.VisitHeaders(func(name, value string) {
		if r.deps.RedactHeader != nil && r.deps.RedactHeader(name) {
			value = RedactedHeader
		} else if prev, ok := headers[name].(string); ok {
			value = prev + ", " + value
		}
		headers[name] = value
	})
	in := bson.M{
		"method": req.Method(), "path": req.Path(), "url": req.URL(), "query": req.RawQuery(),
		"headers": headers, "body": req.Body(),
	}
	if rr, ok := req.(ReplayedHTTPRequest); ok {
		in["received_at"] = rr.ReceivedAt().UTC()
	}
	return in
}

// RedactedHeader replaces the value of a request header an execution
// record does not keep.
const RedactedHeader = "[redacted]"

// identity names whose rights the run's data calls had, as its execution
// record keeps it: functions.IdentitySystem, the user's id, or
// functions.IdentityAnonymous.
func (ru *run) identity() string {
	switch {
	case ru.full:
		return functions.IdentitySystem
	case ru.userID != "":
		return ru.userID
	}
	return functions.IdentityAnonymous
}

// rights are the run's rights as a run it calls inherits them.
func (ru *run) rights() Rights {
	if ru.full {
		return RightsFull
	}
	return RightsCaller
}

// userIDOf reads the user's id.
func userIDOf(user map[string]any) (string, error) {
	if user == nil {
		return "", nil
	}
	for _, k := range []string{"id", "_id"} {
		switch id := user[k].(type) {
		case string:
			if id != "" {
				return id, nil
			}
		case primitive.ObjectID:
			return id.Hex(), nil
		}
	}
	return "", fmt.Errorf("%w: the user has no id", ErrInvalidInput)
}

// exec runs the chunk (which defines the handler in the run's fresh
// globals) and then the handler, on this state.
func (v *vm) exec(ru *run, c *cached, input any) (res Result, err error) {
	L := v.L
	v.run = ru
	env, chunk := v.runChunk(c.proto)
	ru.vmctx.ru = ru
	L.SetContext(&ru.vmctx)
	defer func() {
		L.RemoveContext()
		L.SetTop(0)
		L.Env = v.base
		v.run = nil
		if ru.ctx.stopped() != nil || !v.intact() {
			v.broken = true
			v.endInput(false)
		} else {
			v.endEnv()
			v.endInput(true)
		}
	}()

	// The input is converted before anything runs, so that bad input is
	// the caller's error and not the function's.
	var in, ctxTable lua.LValue = lua.LNil, lua.LNil
	if req, ok := input.(HTTPRequest); ok {
		in = v.newHTTPInput(req)
	} else if in, err = v.toLua(input); err != nil {
		return res, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	L.Push(chunk)
	v.chunkKeys = -1
	if err := v.protectedCall(0, 0); err != nil {
		return res, v.runError(ru, err)
	}
	v.chunkKeys = v.heldKeys(env)
	h, ok := env.RawGetString(c.fn.Handler).(*lua.LFunction)
	if !ok {
		return res, &RunError{Function: c.fn.Name, Version: c.fn.Version, Message: fmt.Sprintf("the handler %q is not defined: define function %s(input, ctx)", c.fn.Handler, c.fn.Handler)}
	}
	// A handler that declares no ctx parameter (and takes no ...) cannot
	// see ctx, so it is not built.
	if h.IsG || h.Proto.NumParameters >= 2 || h.Proto.IsVarArg != 0 {
		if ctxTable, err = v.contextTable(ru); err != nil {
			return res, fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
	}
	L.Push(h)
	L.Push(in)
	L.Push(ctxTable)
	if err := v.protectedCall(2, 1); err != nil {
		return res, v.runError(ru, err)
	}
	if stop := ru.ctx.stopped(); stop != nil {
		return res, v.stopError(ru, stop, 0)
	}
	ret := L.Get(-1)
	if resp, ok := v.responseOf(ret, ru.opts.Trigger); ok {
		res.Status, res.Headers, ret = resp.status, resp.headers, resp.body
	}
	res.Value, err = v.toGo(ret, v.reg.cfg.MaxReturnBytes, "the returned value")
	if err != nil {
		return res, &RunError{Function: c.fn.Name, Version: c.fn.Version, Message: "cannot send what the handler returned: " + err.Error()}
	}
	return res, nil
}

// ctxFields is how many fields ctx has.
const ctxFields = 9

// ctxValues are the values a state last put in ctx. Lua values of strings
// and numbers are boxed, so putting the same field value in ctx again
// reuses the box rather than allocate it anew.
type ctxValues struct {
	trigger, function, event, id, version, attempt lua.LValue
	at                                             *lua.LUserData
}

// contextTable is the handler's second argument. Each state keeps one ctx
// table and refills it for every run, since building a nine-field table
// was the largest cost of a small run. ctx is read-only: the handler gets
// an empty proxy whose metatable reads the fields and refuses every write
// (rawset and table.insert refuse it too), and next, pairs and rawget
// read the fields through it.
func (v *vm) contextTable(ru *run) (*lua.LTable, error) {
	t, last := v.ctxData, &v.ctxVals
	at := ru.opts.At
	if at.IsZero() {
		at = ru.ctx.started
	}
	attempt := ru.opts.Attempt
	if attempt == 0 {
		attempt = 1
	}
	var user lua.LValue = lua.LNil
	if ru.user != nil {
		u, err := v.toLua(ru.user)
		if err != nil {
			return nil, within(err, "user")
		}
		user = u
	}
	// ctx.at is one date per state, given each run's time: no run can
	// change a date, nor keep one for the next.
	if last.at == nil {
		last.at = v.newDate(at)
	} else {
		last.at.Value = at.UTC()
	}
	t.RawSetString("trigger", sameString(&last.trigger, ru.opts.Trigger))
	t.RawSetString("at", last.at)
	t.RawSetString("attempt", sameNumber(&last.attempt, float64(attempt)))
	t.RawSetString("function", sameString(&last.function, ru.fn.Name))
	t.RawSetString("version", sameNumber(&last.version, float64(ru.fn.Version)))
	t.RawSetString("executionId", lua.LString(ru.id))
	t.RawSetString("event", sameString(&last.event, ru.opts.Event))
	t.RawSetString("id", sameString(&last.id, ru.opts.ID))
	t.RawSetString("user", user)
	return v.ctx, nil
}

// sameString is s as a Lua value (nil for ""), *last when that is it
// already; it keeps the value in *last.
func sameString(last *lua.LValue, s string) lua.LValue {
	if s == "" {
		return lua.LNil
	}
	if ls, ok := (*last).(lua.LString); !ok || string(ls) != s {
		*last = lua.LString(s)
	}
	return *last
}

// sameNumber is f as a Lua value, *last when that is it already; it keeps
// the value in *last.
func sameNumber(last *lua.LValue, f float64) lua.LValue {
	if n, ok := (*last).(lua.LNumber); !ok || float64(n) != f {
		*last = lua.LNumber(f)
	}
	return *last
}

// errorPosition splits "name:LINE: message" as Lua writes an error raised
// in the chunk called name.
var errorPosition = regexp.MustCompile(`(?s)^([^\n]*?):(\d+): (.*)$`)

// runError turns what PCall returned into a *RunError.
func (v *vm) runError(ru *run, err error) error {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		return &RunError{Function: ru.fn.Name, Version: ru.fn.Version, Message: err.Error()}
	}
	msg, line := v.errorText(apiErr.Object, ru.fn.Name)
	if stop := ru.ctx.stopped(); stop != nil {
		return v.stopError(ru, stop, line)
	}
	re := &RunError{Function: ru.fn.Name, Version: ru.fn.Version, Line: line, Message: msg, Traceback: luaTraceback(apiErr.StackTrace)}
	if apiErr.Type == lua.ApiErrorPanic {
		// A Go panic inside a library call: its text is Go's, not the
		// user's business; keep it for the operator only.
		v.reg.log.Error("function run panicked", "function", ru.fn.Name, "version", ru.fn.Version, "panic", msg)
		re.Message = "internal error in a library call"
	}
	return re
}

// stopError is the error of a run the watchdog stopped.
func (v *vm) stopError(ru *run, stop error, line int) error {
	re := &RunError{Function: ru.fn.Name, Version: ru.fn.Version, Line: line, Kind: stop}
	switch stop {
	case ErrTimeout:
		re.Message = "timed out after " + ru.timeout.String()
		// A caller's deadline before the run's own is the one that passed
		// (server.request_timeout, say), and the one to name.
		if d, ok := ru.ctx.parent.Deadline(); ok && d.Before(ru.ctx.deadline) {
			re.Message = fmt.Sprintf("timed out after %s: its caller's deadline came before the function's timeout of %s", d.Sub(ru.ctx.started).Round(time.Millisecond), ru.timeout)
		}
	case ErrMemoryLimit:
		re.Message = fmt.Sprintf("memory limit exceeded: the server's heap passed %s while this run was growing it", byteSize(v.reg.cfg.MemoryLimit))
	default:
		re.Message = "canceled: the caller went away or the server is shutting down"
	}
	return re
}

// errorText is an error value's message and Lua line (0 when it carries
// none from this function's chunk).
func (v *vm) errorText(obj lua.LValue, chunk string) (string, int) {
	switch o := obj.(type) {
	case lua.LString:
		s := string(o)
		if m := errorPosition.FindStringSubmatch(s); m != nil && m[1] == chunk {
			line, _ := strconv.Atoi(m[2])
			return m[3], line
		}
		return s, 0
	case *lua.LTable:
		if val, err := v.toGo(o, 4096, "the error value"); err == nil {
			if b, err := jsonText(val, false); err == nil {
				return string(b), 0
			}
		}
	}
	if obj == nil {
		return "error", 0
	}
	return obj.String(), 0
}

// luaTraceback keeps the Lua frames of gopher-lua's traceback.
func luaTraceback(tb string) string {
	tb = strings.TrimPrefix(strings.TrimSpace(tb), "stack traceback:")
	var keep []string
	for _, l := range strings.Split(tb, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "[G]: ?" {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
