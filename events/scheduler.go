package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events/schedule"
)

// ScheduleTrigger is one `schedule:` trigger of a function.
type ScheduleTrigger struct {
	// Schedule is a cron expression, an RRULE or a plain phrase.
	Schedule string `json:"schedule" yaml:"schedule"`
	// Timezone is an IANA zone name; empty means UTC.
	Timezone string `json:"timezone,omitempty" yaml:"timezone"`
}

// ValidateSchedule checks a schedule trigger the way Sync will, for
// save-time checks. The error is a *ScheduleError carrying the parser's
// explanation.
func ValidateSchedule(expr, tz string) error {
	_, err := parseSchedule(strings.TrimSpace(expr), zoneName(tz))
	return err
}

func zoneName(tz string) string {
	if tz = strings.TrimSpace(tz); tz == "" {
		return "UTC"
	}
	return tz
}

func parseSchedule(expr, tz string) (*schedule.Schedule, error) {
	s, err := schedule.Parse(expr, tz)
	if err != nil {
		return nil, &ScheduleError{Expression: expr, Timezone: tz, Err: err}
	}
	return s, nil
}

// Scheduler fires functions' schedule triggers. Each trigger is one entry
// in _schedules holding its next occurrence (next_at). Every instance
// looks for due entries; an occurrence fires once across all of them
// because its job has an idempotency key naming the occurrence, and the
// entry then moves on with an atomic compare-and-set of next_at.
type Scheduler struct {
	cfg       Config
	schedules db.Collection
	functions db.Collection
	queue     *Queue
	log       *slog.Logger
	now       func() time.Time

	mu     sync.Mutex
	parsed map[string]*schedule.Schedule

	loop *looper
}

// NewScheduler returns a scheduler over deps.Store that enqueues function
// runs on deps.Queue.
func NewScheduler(cfg Config, deps Deps) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Queue == nil {
		return nil, fmt.Errorf("%w: the scheduler needs a store and a queue", ErrInvalidConfig)
	}
	return &Scheduler{
		cfg:       cfg.WithDefaults(),
		schedules: deps.Store.C(db.Schedules),
		functions: deps.Store.C(db.Functions),
		queue:     deps.Queue,
		log:       deps.logger(),
		now:       deps.clock(),
		parsed:    map[string]*schedule.Schedule{},
		loop:      newLooper("scheduler"),
	}, nil
}

// parse parses a stored schedule, caching the result: the scheduler
// parses the same few expressions on every tick.
func (s *Scheduler) parse(expr, tz string) (*schedule.Schedule, error) {
	key := expr + "\x00" + tz
	s.mu.Lock()
	sch, ok := s.parsed[key]
	s.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := parseSchedule(expr, tz)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.parsed) >= 4096 {
		clear(s.parsed)
	}
	s.parsed[key] = sch
	s.mu.Unlock()
	return sch, nil
}

// scheduleID names a function's schedule entry after its expression and
// zone, so saving a function unchanged keeps the entry and its next_at.
func scheduleID(function, expr, tz string) string {
	sum := sha256.Sum256([]byte(expr + "\x00" + tz))
	return function + "#" + hex.EncodeToString(sum[:5])
}

// nextValue is how a next occurrence is stored: null when there is none.
func nextValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return storeTime(t)
}

// Sync makes function's entries in _schedules match triggers: new ones are
// added with their next occurrence, unchanged ones keep theirs, the rest
// are removed (Sync with no triggers removes them all, for a deleted
// function). A trigger that does not parse refuses the whole set with a
// *ScheduleError and changes nothing. A new entry of a paused function
// starts paused.
func (s *Scheduler) Sync(ctx context.Context, function string, triggers []ScheduleTrigger) error {
	if function == "" {
		return fmt.Errorf("%w: no function named", ErrInvalidSchedule)
	}
	type entry struct {
		id, expr, tz string
		next         time.Time
	}
	now := s.now()
	var entries []entry
	ids := bson.A{}
	seen := map[string]bool{}
	for _, t := range triggers {
		expr, tz := strings.TrimSpace(t.Schedule), zoneName(t.Timezone)
		sch, err := s.parse(expr, tz)
		if err != nil {
			return err
		}
		id := scheduleID(function, expr, tz)
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		entries = append(entries, entry{id: id, expr: expr, tz: tz, next: sch.Next(now)})
	}
	if len(entries) > 0 {
		paused, err := s.schedules.Count(ctx, bson.M{"function": function, "paused": true})
		if err != nil {
			return fmt.Errorf("sync schedules of %s: %w", function, err)
		}
		at := storeTime(now)
		for _, e := range entries {
			_, err := s.schedules.InsertOne(ctx, bson.M{
				"_id": e.id, "function": function, "expression": e.expr, "timezone": e.tz,
				"paused": paused > 0, "next_at": nextValue(e.next), "created_at": at, "updated_at": at,
			})
			if err != nil && !errors.Is(err, db.ErrDuplicateKey) {
				return fmt.Errorf("sync schedules of %s: %w", function, err)
			}
		}
	}
	if _, err := s.schedules.DeleteMany(ctx, bson.M{"function": function, "_id": bson.M{"$nin": ids}}); err != nil {
		return fmt.Errorf("sync schedules of %s: %w", function, err)
	}
	return nil
}

// Start ensures the indexes of _schedules, reconciles them with every
// function in _functions, and starts firing. ctx bounds the start-up only.
func (s *Scheduler) Start(ctx context.Context) error {
	for _, idx := range []db.Index{
		{Keys: []db.IndexKey{{Field: "next_at"}}},
		{Keys: []db.IndexKey{{Field: "function"}}},
	} {
		if err := s.schedules.EnsureIndex(ctx, idx); err != nil {
			return fmt.Errorf("ensure index on %s: %w", db.Schedules, err)
		}
	}
	if err := s.reconcile(ctx); err != nil {
		return err
	}
	return s.loop.start(s.tick, func() time.Duration { return s.cfg.ScheduleTick })
}

// reconcile syncs the schedules of every stored function and removes the
// entries of functions that no longer exist. Entries that are unchanged
// keep their next_at, so an occurrence missed while no instance ran fires
// once at the next tick. A stored trigger that no longer parses is logged
// and its function's entries are left as they are.
func (s *Scheduler) reconcile(ctx context.Context) error {
	docs, err := s.functions.Find(ctx, nil, &db.FindOptions{Projection: functionProjection})
	if err != nil {
		return fmt.Errorf("read functions: %w", err)
	}
	names := bson.A{}
	for _, d := range docs {
		f := functionFromDoc(d)
		names = append(names, f.Name)
		if err := s.Sync(ctx, f.Name, f.schedules()); err != nil {
			if !errors.Is(err, ErrInvalidSchedule) {
				return err
			}
			s.log.Warn("function has a schedule that does not parse", "function", f.Name, "err", err)
		}
	}
	if _, err := s.schedules.DeleteMany(ctx, bson.M{"function": bson.M{"$nin": names}}); err != nil {
		return fmt.Errorf("remove schedules of deleted functions: %w", err)
	}
	return nil
}

// Shutdown stops firing. It is idempotent.
func (s *Scheduler) Shutdown(ctx context.Context) error { return s.loop.shutdown(ctx) }

// fireBatch bounds the due entries read at once.
const fireBatch = 100

// tick fires what is due, and asks to be called again at once when a
// full batch was due.
func (s *Scheduler) tick(ctx context.Context) bool {
	n, err := s.fireDue(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("fire schedules", "err", err)
	}
	return n == fireBatch && err == nil
}

// fireDue fires the entries whose next occurrence is due and returns how
// many it looked at.
func (s *Scheduler) fireDue(ctx context.Context) (int, error) {
	now := s.now()
	docs, err := s.schedules.Find(ctx, bson.M{"paused": false, "next_at": bson.M{"$lte": storeTime(now)}},
		&db.FindOptions{Sort: bson.D{{Key: "next_at", Value: 1}}, Limit: fireBatch})
	if err != nil {
		return 0, fmt.Errorf("find due schedules: %w", err)
	}
	for _, d := range docs {
		if err := s.fire(ctx, d, now); err != nil {
			return len(docs), err
		}
	}
	return len(docs), nil
}

// fire runs one due occurrence. The job is enqueued first, with a key
// naming the occurrence, so an instance that dies right after still leaves
// it to run, and a second instance firing the same occurrence adds nothing.
// Then next_at moves to the first occurrence after now with a
// compare-and-set on the occurrence just fired: only one instance moves
// it, and after downtime the occurrences missed in between are skipped, so
// a missed occurrence runs once, not once per occurrence missed.
func (s *Scheduler) fire(ctx context.Context, d bson.M, now time.Time) error {
	id, function := str(d["_id"]), str(d["function"])
	occurrence := db.TimeOf(d["next_at"])
	sch, err := s.parse(str(d["expression"]), str(d["timezone"]))
	var next time.Time
	if err != nil {
		// Stored before the parser refused it; stop it rather than retry.
		s.log.Error("stored schedule does not parse; it will not fire again until its function is saved", "schedule", id, "err", err)
	} else {
		next = sch.Next(now)
	}
	if err := s.enqueueOccurrence(ctx, id, function, occurrence); err != nil {
		return err
	}
	_, err = s.schedules.FindOneAndUpdate(ctx,
		bson.M{"_id": id, "next_at": storeTime(occurrence)},
		bson.M{"$set": bson.M{"next_at": nextValue(next), "last_run_at": storeTime(occurrence), "updated_at": storeTime(now)}},
		nil)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("advance schedule %s: %w", id, err)
	}
	return nil
}

// enqueueOccurrence enqueues the run of function for one occurrence.
func (s *Scheduler) enqueueOccurrence(ctx context.Context, scheduleID, function string, occurrence time.Time) error {
	fd, err := s.functions.FindOne(ctx, db.ByID(function), &db.FindOptions{Projection: functionProjection})
	if errors.Is(err, db.ErrNotFound) {
		s.log.Warn("scheduled function does not exist", "function", function, "schedule", scheduleID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read function %s: %w", function, err)
	}
	key := "schedule:" + scheduleID + "@" + occurrence.UTC().Format("2006-01-02T15:04:05.000Z")
	payload := functionPayload(FunctionRun{
		Function: function, Trigger: TriggerSchedule, EventID: key, At: occurrence,
		Input: map[string]any{"scheduled_at": storeTime(occurrence)},
	})
	_, err = s.queue.Enqueue(ctx, KindFunction, payload, functionFromDoc(fd).enqueueOptions(key))
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("enqueue %s for schedule %s: %w", function, scheduleID, err)
	}
	return nil
}
