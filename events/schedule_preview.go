package events

import (
	"strings"
	"time"
)

// SchedulePreview is what an expression would do: the cron or RRULE it
// reads as, and its next occurrences in its time zone.
type SchedulePreview struct {
	Expression string      `json:"expression"`
	Timezone   string      `json:"timezone"`
	Normalized string      `json:"normalized"`
	Next       []time.Time `json:"next"`
}

// PreviewSchedule parses expr in zone tz (empty is UTC) as a schedule
// trigger would and lists its next n occurrences after from. An
// expression that does not parse is a *ScheduleError (ErrInvalidSchedule).
func PreviewSchedule(expr, tz string, from time.Time, n int) (SchedulePreview, error) {
	expr, tz = strings.TrimSpace(expr), zoneName(tz)
	sch, err := parseSchedule(expr, tz)
	if err != nil {
		return SchedulePreview{}, err
	}
	p := SchedulePreview{Expression: expr, Timezone: tz, Normalized: sch.String(), Next: []time.Time{}}
	loc := sch.Location()
	for t := sch.Next(from); len(p.Next) < n && !t.IsZero(); t = sch.Next(t) {
		p.Next = append(p.Next, t.In(loc))
	}
	return p, nil
}
