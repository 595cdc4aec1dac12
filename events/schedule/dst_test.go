package schedule

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/teambition/rrule-go"
)

// The 2026 daylight-saving changes used below:
//   - Europe/Paris: 29 March 02:00 CET → 03:00 CEST; 25 October 03:00 CEST → 02:00 CET.
//   - America/New_York: 8 March 02:00 EST → 03:00 EDT; 1 November 02:00 EDT → 01:00 EST.

func TestDaylightSaving(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name  string
		expr  string
		tz    string
		after string
		want  []string
	}{
		// A daily run at a time that exists every day keeps its local time.
		{"Paris 09:00 across spring-forward", "every day at 09:00", "Europe/Paris", "2026-03-27T12:00:00+01:00",
			[]string{"2026-03-28T09:00:00+01:00", "2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"}},
		{"Paris 09:00 across fall-back", "daily at 9am", "Europe/Paris", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T09:00:00+01:00", "2026-10-26T09:00:00+01:00"}},
		{"New York 09:00 across spring-forward", "0 9 * * *", "America/New_York", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"}},
		{"New York 09:00 across fall-back", "FREQ=DAILY;BYHOUR=9", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T09:00:00-05:00", "2026-11-02T09:00:00-05:00"}},

		// A time the clocks skip runs once, when they jump (03:00 local).
		{"Paris 02:30 on spring-forward day runs at 03:00", "30 2 * * *", "Europe/Paris", "2026-03-27T12:00:00+01:00",
			[]string{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"Paris 02:30 RRULE on spring-forward day runs at 03:00", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Paris", "2026-03-27T12:00:00+01:00",
			[]string{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"New York 02:30 on spring-forward day runs at 03:00", "daily at 2:30am", "America/New_York", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"skipped 02:00, 02:30 and real 03:00 run once together", "0,30 2-3 * * *", "America/New_York", "2026-03-08T00:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00"}},
		{"after the jump the skipped time is not run again", "30 2 * * *", "America/New_York", "2026-03-08T03:00:00-04:00",
			[]string{"2026-03-09T02:30:00-04:00"}},

		// A time that occurs twice runs once, the first time.
		{"New York 01:30 on fall-back day runs once", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"New York 01:30 RRULE on fall-back day runs once", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"New York 01:30 not again in the repeated hour", "daily at 1:30am", "America/New_York", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-02T01:30:00-05:00"}},
		{"Paris 02:30 on fall-back day runs once", "30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},

		// A schedule that fires every hour follows elapsed time.
		{"every 15 minutes through New York's repeated hour", "every 15 minutes", "America/New_York", "2026-11-01T00:40:00-04:00",
			[]string{"2026-11-01T00:45:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:15:00-04:00", "2026-11-01T01:30:00-04:00",
				"2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00", "2026-11-01T01:30:00-05:00",
				"2026-11-01T01:45:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"every 15 minutes from inside the repeated hour", "*/15 * * * *", "America/New_York", "2026-11-01T01:50:00-04:00",
			[]string{"2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00"}},
		{"hourly at the first 01:00 comes back at the second", "0 * * * *", "America/New_York", "2026-11-01T01:00:00-04:00",
			[]string{"2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"every 15 minutes from the second copy", "*/15 * * * *", "America/New_York", "2026-11-01T01:30:00-05:00",
			[]string{"2026-11-01T01:45:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"RRULE every 20 minutes from late in the first copy", "FREQ=MINUTELY;INTERVAL=20", "America/New_York", "2026-11-01T01:50:00-04:00",
			[]string{"2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"every 15 minutes over Paris's missing hour", "*/15 * * * *", "Europe/Paris", "2026-03-29T01:40:00+01:00",
			[]string{"2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"}},
		{"hourly over Paris's missing hour", "hourly", "Europe/Paris", "2026-03-29T00:30:00+01:00",
			[]string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"hourly through Paris's repeated hour", "0 * * * *", "Europe/Paris", "2026-10-25T01:30:00+02:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"}},
		{"RRULE hourly through New York's repeated hour", "FREQ=HOURLY", "America/New_York", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"RRULE hourly over New York's missing hour", "FREQ=HOURLY;BYMINUTE=30", "America/New_York", "2026-03-08T00:45:00-05:00",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"}},
		{"@every is pure elapsed time", "@every 1h", "America/New_York", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},

		// Steps at set hours stay on the clock: 02:00 is skipped to 03:00.
		{"every 2 hours over New York's missing hour", "every 2 hours", "America/New_York", "2026-03-08T00:30:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00", "2026-03-08T06:00:00-04:00"}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sched, err := Parse(s.expr, s.tz)
			if err != nil {
				t.Fatal(err)
			}
			requireNext(t, sched, s.after, s.want)
		})
	}
}

// TestDailyNeverSkipsOrDoubles walks a year of daily runs at every
// quarter hour of the night in both zones: one run per local day, always.
func TestDailyNeverSkipsOrDoubles(t *testing.T) {
	t.Parallel()
	for _, tz := range []string{"Europe/Paris", "America/New_York"} {
		for _, expr := range []string{"0 1 * * *", "30 1 * * *", "0 2 * * *", "30 2 * * *", "45 2 * * *", "0 3 * * *", "FREQ=DAILY;BYHOUR=2;BYMINUTE=15"} {
			s, err := Parse(expr, tz)
			if err != nil {
				t.Fatal(err)
			}
			loc := s.Location()
			runs := s.NextN(time.Date(2025, 12, 31, 12, 0, 0, 0, loc), 365)
			day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, r := range runs {
				y, m, d := r.In(loc).Date()
				if got := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); !got.Equal(day) {
					t.Fatalf("%s in %s: run %s, want one on %s", expr, tz, r, day.Format(time.DateOnly))
				}
				day = day.AddDate(0, 0, 1)
			}
		}
	}
}

// TestLibrariesAloneMishandleDaylightSaving records what robfig/cron and
// rrule-go do on their own, which is why this package evaluates rules on
// the wall clock and maps the result itself. If a library version changes
// this, the mapping can be revisited.
func TestLibrariesAloneMishandleDaylightSaving(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cronRuns := func(spec string, from time.Time, n int) []string {
		sched, err := cron.ParseStandard(spec)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := 0; i < n; i++ {
			from = sched.Next(from)
			out = append(out, from.Format(time.RFC3339))
		}
		return out
	}
	rruleRuns := func(spec string, loc *time.Location, from, to time.Time) []string {
		opt, err := rrule.StrToROption(spec)
		if err != nil {
			t.Fatal(err)
		}
		opt.Dtstart = time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range r.Between(from, to, false) {
			out = append(out, x.Format(time.RFC3339))
		}
		return out
	}
	scenarios := []struct {
		name string
		got  []string
		want []string
	}{
		{"cron skips 02:30 on Paris's spring-forward day",
			cronRuns("CRON_TZ=Europe/Paris 30 2 * * *", time.Date(2026, 3, 27, 12, 0, 0, 0, paris), 2),
			[]string{"2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00"}},
		{"cron runs 01:30 twice on New York's fall-back day",
			cronRuns("CRON_TZ=America/New_York 30 1 * * *", time.Date(2026, 10, 31, 12, 0, 0, 0, ny), 3),
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-05:00"}},
		{"rrule-go runs 03:00 twice on Paris's spring-forward day",
			rruleRuns("FREQ=HOURLY", paris, time.Date(2026, 3, 29, 0, 30, 0, 0, paris), time.Date(2026, 3, 29, 4, 30, 0, 0, paris)),
			[]string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"rrule-go skips New York's repeated hour",
			rruleRuns("FREQ=HOURLY", ny, time.Date(2026, 11, 1, 0, 30, 0, 0, ny), time.Date(2026, 11, 1, 2, 30, 0, 0, ny)),
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"}},
	}
	for _, s := range scenarios {
		if len(s.got) != len(s.want) {
			t.Errorf("%s: got %v, want %v", s.name, s.got, s.want)
			continue
		}
		for i := range s.got {
			if s.got[i] != s.want[i] {
				t.Errorf("%s: got %v, want %v", s.name, s.got, s.want)
				break
			}
		}
	}
}
