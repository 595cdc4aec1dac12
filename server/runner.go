package server

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// runFunctionJobs makes the queue run function jobs (events and
// schedules) through reg. New calls it once, when the registry exists and
// before Start.
func (s *Server) runFunctionJobs(reg *engine.Registry) {
	s.jobs.Queue.Register(events.KindFunction, events.FunctionJobHandler(functionRunner{reg: reg}))
}

// functionRunner runs the queue's function jobs (events.KindFunction)
// through the Lua registry: the events package only knows the
// events.FunctionRunner interface, and this is the one place that joins
// the two.
type functionRunner struct {
	reg *engine.Registry
}

// RunFunction runs one attempt. The handler gets the event's data (or
// {scheduled_at = …}) as input, and ctx.trigger, ctx.event, ctx.id, ctx.at
// and ctx.attempt from the job. Event and schedule runs have no caller:
// they act as the system, with full rights; ctx.user is the user the
// event is about (its data's user), for the function to read, not a
// limit on its rights. The run is recorded in _executions by the
// registry like any other.
//
// A function that no longer exists, or an input the runtime cannot take,
// cannot get better by retrying: those are permanent failures, dead
// letters at once. Every other error — the function raised one, timed
// out, or the registry is shutting down — is a failed attempt the queue
// retries with backoff.
func (r functionRunner) RunFunction(ctx context.Context, run events.FunctionRun) error {
	opts := engine.RunOptions{
		Trigger: runTrigger(run.Trigger),
		Event:   run.EventName,
		ID:      run.EventID,
		At:      run.At,
		Attempt: run.Attempt,
		Rights:  engine.RightsFull,
		User:    eventUser(run.Input),
		// The events of the run's writes are one deeper than its own.
		ChainDepth: run.Depth,
	}
	var input any = run.Input
	if run.Input == nil {
		input = map[string]any{}
	}
	_, err := r.reg.Run(ctx, run.Function, input, opts)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, functions.ErrFunctionNotFound), errors.Is(err, engine.ErrInvalidInput):
		return events.Permanent(err)
	}
	return err
}

// eventUser is the user an event's data names ({user = {id, …}}), or nil.
func eventUser(data map[string]any) map[string]any {
	var u map[string]any
	switch x := data["user"].(type) {
	case map[string]any:
		u = x
	case bson.M:
		u = x
	}
	if id, ok := u["id"].(string); !ok || id == "" {
		return nil
	}
	return u
}

// runTrigger maps the queue's trigger names to the runtime's. They are
// spelt alike; the mapping keeps each package free to name its own.
func runTrigger(t string) string {
	if t == events.TriggerSchedule {
		return functions.TriggerSchedule
	}
	return functions.TriggerEvent
}
