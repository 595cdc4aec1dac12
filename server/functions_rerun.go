package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// adminRerunExecution runs the current version of a function again with
// the input and trigger context one of its runs had:
// POST /api/admin/functions/:name/executions/:id/rerun answers an
// adminapi.RunAnswer (a failed run is still a 200) with rerun_of. The run
// acts with the rights the first one had: the system's, the same user's
// (looked up again, so a deleted user cannot be acted as), or anonymous.
// A test-run of unsaved text, or a record without its whole input (over
// functions.MaxInputBytes, or older than kept inputs), is 409.
func (s *Server) adminRerunExecution(c *fiber.Ctx) error {
	name := nameParam(c)
	ctx := c.UserContext()
	e, err := s.functions.Execution(ctx, name, strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	if e.Version == 0 {
		return Errorf(http.StatusConflict, "conflict", "run %s was a test-run of text that was never saved: run it again from the editor", e.ID)
	}
	switch {
	case e.InputCut:
		return fmt.Errorf("%w: run %s was given %d bytes, and its record keeps at most %d; send the input again with POST /api/admin/functions/%s/run",
			functions.ErrInputNotKept, e.ID, e.InputBytes, functions.MaxInputBytes, name)
	case e.Input == nil:
		return fmt.Errorf("%w: run %s was recorded without its input (before inputs were kept)", functions.ErrInputNotKept, e.ID)
	}
	opts, err := s.rerunOptions(ctx, e)
	if err != nil {
		return err
	}
	input := e.Input
	if e.Trigger == functions.TriggerHTTP {
		req, err := s.recordedRequest(e)
		if err != nil {
			return err
		}
		input, opts.Method = req, req.in.Method
	}
	ans, err := runAnswer(s.functions.Run(ctx, name, input, opts))
	if err != nil {
		return err
	}
	ans.RerunOf = e.ID
	return c.JSON(ans)
}

// rerunOptions rebuild the trigger context of run e: its trigger, event
// and cause, ctx.user, and the rights its data calls had.
func (s *Server) rerunOptions(ctx context.Context, e functions.Execution) (engine.RunOptions, error) {
	opts := engine.RunOptions{Trigger: e.Trigger, Event: e.Event, ID: e.EventID, Rights: engine.RightsCaller}
	if e.Identity == functions.IdentitySystem {
		opts.Rights = engine.RightsFull
	}
	if e.User == "" {
		return opts, nil
	}
	u, err := s.userByID(ctx, e.User)
	switch {
	case errors.Is(err, ErrInvalidSession) && opts.Rights == engine.RightsCaller:
		return opts, Errorf(http.StatusConflict, "conflict", "run %s acted as user %s, who no longer exists", e.ID, e.User)
	case errors.Is(err, ErrInvalidSession):
		// An event about a user since deleted: the run had full rights,
		// and ctx.user is what is left of the user, its id.
		opts.User = map[string]any{"id": e.User}
	case err != nil:
		return opts, err
	default:
		opts.User = u.EventData()
	}
	return opts, nil
}

// recordedRequest is the request an http run's record kept, to be given to
// the run again as it was (redacted headers stay redacted).
func (s *Server) recordedRequest(e functions.Execution) (*storedRequest, error) {
	doc, ok := e.Input.(bson.M)
	if !ok {
		return nil, fmt.Errorf("%w: run %s's recorded request is not a document", functions.ErrInputNotKept, e.ID)
	}
	text := func(k string) string { v, _ := doc[k].(string); return v }
	// input.receivedAt is when the sender's request first arrived, as
	// for a replay from the inbound log; a record without it has the
	// run's start, within moments of the arrival.
	in := webhooks.Inbound{
		Function: e.Function, Method: text("method"), URL: text("url"), Path: text("path"), Query: text("query"),
		Body: text("body"), Headers: map[string]string{}, ReceivedAt: e.StartedAt,
	}
	if at := db.TimeOf(doc["received_at"]); !at.IsZero() {
		in.ReceivedAt = at
	}
	if h, ok := doc["headers"].(bson.M); ok {
		for k, v := range h {
			if str, ok := v.(string); ok {
				in.Headers[k] = str
			}
		}
	}
	if in.Method == "" {
		return nil, fmt.Errorf("%w: run %s's recorded request has no method", functions.ErrInputNotKept, e.ID)
	}
	return &storedRequest{in: in, limits: s.limits}, nil
}
