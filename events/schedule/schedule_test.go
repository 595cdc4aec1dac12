package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// at parses an RFC 3339 time for a test table.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

// requireNext checks NextN(after, len(want)) against want, instant by
// instant and offset by offset, so a wrong zone shows as well as a wrong
// instant.
func requireNext(t *testing.T, s *Schedule, after string, want []string) {
	t.Helper()
	got := s.NextN(at(t, after), len(want)+1)
	var gotS []string
	for _, g := range got {
		gotS = append(gotS, g.Format(time.RFC3339))
	}
	if len(gotS) > len(want) {
		gotS = gotS[:len(want)]
	}
	if strings.Join(gotS, " ") != strings.Join(want, " ") {
		t.Fatalf("%s after %s:\n got  %v\n want %v", s, after, gotS, want)
	}
}

func TestParseAndNext(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		expr   string
		tz     string
		normal string
		after  string
		want   []string
	}{
		{"cron five fields", "0 9 * * *", "", "0 9 * * *", "2026-01-01T10:00:00Z",
			[]string{"2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"}},
		{"cron six fields with seconds", "30 0 9 * * *", "", "30 0 9 * * *", "2026-01-01T09:00:00Z",
			[]string{"2026-01-01T09:00:30Z", "2026-01-02T09:00:30Z"}},
		{"cron names and extra spaces", " 0  8 * jan  MON-fri ", "", "0 8 * jan MON-fri", "2026-01-01T09:00:00Z",
			[]string{"2026-01-02T08:00:00Z", "2026-01-05T08:00:00Z"}},
		{"cron day-of-month or day-of-week", "0 0 10 * 5", "", "0 0 10 * 5", "2026-02-01T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-10T00:00:00Z", "2026-02-13T00:00:00Z"}},
		{"cron every 15 minutes crossing the hour", "*/15 * * * *", "", "*/15 * * * *", "2026-01-01T10:40:00Z",
			[]string{"2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z", "2026-01-01T11:15:00Z"}},
		{"cron in a time zone", "0 9 * * *", "America/New_York", "0 9 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T09:00:00-05:00", "2026-01-02T09:00:00-05:00"}},
		{"cron strictly after an occurrence", "0 9 * * *", "", "0 9 * * *", "2026-01-01T09:00:00Z",
			[]string{"2026-01-02T09:00:00Z"}},
		{"cron date that never comes", "30 2 30 2 *", "", "30 2 30 2 *", "2026-01-01T00:00:00Z", nil},
		{"@hourly", "@hourly", "", "@hourly", "2026-01-01T10:20:00Z",
			[]string{"2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"}},
		{"@daily", "@daily", "Europe/Paris", "@daily", "2026-01-01T10:20:00Z",
			[]string{"2026-01-02T00:00:00+01:00", "2026-01-03T00:00:00+01:00"}},
		{"@weekly is Sunday midnight", "@WEEKLY", "", "@weekly", "2026-01-01T00:00:00Z",
			[]string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"@monthly", "@monthly", "", "@monthly", "2026-01-15T00:00:00Z",
			[]string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}},
		{"@yearly", "@yearly", "", "@yearly", "2026-01-15T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"@every counts from the epoch", "@every 15m", "Europe/Paris", "@every 15m", "2026-01-01T10:07:30Z",
			[]string{"2026-01-01T11:15:00+01:00", "2026-01-01T11:30:00+01:00"}},
		{"@every 1h30m", "@every 90m", "", "@every 1h30m", "2026-01-01T00:10:00Z",
			[]string{"2026-01-01T01:30:00Z", "2026-01-01T03:00:00Z"}},
		{"rrule first monday", "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0", "Europe/Paris", "FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9;BYMINUTE=0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T09:00:00+01:00", "2026-02-02T09:00:00+01:00", "2026-03-02T09:00:00+01:00", "2026-04-06T09:00:00+02:00"}},
		{"rrule with prefix, lower case, minute from DTSTART default", "rrule:freq=monthly;byday=1mo;byhour=9", "", "FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9", "2026-01-05T09:00:00Z",
			[]string{"2026-02-02T09:00:00Z"}},
		{"rrule defaults: weekly on Mondays at midnight", "FREQ=WEEKLY", "", "FREQ=WEEKLY", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"}},
		{"rrule interval counts from 2001-01-01", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9", "", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9", "2026-01-01T00:00:00Z",
			[]string{"2026-01-12T09:00:00Z", "2026-01-26T09:00:00Z"}},
		{"rrule every 15 minutes", "FREQ=MINUTELY;INTERVAL=15", "", "FREQ=MINUTELY;INTERVAL=15", "2026-01-01T10:40:00Z",
			[]string{"2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"}},
		{"rrule last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=18", "", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=18", "2026-01-31T18:00:00Z",
			[]string{"2026-02-28T18:00:00Z", "2026-03-31T18:00:00Z"}},
		{"rrule DTSTART line and COUNT", "DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=3", "Europe/Paris", "FREQ=WEEKLY;INTERVAL=2;COUNT=3;DTSTART=20260105T090000", "2025-12-01T00:00:00Z",
			[]string{"2026-01-05T09:00:00+01:00", "2026-01-19T09:00:00+01:00", "2026-02-02T09:00:00+01:00"}},
		{"rrule DTSTART in UTC moves to the zone", "FREQ=DAILY;DTSTART=20260105T080000Z", "Europe/Paris", "FREQ=DAILY;DTSTART=20260105T090000", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T09:00:00+01:00"}},
		{"rrule UNTIL ends it", "FREQ=DAILY;UNTIL=20260103T000000", "", "FREQ=DAILY;UNTIL=20260103T000000", "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"every day at", "every day at 09:00", "Europe/Paris", "0 9 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T09:00:00+01:00", "2026-01-02T09:00:00+01:00"}},
		{"daily at 9am", "daily at 9am", "", "0 9 * * *", "2026-01-01T09:30:00Z",
			[]string{"2026-01-02T09:00:00Z"}},
		{"daily at 09:00", "Daily At 09:00", "", "0 9 * * *", "2026-01-01T08:00:00Z",
			[]string{"2026-01-01T09:00:00Z"}},
		{"9:30 pm", "every day at 9:30 pm", "", "30 21 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T21:30:00Z"}},
		{"12am is midnight", "daily at 12am", "", "0 0 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T00:00:00Z"}},
		{"12:15pm", "daily at 12:15pm", "", "15 12 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T12:15:00Z"}},
		{"noon", "daily at noon", "", "0 12 * * *", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T12:00:00Z"}},
		{"every monday", "every monday at 08:00", "America/New_York", "0 8 * * 1", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T08:00:00-05:00", "2026-01-12T08:00:00-05:00"}},
		{"every weekday", "every weekday at 7:30", "", "30 7 * * 1-5", "2026-01-02T06:00:00Z",
			[]string{"2026-01-02T07:30:00Z", "2026-01-05T07:30:00Z", "2026-01-06T07:30:00Z"}},
		{"first monday of every month", "first monday of every month at 09:00", "Europe/Paris", "FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9;BYMINUTE=0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T09:00:00+01:00", "2026-02-02T09:00:00+01:00", "2026-03-02T09:00:00+01:00", "2026-04-06T09:00:00+02:00", "2026-05-04T09:00:00+02:00"}},
		{"first monday of each month", "First Monday of each month at 9am", "", "FREQ=MONTHLY;BYDAY=+1MO;BYHOUR=9;BYMINUTE=0", "2026-01-05T09:00:00Z",
			[]string{"2026-02-02T09:00:00Z"}},
		{"last friday of every month", "last friday of every month at 17:00", "", "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T17:00:00Z", "2026-02-27T17:00:00Z", "2026-03-27T17:00:00Z"}},
		{"last day of every month", "last day of every month at 23:00", "", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23;BYMINUTE=0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"}},
		{"every month on the 1st", "every month on the 1st at 09:00", "", "0 9 1 * *", "2026-01-15T00:00:00Z",
			[]string{"2026-02-01T09:00:00Z", "2026-03-01T09:00:00Z"}},
		{"monthly on the 15th", "monthly on the 15th", "", "0 0 15 * *", "2026-01-15T00:00:00Z",
			[]string{"2026-02-15T00:00:00Z"}},
		{"every 15 minutes", "every 15 minutes", "", "*/15 * * * *", "2026-01-01T10:40:00Z",
			[]string{"2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z", "2026-01-01T11:15:00Z"}},
		{"every 7 minutes", "every 7 minutes", "", "@every 7m", "2026-01-01T00:30:00Z",
			[]string{"2026-01-01T00:35:00Z", "2026-01-01T00:42:00Z"}},
		{"every 2 hours", "every 2 hours", "", "0 */2 * * *", "2026-01-01T03:10:00Z",
			[]string{"2026-01-01T04:00:00Z", "2026-01-01T06:00:00Z"}},
		{"every 3 days", "every 3 days at 6am", "", "FREQ=DAILY;INTERVAL=3;BYHOUR=6;BYMINUTE=0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T06:00:00Z", "2026-01-05T06:00:00Z"}},
		{"hourly", "hourly", "", "0 * * * *", "2026-01-01T10:20:00Z",
			[]string{"2026-01-01T11:00:00Z"}},
		{"daily", "daily", "", "0 0 * * *", "2026-01-01T10:20:00Z",
			[]string{"2026-01-02T00:00:00Z"}},
		{"weekly", "weekly", "", "0 0 * * 0", "2026-01-01T10:20:00Z",
			[]string{"2026-01-04T00:00:00Z"}},
		{"monthly on 1st", "Monthly on 1st at 6:05 AM", "", "5 6 1 * *", "2026-01-15T00:00:00Z",
			[]string{"2026-02-01T06:05:00Z"}},
		{"every week", "every week at 10:00", "", "0 10 * * 0", "2026-01-01T00:00:00Z",
			[]string{"2026-01-04T10:00:00Z"}},
		{"every year", "every year", "", "0 0 1 1 *", "2026-01-01T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z"}},
		{"monthly", "monthly", "", "0 0 1 * *", "2026-01-01T10:20:00Z",
			[]string{"2026-02-01T00:00:00Z"}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sched, err := Parse(s.expr, s.tz)
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", s.expr, s.tz, err)
			}
			if sched.String() != s.normal {
				t.Fatalf("String() = %q, want %q", sched.String(), s.normal)
			}
			requireNext(t, sched, s.after, s.want)

			// The normalised form reads back to the same schedule.
			again, err := Parse(sched.String(), s.tz)
			if err != nil {
				t.Fatalf("Parse(String()) = %v", err)
			}
			if again.String() != sched.String() {
				t.Fatalf("String() not stable: %q then %q", sched.String(), again.String())
			}
			requireNext(t, again, s.after, s.want)
		})
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	s, err := Parse("daily", "")
	if err != nil || s.Location() != time.UTC {
		t.Fatalf("empty zone: %v, %v", s.Location(), err)
	}
	s, err = Parse("daily", "Asia/Kolkata")
	if err != nil || s.Location().String() != "Asia/Kolkata" {
		t.Fatalf("Asia/Kolkata: %v, %v", s, err)
	}
	// A half-hour offset keeps phrases on the local clock.
	requireNext(t, s, "2026-01-01T00:00:00Z", []string{"2026-01-02T00:00:00+05:30"})
}

func TestNextNZero(t *testing.T) {
	t.Parallel()
	s, err := Parse("hourly", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.NextN(time.Now(), 0); len(got) != 0 {
		t.Fatalf("NextN(0) = %v", got)
	}
	if got := s.Next(time.Time{}); !got.Equal(time.Unix(0, 0)) {
		t.Fatalf("Next(zero time) = %v, want the start of 1970", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		expr string
		tz   string
		want string
	}{
		{"daily at 09:00", "Europe/Pariss", `unknown time zone "Europe/Pariss": use an IANA name such as Europe/Paris, America/New_York or UTC`},
		{"daily at 09:00", "Local", `unknown time zone "Local": use an IANA name such as Europe/Paris, America/New_York or UTC`},
		{"   ", "", "empty schedule: " + acceptedForms},
		{"every blue moon", "", `unknown schedule "every blue moon": ` + acceptedForms},
		{"at 9am", "", `unknown schedule "at 9am": ` + acceptedForms},
		{"every 3 weeks", "", `unknown schedule "every 3 weeks": ` + acceptedForms},
		{"daily at 25:00", "", `invalid time "25:00" in "daily at 25:00": write it like 9am, 9:30 pm or 21:15`},
		{"daily at 13pm", "", `invalid time "13pm" in "daily at 13pm": write it like 9am, 9:30 pm or 21:15`},
		{"daily at 9:5", "", `invalid time "9:5" in "daily at 9:5": write it like 9am, 9:30 pm or 21:15`},
		{"daily at 9", "", `invalid time "9" in "daily at 9": write it like 9am, 9:30 pm or 21:15`},
		{"every day at", "", `invalid time "" in "every day at": write it like 9am, 9:30 pm or 21:15`},
		{"every 15 minutes at 9am", "", `"every 15 minutes" repeats through the day and takes no "at" time`},
		{"hourly at 9am", "", `"hourly" repeats through the day and takes no "at" time`},
		{"every 0 minutes", "", `"every 0 minutes": the number must be between 1 and 10000`},
		{"fifth monday of every month", "", `unknown position "fifth" in "fifth monday of every month": use first, second, third, fourth or last`},
		{"first mondy of every month", "", `unknown day "mondy" in "first mondy of every month": use monday to sunday or day`},
		{"every month on the 32nd", "", `invalid day of the month "32nd" in "every month on the 32nd": use 1st to 31st`},
		{"every month on the 1th", "", `invalid day of the month "1th" in "every month on the 1th": use 1st to 31st`},
		{"61 9 * * *", "", `cron expression "61 9 * * *": minute field "61": 61 is out of range 0-59`},
		{"0 24 * * *", "", `cron expression "0 24 * * *": hour field "24": 24 is out of range 0-23`},
		{"0 9 0 * *", "", `cron expression "0 9 0 * *": day-of-month field "0": 0 is out of range 1-31`},
		{"0 9 * 13 *", "", `cron expression "0 9 * 13 *": month field "13": 13 is out of range 1-12 (1-12 or jan-dec)`},
		{"0 9 * * 7", "", `cron expression "0 9 * * 7": day-of-week field "7": 7 is out of range 0-6 (0-6 or sun-sat; 0 is Sunday)`},
		{"0 9 * * mo", "", `cron expression "0 9 * * mo": day-of-week field "mo": "mo" is not a number (0-6 or sun-sat; 0 is Sunday)`},
		{"60 0 9 * * *", "", `cron expression "60 0 9 * * *": second field "60": 60 is out of range 0-59`},
		{"*/0 * * * *", "", `cron expression "*/0 * * * *": minute field "*/0": step "0" must be a positive whole number`},
		{"0 5-2 * * *", "", `cron expression "0 5-2 * * *": hour field "5-2": range 5-2 goes backwards`},
		{"0 1,,2 * * *", "", `cron expression "0 1,,2 * * *": hour field "1,,2": empty list item`},
		{"0 9 * *", "", `cron expression "0 9 * *" has 4 fields: use 5 (minute hour day-of-month month day-of-week) or 6 with seconds first`},
		{"@fortnightly", "", `unknown cron descriptor "@fortnightly": use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>`},
		{"@every soon", "", `@every needs a duration such as 15m, 2h or 1h30m, got "soon"`},
		{"@every 500ms", "", `@every needs a whole number of seconds, at least 1s, got "500ms"`},
		{"CRON_TZ=Europe/Paris 0 9 * * *", "", `schedule "CRON_TZ=Europe/Paris 0 9 * * *" names a time zone: give the zone in the timezone setting instead`},
		{"FREQ=SOMETIMES", "", `RRULE "FREQ=SOMETIMES": unknown FREQ "SOMETIMES": use YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY or SECONDLY`},
		{"FREQ=DAILY;BYHOUR", "", `RRULE "FREQ=DAILY;BYHOUR": part "BYHOUR" must be NAME=VALUE`},
		{"FREQ=DAILY;BYHOUR=25", "", `RRULE "FREQ=DAILY;BYHOUR=25": byhour must be between 0 and 23`},
		{"FREQ=DAILY;COLOR=RED", "", `RRULE "FREQ=DAILY;COLOR=RED": unknown RRULE property: COLOR`},
		{"RRULE:BYHOUR=9", "", `RRULE "BYHOUR=9": RRULE property FREQ is required`},
		{"FREQ=DAILY;COUNT=3", "", `RRULE "FREQ=DAILY;COUNT=3": COUNT needs a DTSTART to count from`},
		{"FREQ=DAILY;DTSTART=tomorrow", "", `RRULE "FREQ=DAILY;DTSTART=TOMORROW": DTSTART "TOMORROW": use YYYYMMDDTHHMMSS, local to the schedule's time zone, or with a Z for UTC`},
		{"DTSTART;TZID=Europe/Paris:20260105T090000\nRRULE:FREQ=DAILY", "", `RRULE "DTSTART;TZID=Europe/Paris:20260105T090000\nRRULE:FREQ=DAILY": the first of two lines must be DTSTART:YYYYMMDDTHHMMSS (the time zone goes in the timezone setting)`},
		{strings.Repeat("x", 1001), "", "schedule is 1001 characters long; the limit is 1000"},
	}
	for _, s := range scenarios {
		t.Run(s.want, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(s.expr, s.tz)
			if err == nil {
				t.Fatalf("Parse(%q, %q) succeeded", s.expr, s.tz)
			}
			if err.Error() != s.want {
				t.Fatalf("Parse(%q, %q):\n got  %s\n want %s", s.expr, s.tz, err, s.want)
			}
			var perr *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || perr.Expr != s.expr {
				t.Fatalf("error %#v is not an *Error for %q wrapping ErrInvalid", err, s.expr)
			}
			if strings.ContainsAny(err.Error(), "\n\r") && !strings.Contains(s.expr, "\n") {
				t.Fatalf("message spans lines: %q", err)
			}
		})
	}
}
