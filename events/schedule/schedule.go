package schedule

import (
	"strings"
	"time"

	// The IANA database is built in, so time zones resolve the same on a
	// machine or container without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// earliest is where occurrences are looked for from at the earliest. It
// keeps the zero time, which the libraries use for "none", out of results.
var earliest = time.Unix(0, 0).Add(-time.Nanosecond)

// maxExprLen bounds an expression; real ones are far shorter.
const maxExprLen = 1000

// Schedule is a parsed schedule expression bound to a time zone. It is
// immutable and safe for concurrent use.
type Schedule struct {
	text string
	loc  *time.Location
	// rule is evaluated on the wall clock; nil when every is set.
	rule wallRule
	// elapsed: the rule fires every hour, so it follows elapsed time across
	// daylight-saving changes (see occurrences).
	elapsed bool
	// every is the period of an @every schedule, counted from the epoch.
	every time.Duration
}

// Parse reads a cron expression, an RFC 5545 RRULE or a plain phrase (see
// the package documentation for the grammar) and binds it to the IANA time
// zone timezone ("" means UTC). Every error wraps ErrInvalid and is an
// *Error whose message says what to change.
func Parse(expr, timezone string) (*Schedule, error) {
	loc, err := loadZone(expr, timezone)
	if err != nil {
		return nil, err
	}
	src := strings.TrimSpace(expr)
	switch upper := strings.ToUpper(src); {
	case src == "":
		return nil, invalid(expr, "empty schedule: %s", acceptedForms)
	case len(src) > maxExprLen:
		return nil, invalid(expr, "schedule is %d characters long; the limit is %d", len(src), maxExprLen)
	case strings.HasPrefix(upper, "TZ=") || strings.HasPrefix(upper, "CRON_TZ="):
		return nil, invalid(expr, "schedule %q names a time zone: give the zone in the timezone setting instead", src)
	}
	if !looksLikeCron(src) && !looksLikeRRule(src) {
		if src, err = compilePhrase(src); err != nil {
			return nil, err
		}
	}
	s := &Schedule{loc: loc}
	if looksLikeRRule(src) {
		s.rule, s.elapsed, s.text, err = parseRRule(src, loc)
	} else {
		s.rule, s.elapsed, s.every, s.text, err = parseCron(src)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// loadZone resolves an IANA zone name; "" is UTC.
func loadZone(expr, name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	return nil, invalid(expr, "unknown time zone %q: use an IANA name such as Europe/Paris, America/New_York or UTC", name)
}

// Next returns the first occurrence strictly after after, in the
// schedule's time zone, or the zero time when the schedule has no further
// occurrence (an RRULE past its UNTIL or COUNT, a date that never comes
// such as 30 February). A time before 1970, such as the zero time, counts
// as the start of 1970.
func (s *Schedule) Next(after time.Time) time.Time {
	if after.Before(earliest) {
		after = earliest
	}
	if s.every > 0 {
		return nextEvery(s.every, after).In(s.loc)
	}
	return nextOnWall(s.rule, after, s.loc, s.elapsed)
}

// NextN returns up to n occurrences strictly after after, in order; fewer
// when the schedule ends.
func (s *Schedule) NextN(after time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t := s.Next(after)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

// String returns the normalised form: the cron expression or RRULE a
// phrase compiled to, a cron expression with single spaces, an RRULE
// without its "RRULE:" prefix and with DTSTART as a part. Parse reads it
// back to the same schedule.
func (s *Schedule) String() string { return s.text }

// Location returns the time zone occurrences are computed in.
func (s *Schedule) Location() *time.Location { return s.loc }
