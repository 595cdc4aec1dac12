package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// acceptedForms is the hint every refusal of an unknown phrase ends with.
const acceptedForms = `use cron ("0 9 * * *"), an RRULE ("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9") or a phrase such as ` +
	`"daily at 09:00", "every monday at 8am", "every weekday at 7:30", "first monday of every month at 09:00", ` +
	`"every month on the 1st at 9am", "every 15 minutes" or "hourly"`

// clock is a time of day from an "at" clause.
type clock struct{ hour, minute int }

var dayNames = map[string]int{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

// rruleDays are RRULE's two-letter day codes indexed by Go weekday.
var rruleDays = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

var ordinals = map[string]int{
	"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1,
}

// compilePhrase compiles a plain phrase to the cron expression or RRULE it
// stands for. The grammar is in doc.go; matching is on lower-cased words.
func compilePhrase(expr string) (string, error) {
	words := strings.Fields(strings.ToLower(expr))
	body, at, err := splitAt(expr, words)
	if err != nil {
		return "", err
	}
	timed := func(c clock, format string, args ...any) string {
		return fmt.Sprintf("%d %d "+format, append([]any{c.minute, c.hour}, args...)...)
	}
	day := clock{} // a day-based phrase without "at" runs at midnight
	if at != nil {
		day = *at
	}
	untimed := func(out string) (string, error) {
		if at != nil {
			return "", invalid(expr, "%q repeats through the day and takes no \"at\" time", strings.Join(body, " "))
		}
		return out, nil
	}

	switch b := strings.Join(body, " "); {
	case b == "hourly" || b == "every hour":
		return untimed("0 * * * *")
	case b == "every minute":
		return untimed("* * * * *")
	case b == "daily" || b == "every day":
		return timed(day, "* * *"), nil
	case b == "weekly" || b == "every week":
		return timed(day, "* * 0"), nil
	case b == "monthly" || b == "every month":
		return timed(day, "1 * *"), nil
	case b == "yearly" || b == "annually" || b == "every year":
		return timed(day, "1 1 *"), nil
	case b == "every weekday":
		return timed(day, "* * 1-5"), nil
	}

	switch {
	case len(body) == 2 && body[0] == "every":
		if d, ok := weekday(body[1]); ok {
			return timed(day, "* * %d", d), nil
		}
	case len(body) == 3 && body[0] == "every":
		if n, err := strconv.Atoi(body[1]); err == nil {
			return everyN(expr, strings.Join(body, " "), n, body[2], at)
		}
	case len(body) == 5 && body[2] == "of" && isEachMonth(body[3:]):
		return monthlyOrdinal(expr, body[0], body[1], day)
	case len(body) >= 3 && (body[0] == "every" && body[1] == "month" || body[0] == "monthly"):
		on := body[1:]
		if body[0] == "every" {
			on = body[2:]
		}
		if on[0] == "on" && (len(on) == 2 || len(on) == 3 && on[1] == "the") {
			n, err := monthDay(expr, on[len(on)-1])
			if err != nil {
				return "", err
			}
			return timed(day, "%d * *", n), nil
		}
	}
	return "", invalid(expr, "unknown schedule %q: %s", strings.TrimSpace(expr), acceptedForms)
}

// splitAt separates "… at TIME" into the words before "at" and the time.
func splitAt(expr string, words []string) ([]string, *clock, error) {
	for i, w := range words {
		if w != "at" {
			continue
		}
		text := strings.Join(words[i+1:], " ")
		c, ok := parseClock(text)
		if !ok {
			return nil, nil, invalid(expr, "invalid time %q in %q: write it like 9am, 9:30 pm or 21:15", text, strings.TrimSpace(expr))
		}
		return words[:i], &c, nil
	}
	return words, nil, nil
}

// parseClock reads 9am, 9 am, 9:30pm, 9:30 pm, 09:00, 21:15, noon and
// midnight.
func parseClock(s string) (clock, bool) {
	s = strings.ReplaceAll(s, " ", "")
	switch s {
	case "noon":
		return clock{hour: 12}, true
	case "midnight":
		return clock{}, true
	}
	suffix := ""
	if strings.HasSuffix(s, "am") || strings.HasSuffix(s, "pm") {
		s, suffix = s[:len(s)-2], s[len(s)-2:]
	}
	hs, ms, hasMinutes := strings.Cut(s, ":")
	if hs == "" || len(hs) > 2 || !hasMinutes && suffix == "" || hasMinutes && len(ms) != 2 {
		return clock{}, false
	}
	h, err := strconv.Atoi(hs)
	if err != nil || h < 0 {
		return clock{}, false
	}
	m := 0
	if hasMinutes {
		if m, err = strconv.Atoi(ms); err != nil || m < 0 || m > 59 {
			return clock{}, false
		}
	}
	switch {
	case suffix == "" && h <= 23:
		return clock{hour: h, minute: m}, true
	case suffix != "" && h >= 1 && h <= 12:
		h %= 12
		if suffix == "pm" {
			h += 12
		}
		return clock{hour: h, minute: m}, true
	}
	return clock{}, false
}

// weekday reads a day name, full, short or plural ("mondays").
func weekday(w string) (int, bool) {
	if d, ok := dayNames[w]; ok {
		return d, true
	}
	d, ok := dayNames[strings.TrimSuffix(w, "s")]
	return d, ok && len(w) > 4
}

// isEachMonth matches "every month", "each month" and "the month".
func isEachMonth(w []string) bool {
	return len(w) == 2 && w[1] == "month" && (w[0] == "every" || w[0] == "each" || w[0] == "the")
}

// everyN compiles "every N minutes|hours|days". Steps that divide the hour
// or the day become cron steps, so they fall on round clock times; others
// become @every, counted from the Unix epoch.
func everyN(expr, phrase string, n int, unit string, at *clock) (string, error) {
	unit = strings.TrimSuffix(unit, "s")
	if unit != "minute" && unit != "min" && unit != "hour" && unit != "day" {
		return "", invalid(expr, "unknown schedule %q: %s", strings.TrimSpace(expr), acceptedForms)
	}
	if n < 1 || n > 10000 {
		return "", invalid(expr, "%q: the number must be between 1 and 10000", phrase)
	}
	if unit == "day" {
		c := clock{}
		if at != nil {
			c = *at
		}
		if n == 1 {
			return fmt.Sprintf("%d %d * * *", c.minute, c.hour), nil
		}
		return fmt.Sprintf("FREQ=DAILY;INTERVAL=%d;BYHOUR=%d;BYMINUTE=%d", n, c.hour, c.minute), nil
	}
	if at != nil {
		return "", invalid(expr, "%q repeats through the day and takes no \"at\" time", phrase)
	}
	d := time.Duration(n) * time.Minute
	if unit == "hour" {
		d = time.Duration(n) * time.Hour
	}
	switch {
	case d == time.Minute:
		return "* * * * *", nil
	case d < time.Hour && time.Hour%d == 0:
		return fmt.Sprintf("*/%d * * * *", n), nil
	case d == time.Hour:
		return "0 * * * *", nil
	case d < 24*time.Hour && d%time.Hour == 0 && 24*time.Hour%d == 0:
		return fmt.Sprintf("0 */%d * * *", int(d/time.Hour)), nil
	}
	return "@every " + shortDuration(d), nil
}

// monthlyOrdinal compiles "first monday of every month" and
// "last day of every month".
func monthlyOrdinal(expr, ord, what string, c clock) (string, error) {
	n, ok := ordinals[ord]
	if !ok {
		return "", invalid(expr, "unknown position %q in %q: use first, second, third, fourth or last", ord, strings.TrimSpace(expr))
	}
	if what == "day" {
		if n > 0 {
			return fmt.Sprintf("%d %d %d * *", c.minute, c.hour, n), nil
		}
		return fmt.Sprintf("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=%d;BYMINUTE=%d", c.hour, c.minute), nil
	}
	d, ok := weekday(what)
	if !ok {
		return "", invalid(expr, "unknown day %q in %q: use monday to sunday or day", what, strings.TrimSpace(expr))
	}
	return fmt.Sprintf("FREQ=MONTHLY;BYDAY=%d%s;BYHOUR=%d;BYMINUTE=%d", n, rruleDays[d], c.hour, c.minute), nil
}

// monthDay reads a day of the month: 1st, 2nd, 3rd, 15th, 31st or 15.
func monthDay(expr, w string) (int, error) {
	digits := strings.TrimRight(w, "stndrh")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > 31 || digits != w && ordinalSuffix(n) != w[len(digits):] {
		return 0, invalid(expr, "invalid day of the month %q in %q: use 1st to 31st", w, strings.TrimSpace(expr))
	}
	return n, nil
}

// ordinalSuffix returns the English suffix of n: st, nd, rd or th.
func ordinalSuffix(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return "th"
	case n%10 == 1:
		return "st"
	case n%10 == 2:
		return "nd"
	case n%10 == 3:
		return "rd"
	}
	return "th"
}

// shortDuration writes d as 1h30m rather than time.Duration's 1h30m0s.
func shortDuration(d time.Duration) string {
	var b strings.Builder
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s := d % time.Minute / time.Second; s > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
