package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser reads five fields, or six with leading seconds, and the
// descriptors. Time zones are given beside the expression, never in it.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronDescriptors are the @-forms accepted besides @every.
var cronDescriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// cronField describes one field of a cron expression for validation.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
	hint     string
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dowNames   = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
)

// cronFields lists the six fields in order; five-field expressions start at
// minute.
var cronFields = [6]cronField{
	{name: "second", min: 0, max: 59},
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: monthNames, hint: " (1-12 or jan-dec)"},
	{name: "day-of-week", min: 0, max: 6, names: dowNames, hint: " (0-6 or sun-sat; 0 is Sunday)"},
}

// cronRule is a parsed cron expression evaluated on the wall clock.
type cronRule struct{ spec *cron.SpecSchedule }

func (r cronRule) nextWall(w time.Time) time.Time { return r.spec.Next(w) }

// looksLikeCron reports whether expr is meant as a cron expression: cron
// starts with a number, a star, a question mark or an @-descriptor, while
// phrases and RRULEs start with a word.
func looksLikeCron(expr string) bool {
	return expr != "" && strings.ContainsRune("0123456789*?@", rune(expr[0]))
}

// parseCron parses a cron expression. It returns the rule, whether the rule
// fires in every hour of the day (so it follows elapsed time across
// daylight-saving changes), a fixed period for @every, and the normalised
// text.
func parseCron(expr string) (rule wallRule, elapsed bool, every time.Duration, text string, err error) {
	fields := strings.Fields(expr)
	text = strings.Join(fields, " ")
	if strings.HasPrefix(text, "@") {
		return parseDescriptor(expr, text)
	}
	if len(fields) != 5 && len(fields) != 6 {
		return nil, false, 0, "", invalid(expr, "cron expression %q has %d fields: use 5 (minute hour day-of-month month day-of-week) or 6 with seconds first", text, len(fields))
	}
	first := 1
	if len(fields) == 6 {
		first = 0
	}
	for i, f := range fields {
		if msg := checkCronField(cronFields[first+i], f); msg != "" {
			return nil, false, 0, "", invalid(expr, "cron expression %q: %s field %q: %s", text, cronFields[first+i].name, f, msg)
		}
	}
	sched, perr := cronParser.Parse(text)
	if perr != nil {
		return nil, false, 0, "", invalid(expr, "cron expression %q: %v", text, perr)
	}
	return specRule(sched, expr, text)
}

// parseDescriptor handles @hourly and friends, and @every.
func parseDescriptor(expr, text string) (wallRule, bool, time.Duration, string, error) {
	lower := strings.ToLower(text)
	if rest, ok := strings.CutPrefix(lower, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		switch {
		case err != nil:
			return nil, false, 0, "", invalid(expr, "@every needs a duration such as 15m, 2h or 1h30m, got %q", strings.TrimSpace(rest))
		case d < time.Second || d%time.Second != 0:
			return nil, false, 0, "", invalid(expr, "@every needs a whole number of seconds, at least 1s, got %q", strings.TrimSpace(rest))
		}
		return nil, true, d, "@every " + shortDuration(d), nil
	}
	if !cronDescriptors[lower] {
		return nil, false, 0, "", invalid(expr, "unknown cron descriptor %q: use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>", text)
	}
	sched, err := cronParser.Parse(lower)
	if err != nil {
		return nil, false, 0, "", invalid(expr, "cron expression %q: %v", text, err)
	}
	return specRule(sched, expr, lower)
}

// specRule evaluates a parsed cron schedule on the wall clock.
func specRule(sched cron.Schedule, expr, text string) (wallRule, bool, time.Duration, string, error) {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, false, 0, "", invalid(expr, "cron expression %q is not supported", text)
	}
	wall := *spec
	wall.Location = time.UTC
	const allHours = 1<<24 - 1
	return cronRule{spec: &wall}, wall.Hour&allHours == allHours, 0, text, nil
}

// checkCronField validates one field and returns why it is wrong, or "".
// robfig/cron checks the same, but its messages do not name the field.
func checkCronField(f cronField, text string) string {
	for _, item := range strings.Split(text, ",") {
		if item == "" {
			return "empty list item"
		}
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n <= 0 {
				return fmt.Sprintf("step %q must be a positive whole number", step)
			}
		}
		if rng == "*" || rng == "?" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, msg := cronValue(f, lo)
		if msg != "" {
			return msg
		}
		if !isRange {
			continue
		}
		b, msg := cronValue(f, hi)
		if msg != "" {
			return msg
		}
		if a > b {
			return fmt.Sprintf("range %s goes backwards", rng)
		}
	}
	return ""
}

// cronValue reads one number or name of field f.
func cronValue(f cronField, s string) (int, string) {
	if n, ok := f.names[strings.ToLower(s)]; ok {
		return n, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a number%s", s, f.hint)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Sprintf("%d is out of range %d-%d%s", n, f.min, f.max, f.hint)
	}
	return n, ""
}

// nextEvery returns the first multiple of d since the Unix epoch strictly
// after after. Anchoring at the epoch, rather than at the previous run,
// makes every instance compute the same occurrences.
func nextEvery(d time.Duration, after time.Time) time.Time {
	sec := int64(d / time.Second)
	s := after.Unix()
	k := s / sec
	if s%sec < 0 {
		k--
	}
	return time.Unix((k+1)*sec, 0)
}
