package events

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// Each status lists in its own order: pending jobs as claims will take
// them (ties in the same order too), done and dead ones latest due first,
// every job newest first.
func TestListOrders(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	start := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	clk := newClock(start)
	// Not started: the test claims and finishes the jobs itself.
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	q.Register("x", func(context.Context, Job) error { return nil })
	ids := map[string]string{}
	for _, j := range []struct {
		name  string
		after time.Duration
	}{{"a", 2 * time.Second}, {"b", time.Second}, {"c", time.Second}, {"d", 3 * time.Second}} {
		id, err := q.Enqueue(ctx, "x", nil, EnqueueOptions{RunAt: start.Add(j.after)})
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = j.name
	}
	names := func(status string, limit int) []string {
		t.Helper()
		jobs, err := q.List(ctx, status, limit)
		if err != nil {
			t.Fatalf("List(%q): %v", status, err)
		}
		var out []string
		for _, j := range jobs {
			out = append(out, ids[j.ID])
		}
		return out
	}
	want := []string{"b", "c", "a", "d"}
	if got := names(StatusPending, 0); !slices.Equal(got, want) {
		t.Fatalf("pending jobs listed as %v, want %v", got, want)
	}
	if got := names(StatusPending, 2); !slices.Equal(got, want[:2]) {
		t.Fatalf("first 2 pending jobs listed as %v, want %v", got, want[:2])
	}

	clk.Set(start.Add(time.Minute))
	for i, name := range want {
		c, err := q.claim(false)
		if err != nil || c == nil {
			t.Fatalf("claim %d = %v, %v", i, c, err)
		}
		if ids[c.job.ID] != name {
			t.Fatalf("claim %d took %s, want %s (the order List gave)", i, ids[c.job.ID], name)
		}
		if got := names(StatusRunning, 0); got[len(got)-1] != name {
			t.Fatalf("running jobs listed as %v, want %s last", got, name)
		}
		clk.Add(time.Second)
		var runErr error
		if name == "c" {
			runErr = Permanent(errors.New("no"))
		}
		q.finish(c, runErr, storeTime(clk.Now()))
	}

	scenarios := []struct {
		status string
		want   []string
	}{
		{StatusDone, []string{"d", "a", "b"}},
		{StatusDead, []string{"c"}},
		{StatusRunning, nil},
		{StatusPending, nil},
		{"", []string{"d", "c", "b", "a"}},
	}
	for _, s := range scenarios {
		if got := names(s.status, 0); !slices.Equal(got, s.want) {
			t.Fatalf("List(%q) = %v, want %v", s.status, got, s.want)
		}
	}
}
