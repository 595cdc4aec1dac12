package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// The admin job routes list by status, replay one job or every dead one,
// and refuse what they cannot do with the reason.
func TestAdminJobs(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ctx := context.Background()
	// An email job whose payload is no message is dead at its first
	// attempt; one due in an hour stays pending.
	for range 2 {
		if _, err := ts.jobs.Queue.Enqueue(ctx, KindEmail, map[string]any{"to": "nobody"}, events.EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	later, err := ts.jobs.Queue.Enqueue(ctx, KindEmail, map[string]any{"to": "ada@example.com"}, events.EnqueueOptions{RunAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, "two dead jobs", func() bool { return len(ts.emailJobs(t, events.StatusDead)) == 2 })
	// A job that dies is announced as job_dead just after; let both
	// announcements land before the scenarios count the events of each request.
	testsupport.WaitFor(t, "two job_dead events", func() bool {
		return slices.Equal(ts.requestEventNames(t), []string{events.JobDead, events.JobDead})
	})
	dead := ts.emailJobs(t, events.StatusDead)[0]
	vars := map[string]string{"dead": dead.ID, "later": later}
	scenarios := []scenario{
		{name: "dead jobs", method: "GET", path: "/api/admin/jobs?status=dead", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`"id":"{dead}"`, `"kind":"email"`, `"status":"dead"`, `"last_error":"invalid email to[0]: \"nobody\": not a valid email address"`},
			notContent:  []string{`"id":"{later}"`}},
		{name: "pending jobs", method: "GET", path: "/api/admin/jobs?status=pending", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`"id":"{later}"`, `"payload":{"to":"ada@example.com"}`}, notContent: []string{`"id":"{dead}"`}},
		{name: "every job", method: "GET", path: "/api/admin/jobs", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`"id":"{later}"`, `"id":"{dead}"`}},
		{name: "unknown status", method: "GET", path: "/api/admin/jobs?status=failed", token: testAdminToken, wantStatus: 400,
			wantContent: []string{`"code":"invalid_input"`, `invalid job status \"failed\": use pending, running, done or dead`}},
		{name: "bad limit", method: "GET", path: "/api/admin/jobs?limit=5000", token: testAdminToken, wantStatus: 400,
			wantContent: []string{`limit must be a whole number from 1 to 1000`}},
		{name: "no admin token", method: "GET", path: "/api/admin/jobs", wantStatus: 401},
		{name: "replay an unknown job", method: "POST", path: "/api/admin/jobs/nope/replay", token: testAdminToken, wantStatus: 404,
			wantContent: []string{`"code":"not_found"`, `job not found: \"nope\"`}},
		{name: "replay a pending job", method: "POST", path: "/api/admin/jobs/{later}/replay", token: testAdminToken, wantStatus: 409,
			wantContent: []string{`"code":"conflict"`, `job is not dead or done: job {later} is pending`}},
		{name: "replay a dead job", method: "POST", path: "/api/admin/jobs/{dead}/replay", token: testAdminToken, wantStatus: 200, anyEvents: true,
			wantContent: []string{`"job":{"id":"{dead}"`, `"status":"pending"`, `"attempt":0`, `"replays":1`}},
		{name: "replay every dead job", method: "POST", path: "/api/admin/jobs/replay-dead", token: testAdminToken, wantStatus: 200, anyEvents: true,
			after: func(t *testing.T, res response, _ map[string]string) {
				// The job replayed above may have died again already.
				if n := res.json(t)["replayed"]; n != float64(1) && n != float64(2) {
					t.Errorf("replayed %v", n)
				}
			}},
	}
	runScenarios(t, ts, vars, scenarios)
	testsupport.WaitFor(t, "the replayed jobs to die again", func() bool {
		jobs := ts.emailJobs(t, events.StatusDead)
		return len(jobs) == 2 && jobs[0].Replays >= 1 && jobs[1].Replays >= 1
	})
}

// scheduleList is GET /api/admin/schedules's answer.
type scheduleList struct {
	Schedules []struct {
		Function   string   `json:"function"`
		Expression string   `json:"expression"`
		Timezone   string   `json:"timezone"`
		Normalized string   `json:"normalized"`
		Paused     bool     `json:"paused"`
		Next       []string `json:"next"`
	} `json:"schedules"`
}

func (ts *testServer) schedules(t *testing.T) scheduleList {
	t.Helper()
	res := ts.do(t, "GET", "/api/admin/schedules", "", testAdminToken)
	var l scheduleList
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &l) != nil {
		t.Fatalf("schedules: %d %s", res.status, res.body)
	}
	return l
}

// The first Monday of each month at 9 AM, as a phrase and as an RRULE,
// each in its own time zone: listed with its next five occurrences in that
// zone; paused, resumed and run by function; gone with its function.
func TestAdminSchedules(t *testing.T) {
	t.Parallel()
	ts := startServer(t, eventsConfig(t), Deps{})
	ts.saveFn(t, "monthly-phrase", map[string]any{"source": recorder, "triggers": []any{
		map[string]any{"schedule": "first monday of every month at 09:00", "timezone": "America/New_York"}}})
	ts.saveFn(t, "monthly-rrule", map[string]any{"source": recorder, "triggers": []any{
		map[string]any{"schedule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0", "timezone": "Europe/Paris"}}})

	l := ts.schedules(t)
	if len(l.Schedules) != 2 {
		t.Fatalf("schedules %+v", l)
	}
	for i, want := range []struct{ fn, tz string }{{"monthly-phrase", "America/New_York"}, {"monthly-rrule", "Europe/Paris"}} {
		s := l.Schedules[i]
		if s.Function != want.fn || s.Timezone != want.tz || s.Paused || len(s.Next) != 5 {
			t.Fatalf("schedule %d: %+v", i, s)
		}
		loc, _ := time.LoadLocation(want.tz)
		prev := time.Time{}
		for _, raw := range s.Next {
			at, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				t.Fatalf("next %q: %v", raw, err)
			}
			local := at.In(loc)
			_, written := at.Zone()
			if _, offset := local.Zone(); offset != written {
				t.Errorf("%s: %q is not written in %s's offset", want.fn, raw, want.tz)
			}
			if local.Weekday() != time.Monday || local.Day() > 7 || local.Hour() != 9 || local.Minute() != 0 || !at.After(prev) || !at.After(time.Now()) {
				t.Errorf("%s: %q is not a coming first Monday at 09:00 %s", want.fn, raw, want.tz)
			}
			if !prev.IsZero() && (local.Month() == prev.In(loc).Month()) {
				t.Errorf("%s: two occurrences in one month: %v", want.fn, s.Next)
			}
			prev = at
		}
	}

	scenarios := []scenario{
		{name: "pause", method: "POST", path: "/api/admin/schedules/monthly-phrase/pause", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`{"schedules":[{`, `"function":"monthly-phrase"`, `"paused":true`}, notContent: []string{"monthly-rrule"}},
		{name: "run while paused", method: "POST", path: "/api/admin/schedules/monthly-phrase/run", token: testAdminToken, wantStatus: 202,
			wantContent: []string{`"job_id":"`}},
		{name: "resume", method: "POST", path: "/api/admin/schedules/monthly-phrase/resume", token: testAdminToken, wantStatus: 200,
			wantContent: []string{`"function":"monthly-phrase"`, `"paused":false`}},
		{name: "pause a function without schedules", method: "POST", path: "/api/admin/schedules/nope/pause", token: testAdminToken, wantStatus: 404,
			wantContent: []string{`"code":"not_found"`, `schedule not found: function \"nope\" has no schedule`}},
		{name: "run a function without schedules", method: "POST", path: "/api/admin/schedules/nope/run", token: testAdminToken, wantStatus: 404,
			wantContent: []string{`schedule not found: function \"nope\" has no schedule`}},
		{name: "an unknown action", method: "POST", path: "/api/admin/schedules/monthly-phrase/stop", token: testAdminToken, wantStatus: 404},
		{name: "no admin token", method: "POST", path: "/api/admin/schedules/monthly-phrase/pause", wantStatus: 401},
		{name: "delete the function", method: "DELETE", path: "/api/admin/functions/monthly-rrule", token: testAdminToken, wantStatus: 204},
	}
	runScenarios(t, ts, nil, scenarios)
	testsupport.WaitFor(t, "the run", func() bool { return len(ts.docs(t, "runs", nil)) == 1 })
	if l := ts.schedules(t); len(l.Schedules) != 1 || l.Schedules[0].Function != "monthly-phrase" {
		t.Errorf("schedules after the delete: %+v", l)
	}
}
