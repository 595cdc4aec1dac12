package schedule

import (
	"errors"
	"time"
)

// Schedule is a parsed schedule expression bound to a time zone. It is
// immutable and safe for concurrent use.
type Schedule struct {
	expr string
	loc  *time.Location
}

// Parse reads a cron expression, an RFC 5545 RRULE or a plain phrase and
// binds it to the IANA time zone timezone ("" means UTC).
func Parse(expr, timezone string) (*Schedule, error) {
	return nil, errors.New("schedule: not implemented")
}

// Next returns the first occurrence strictly after after, or the zero time
// when the schedule has no further occurrence.
func (s *Schedule) Next(after time.Time) time.Time { return time.Time{} }

// NextN returns up to n occurrences strictly after after, in order.
func (s *Schedule) NextN(after time.Time, n int) []time.Time { return nil }

// String returns the normalised form of the schedule.
func (s *Schedule) String() string { return s.expr }

// Location returns the time zone occurrences are computed in.
func (s *Schedule) Location() *time.Location { return s.loc }
