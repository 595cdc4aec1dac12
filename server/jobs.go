package server

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// bindJobsApi registers the admin routes of the job queue and the
// scheduler: listing and replaying jobs, listing, pausing, resuming and
// running schedules.
func bindJobsApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin")
	g.Get("/jobs", s.adminJobs)
	g.Post("/jobs/replay-dead", s.adminReplayDead)
	g.Post("/jobs/:id/replay", s.adminReplayJob)
	g.Get("/schedules", s.adminSchedules)
	g.Post("/schedules/:function/pause", s.adminPauseSchedules)
	g.Post("/schedules/:function/resume", s.adminResumeSchedules)
	g.Post("/schedules/:function/run", s.adminRunSchedule)
}

// jobView is a job as the admin API shows it: its payload in plain JSON
// (ids as hex strings, dates as RFC 3339).
func jobView(j events.Job) events.Job {
	if p, ok := db.ToJSONValue(j.Payload).(map[string]any); ok {
		j.Payload = p
	}
	return j
}

// adminJobs lists jobs: GET /api/admin/jobs?status=pending|running|done|dead&limit=
// answers 200 {jobs: […], next}. Without status it lists every job,
// newest first. Pages go by after=<the last job's id> (next is the after
// of the following page, "" when this one was not full), or by skip.
func (s *Server) adminJobs(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	skip := 0
	if raw := c.Query("skip"); raw != "" {
		if skip, err = strconv.Atoi(raw); err != nil || skip < 0 {
			return badInput("skip must be a whole number, 0 or more")
		}
	}
	after, err := cursorParam(c, "after")
	if err != nil {
		return err
	}
	var jobs []events.Job
	switch {
	case after != "" && skip > 0:
		return badInput("give after or skip, not both")
	case after != "":
		jobs, err = s.jobs.Queue.ListAfter(c.UserContext(), c.Query("status"), after, limit)
		if errors.Is(err, events.ErrJobNotFound) {
			return badInput("after: %v", err)
		}
	default:
		jobs, err = s.jobs.Queue.ListPage(c.UserContext(), c.Query("status"), limit, skip)
	}
	if err != nil {
		return err
	}
	out := make([]events.Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobView(j)
	}
	last := ""
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return c.JSON(adminapi.JobsAnswer{Jobs: out, Next: nextCursor(len(out), limit, last)})
}

// adminReplayJob makes a dead or done job pending again with a fresh set
// of attempts: 200 {job}; 404 for an unknown id, 409 for a job that is
// pending or running.
func (s *Server) adminReplayJob(c *fiber.Ctx) error {
	job, err := s.jobs.Queue.Replay(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(adminapi.JobAnswer{Job: jobView(job)})
}

// adminReplayDead replays every dead job: 200 {replayed: N}.
func (s *Server) adminReplayDead(c *fiber.Ctx) error {
	n, err := s.jobs.Queue.ReplayDead(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(adminapi.ReplayedAnswer{Replayed: n})
}

// adminSchedules lists the schedules by function, each with its next 5
// occurrences: GET /api/admin/schedules?limit=&after= answers 200
// {schedules: […], next}; after is the id of the last schedule of the
// previous page (paging.go).
func (s *Server) adminSchedules(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	after, err := cursorParam(c, "after")
	if err != nil {
		return err
	}
	list, err := s.jobs.Scheduler.ListPage(c.UserContext(), after, limit)
	if err != nil {
		return err
	}
	last := ""
	if len(list) > 0 {
		last = list[len(list)-1].ID
	}
	return c.JSON(adminapi.SchedulesAnswer{Schedules: list, Next: nextCursor(len(list), limit, last)})
}

// adminPauseSchedules stops a function's schedules from firing until
// resumed: 200 {schedules: […]}, the function's schedules as they are now
// (a function may have several); 404 when it has none.
func (s *Server) adminPauseSchedules(c *fiber.Ctx) error {
	fn := c.Params("function")
	if err := s.jobs.Scheduler.Pause(c.UserContext(), fn); err != nil {
		return err
	}
	return s.answerSchedulesOf(c, fn)
}

// adminResumeSchedules lets a function's schedules fire again from their
// next occurrence: 200 {schedules: […]}; 404 when it has none.
func (s *Server) adminResumeSchedules(c *fiber.Ctx) error {
	fn := c.Params("function")
	if err := s.jobs.Scheduler.Resume(c.UserContext(), fn); err != nil {
		return err
	}
	return s.answerSchedulesOf(c, fn)
}

// answerSchedulesOf answers {schedules: […]} with fn's schedules.
func (s *Server) answerSchedulesOf(c *fiber.Ctx, fn string) error {
	list, err := s.jobs.Scheduler.List(c.UserContext())
	if err != nil {
		return err
	}
	mine := []events.ScheduleInfo{}
	for _, info := range list {
		if info.Function == fn {
			mine = append(mine, info)
		}
	}
	return c.JSON(adminapi.SchedulesAnswer{Schedules: mine})
}

// adminRunSchedule queues a run of a scheduled function now, paused or
// not, with input {scheduled_at = now}: 202 {job_id}; 404 when the
// function has no schedule.
func (s *Server) adminRunSchedule(c *fiber.Ctx) error {
	id, err := s.jobs.Scheduler.RunNow(c.UserContext(), c.Params("function"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(adminapi.QueuedAnswer{JobID: id})
}

// listLimit reads the limit query parameter of an admin list: 1 to
// events.MaxListLimit, events.DefaultListLimit when absent.
func listLimit(c *fiber.Ctx) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return events.DefaultListLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > events.MaxListLimit {
		return 0, badInput("limit must be a whole number from 1 to %d", events.MaxListLimit)
	}
	return n, nil
}

// optionalListLimit is listLimit for the lists that answer everything
// when no ?limit= is given, as they did before they paged: 0 then.
func optionalListLimit(c *fiber.Ctx) (int, error) {
	if c.Query("limit") == "" {
		return 0, nil
	}
	return listLimit(c)
}

// timeValue reads a date a store returned.
func timeValue(v any) time.Time {
	switch t := v.(type) {
	case primitive.DateTime:
		return t.Time().UTC()
	case time.Time:
		return t.UTC()
	}
	return time.Time{}
}
