package events

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the package; the server maps them to HTTP statuses.
var (
	// ErrInvalidConfig: a Config that cannot work.
	ErrInvalidConfig = errors.New("invalid events configuration")
	// ErrInvalidEventName: a custom event's name is empty, too long, uses
	// odd characters or is a system event's name. See *EventNameError.
	ErrInvalidEventName = errors.New("invalid event name")
	// ErrEventTooLarge: a custom event's data is over Config.MaxEventBytes.
	ErrEventTooLarge = errors.New("event data too large")
	// ErrInvalidEventData: a custom event's data cannot be encoded as JSON.
	ErrInvalidEventData = errors.New("invalid event data")
	// ErrUnknownKind: a job of a kind no handler is registered for.
	ErrUnknownKind = errors.New("unknown job kind")
	// ErrInvalidJob: enqueue options that cannot work.
	ErrInvalidJob = errors.New("invalid job")
	// ErrDuplicateJob: a job with the same idempotency key exists. Enqueue
	// returns it together with the existing job's id.
	ErrDuplicateJob = errors.New("duplicate job")
	// ErrJobNotFound: no job has the id.
	ErrJobNotFound = errors.New("job not found")
	// ErrNotReplayable: only dead and done jobs can be replayed.
	ErrNotReplayable = errors.New("job is not dead or done")
	// ErrInvalidStatus: a job status other than pending, running, done or
	// dead.
	ErrInvalidStatus = errors.New("invalid job status")
	// ErrInvalidSchedule: a schedule expression or time zone that does not
	// parse. See *ScheduleError.
	ErrInvalidSchedule = errors.New("invalid schedule")
	// ErrScheduleNotFound: the function has no schedule.
	ErrScheduleNotFound = errors.New("schedule not found")
	// ErrAlreadyStarted: Start was called twice.
	ErrAlreadyStarted = errors.New("already started")
)

// EventNameError says why a custom event's name was refused.
// errors.Is(err, ErrInvalidEventName) holds for it.
type EventNameError struct {
	Name   string
	Reason string
}

func (e *EventNameError) Error() string {
	return fmt.Sprintf("invalid event name %q: %s", e.Name, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidEventName) hold.
func (e *EventNameError) Unwrap() error { return ErrInvalidEventName }

// ScheduleError says why a schedule trigger was refused. Its message is the
// parser's, which names the expression or time zone and what to change.
// errors.Is(err, ErrInvalidSchedule) holds for it.
type ScheduleError struct {
	Expression string
	Timezone   string
	Err        error
}

func (e *ScheduleError) Error() string { return e.Err.Error() }

// Unwrap makes errors.Is(err, ErrInvalidSchedule) hold, and reaches the
// parser's error.
func (e *ScheduleError) Unwrap() []error { return []error{ErrInvalidSchedule, e.Err} }

// PermanentError marks a job's failure as one retrying cannot fix: the job
// goes to dead letters at once, its error kept.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying. A job handler returning it
// sends its job to dead letters at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryError asks for the next attempt of a job after a delay of the
// handler's choosing instead of the kind's backoff: a receiver's
// Retry-After, a backoff formula of its own. The job still dies after its
// last attempt.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err so that the job's next attempt waits d (at least
// one second). RetryAfter(d, nil) is nil.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &RetryError{After: max(d, time.Second), Err: err}
}
