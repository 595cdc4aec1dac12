package examples_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// The tests of the scheduled examples (scenarios 1 to 4) fire each schedule
// through POST /api/admin/schedules/:function/run, which queues a run
// exactly as an occurrence does, check what the run did, and check the
// schedule's next occurrences as GET /api/admin/schedules lists them.

// mail is one message of the outbox, every field.
type mail struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

// mails returns the outbox, newest first.
func (s *testServer) mails(t *testing.T) []mail {
	t.Helper()
	res := s.admin(t, "GET", "/api/admin/outbox", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("outbox: %d %s", res.Status, res.Body)
	}
	var ans struct{ Messages []mail }
	res.JSON(t, &ans)
	return ans.Messages
}

// waitMails waits until n emails are in the outbox (each is a job of its
// own, run after the function that sent it) and returns them, newest
// first.
func (s *testServer) waitMails(t *testing.T, n int) []mail {
	t.Helper()
	var msgs []mail
	testsupport.WaitForWithin(t, exampleWait, "emails in the outbox", func() bool {
		msgs = s.mails(t)
		return len(msgs) >= n
	})
	return msgs
}

// setSecret sets a secret functions read with backend.env.
func (s *testServer) setSecret(t *testing.T, name, value string) {
	t.Helper()
	if res := s.admin(t, "PUT", "/api/admin/secrets/"+name, map[string]string{"value": value}); res.Status != http.StatusNoContent {
		t.Fatalf("set secret %s: %d %s", name, res.Status, res.Body)
	}
}

// job is a queue job as the admin API lists it.
type job struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Status    string         `json:"status"`
	LastError string         `json:"last_error"`
	Payload   map[string]any `json:"payload"`
}

// jobsOf lists the jobs that run fn; "email" lists the email jobs.
func (s *testServer) jobsOf(t *testing.T, fn string) []job {
	t.Helper()
	res := s.admin(t, "GET", "/api/admin/jobs?limit=1000", nil)
	var ans struct{ Jobs []job }
	res.JSON(t, &ans)
	var out []job
	for _, j := range ans.Jobs {
		if j.Payload["function"] == fn || fn == "email" && j.Kind == "email" {
			out = append(out, j)
		}
	}
	return out
}

// waitJobs waits until fn has n jobs, all done, failing at once if one is
// dead.
func (s *testServer) waitJobs(t *testing.T, fn string, n int) {
	t.Helper()
	testsupport.WaitForWithin(t, exampleWait, "the runs of "+fn, func() bool {
		jobs := s.jobsOf(t, fn)
		done := 0
		for _, j := range jobs {
			if j.Status == "dead" {
				t.Fatalf("%s failed: %s", fn, j.LastError)
			}
			if j.Status == "done" {
				done++
			}
		}
		return done == n && len(jobs) == n
	})
}

// runSchedule queues a run of fn's schedule now.
func (s *testServer) runSchedule(t *testing.T, fn string) {
	t.Helper()
	if res := s.admin(t, "POST", "/api/admin/schedules/"+fn+"/run", nil); res.Status != http.StatusAccepted {
		t.Fatalf("run %s: %d %s", fn, res.Status, res.Body)
	}
}

// nextRuns returns the next occurrences of fn's schedule in its time zone.
func (s *testServer) nextRuns(t *testing.T, fn string) []time.Time {
	t.Helper()
	res := s.admin(t, "GET", "/api/admin/schedules", nil)
	var ans struct {
		Schedules []struct {
			Function, Timezone string
			Next               []time.Time
		}
	}
	res.JSON(t, &ans)
	for _, sc := range ans.Schedules {
		if sc.Function != fn {
			continue
		}
		loc, err := time.LoadLocation(sc.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range sc.Next {
			sc.Next[i] = n.In(loc)
		}
		if len(sc.Next) != 5 {
			t.Fatalf("%s: next %v", fn, sc.Next)
		}
		return sc.Next
	}
	t.Fatalf("no schedule for %s: %s", fn, res.Body)
	return nil
}

// checkRuns checks that occurrences are in the future, in order, and each
// what want says; prev is the occurrence before, zero for the first.
func checkRuns(t *testing.T, fn string, next []time.Time, want func(prev, next time.Time) bool) {
	t.Helper()
	var prev time.Time
	for _, at := range next {
		if !at.After(time.Now()) || !at.After(prev) || !want(prev, at) {
			t.Errorf("%s: occurrence %s (after %s) is wrong; next %v", fn, at, prev, next)
		}
		prev = at
	}
}

func at(hour, min int) func(time.Time) bool {
	return func(t time.Time) bool { return t.Hour() == hour && t.Minute() == min && t.Second() == 0 }
}

// Scenario 1: every day at 9 AM Paris time, the accounts whose trial ended
// unpaid get "Your trial is ending", once each.
func TestTrialReminderSchedule(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "functions/trial-reminder")
	s.trialUsers(t)
	s.runSchedule(t, "trial-reminder")
	s.waitJobs(t, "trial-reminder", 1)
	msgs := s.waitMails(t, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "ended@example.com" || msgs[0].Subject != "Your trial is ending" ||
		!strings.HasPrefix(msgs[0].Text, "Hello Eve, your trial ended on ") {
		t.Errorf("emails %+v", msgs)
	}
	// A second run finds the same user and emails nobody again.
	s.runSchedule(t, "trial-reminder")
	s.waitJobs(t, "trial-reminder", 2)
	if jobs := s.jobsOf(t, "email"); len(jobs) != 1 {
		t.Errorf("the second run sent email again: %+v", jobs)
	}
	checkRuns(t, "trial-reminder", s.nextRuns(t, "trial-reminder"), func(prev, next time.Time) bool {
		// One a day at 09:00 local, 23 to 25 hours apart across the
		// daylight-saving changes.
		gap := next.Sub(prev)
		return at(9, 0)(next) && next.Location().String() == "Europe/Paris" && (prev.IsZero() || (gap >= 23*time.Hour && gap <= 25*time.Hour))
	})
}

// trialUsers registers three users and sets the app fields a function
// would keep on their accounts: one trial ended unpaid, one ended paid,
// one still running.
func (s *testServer) trialUsers(t *testing.T) {
	t.Helper()
	day := 24 * time.Hour
	now := time.Now()
	for _, u := range []struct {
		email, name string
		ends        time.Duration
		paid        bool
	}{{"ended@example.com", "Eve", -day, false}, {"paid@example.com", "Pam", -day, true}, {"later@example.com", "Lea", day, false}} {
		s.account(t, u.email, u.name, map[string]any{"trialEndsAt": primitive.NewDateTimeFromTime(now.Add(u.ends)), "isPaid": u.paid})
	}
}

// Scenario 1 exactly as the product page writes it: the seed's
// handleTrialExpiration, over users, with sendEmail's two-argument form.
func TestTrialExpirationAsWritten(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "trialExpiration")
	s.trialUsers(t)
	s.runSchedule(t, "trialExpiration")
	s.waitJobs(t, "trialExpiration", 1)
	msgs := s.waitMails(t, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "ended@example.com" || msgs[0].Subject != "Your trial is ending" || msgs[0].Text != "Your trial is ending" {
		t.Errorf("emails %+v", msgs)
	}
	if jobs := s.jobsOf(t, "trialExpiration"); len(jobs) != 1 || jobs[0].Status != "done" {
		t.Errorf("runs %+v", jobs)
	}
}

// Scenario 2: every hour, expired sessions are deleted and the operators
// told how many.
func TestSessionCleanup(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "sessionCleanup")
	s.setSecret(t, "OPS_EMAIL", "ops@example.com")
	now := time.Now()
	for i, d := range []time.Duration{-time.Hour, -time.Minute, -48 * time.Hour, time.Hour, 24 * time.Hour} {
		s.insert(t, "sessions", map[string]any{"user": i, "expiresAt": primitive.NewDateTimeFromTime(now.Add(d))})
	}
	s.runSchedule(t, "sessionCleanup")
	s.waitJobs(t, "sessionCleanup", 1)
	if left := s.docs(t, "sessions", nil); len(left) != 2 {
		t.Errorf("sessions left: %v", left)
	}
	msgs := s.waitMails(t, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "ops@example.com" || msgs[0].Subject != "Session cleanup: 3 expired sessions deleted" ||
		!strings.HasSuffix(msgs[0].Text, "deleted 3 expired sessions; 2 are still active.") {
		t.Errorf("emails %+v", msgs)
	}
	// An hour later nothing has expired: no email.
	s.runSchedule(t, "sessionCleanup")
	s.waitJobs(t, "sessionCleanup", 2)
	if jobs := s.jobsOf(t, "email"); len(jobs) != 1 {
		t.Errorf("a cleanup that deleted nothing sent email: %+v", jobs)
	}
	checkRuns(t, "sessionCleanup", s.nextRuns(t, "sessionCleanup"), func(prev, next time.Time) bool {
		return next.Minute() == 0 && next.Second() == 0 && (prev.IsZero() && next.Sub(time.Now()) <= time.Hour || next.Sub(prev) == time.Hour)
	})
}

// Scenario 3: every Monday at 8 AM London time, the week's orders are
// summed up and the summary emailed to every recipient.
func TestWeeklyReport(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "weeklyReport")
	s.setSecret(t, "REPORT_TO", "boss@example.com, cfo@example.com")
	now := time.Now()
	for _, o := range []struct {
		ago   time.Duration
		total float64
	}{{24 * time.Hour, 100}, {3 * 24 * time.Hour, 150.5}, {10 * 24 * time.Hour, 999}} {
		s.insert(t, "orders", map[string]any{"placedAt": primitive.NewDateTimeFromTime(now.Add(-o.ago)), "total": o.total})
	}
	s.runSchedule(t, "weeklyReport")
	s.waitJobs(t, "weeklyReport", 1)
	msgs := s.waitMails(t, 2)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if m.Subject != "Weekly report: 2 orders, 250.50" || !strings.Contains(m.Text, "Revenue: 250.50\nBiggest order: 150.50") ||
			!strings.HasPrefix(m.HTML, "<h1>Week of ") || !strings.Contains(m.HTML, "<li>Orders: 2</li>") {
			t.Errorf("email %+v", m)
		}
	}
	slices.Sort(to)
	if strings.Join(to, ",") != "boss@example.com,cfo@example.com" {
		t.Errorf("sent to %v", to)
	}
	if reports := s.docs(t, "reports", nil); len(reports) != 1 || reports[0]["orders"] != int64(2) {
		t.Errorf("reports %v", reports)
	}
	checkRuns(t, "weeklyReport", s.nextRuns(t, "weeklyReport"), func(prev, next time.Time) bool {
		return next.Weekday() == time.Monday && at(8, 0)(next) && next.Location().String() == "Europe/London" && (prev.IsZero() || next.Sub(prev) >= 167*time.Hour)
	})
}

// Scenario 4: the first Monday of each month at 9 AM New York time, as a
// phrase and as an RRULE: the same occurrences; a run emails the month's
// articles to each active subscriber.
func TestMonthlyDigest(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "monthlyDigest")
	def := readFunction(t, "monthlyDigest")
	def["name"] = "monthlyDigestRRule"
	def["triggers"] = []any{map[string]any{"schedule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0", "timezone": "America/New_York"}}
	if res := s.admin(t, "PUT", "/api/admin/functions/monthlyDigestRRule", def); res.Status != http.StatusCreated {
		t.Fatalf("save the RRULE twin: %d %s", res.Status, res.Body)
	}
	phrase, rrule := s.nextRuns(t, "monthlyDigest"), s.nextRuns(t, "monthlyDigestRRule")
	if !slices.EqualFunc(phrase, rrule, time.Time.Equal) {
		t.Errorf("the phrase gives %v, the RRULE %v", phrase, rrule)
	}
	checkRuns(t, "monthlyDigest", phrase, func(prev, next time.Time) bool {
		return next.Weekday() == time.Monday && next.Day() <= 7 && at(9, 0)(next) && next.Location().String() == "America/New_York" && (prev.IsZero() || next.Month() != prev.Month())
	})

	now := time.Now()
	for _, a := range []struct {
		title string
		ago   time.Duration
	}{{"Launch week", 2 * 24 * time.Hour}, {"Scaling SQLite", 20 * 24 * time.Hour}, {"Old news", 45 * 24 * time.Hour}} {
		s.insert(t, "articles", map[string]any{"title": a.title, "url": "https://blog.example.com/" + strings.ReplaceAll(a.title, " ", "-"),
			"publishedAt": primitive.NewDateTimeFromTime(now.Add(-a.ago))})
	}
	s.insert(t, "subscribers",
		map[string]any{"email": "ann@example.com", "active": true},
		map[string]any{"email": "ben@example.com", "active": true},
		map[string]any{"email": "gone@example.com", "active": false},
	)
	s.runSchedule(t, "monthlyDigest")
	s.waitJobs(t, "monthlyDigest", 1)
	msgs := s.waitMails(t, 2)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !strings.HasPrefix(m.Subject, "Your digest for ") || !strings.Contains(m.Text, "- Launch week https://blog.example.com/Launch-week") ||
			!strings.Contains(m.Text, "Scaling SQLite") || strings.Contains(m.Text, "Old news") || !strings.Contains(m.HTML, `<a href="https://blog.example.com/Launch-week">Launch week</a>`) {
			t.Errorf("email %+v", m)
		}
	}
	slices.Sort(to)
	if strings.Join(to, ",") != "ann@example.com,ben@example.com" {
		t.Errorf("sent to %v", to)
	}
}
