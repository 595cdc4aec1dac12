package events

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// KindFunction is the kind of the jobs that run a function because of an
// event or a schedule.
const KindFunction = "function"

// Triggers of a function run, as FunctionRun.Trigger says them.
const (
	TriggerEvent    = "event"
	TriggerSchedule = "schedule"
)

// FunctionRunner runs a stored function. The server implements it over the
// Lua registry; events never imports the runtime itself. An error counts as
// a failed attempt and is retried; wrap it with Permanent when retrying
// cannot help (the function no longer exists).
type FunctionRunner interface {
	RunFunction(ctx context.Context, run FunctionRun) error
}

// FunctionRun is one run of a function by the queue. The handler sees Input
// as its input and the rest as ctx.trigger, ctx.event, ctx.id, ctx.at and
// ctx.attempt.
type FunctionRun struct {
	Function string
	// Input is the event's data, or {scheduled_at = …} for a schedule.
	Input map[string]any
	// Trigger is TriggerEvent or TriggerSchedule.
	Trigger string
	// EventName is the event's name; empty for a schedule.
	EventName string
	// EventID is stable across the retries of one delivery: the event's id,
	// or for a schedule an id of the occurrence. It is the key to make a
	// handler's writes idempotent.
	EventID string
	// At is when the event happened or the occurrence was due.
	At time.Time
	// Attempt is 1 on the first attempt.
	Attempt int
	JobID   string
	// Depth is the triggering event's place in a chain of function-caused
	// events; the events the run's own writes cause are one deeper.
	Depth int
}

// FunctionJobHandler returns the handler of KindFunction jobs that runs
// them through r. NewQueue registers it when Deps.Runner is set; register
// it yourself when the runner exists only after the queue:
//
//	q.Register(events.KindFunction, events.FunctionJobHandler(runner))
func FunctionJobHandler(r FunctionRunner) JobHandler {
	return func(ctx context.Context, job Job) error {
		p := job.Payload
		run := FunctionRun{
			Function:  str(p["function"]),
			Input:     mapOf(p["input"]),
			Trigger:   str(p["trigger"]),
			EventName: str(p["event_name"]),
			EventID:   str(p["event_id"]),
			At:        db.TimeOf(p["at"]),
			Attempt:   job.Attempt,
			JobID:     job.ID,
			Depth:     intOf(p["depth"]),
		}
		if run.Function == "" {
			return Permanent(errors.New("function job names no function"))
		}
		return r.RunFunction(ctx, run)
	}
}

// functionPayload is the payload of a KindFunction job.
func functionPayload(run FunctionRun) map[string]any {
	input := run.Input
	if input == nil {
		input = map[string]any{}
	}
	return map[string]any{
		"function":   run.Function,
		"trigger":    run.Trigger,
		"input":      input,
		"event_name": run.EventName,
		"event_id":   run.EventID,
		"at":         storeTime(run.At),
		"depth":      run.Depth,
	}
}

// trigger is one entry of a stored function's triggers.
type trigger struct {
	Event      string
	Collection string
	// Channel narrows chan_in and channel_join to the channels it
	// matches: a name, or a prefix ending in "*" (room:*).
	Channel  string
	Schedule string
	Timezone string
}

// storedFunction is what the queue needs of a _functions document.
type storedFunction struct {
	Name     string
	Triggers []trigger
	// MaxAttempts is retries + 1, or 0 when the function does not say.
	MaxAttempts int
	// Backoff is the function's own retry delay, nil when it has none.
	Backoff *Backoff
}

// enqueueOptions are the options of a job that runs f: its retry policy.
func (f storedFunction) enqueueOptions(key string) EnqueueOptions {
	return EnqueueOptions{MaxAttempts: f.MaxAttempts, Backoff: f.Backoff, Key: key}
}

// functionProjection reads only what storedFunction needs, not the source.
var functionProjection = bson.M{"name": 1, "triggers": 1, "retries": 1, "backoff": 1}

// functionFromDoc reads a _functions document:
// {_id: name, name, triggers: [{event, collection} | {schedule, timezone} | …], retries,
// backoff: {initial_ms, max_ms}}.
func functionFromDoc(d bson.M) storedFunction {
	f := storedFunction{Name: str(d["name"])}
	if f.Name == "" {
		f.Name = str(d["_id"])
	}
	if isNumber(d["retries"]) {
		// An explicit retries: 0 means one attempt and no retry.
		f.MaxAttempts = min(max(intOf(d["retries"]), 0)+1, MaxAttemptsLimit)
	}
	f.Backoff = backoffFromDoc(d["backoff"])
	if ts, ok := d["triggers"].(bson.A); ok {
		for _, t := range ts {
			m := mapOf(t)
			f.Triggers = append(f.Triggers, trigger{
				Event:      str(m["event"]),
				Collection: str(m["collection"]),
				Channel:    str(m["channel"]),
				Schedule:   str(m["schedule"]),
				Timezone:   str(m["timezone"]),
			})
		}
	}
	return f
}

// subscribes reports whether f runs on ev: a trigger names the event and,
// when it names a collection, the event's data is about that collection
// (doc_* events carry {collection, id, doc, user}); when it names a
// channel pattern, the event's channel matches it (chan_in and
// channel_join carry {channel, …}).
func (f storedFunction) subscribes(ev Event) bool {
	for _, t := range f.Triggers {
		if t.Event != ev.Name {
			continue
		}
		if t.Collection != "" && t.Collection != str(ev.Data["collection"]) {
			continue
		}
		if t.Channel != "" && !MatchChannel(t.Channel, str(ev.Data["channel"])) {
			continue
		}
		return true
	}
	return false
}

// SubscribesTo reports whether the _functions document d has a trigger
// for ev, narrowed as subscribes says.
func SubscribesTo(d bson.M, ev Event) bool { return functionFromDoc(d).subscribes(ev) }

// MatchChannel reports whether channel matches a trigger's channel
// pattern: the same name, or, for a pattern ending in "*", a name that
// starts with what comes before it.
func MatchChannel(pattern, channel string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(channel, prefix)
	}
	return pattern == channel
}

// schedules returns f's schedule triggers.
func (f storedFunction) schedules() []ScheduleTrigger {
	var out []ScheduleTrigger
	for _, t := range f.Triggers {
		if t.Schedule != "" {
			out = append(out, ScheduleTrigger{Schedule: t.Schedule, Timezone: t.Timezone})
		}
	}
	return out
}
