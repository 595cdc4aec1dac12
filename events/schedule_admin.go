package events

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// upcoming is how many occurrences List shows.
const upcoming = 5

// ScheduleInfo describes one schedule trigger for the admin API.
type ScheduleInfo struct {
	ID         string `json:"id"`
	Function   string `json:"function"`
	Expression string `json:"expression"`
	Timezone   string `json:"timezone"`
	// Normalized is the expression as the parser reads it: the cron or
	// RRULE a plain phrase compiles to.
	Normalized string `json:"normalized,omitempty"`
	Paused     bool   `json:"paused"`
	// Next lists the next 5 occurrences, in the schedule's time zone. The
	// first may be in the past when an occurrence is due and about to fire.
	// A paused schedule shows what would follow a resume now.
	Next      []time.Time `json:"next"`
	LastRunAt time.Time   `json:"last_run_at,omitzero"`
	// Error says why a stored expression no longer parses.
	Error string `json:"error,omitempty"`
}

// List returns every schedule, by function.
func (s *Scheduler) List(ctx context.Context) ([]ScheduleInfo, error) {
	return s.ListPage(ctx, "", 0)
}

// ListPage is List a page at a time: the limit schedules (all when limit
// ≤ 0) that come after the one with id after ("" for the first page). A
// schedule's id is its function's name, "#" and a hash, and "#" sorts
// before every character a name may hold, so ids are in the order of
// their functions.
func (s *Scheduler) ListPage(ctx context.Context, after string, limit int) ([]ScheduleInfo, error) {
	var filter bson.M
	if after != "" {
		filter = bson.M{"_id": bson.M{"$gt": after}}
	}
	docs, err := s.schedules.Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Limit: int64(max(limit, 0))})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	now := s.now()
	out := make([]ScheduleInfo, 0, len(docs))
	for _, d := range docs {
		info := ScheduleInfo{
			ID:         str(d["_id"]),
			Function:   str(d["function"]),
			Expression: str(d["expression"]),
			Timezone:   str(d["timezone"]),
			Paused:     d["paused"] == true,
			LastRunAt:  db.TimeOf(d["last_run_at"]),
			Next:       []time.Time{},
		}
		sch, err := s.parse(info.Expression, info.Timezone)
		if err != nil {
			info.Error = err.Error()
			out = append(out, info)
			continue
		}
		info.Normalized = sch.String()
		loc := sch.Location()
		if !info.LastRunAt.IsZero() {
			info.LastRunAt = info.LastRunAt.In(loc)
		}
		t := db.TimeOf(d["next_at"])
		if info.Paused || t.IsZero() {
			t = sch.Next(now)
		}
		for len(info.Next) < upcoming && !t.IsZero() {
			info.Next = append(info.Next, t.In(loc))
			t = sch.Next(t)
		}
		out = append(out, info)
	}
	return out, nil
}

// Pause stops function's schedules from firing until Resume. Occurrences
// that pass while paused are skipped, not caught up.
func (s *Scheduler) Pause(ctx context.Context, function string) error {
	res, err := s.schedules.UpdateMany(ctx, bson.M{"function": function},
		bson.M{"$set": bson.M{"paused": true, "updated_at": storeTime(s.now())}})
	if err != nil {
		return fmt.Errorf("pause schedules of %s: %w", function, err)
	}
	if res.Matched == 0 {
		return fmt.Errorf("%w: function %q has no schedule", ErrScheduleNotFound, function)
	}
	return nil
}

// Resume lets function's schedules fire again, from their first
// occurrence after now.
func (s *Scheduler) Resume(ctx context.Context, function string) error {
	docs, err := s.schedules.Find(ctx, bson.M{"function": function}, nil)
	if err != nil {
		return fmt.Errorf("resume schedules of %s: %w", function, err)
	}
	if len(docs) == 0 {
		return fmt.Errorf("%w: function %q has no schedule", ErrScheduleNotFound, function)
	}
	now := s.now()
	for _, d := range docs {
		set := bson.M{"paused": false, "updated_at": storeTime(now)}
		if sch, err := s.parse(str(d["expression"]), str(d["timezone"])); err == nil {
			set["next_at"] = nextValue(sch.Next(now))
		}
		// Only a paused entry moves: resuming twice must not skip an
		// occurrence that became due in between.
		if _, err := s.schedules.UpdateOne(ctx, bson.M{"_id": d["_id"], "paused": true}, bson.M{"$set": set}, nil); err != nil {
			return fmt.Errorf("resume schedules of %s: %w", function, err)
		}
	}
	return nil
}

// RunNow enqueues a run of a scheduled function now, paused or not, with
// input {scheduled_at = now}, and returns the job's id. Its regular
// occurrences are unchanged.
func (s *Scheduler) RunNow(ctx context.Context, function string) (string, error) {
	n, err := s.schedules.Count(ctx, bson.M{"function": function})
	if err != nil {
		return "", fmt.Errorf("run %s: %w", function, err)
	}
	if n == 0 {
		return "", fmt.Errorf("%w: function %q has no schedule", ErrScheduleNotFound, function)
	}
	var fn storedFunction
	if fd, err := s.functions.FindOne(ctx, db.ByID(function), &db.FindOptions{Projection: functionProjection}); err == nil {
		fn = functionFromDoc(fd)
	}
	now := storeTime(s.now())
	payload := functionPayload(FunctionRun{
		Function: function, Trigger: TriggerSchedule, At: now,
		EventID: "run:" + function + "@" + primitive.NewObjectID().Hex(),
		Input:   map[string]any{"scheduled_at": now},
	})
	id, err := s.queue.Enqueue(ctx, KindFunction, payload, fn.enqueueOptions(""))
	if err != nil {
		return "", fmt.Errorf("run %s: %w", function, err)
	}
	return id, nil
}
