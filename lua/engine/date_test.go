package engine

import (
	"testing"
)

func TestDates(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ name, expr, want string }{
		{"RFC 3339", `backend.date("2024-05-01T09:00:00+02:00"):iso()`, "2024-05-01T07:00:00.000Z"},
		{"fractional seconds", `backend.date("2024-05-01T09:00:00.25Z"):iso()`, "2024-05-01T09:00:00.250Z"},
		{"a day", `backend.date("2024-05-01"):iso()`, "2024-05-01T00:00:00.000Z"},
		{"a local time in a zone", `backend.date("2024-01-02 09:00", "Europe/Paris"):iso()`, "2024-01-02T08:00:00.000Z"},
		{"a table", `backend.date({year = 2024, month = 7, day = 1, hour = 9, min = 30}):iso()`, "2024-07-01T09:30:00.000Z"},
		{"a table in a zone", `backend.date({year = 2024, month = 7, day = 1, hour = 9}, "Europe/Paris"):iso()`, "2024-07-01T07:00:00.000Z"},
		{"unix seconds", `backend.date(1714554000.5):iso()`, "2024-05-01T09:00:00.500Z"},
		{"a copy", `backend.date(backend.date(0)):iso()`, "1970-01-01T00:00:00.000Z"},
		{"tostring", `tostring(backend.date(0))`, "1970-01-01T00:00:00.000Z"},
		{"concatenation", `"at " .. backend.date(0)`, "at 1970-01-01T00:00:00.000Z"},
		{"plus seconds", `(backend.date(0) + 90):iso()`, "1970-01-01T00:01:30.000Z"},
		{"seconds plus", `(90 + backend.date(0)):iso()`, "1970-01-01T00:01:30.000Z"},
		{"minus seconds", `(backend.date(100) - 40):unix()`, "60"},
		{"difference in seconds", `backend.date("2024-05-02") - backend.date("2024-05-01")`, "86400"},
		{"less than", `tostring(backend.date(1) < backend.date(2))`, "true"},
		{"less or equal", `tostring(backend.date(2) <= backend.date(2))`, "true"},
		{"equal", `tostring(backend.date(5) == backend.date(5))`, "true"},
		{"not equal", `tostring(backend.date(5) ~= backend.date(6))`, "true"},
		{"compare", `backend.date(1):compare(backend.date(2))`, "-1"},
		{"add calendar fields", `backend.date("2024-01-31"):add{months = 1, days = 1, hours = 2}:iso()`, "2024-03-03T02:00:00.000Z"},
		{"add seconds", `backend.date(0):add(1.5):iso()`, "1970-01-01T00:00:01.500Z"},
		{"go layout", `backend.date("2024-05-01T09:03:04Z"):format("2006-01-02 15:04")`, "2024-05-01 09:03"},
		{"strftime", `backend.date("2024-05-01T09:03:04Z"):format("%Y-%m-%d %H:%M:%S %a %b %j")`, "2024-05-01 09:03:04 Wed May 122"},
		{"strftime in a zone", `backend.date("2024-05-01T09:00:00Z"):format("%H:%M %Z", "Europe/Paris")`, "11:00 CEST"},
		{"unix", `backend.date("2024-05-01T09:00:00.9Z"):unix()`, "1714554000"},
		{"unixMs", `backend.date("2024-05-01T09:00:00.9Z"):unixMs()`, "1714554000900"},
		{"parts", `(function() local p = backend.date("2024-05-01T09:03:04.005Z"):parts() return table.concat({p.year, p.month, p.day, p.hour, p.min, p.sec, p.ms, p.wday, p.yday}, ",") end)()`,
			"2024,5,1,9,3,4,5,4,122"},
		{"parts in a zone", `backend.date("2024-05-01T23:00:00Z"):parts("Asia/Tokyo").day`, "2"},
		{"now", `tostring(math.abs(backend.now() - backend.date(os.time())) < 2)`, "true"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res, err := runSource(t, r, "function handle() return tostring("+s.expr+") end", nil, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != s.want {
				t.Errorf("got %v, want %s", res.Value, s.want)
			}
		})
	}
	for expr, want := range map[string]string{
		`backend.date("next tuesday")`:            `function "t" failed at line 1: backend.date: cannot read "next tuesday" as a date (use RFC 3339 such as 2024-05-01T09:00:00Z, or 2024-05-01)`,
		`backend.date("2024-05-01", "Mars/Base")`: `function "t" failed at line 1: unknown time zone "Mars/Base" (use an IANA name such as Europe/Paris or UTC)`,
		`backend.date({year = 2024})`:             `function "t" failed at line 1: backend.date: the table needs year, month and day`,
		`backend.date(0) + "1"`:                   `function "t" failed at line 1: a date can only be added to a number of seconds, not a string`,
		`backend.date(0) - {}`:                    `function "t" failed at line 1: cannot subtract a table from a date`,
		`backend.date(0) < 5`:                     `function "t" failed at line 1: attempt to compare userdata with number`,
		`backend.date(0):add{weeks = 1}`:          `function "t" failed at line 1: date:add: unknown field "weeks" (use years, months, days, hours, minutes, seconds, ms)`,
		`backend.date(0):format("%Q")`:            `function "t" failed at line 1: date:format: unknown conversion %Q`,
		`backend.date(true)`:                      `function "t" failed at line 1: bad argument #1 to date (date string, {year, month, day} table, unix seconds or date expected, got boolean)`,
	} {
		if got := runErr(t, r, "function handle() return "+expr+" end"); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", expr, got, want)
		}
	}
}
