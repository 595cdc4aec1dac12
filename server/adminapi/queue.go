package adminapi

import "github.com/moonbase-dev/moonbase/events"

// JobsAnswer answers GET /api/admin/jobs: the queue's jobs, their payload
// in plain JSON.
type JobsAnswer struct {
	Jobs []events.Job `json:"jobs"`
	// Next is the after of the following page, "" when this one was not
	// full.
	Next string `json:"next"`
}

// JobAnswer answers POST /api/admin/jobs/:id/replay.
type JobAnswer struct {
	Job events.Job `json:"job"`
}

// ReplayedAnswer answers POST /api/admin/jobs/replay-dead.
type ReplayedAnswer struct {
	Replayed int `json:"replayed"`
}

// SchedulesAnswer answers GET /api/admin/schedules, and a pause or resume
// with the function's schedules as they are after it.
type SchedulesAnswer struct {
	Schedules []events.ScheduleInfo `json:"schedules"`
	// Next is the after of the list's following page, "" on the last.
	Next string `json:"next"`
}

// QueuedAnswer answers POST /api/admin/schedules/:function/run: the job of
// the run queued.
type QueuedAnswer struct {
	JobID string `json:"job_id"`
}
