package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// The three methods below are what the Lua runtime and the functions API
// need from the events service. Each has one caller in mind:
//
//   - publishEvent is engine.Deps.Publish (backend.publishEvent);
//   - enqueueEmail (mail.go) is engine.Deps.SendEmail (backend.sendEmail);
//   - syncSchedules keeps _schedules in step with a function's schedule
//     triggers, after it is saved, deleted, rolled back or deployed.
//
// engine.Deps.CheckSchedule is events.ValidateSchedule itself.

// publishEvent records a custom event from a function, after the same
// name and size checks as POST /api/events, and returns its id. The
// functions subscribed to it run from the queue, not inside the caller's
// run.
func (s *Server) publishEvent(ctx context.Context, name string, data map[string]any) (string, error) {
	ev, err := s.jobs.Bus.Publish(ctx, name, data)
	if err != nil {
		return "", err
	}
	return ev.ID, nil
}

// syncSchedules makes the schedules of function name match the schedule
// triggers among triggers; nil triggers remove them all (a deleted
// function). A trigger that does not parse refuses the whole set with an
// *events.ScheduleError and changes nothing.
func (s *Server) syncSchedules(ctx context.Context, name string, triggers []functions.Trigger) error {
	var sched []events.ScheduleTrigger
	for _, t := range triggers {
		if t.Schedule != "" {
			sched = append(sched, events.ScheduleTrigger{Schedule: t.Schedule, Timezone: t.Timezone})
		}
	}
	return s.jobs.Scheduler.Sync(ctx, name, sched)
}

// bindEventsApi registers the clients' publishEvent and the admin view of
// recorded events.
func bindEventsApi(s *Server, r fiber.Router) {
	r.Post("/api/events", s.postEvent)
	r.Get("/api/admin/events", s.adminEvents)
}

// postEvent publishes a custom event for a signed-in user (the client's
// publishEvent): body {name, data}, answer 202 {id}. The event's data is
// the client's, plus `user` ({id, email, name, created_at}), which the
// server sets so that a handler can trust it; a client sending its own
// data.user is refused. Bad names are 400 invalid_event_name, data over
// events.max_event_bytes is 413 event_too_large, and nothing is recorded.
func (s *Server) postEvent(c *fiber.Ctx) error {
	u, err := s.RequireUser(c)
	if err != nil {
		return err
	}
	name, data, err := s.eventBody(c)
	if err != nil {
		return err
	}
	if _, taken := data["user"]; taken {
		return badInput("data.user is set by the server to the signed-in user; send the user's details under another name")
	}
	if err := events.ValidateEventName(name); err != nil {
		return err
	}
	data["user"] = u.EventData()
	ev, err := s.jobs.Bus.Publish(context.WithoutCancel(c.UserContext()), name, data)
	if err != nil {
		return err
	}
	return c.Status(http.StatusAccepted).JSON(fiber.Map{"id": ev.ID})
}

// eventBody reads a custom event's body {name, data}: name a string (its
// rules are checked by the caller), data a JSON object or absent.
func (s *Server) eventBody(c *fiber.Ctx) (string, map[string]any, error) {
	body, err := s.jsonBody(c)
	if err != nil {
		return "", nil, err
	}
	if err := onlyFields(body, "name", "data"); err != nil {
		return "", nil, err
	}
	name, ok := body["name"].(string)
	if !ok && body["name"] != nil {
		return "", nil, badInput("name must be a string")
	}
	data := map[string]any{}
	switch d := body["data"].(type) {
	case nil:
	case bson.M:
		data = d
	default:
		return "", nil, badInput("data must be a JSON object")
	}
	return name, data, nil
}

// eventInfo is one recorded event as the admin API shows it.
type eventInfo struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Data any       `json:"data"`
	At   time.Time `json:"at"`
	// Depth, Cause and LoopStopped place the event in a chain of
	// function-caused events (docs/events.md).
	Depth       int    `json:"depth"`
	Cause       string `json:"cause,omitempty"`
	LoopStopped bool   `json:"loop_stopped,omitempty"`
	// Aborted marks an event recorded before a write that, as far as the
	// store can tell, did not happen (on MongoDB, see docs/events.md).
	Aborted bool `json:"aborted,omitempty"`
}

// adminEvents lists recorded events, newest first, optionally of one name:
// GET /api/admin/events?name=&limit=&before= answers 200 {events: […],
// next}; before is the id of the last event of the previous page
// (paging.go).
func (s *Server) adminEvents(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	before, err := cursorParam(c, "before")
	if err != nil {
		return err
	}
	filter := bson.M{}
	if name := c.Query("name"); name != "" {
		if len(name) > events.MaxEventNameLen {
			return badInput("name is longer than %d characters", events.MaxEventNameLen)
		}
		filter["name"] = strings.Clone(name)
	}
	col := s.store.C(db.Events)
	if filter, err = olderThan(c.UserContext(), col, filter, "at", before, "event"); err != nil {
		return err
	}
	docs, err := col.Find(c.UserContext(), filter, &db.FindOptions{
		Sort:  bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}},
		Limit: int64(limit),
	})
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	out := make([]eventInfo, 0, len(docs))
	for _, d := range docs {
		ev := eventInfo{ID: idString(d["_id"]), At: timeValue(d["at"]), Data: db.ToExtJSON(d["data"])}
		ev.Name, _ = d["name"].(string)
		ev.Cause, _ = d["cause"].(string)
		ev.LoopStopped, _ = d[events.LoopStopped].(bool)
		ev.Aborted, _ = d["aborted"].(bool)
		switch n := d["depth"].(type) {
		case int32:
			ev.Depth = int(n)
		case int64:
			ev.Depth = int(n)
		}
		if ev.Data == nil {
			ev.Data = map[string]any{}
		}
		out = append(out, ev)
	}
	last := ""
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return c.JSON(fiber.Map{"events": out, "next": nextCursor(len(out), limit, last)})
}
