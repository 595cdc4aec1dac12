package server

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db/storetest"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// A reset request does the same work whether or not its email has an
// account — it queues one password_reset job and answers — so the answer,
// its headers and its timing say nothing of who has one; the job sends
// the link to an account's email only.
func TestPasswordResetDoesTheSameWorkForEveryEmail(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	ts.register(t, "alice@example.com", "alice's password")
	scenarios := []struct {
		name, email string
		mails       int
	}{
		{"an email with an account", "alice@example.com", 1},
		{"an email without one", "nobody@example.com", 0},
	}
	var first response
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			res := ts.do(t, "POST", "/api/auth/password-reset", `{"email":"`+sc.email+`"}`, "")
			if res.status != http.StatusAccepted {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if i == 0 {
				first = res
			} else {
				if res.body != first.body {
					t.Errorf("the answers differ: %s and %s", first.body, res.body)
				}
				for _, h := range []string{"Content-Type", "Content-Length"} {
					if res.header.Get(h) != first.header.Get(h) {
						t.Errorf("%s differs: %q and %q", h, first.header.Get(h), res.header.Get(h))
					}
				}
			}
			var job events.Job
			testsupport.WaitFor(t, "the reset job to finish", func() bool {
				for _, j := range ts.listJobs(t, "") {
					if j.Kind == KindPasswordReset && j.Payload["email"] == sc.email {
						job = j
						return j.Status == events.StatusDone
					}
				}
				return false
			})
			if job.Attempt != 1 {
				t.Errorf("the job took %d attempts", job.Attempt)
			}
			if sc.mails > 0 {
				ts.awaitLink(t, sc.email, "Reset your password", sc.mails)
			}
			if n := len(ts.mailsTo(t, sc.email)); n != sc.mails {
				t.Errorf("%d emails to %s, want %d", n, sc.email, sc.mails)
			}
		})
	}
	// Both requests took the same path: one job each, of the same kind.
	n := 0
	for _, j := range ts.listJobs(t, "") {
		if j.Kind == KindPasswordReset {
			n++
		}
	}
	if n != len(scenarios) {
		t.Errorf("%d password_reset jobs, want one per request", n)
	}
}

// A reset job without an email is a dead letter at once, not retried.
func TestPasswordResetJobWithoutEmail(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	id, err := ts.jobs.Queue.Enqueue(context.Background(), KindPasswordReset, map[string]any{}, events.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, "the job to die", func() bool {
		for _, j := range ts.listJobs(t, events.StatusDead) {
			if j.ID == id {
				return j.Attempt == 1 && j.LastError != ""
			}
		}
		return false
	})
}

// awaitResetJobsDone waits until n password_reset jobs have finished.
func (ts *testServer) awaitResetJobsDone(t *testing.T, n int) {
	t.Helper()
	testsupport.WaitFor(t, "the reset jobs", func() bool {
		done := 0
		for _, j := range ts.listJobs(t, events.StatusDone) {
			if j.Kind == KindPasswordReset {
				done++
			}
		}
		return done == n
	})
}

// Reset requests racing for one account within auth.link_interval send
// one link, however many jobs run at once, on either store.
func TestRacingResetRequestsSendOneLink(t *testing.T) {
	t.Parallel()
	const requests = 8
	scenarios := []struct {
		name  string
		mongo bool
	}{
		{"embedded", false},
		{"mongodb", true},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			cfg := accountConfig(t)
			cfg.Auth.LinkInterval = time.Hour
			if sc.mongo {
				cfg.DB.URI = storetest.StartFerretDB(t)
				cfg.DB.Database = "moonbase_reset_test"
			}
			ts := startServer(t, cfg, Deps{})
			ts.register(t, "alice@example.com", "alice's password")
			var wg sync.WaitGroup
			statuses := make([]int, requests)
			for i := range requests {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i], _ = tryCall(ts.URL(), "POST", "/api/auth/password-reset", `{"email":"alice@example.com"}`, "")
				}()
			}
			wg.Wait()
			for i, st := range statuses {
				if st != http.StatusAccepted {
					t.Errorf("request %d answered %d", i, st)
				}
			}
			ts.awaitResetJobsDone(t, requests)
			if n := len(ts.emailJobs(t, "")); n != 1 {
				t.Errorf("%d emails queued, want 1", n)
			}
		})
	}
}
