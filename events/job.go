package events

import (
	"context"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// Job statuses. A job is pending until a worker claims it, running while a
// worker holds its lease, then done, or pending again for a retry, or dead
// after its last attempt or a permanent error.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusDead    = "dead"
)

// MaxAttemptsLimit caps the attempts of one job.
const MaxAttemptsLimit = 100

// maxErrorLen caps the text of one recorded attempt error.
const maxErrorLen = 2000

// JobHandler runs one attempt of a job. A nil error finishes the job; an
// error schedules a retry, or makes the job dead after its last attempt or
// when wrapped with Permanent. ctx is cancelled when the worker loses the
// job's lease or the queue is shut down past its deadline.
type JobHandler func(ctx context.Context, job Job) error

// Job is one unit of work in the durable queue (_jobs).
type Job struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Payload map[string]any `json:"payload"`
	Status  string         `json:"status"`
	// Key is the idempotency key; the job's id when none was given.
	Key string `json:"key"`
	// Attempt counts the attempts started so far, the current one included
	// while the job runs; it is 1 during a first attempt.
	Attempt     int `json:"attempt"`
	MaxAttempts int `json:"max_attempts"`
	// Backoff is the job's own retry delay; nil for its kind's.
	Backoff    *Backoff  `json:"backoff,omitempty"`
	RunAt      time.Time `json:"run_at"`
	Worker     string    `json:"worker,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	// Errors lists every failed attempt, oldest first.
	Errors     []JobError `json:"errors,omitempty"`
	Replays    int        `json:"replays,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	StartedAt  time.Time  `json:"started_at,omitzero"`
	FinishedAt time.Time  `json:"finished_at,omitzero"`
}

// JobError is the summary of one failed attempt.
type JobError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
	// RetryAt is when the next attempt was scheduled; zero when the
	// attempt was the last one.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// jobFromDoc reads a _jobs document.
func jobFromDoc(d bson.M) Job {
	j := Job{
		ID:          str(d["_id"]),
		Kind:        str(d["kind"]),
		Payload:     mapOf(d["payload"]),
		Status:      str(d["status"]),
		Key:         str(d["key"]),
		Attempt:     intOf(d["attempt"]),
		MaxAttempts: intOf(d["max_attempts"]),
		Backoff:     backoffFromDoc(d["backoff"]),
		RunAt:       db.TimeOf(d["run_at"]),
		Worker:      str(d["worker"]),
		LeaseUntil:  db.TimeOf(d["lease_until"]),
		LastError:   str(d["last_error"]),
		Replays:     intOf(d["replays"]),
		CreatedAt:   db.TimeOf(d["created_at"]),
		UpdatedAt:   db.TimeOf(d["updated_at"]),
		StartedAt:   db.TimeOf(d["started_at"]),
		FinishedAt:  db.TimeOf(d["finished_at"]),
	}
	if errs, ok := d["errors"].(bson.A); ok {
		for _, e := range errs {
			m := mapOf(e)
			j.Errors = append(j.Errors, JobError{
				Attempt: intOf(m["attempt"]),
				At:      db.TimeOf(m["at"]),
				Error:   str(m["error"]),
				RetryAt: db.TimeOf(m["retry_at"]),
			})
		}
	}
	return j
}

// The helpers below read the canonical values a store returns (see package
// db) and tolerate the Go types a caller may have put in.

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case primitive.ObjectID:
		return s.Hex()
	}
	return ""
}

// isNumber reports whether v is a number a store may return.
func isNumber(v any) bool {
	switch v.(type) {
	case int32, int64, int, float64:
		return true
	}
	return false
}

func mapOf(v any) map[string]any {
	switch m := v.(type) {
	case bson.M:
		return map[string]any(m)
	case map[string]any:
		return m
	case bson.D:
		out := make(map[string]any, len(m))
		for _, e := range m {
			out[e.Key] = e.Value
		}
		return out
	}
	return map[string]any{}
}

// storeTime is how times are written: UTC, at the millisecond precision
// every store keeps, so a value read back compares equal to the one
// written.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// summarize caps an error's text for storage.
func summarize(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		// Cutting may split a character; drop its remains.
		s = strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
	}
	// The store keeps only UTF-8, and an error may quote any bytes.
	return strings.ToValidUTF8(s, "\uFFFD")
}

func intOf(v any) int { return int(db.Int64Of(v)) }
