package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// bindFunctionsAdminApi registers the functions part of the admin API
// (docs/admin-api.md, "Functions"). The admin token guards it (see newApp).
func bindFunctionsAdminApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin/functions")
	g.Get("/", s.adminListFunctions)
	g.Post("/test", s.adminTestFunction)
	g.Put("/:name", s.adminPutFunction)
	g.Get("/:name", s.adminGetFunction)
	g.Delete("/:name", s.adminDeleteFunction)
	g.Get("/:name/versions", s.adminFunctionVersions)
	g.Post("/:name/rollback", s.adminRollbackFunction)
	g.Get("/:name/executions", s.adminFunctionExecutions)
	g.Post("/:name/executions/:id/rerun", s.adminRerunExecution)
	g.Post("/:name/run", s.adminRunFunction)
}

// nameParam is the :name of the path, copied out of fasthttp's buffer.
func nameParam(c *fiber.Ctx) string { return strings.Clone(c.Params("name")) }

// adminListFunctions answers {functions: [{name, version, handler,
// triggers, timeout, retries, created_at, updated_at}], next}, by name,
// without their sources. ?limit= pages it (paging.go: ?after=<last name
// of the previous page>); without ?limit= it answers every function from
// the cursor on, as it did before it paged, so a script that reads the
// whole list once still gets it. ?prefix= keeps the names starting with
// it.
func (s *Server) adminListFunctions(c *fiber.Ctx) error {
	limit, err := optionalListLimit(c)
	if err != nil {
		return err
	}
	after, err := cursorParam(c, "after")
	if err != nil {
		return err
	}
	if after != "" && !validFunctionName(after) {
		return badInput("after must be the name of a function (the next of the previous page), not %q", after)
	}
	prefix := strings.Clone(c.Query("prefix"))
	if prefix != "" && !validFunctionName(prefix) {
		return badInput("prefix must be the start of a function name (letters, digits, _ or -, starting with a letter, at most 64), not %q", prefix)
	}
	fns, err := s.functions.ListPage(c.UserContext(), after, prefix, limit)
	if err != nil {
		return err
	}
	list := make([]adminapi.Function, len(fns))
	for i, fn := range fns {
		list[i] = adminapi.FunctionOf(fn, false)
	}
	next := ""
	if limit > 0 && len(list) > 0 {
		next = nextCursor(len(list), limit, list[len(list)-1].Name)
	}
	return c.JSON(adminapi.FunctionsAnswer{Functions: list, Next: next})
}

// validFunctionName reports whether name could name a function (a
// cursor or a prefix of one).
func validFunctionName(name string) bool { return functions.ValidateName(name) == nil }

// adminPutFunction creates a function or saves a new version of it: 201
// {function} when created, 200 when updated (or unchanged: saving what is
// current keeps its version). A definition that does not compile or whose
// triggers are wrong changes nothing.
func (s *Server) adminPutFunction(c *fiber.Ctx) error {
	name := nameParam(c)
	def, err := decodeDefinition(c.Body())
	if err != nil {
		return err
	}
	if def.Name != "" && def.Name != name {
		return badInput("name %q in the body differs from %q in the path", def.Name, name)
	}
	def.Name = name
	if err := functions.ValidateName(name); err != nil {
		return err
	}
	if err := checkTriggers(def); err != nil {
		return err
	}
	ctx := c.UserContext()
	_, err = s.functions.Get(ctx, name)
	created := errors.Is(err, functions.ErrFunctionNotFound)
	if err != nil && !created {
		return err
	}
	fn, err := s.functions.Save(ctx, def)
	if err != nil {
		return err
	}
	if err := s.functionSaved(ctx, fn); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.Status(status).JSON(adminapi.FunctionAnswer{Function: adminapi.FunctionOf(fn, true)})
}

// functionSaved keeps the scheduler's entries in step with a function
// just saved, rolled back or deployed.
func (s *Server) functionSaved(ctx context.Context, fn functions.Function) error {
	return s.syncSchedules(ctx, fn.Name, fn.Triggers)
}

// adminGetFunction answers {function} with its source.
func (s *Server) adminGetFunction(c *fiber.Ctx) error {
	fn, err := s.functions.Get(c.UserContext(), nameParam(c))
	if err != nil {
		return err
	}
	return c.JSON(adminapi.FunctionAnswer{Function: adminapi.FunctionOf(fn, true)})
}

// adminDeleteFunction deletes a function, its versions and its schedules:
// 204. Its execution records stay until they age out.
func (s *Server) adminDeleteFunction(c *fiber.Ctx) error {
	name := nameParam(c)
	ctx := c.UserContext()
	if err := s.functions.Delete(ctx, name); err != nil {
		return err
	}
	if err := s.syncSchedules(ctx, name, nil); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// adminFunctionVersions answers {versions: [{version, created_at, source,
// handler, triggers, timeout, retries, backoff}]}, newest first.
func (s *Server) adminFunctionVersions(c *fiber.Ctx) error {
	fns, err := s.functions.Versions(c.UserContext(), nameParam(c))
	if err != nil {
		return err
	}
	list := make([]adminapi.Version, len(fns))
	for i, fn := range fns {
		v := adminapi.FunctionOf(fn, true)
		list[i] = adminapi.Version{
			Version: v.Version, CreatedAt: fn.CreatedAt, Source: v.Source, Handler: v.Handler,
			Triggers: v.Triggers, Timeout: v.Timeout, Retries: v.Retries, Backoff: v.Backoff,
		}
	}
	return c.JSON(adminapi.VersionsAnswer{Versions: list})
}

// adminRollbackFunction takes {version} and saves that version's content
// as a new version (the history only grows): {function}.
func (s *Server) adminRollbackFunction(c *fiber.Ctx) error {
	body, err := s.jsonBody(c)
	if err != nil {
		return err
	}
	if err := onlyFields(body, "version"); err != nil {
		return err
	}
	version, ok := body["version"].(int64)
	if !ok || version < 1 {
		return badInput("version must be a version number (1 or more)")
	}
	ctx := c.UserContext()
	fn, err := s.functions.Rollback(ctx, nameParam(c), version)
	if err != nil {
		return err
	}
	if err := s.functionSaved(ctx, fn); err != nil {
		return err
	}
	return c.JSON(adminapi.FunctionAnswer{Function: adminapi.FunctionOf(fn, true)})
}

// adminFunctionExecutions answers {executions: [...], next}, newest first:
// ?limit= (1 to 1000, default 50) of them, and with ?after=<id> only those
// that started after that one (what `moonbase functions logs --follow` polls),
// with ?before=<id> the page after the one that ended with that run (next
// is the before of the following page, "" when this one was not full);
// ?status= and ?trigger= keep only the runs with that status or trigger.
func (s *Server) adminFunctionExecutions(c *fiber.Ctx) error {
	limit := 50
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > functions.MaxExecutions {
			return badInput("limit must be a number from 1 to %d", functions.MaxExecutions)
		}
		limit = n
	}
	name := nameParam(c)
	q := functions.ExecutionQuery{Limit: limit, Status: strings.Clone(c.Query("status")), Trigger: strings.Clone(c.Query("trigger"))}
	switch q.Status {
	case "", functions.StatusOK, functions.StatusError, functions.StatusTimeout:
	default:
		return badInput("status must be ok, error or timeout, not %q", q.Status)
	}
	switch q.Trigger {
	case "", functions.TriggerInvoke, functions.TriggerHTTP, functions.TriggerEvent, functions.TriggerSchedule,
		functions.TriggerTest, functions.TriggerFunction:
	default:
		return badInput("trigger must be invoke, http, event, schedule, test or function, not %q", q.Trigger)
	}
	if after := c.Query("after"); after != "" {
		if _, perr := primitive.ObjectIDFromHex(after); perr != nil {
			return badInput("after must be an execution id (24 hexadecimal digits), not %q", after)
		}
		q.After = strings.Clone(after)
	}
	if before := c.Query("before"); before != "" {
		if _, perr := primitive.ObjectIDFromHex(before); perr != nil {
			return badInput("before must be an execution id (24 hexadecimal digits), not %q", before)
		}
		if q.After != "" {
			return badInput("give after (newer runs) or before (older runs), not both")
		}
		q.Before = strings.Clone(before)
	}
	execs, err := s.functions.QueryExecutions(c.UserContext(), name, q)
	if err != nil {
		return err
	}
	list := make([]adminapi.Execution, len(execs))
	for i, e := range execs {
		list[i] = adminapi.ExecutionOf(e)
	}
	last := ""
	if len(list) > 0 {
		last = list[len(list)-1].ID
	}
	return c.JSON(adminapi.ExecutionsAnswer{Executions: list, Next: nextCursor(len(list), limit, last)})
}

// testRunTriggers are the triggers a test run may pretend to come from;
// ctx.trigger says it, and "http" makes a returned {status, headers, body}
// table the answer as it would be on /functions/:name.
var testRunTriggers = map[string]bool{
	functions.TriggerTest: true, functions.TriggerInvoke: true, functions.TriggerHTTP: true,
	functions.TriggerEvent: true, functions.TriggerSchedule: true,
}

// adminRunFunction runs the saved function now, taking {input, trigger?,
// user?, user_token?}: an adminapi.RunAnswer. Without a user it runs with
// no user and full rights (the operator asked for it, whatever trigger it
// pretends to come from); a failed run is still a 200, the request itself
// worked.
func (s *Server) adminRunFunction(c *fiber.Ctx) error {
	var req adminapi.RunRequest
	if err := s.strictBody(c, &req, adminapi.RunRequestFields); err != nil {
		return err
	}
	if req.Trigger == "" {
		req.Trigger = functions.TriggerTest
	}
	if !testRunTriggers[req.Trigger] {
		return badInput("trigger %q: use test, invoke, http, event or schedule", req.Trigger)
	}
	input, err := s.runInput(req.Input)
	if err != nil {
		return err
	}
	name := nameParam(c)
	ctx := c.UserContext()
	if req.Trigger == functions.TriggerInvoke || req.Trigger == functions.TriggerHTTP {
		fn, err := s.functions.Get(ctx, name)
		if err != nil {
			return err
		}
		if !fn.Has(req.Trigger) {
			return badInput("function %q has no %s trigger", name, req.Trigger)
		}
	}
	user, err := s.runAs(ctx, req.User, req.UserToken)
	if err != nil {
		return err
	}
	// The operator asked for the run: with full rights, whatever trigger
	// it pretends to come from, unless it runs as a user, whose rights
	// then apply as they would to the app's call.
	opts := engine.RunOptions{Trigger: req.Trigger, Rights: engine.RightsFull}
	if user != nil {
		opts.User, opts.Rights = user.EventData(), engine.RightsCaller
	}
	res, err := s.functions.Run(ctx, name, input, opts)
	return s.answerRun(c, res, err)
}

// runAs finds the user a test run acts as: by email, by a session token,
// or nobody when both are empty.
func (s *Server) runAs(ctx context.Context, email, token string) (*User, error) {
	switch {
	case email != "" && token != "":
		return nil, badInput("give user or user_token, not both")
	case email != "":
		e, err := normalizeEmail(email)
		if err != nil {
			return nil, err
		}
		doc, err := s.store.C(db.Users).FindOne(ctx, bson.M{"email": e}, nil)
		if errors.Is(err, db.ErrNotFound) {
			return nil, Errorf(http.StatusNotFound, "not_found", "user not found: no account has the email %q", e)
		}
		if err != nil {
			return nil, err
		}
		return userFromDoc(doc)
	case token != "":
		u, err := s.sessionUser(ctx, tokenHash(token))
		if errors.Is(err, ErrInvalidSession) {
			return nil, badInput("user_token is not the token of a current session: sign in again")
		}
		return u, err
	}
	return nil, nil
}

// adminTestFunction compiles and runs unsaved source once, as the
// editor's "Test" does, taking {name?, source, handler?, triggers?,
// timeout?, input, trigger?, event?, user?}: an adminapi.RunAnswer. Nothing is
// saved; the run is recorded under name (default "test") with version 0.
// trigger (default "test") is the trigger the run pretends to come from,
// and its rights follow it (engine.RightsOfTrigger): test, event and
// schedule runs act with full rights, invoke and http runs as their
// caller, the user whose id user gives or, without one, anonymous. event
// names the event of an event run.
func (s *Server) adminTestFunction(c *fiber.Ctx) error {
	var req struct {
		functions.Definition
		Input   json.RawMessage `json:"input"`
		Trigger string          `json:"trigger"`
		Event   string          `json:"event"`
		User    string          `json:"user"`
	}
	if err := s.strictBody(c, &req, definitionFields+", input, trigger, event, user"); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = "test"
	}
	if err := checkTriggers(req.Definition); err != nil {
		return err
	}
	opts, err := s.testRunOptions(c.UserContext(), req.Trigger, req.Event, req.User)
	if err != nil {
		return err
	}
	input, err := s.runInput(req.Input)
	if err != nil {
		return err
	}
	res, err := s.functions.Test(c.UserContext(), req.Definition, input, opts)
	return s.answerRun(c, res, err)
}

// testRunOptions checks a test-run's trigger context.
func (s *Server) testRunOptions(ctx context.Context, trigger, event, user string) (engine.RunOptions, error) {
	if trigger == "" {
		trigger = functions.TriggerTest
	}
	if !testRunTriggers[trigger] {
		return engine.RunOptions{}, badInput("trigger %q: use test, invoke, http, event or schedule", trigger)
	}
	opts := engine.RunOptions{Trigger: trigger}
	switch {
	case trigger == functions.TriggerEvent:
		if event == "" || len(event) > events.MaxEventNameLen {
			return opts, badInput("an event run needs the event's name (1-%d characters)", events.MaxEventNameLen)
		}
		opts.Event = event
	case event != "":
		return opts, badInput("event is only for trigger event")
	}
	if user != "" {
		if trigger != functions.TriggerInvoke && trigger != functions.TriggerHTTP {
			return opts, badInput("user is only for trigger invoke or http: other runs have no caller")
		}
		u, err := s.userByID(ctx, user)
		if errors.Is(err, ErrInvalidSession) {
			return opts, badInput("user %q: no such user", user)
		}
		if err != nil {
			return opts, err
		}
		opts.User = u.EventData()
	}
	return opts, nil
}

// strictBody decodes a JSON object body into dst, refusing unknown fields.
func (s *Server) strictBody(c *fiber.Ctx, dst any, fields string) error {
	body := c.Body()
	if len(body) == 0 {
		return badInput("request body is empty; send a JSON object {%s}", fields)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badInput("unknown field %s (expected %s)", strings.Trim(f, `"`), fields)
		}
		return definitionJSONError(err)
	}
	return nil
}

// runInput decodes a run's input under the server's limits; absent or
// null is an empty object.
func (s *Server) runInput(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return bson.M{}, nil
	}
	return s.decodeInput(raw)
}

// answerRun writes a test run's adminapi.RunAnswer. A run that failed is answered
// with its error and the status a client would have had; a refusal before
// the run (no such function, input the runtime cannot take) is an error
// answer.
func (s *Server) answerRun(c *fiber.Ctx, res engine.Result, err error) error {
	ans, err := runAnswer(res, err)
	if err != nil {
		return err
	}
	return c.JSON(ans)
}

// runAnswer is answerRun's answer, or the error to answer instead.
func runAnswer(res engine.Result, err error) (adminapi.RunAnswer, error) {
	var re *engine.RunError
	if err != nil && !errors.As(err, &re) {
		return adminapi.RunAnswer{}, err
	}
	ans := adminapi.RunAnswer{
		Status: http.StatusOK, Headers: res.Headers, Output: res.Logs, ExecutionID: res.ExecutionID,
		DurationMs: float64(res.Duration.Microseconds()) / 1000,
	}
	if ans.Output == nil {
		ans.Output = []functions.LogLine{}
	}
	if re != nil {
		ans.Error, ans.Line = re.Error(), re.Line
		if apiErr := toAPIError(err); apiErr != nil {
			ans.Status = apiErr.Status
		}
		return ans, nil
	}
	if res.Status != 0 {
		ans.Status = res.Status
	}
	ans.Result = jsonValue(res.Value)
	return ans, nil
}
