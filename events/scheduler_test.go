package events

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events/schedule"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// newScheduler returns a scheduler on clk over a queue that is not started,
// so the jobs it enqueues stay pending for the test to read.
func newScheduler(t *testing.T, store db.Store, clk *clock) *Scheduler {
	t.Helper()
	q, err := NewQueue(testConfig(), Deps{Store: store, Runner: &runner{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewScheduler(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// firedAt returns the scheduled_at of every job enqueued for function, in
// order.
func firedAt(t *testing.T, store db.Store, function string) []time.Time {
	t.Helper()
	docs, err := store.C(db.Jobs).Find(context.Background(), bson.M{"payload.function": function},
		&db.FindOptions{Sort: bson.D{{Key: "payload.at", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]time.Time, len(docs))
	for i, d := range docs {
		job := jobFromDoc(d)
		out[i] = db.TimeOf(mapOf(job.Payload["input"])["scheduled_at"])
		if job.Payload["trigger"] != TriggerSchedule || !db.TimeOf(job.Payload["at"]).Equal(out[i]) {
			t.Fatalf("schedule job payload = %v", job.Payload)
		}
	}
	return out
}

func mustFire(t *testing.T, s *Scheduler) {
	t.Helper()
	if _, err := s.fireDue(context.Background()); err != nil {
		t.Fatalf("fireDue: %v", err)
	}
}

func TestSyncSchedules(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	clk := newClock(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	s := newScheduler(t, store, clk)
	ctx := context.Background()
	paris := ScheduleTrigger{Schedule: "0 9 * * *", Timezone: "Europe/Paris"}
	monday := ScheduleTrigger{Schedule: " every monday at 08:00 "}
	if err := s.Sync(ctx, "report", []ScheduleTrigger{paris, monday, paris}); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v; want 2 schedules", list, err)
	}
	byExpr := map[string]ScheduleInfo{}
	for _, info := range list {
		byExpr[info.Expression] = info
	}
	if got := byExpr["0 9 * * *"]; got.Timezone != "Europe/Paris" || !got.Next[0].Equal(time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("paris schedule = %+v", got)
	}
	if got := byExpr["every monday at 08:00"]; got.Timezone != "UTC" || got.Normalized != "0 8 * * 1" || !got.Next[0].Equal(time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("monday schedule = %+v", got)
	}

	// Saving the function again later keeps the entries and their next run.
	clk.Add(time.Hour)
	if err := s.Sync(ctx, "report", []ScheduleTrigger{monday, paris}); err != nil {
		t.Fatal(err)
	}
	if d := mustFind(t, store, db.Schedules, bson.M{"expression": "0 9 * * *"}); !db.TimeOf(d["next_at"]).Equal(time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)) || db.TimeOf(d["created_at"]).After(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("entry rewritten by an unchanged save: %v", d)
	}

	// A bad trigger refuses the whole save, in the parser's words.
	for _, bad := range []ScheduleTrigger{{Schedule: "every blue moon"}, {Schedule: "@daily", Timezone: "Mars/Olympus"}, {Schedule: ""}} {
		_, perr := schedule.Parse(bad.Schedule, zoneName(bad.Timezone))
		err := s.Sync(ctx, "report", []ScheduleTrigger{paris, bad})
		var se *ScheduleError
		if perr == nil || !errors.Is(err, ErrInvalidSchedule) || !errors.As(err, &se) || err.Error() != perr.Error() {
			t.Fatalf("Sync(%+v) = %v; want the parser's %v", bad, err, perr)
		}
		if err := ValidateSchedule(bad.Schedule, bad.Timezone); err == nil || err.Error() != perr.Error() {
			t.Fatalf("ValidateSchedule(%+v) = %v; want %v", bad, err, perr)
		}
	}
	if !strings.Contains(ValidateSchedule("@daily", "Mars/Olympus").Error(), "Mars/Olympus") {
		t.Fatal("a bad time zone's error does not name it")
	}
	if n := count(t, store, db.Schedules, nil); n != 2 {
		t.Fatalf("schedules after refused saves = %d, want 2", n)
	}
	if err := ValidateSchedule("first monday of every month at 09:00", "America/New_York"); err != nil {
		t.Fatalf("ValidateSchedule of a good phrase: %v", err)
	}

	if err := s.Sync(ctx, "", []ScheduleTrigger{paris}); !errors.Is(err, ErrInvalidSchedule) || err.Error() != "invalid schedule: no function named" {
		t.Fatalf("Sync without a function = %v", err)
	}
	if _, err := NewScheduler(testConfig(), Deps{Store: store}); !errors.Is(err, ErrInvalidConfig) || err.Error() != "invalid events configuration: the scheduler needs a store and a queue" {
		t.Fatalf("NewScheduler without a queue = %v", err)
	}

	if err := s.Sync(ctx, "report", []ScheduleTrigger{paris}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store, db.Schedules, nil); n != 1 {
		t.Fatalf("schedules after removing a trigger = %d, want 1", n)
	}
	if err := s.Sync(ctx, "report", nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store, db.Schedules, nil); n != 0 {
		t.Fatalf("schedules of a deleted function = %d, want 0", n)
	}
}

// Two schedulers firing at the same moments run each occurrence once.
func TestOccurrenceFiresOnceAcrossSchedulers(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	start := time.Date(2025, 1, 1, 0, 5, 0, 0, time.UTC)
	clk := newClock(start)
	saveFunction(t, store, "tick", nil, bson.M{"schedule": "0 * * * *"})
	a, b := newScheduler(t, store, clk), newScheduler(t, store, clk)
	if err := a.Sync(context.Background(), "tick", []ScheduleTrigger{{Schedule: "0 * * * *"}}); err != nil {
		t.Fatal(err)
	}
	for clk.Now().Before(start.Add(5 * time.Hour)) {
		clk.Add(7 * time.Minute)
		var wg sync.WaitGroup
		for _, s := range []*Scheduler{a, b, a, b} {
			wg.Go(func() {
				if _, err := s.fireDue(context.Background()); err != nil {
					t.Errorf("fireDue: %v", err)
				}
			})
		}
		wg.Wait()
	}
	got := firedAt(t, store, "tick")
	if len(got) != 5 {
		t.Fatalf("fired %d times (%v), want 5", len(got), got)
	}
	for i, at := range got {
		if want := time.Date(2025, 1, 1, i+1, 0, 0, 0, time.UTC); !at.Equal(want) {
			t.Errorf("occurrence %d at %s, want %s", i, at, want)
		}
	}
}

// An occurrence missed while no instance ran fires once at start, however
// many were missed; functions that no longer exist lose their schedules.
func TestMissedOccurrenceFiresOnceAfterRestart(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	clk := newClock(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	saveFunction(t, store, "nightly", nil, bson.M{"schedule": "0 3 * * *", "timezone": "UTC"}, bson.M{"event": "x"})
	a := newScheduler(t, store, clk)
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store, db.Schedules, bson.M{"function": "nightly"}); n != 1 {
		t.Fatalf("Start made %d schedules from _functions, want 1", n)
	}
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.C(db.Schedules).InsertOne(ctx, bson.M{"_id": "ghost#1", "function": "ghost", "expression": "@hourly", "timezone": "UTC", "paused": false, "next_at": nil}); err != nil {
		t.Fatal(err)
	}

	// Four nights pass with nothing running.
	clk.Set(time.Date(2025, 1, 5, 12, 0, 0, 0, time.UTC))
	b := newScheduler(t, store, clk)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitForWithin(t, 10*time.Second, "the missed occurrence", func() bool { return len(firedAt(t, store, "nightly")) > 0 })
	mustFire(t, b)
	mustFire(t, b)
	got := firedAt(t, store, "nightly")
	if len(got) != 1 || !got[0].Equal(time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("fired %v; want once, for 2025-01-02 03:00", got)
	}
	d := mustFind(t, store, db.Schedules, bson.M{"function": "nightly"})
	if !db.TimeOf(d["next_at"]).Equal(time.Date(2025, 1, 6, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("next_at = %v, want the first occurrence after the restart", d["next_at"])
	}
	if n := count(t, store, db.Schedules, bson.M{"function": "ghost"}); n != 0 {
		t.Fatalf("schedules of a deleted function kept: %d", n)
	}
}

func TestPauseResumeRunNow(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	start := time.Date(2025, 6, 1, 10, 30, 0, 0, time.UTC)
	clk := newClock(start)
	saveFunction(t, store, "hourly", int32(1), bson.M{"schedule": "hourly"})
	s := newScheduler(t, store, clk)
	if err := s.Sync(ctx, "hourly", []ScheduleTrigger{{Schedule: "hourly"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(ctx, "hourly"); err != nil {
		t.Fatal(err)
	}
	clk.Add(3 * time.Hour) // 13:30: 11:00, 12:00 and 13:00 pass while paused
	mustFire(t, s)
	if got := firedAt(t, store, "hourly"); len(got) != 0 {
		t.Fatalf("a paused schedule fired: %v", got)
	}
	list, _ := s.List(ctx)
	if len(list) != 1 || !list[0].Paused || !list[0].Next[0].Equal(time.Date(2025, 6, 1, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("List of a paused schedule = %+v", list)
	}

	id, err := s.RunNow(ctx, "hourly")
	if err != nil {
		t.Fatalf("RunNow of a paused schedule: %v", err)
	}
	job, err := s.queue.Get(ctx, id)
	if err != nil || job.MaxAttempts != 2 || !db.TimeOf(mapOf(job.Payload["input"])["scheduled_at"]).Equal(clk.Now()) || !strings.HasPrefix(str(job.Payload["event_id"]), "run:hourly@") {
		t.Fatalf("RunNow job = %+v, %v", job, err)
	}

	if err := s.Resume(ctx, "hourly"); err != nil {
		t.Fatal(err)
	}
	mustFire(t, s)
	if got := firedAt(t, store, "hourly"); len(got) != 1 {
		t.Fatalf("resume caught up missed occurrences: %v", got)
	}
	clk.Add(time.Hour) // 14:30
	mustFire(t, s)
	got := firedAt(t, store, "hourly")
	if len(got) != 2 || !got[1].Equal(time.Date(2025, 6, 1, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("fired %v; want the run and 14:00", got)
	}

	for name, call := range map[string]func() error{
		"Pause":  func() error { return s.Pause(ctx, "nope") },
		"Resume": func() error { return s.Resume(ctx, "nope") },
		"RunNow": func() error { _, err := s.RunNow(ctx, "nope"); return err },
	} {
		if err := call(); !errors.Is(err, ErrScheduleNotFound) || err.Error() != `schedule not found: function "nope" has no schedule` {
			t.Errorf("%s(nope) = %v", name, err)
		}
	}
}

func TestListShowsNextFiveInTheZone(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	clk := newClock(time.Date(2025, 3, 28, 12, 0, 0, 0, time.UTC))
	s := newScheduler(t, store, clk)
	if err := s.Sync(context.Background(), "morning", []ScheduleTrigger{{Schedule: "daily at 9am", Timezone: "Europe/Paris"}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	b, _ := json.Marshal(list[0].Next)
	want := `["2025-03-29T09:00:00+01:00","2025-03-30T09:00:00+02:00","2025-03-31T09:00:00+02:00","2025-04-01T09:00:00+02:00","2025-04-02T09:00:00+02:00"]`
	if string(b) != want {
		t.Fatalf("next = %s\nwant   %s", b, want)
	}
	if list[0].Function != "morning" || list[0].Expression != "daily at 9am" || list[0].Normalized != "0 9 * * *" {
		t.Fatalf("info = %+v", list[0])
	}
}

// A daily schedule runs once on every local day around the daylight-saving
// changes: a time the clocks skip still runs, a time they repeat runs once.
func TestDaylightSavingNeitherSkipsNorDoubles(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		zone string
		expr string
		from string // a local date two days before a change
	}{
		{"paris spring 09:00", "Europe/Paris", "daily at 09:00", "2025-03-28"},
		{"paris autumn 09:00", "Europe/Paris", "0 9 * * *", "2025-10-24"},
		{"paris spring 02:30", "Europe/Paris", "30 2 * * *", "2025-03-28"},
		{"paris autumn 02:30", "Europe/Paris", "30 2 * * *", "2025-10-24"},
		{"new york spring 09:00", "America/New_York", "0 9 * * *", "2025-03-07"},
		{"new york autumn 01:30", "America/New_York", "30 1 * * *", "2025-10-31"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(sc.zone)
			if err != nil {
				t.Fatal(err)
			}
			from, _ := time.ParseInLocation("2006-01-02", sc.from, loc)
			store := openStore(t, t.TempDir())
			clk := newClock(from)
			saveFunction(t, store, "daily", nil)
			s := newScheduler(t, store, clk)
			if err := s.Sync(context.Background(), "daily", []ScheduleTrigger{{Schedule: sc.expr, Timezone: sc.zone}}); err != nil {
				t.Fatal(err)
			}
			end := from.AddDate(0, 0, 5)
			for clk.Now().Before(end) {
				clk.Add(10 * time.Minute)
				mustFire(t, s)
			}
			perDay := map[string]int{}
			for _, at := range firedAt(t, store, "daily") {
				perDay[at.In(loc).Format("2006-01-02")]++
			}
			for d := from; d.Before(end); d = d.AddDate(0, 0, 1) {
				if n := perDay[d.Format("2006-01-02")]; n != 1 {
					t.Errorf("%s ran %d times, want once (all runs: %v)", d.Format("2006-01-02"), n, perDay)
				}
			}
		})
	}
}

// A fired occurrence reaches the function as a schedule run.
func TestScheduledRunReachesRunner(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	r := &runner{}
	q := newQueue(t, testConfig(), Deps{Store: store, Runner: r}, nil)
	clk := newClock(time.Date(2025, 1, 1, 8, 59, 0, 0, time.UTC))
	s, err := NewScheduler(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	saveFunction(t, store, "report", nil, bson.M{"schedule": "0 9 * * *"})
	if err := s.Sync(context.Background(), "report", []ScheduleTrigger{{Schedule: "0 9 * * *"}}); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)
	mustFire(t, s)
	occurrence := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var run FunctionRun
	testsupport.WaitForWithin(t, 10*time.Second, "the scheduled run", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.runs) == 0 {
			return false
		}
		run = r.runs[0]
		return true
	})
	if run.Function != "report" || run.Trigger != TriggerSchedule || run.EventName != "" ||
		!strings.HasPrefix(run.EventID, "schedule:report#") || !run.At.Equal(occurrence) ||
		!db.TimeOf(run.Input["scheduled_at"]).Equal(occurrence) || run.Attempt != 1 {
		t.Fatalf("run = %+v", run)
	}
}
