// Package schedule parses the schedule expressions of function triggers —
// cron, RFC 5545 RRULE and plain phrases — and computes their occurrences in
// an IANA time zone.
//
//	s, err := schedule.Parse("first monday of every month at 09:00", "Europe/Paris")
//	if err != nil {
//		return err // e.g. `invalid time "25:00" in "daily at 25:00": write it like 9am, 9:30 pm or 21:15`
//	}
//	next := s.Next(time.Now())  // 2026-02-02 09:00:00 +0100 CET
//	s.String()                  // "FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9;BYMINUTE=0"
//
// # Syntaxes
//
// Parse tells the three apart by their first characters: a digit, "*", "?"
// or "@" starts cron; "FREQ=", "RRULE:" or "DTSTART" starts an RRULE;
// anything else is a phrase. The time zone is always given beside the
// expression ("" is UTC); CRON_TZ= and TZID= inside it are refused.
//
// Cron (github.com/robfig/cron/v3): five fields "minute hour day-of-month
// month day-of-week", or six with seconds first. Fields take numbers, *,
// lists (1,15), ranges (1-5), steps (*/15, 0-30/10), month names jan-dec
// and day names sun-sat (0 is Sunday; 7 is refused). As in classic cron, when
// both day-of-month and day-of-week are restricted a day matching either
// one fires. Descriptors: @yearly (@annually), @monthly, @weekly (Sunday
// 00:00), @daily (@midnight), @hourly, and @every <duration> (15m, 2h,
// 1h30m; whole seconds, at least 1s). @every fires at whole multiples of the
// duration counted from 1970-01-01T00:00:00Z, not from the previous run, so
// every instance computes the same times (@every 15m fires at :00, :15, :30
// and :45 in zones with whole-hour offsets).
//
// RRULE (github.com/teambition/rrule-go): "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9",
// optionally prefixed with "RRULE:", case-insensitive. DTSTART may be given
// as a part ("…;DTSTART=20260105T090000") or as a first line
// ("DTSTART:20260105T090000\nRRULE:FREQ=…"); without Z it is local time in
// the schedule's zone, with Z it is converted to it, and UNTIL reads the
// same way. Without DTSTART a rule starts at midnight on Monday 2001-01-01
// local time: parts it leaves open take their values from that (no BYHOUR
// means 00:00, FREQ=WEEKLY alone means Mondays, FREQ=MONTHLY alone means the
// 1st) and INTERVAL counts from it. COUNT needs an explicit DTSTART.
//
// Phrases, case-insensitive, compile to cron or an RRULE (String shows
// which):
//
//	phrase  = "hourly" | "every hour" | "every minute"
//	        | "every" N ("minutes" | "hours")
//	        | ("daily" | "weekly" | "monthly" | "yearly") [at]
//	        | "every" ("day" | "week" | "month" | "year") [at]
//	        | "every" N "days" [at]
//	        | "every" DAY [at] | "every weekday" [at]
//	        | ORDINAL (DAY | "day") "of" ("every" | "each" | "the") "month" [at]
//	        | ("every month" | "monthly") "on" ["the"] NTH [at]
//	at      = "at" TIME                          ; without it: 00:00
//	TIME    = 9am | 9 am | 9:30pm | 9:30 pm | 09:00 | 21:15 | noon | midnight
//	DAY     = monday … sunday | mon … sun | mondays …
//	ORDINAL = first | second | third | fourth | last | 1st … 4th
//	NTH     = 1st … 31st | 1 … 31
//
// Examples: "daily at 9am" → 0 9 * * *; "every monday at 08:00" → 0 8 * * 1;
// "every weekday at 7:30" → 30 7 * * 1-5; "every month on the 1st at 09:00"
// → 0 9 1 * *; "first monday of every month at 09:00" →
// FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9;BYMINUTE=0; "last friday of each month
// at 17:00" → FREQ=MONTHLY;BYDAY=-1FR;…; "last day of every month" →
// FREQ=MONTHLY;BYMONTHDAY=-1;…; "weekly" → 0 0 * * 0 (Sunday, as @weekly).
// "every N minutes" and "every N hours" become cron steps (*/15 * * * *,
// 0 */2 * * *) when N divides the hour or the day, so runs fall on round
// clock times, and @every otherwise (every 7 minutes → @every 7m). "every
// N days" is FREQ=DAILY;INTERVAL=N, counted from 2001-01-01. A day of the
// month that a month lacks (the 31st in April) is skipped that month, as
// in cron; use "last day of every month" for month ends.
//
// # Daylight saving
//
// Rules are evaluated on the local wall clock, then each local time is
// placed on the real time line:
//
//   - A schedule at set hours (daily at 02:30, every monday at 08:00,
//     0 */2 * * *, an RRULE with BYHOUR or FREQ of DAILY or longer) is a
//     local appointment. A local time that exists every day (09:00 in
//     Paris or New York) keeps its local time across the changes. A time
//     the clocks skip (02:30 on 29 March 2026 in Paris, 8 March 2026 in New
//     York) runs once, at the moment the clocks jump: 03:00 local. A time
//     that occurs twice (01:30 on 1 November 2026 in New York) runs once, the
//     first time (EDT). So a daily run happens exactly once every local day.
//   - A schedule that fires in every hour of the day (cron with hour "*",
//     every 15 minutes, hourly, an RRULE of FREQ=HOURLY, MINUTELY or SECONDLY
//     without BYHOUR) follows elapsed time: it fires in both copies of a
//     repeated hour and not in the hour the clocks skip, so its runs stay
//     evenly spaced in real time.
//   - @every is pure elapsed time and ignores the zone.
//
// robfig/cron on its own skips such a run on spring-forward days and runs it
// twice on fall-back days, and rrule-go repeats or drops an hourly run; the
// tests pin both so the difference stays visible.
package schedule
