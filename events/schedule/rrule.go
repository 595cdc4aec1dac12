package schedule

import (
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// defaultStart is the DTSTART of an RRULE that names none: midnight on
// Monday 1 January 2001 in the schedule's zone, so a rule without BYHOUR
// fires at midnight, FREQ=WEEKLY fires on Mondays, FREQ=MONTHLY on the 1st
// and INTERVAL counts from a fixed point every instance agrees on.
var defaultStart = time.Date(2001, time.January, 1, 0, 0, 0, 0, time.UTC)

// rruleRule is an RRULE evaluated on the wall clock. opt has every default
// that rrule-go would derive from DTSTART written out, so DTSTART can be
// moved forward by whole periods without changing the occurrences.
type rruleRule struct {
	opt rrule.ROption
	// counted rules (COUNT) must start from their own DTSTART.
	counted bool
}

// looksLikeRRule reports whether expr is meant as an RRULE.
func looksLikeRRule(expr string) bool {
	u := strings.ToUpper(expr)
	return strings.HasPrefix(u, "RRULE:") || strings.HasPrefix(u, "FREQ=") || strings.HasPrefix(u, "DTSTART") || strings.Contains(u, ";FREQ=")
}

// parseRRule parses an RRULE, optionally prefixed by "RRULE:" and preceded
// by a DTSTART line ("DTSTART:20260105T090000\nRRULE:FREQ=…") or carrying
// DTSTART as a part ("FREQ=DAILY;DTSTART=20260105T090000"). A DTSTART
// without Z is local time in loc; with Z it is converted to loc.
func parseRRule(expr string, loc *time.Location) (wallRule, bool, string, error) {
	src := strings.ToUpper(strings.TrimSpace(expr))
	var dtstart string
	lines := strings.FieldsFunc(src, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) == 2 {
		head, ok := strings.CutPrefix(strings.TrimSpace(lines[0]), "DTSTART:")
		if !ok {
			return nil, false, "", invalid(expr, "RRULE %q: the first of two lines must be DTSTART:YYYYMMDDTHHMMSS (the time zone goes in the timezone setting)", expr)
		}
		dtstart, src = head, strings.TrimSpace(lines[1])
	} else if len(lines) != 1 {
		return nil, false, "", invalid(expr, "RRULE %q: give one RRULE line, optionally after one DTSTART line", expr)
	}
	src = strings.TrimPrefix(src, "RRULE:")

	var parts []string
	var until string
	for _, part := range strings.Split(src, ";") {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" || value == "" {
			return nil, false, "", invalid(expr, "RRULE %q: part %q must be NAME=VALUE", src, part)
		}
		switch name {
		case "DTSTART":
			dtstart = value
		case "UNTIL":
			until = value
		case "FREQ":
			if _, err := rrule.StrToFreq(value); err != nil {
				return nil, false, "", invalid(expr, "RRULE %q: unknown FREQ %q: use YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY or SECONDLY", src, value)
			}
			parts = append(parts, part)
		default:
			parts = append(parts, part)
		}
	}
	popt, err := rrule.StrToROption(strings.Join(parts, ";"))
	if err != nil {
		return nil, false, "", invalid(expr, "RRULE %q: %v", src, err)
	}
	opt := *popt
	if dtstart != "" {
		if opt.Dtstart, err = wallTime(dtstart, loc); err != nil {
			return nil, false, "", invalid(expr, "RRULE %q: DTSTART %q: use YYYYMMDDTHHMMSS, local to the schedule's time zone, or with a Z for UTC", src, dtstart)
		}
	}
	if until != "" {
		if opt.Until, err = wallTime(until, loc); err != nil {
			return nil, false, "", invalid(expr, "RRULE %q: UNTIL %q: use YYYYMMDDTHHMMSS, local to the schedule's time zone, or with a Z for UTC", src, until)
		}
	}
	if opt.Count > 0 && opt.Dtstart.IsZero() {
		return nil, false, "", invalid(expr, "RRULE %q: COUNT needs a DTSTART to count from", src)
	}
	text := normalRRule(opt)
	if opt.Dtstart.IsZero() {
		opt.Dtstart = defaultStart
	}
	if _, err := rrule.NewRRule(opt); err != nil {
		return nil, false, "", invalid(expr, "RRULE %q: %v", src, err)
	}
	elapsed := opt.Freq >= rrule.HOURLY && len(opt.Byhour) == 0
	return &rruleRule{opt: explicitDefaults(opt), counted: opt.Count > 0}, elapsed, text, nil
}

// wallTime reads an RFC 5545 date or date-time as a wall time in loc.
func wallTime(s string, loc *time.Location) (time.Time, error) {
	if strings.HasSuffix(s, "Z") {
		t, err := time.Parse(rrule.DateTimeFormat, s)
		if err != nil {
			return time.Time{}, err
		}
		return wallOf(t, loc), nil
	}
	if len(s) == len(rrule.DateFormat) {
		return time.Parse(rrule.DateFormat, s)
	}
	return time.Parse(rrule.LocalDateTimeFormat, s)
}

// explicitDefaults writes out the values rrule-go derives from DTSTART when
// a rule leaves them open (the same rules as its buildRRule).
func explicitDefaults(o rrule.ROption) rrule.ROption {
	d := o.Dtstart
	if len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 && len(o.Byweekday) == 0 && len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(d.Month())}
			}
			o.Bymonthday = []int{d.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{d.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{weekdays[d.Weekday()]}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{d.Hour()}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{d.Minute()}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{d.Second()}
	}
	if o.Interval < 1 {
		o.Interval = 1
	}
	return o
}

// weekdays maps Go's weekdays to rrule-go's.
var weekdays = [7]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}

func (r *rruleRule) nextWall(w time.Time) time.Time {
	opt := r.opt
	if !r.counted {
		opt.Dtstart = r.startNear(w)
	}
	rule, err := rrule.NewRRule(opt)
	if err != nil {
		return time.Time{}
	}
	return rule.After(w, false)
}

// startNear returns a DTSTART a whole number of INTERVAL periods after the
// rule's own, one period or more before w, so that rrule-go, which always
// iterates from DTSTART, does not walk through years of occurrences.
func (r *rruleRule) startNear(w time.Time) time.Time {
	d, n := r.opt.Dtstart, r.opt.Interval
	if !w.After(d) {
		return d
	}
	var periods int
	switch r.opt.Freq {
	case rrule.YEARLY:
		periods = w.Year() - d.Year()
	case rrule.MONTHLY:
		periods = (w.Year()-d.Year())*12 + int(w.Month()) - int(d.Month())
	case rrule.WEEKLY:
		periods = int(w.Sub(weekStart(d, r.opt.Wkst)) / (7 * 24 * time.Hour))
	case rrule.DAILY:
		periods = int(w.Sub(dayStart(d)) / (24 * time.Hour))
	case rrule.HOURLY:
		periods = int(w.Sub(d.Truncate(time.Hour)) / time.Hour)
	case rrule.MINUTELY:
		periods = int(w.Sub(d.Truncate(time.Minute)) / time.Minute)
	default:
		periods = int(w.Sub(d) / time.Second)
	}
	k := periods/n - 1
	if k < 1 {
		return d
	}
	shift := k * n
	switch r.opt.Freq {
	case rrule.YEARLY:
		return time.Date(d.Year()+shift, time.January, 1, 0, 0, 0, 0, time.UTC)
	case rrule.MONTHLY:
		return time.Date(d.Year(), d.Month()+time.Month(shift), 1, 0, 0, 0, 0, time.UTC)
	case rrule.WEEKLY:
		return weekStart(d, r.opt.Wkst).AddDate(0, 0, 7*shift)
	case rrule.DAILY:
		return dayStart(d).AddDate(0, 0, shift)
	case rrule.HOURLY:
		return d.Truncate(time.Hour).Add(time.Duration(shift) * time.Hour)
	case rrule.MINUTELY:
		return d.Truncate(time.Minute).Add(time.Duration(shift) * time.Minute)
	default:
		return d.Add(time.Duration(shift) * time.Second)
	}
}

// dayStart returns midnight of wall time d's day.
func dayStart(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// weekStart returns midnight of the first day, by wkst, of d's week.
func weekStart(d time.Time, wkst rrule.Weekday) time.Time {
	// rrule-go numbers weekdays from Monday = 0; Go from Sunday = 0.
	back := (int(d.Weekday()) + 6 - wkst.Day()) % 7
	return dayStart(d).AddDate(0, 0, -back)
}

// normalRRule writes opt back as one line that Parse reads to the same rule.
// DTSTART and UNTIL are written as local times, as they were read.
func normalRRule(opt rrule.ROption) string {
	start, until := opt.Dtstart, opt.Until
	opt.Until = time.Time{}
	text := opt.RRuleString()
	if !until.IsZero() {
		text += ";UNTIL=" + until.Format(rrule.LocalDateTimeFormat)
	}
	if !start.IsZero() {
		text += ";DTSTART=" + start.Format(rrule.LocalDateTimeFormat)
	}
	return text
}
