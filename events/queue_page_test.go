package events

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestListAfterPages: paging with ListAfter two at a time gives each job
// once, in List's order, for every status, even where many jobs share a
// due time; an after that names no job is ErrJobNotFound.
func TestListAfterPages(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	start := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	// Not started: the jobs stay pending.
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet, Now: newClock(start).Now})
	if err != nil {
		t.Fatal(err)
	}
	q.Register("x", func(context.Context, Job) error { return nil })
	// Eleven jobs, seven of them due at the same moment.
	for i := range 11 {
		due := start.Add(time.Second)
		if i%3 == 0 {
			due = start.Add(time.Duration(i) * time.Second)
		}
		if _, err := q.Enqueue(ctx, "x", nil, EnqueueOptions{RunAt: due}); err != nil {
			t.Fatal(err)
		}
	}
	for _, status := range []string{"", StatusPending} {
		t.Run("status "+status, func(t *testing.T) {
			whole, err := q.List(ctx, status, 0)
			if err != nil || len(whole) != 11 {
				t.Fatalf("List: %d jobs, %v", len(whole), err)
			}
			var got []string
			after := ""
			for pages := 0; pages < 8; pages++ {
				page, err := q.ListAfter(ctx, status, after, 2)
				if err != nil {
					t.Fatalf("ListAfter(%q): %v", after, err)
				}
				for _, j := range page {
					got = append(got, j.ID)
				}
				if len(page) < 2 {
					break
				}
				after = page[len(page)-1].ID
			}
			var want []string
			for _, j := range whole {
				want = append(want, j.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged two at a time:\n%v\nwant List's order:\n%v", got, want)
			}
		})
	}
	if _, err := q.ListAfter(ctx, StatusPending, "nope", 2); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("an unknown after: %v, want ErrJobNotFound", err)
	}
	if _, err := q.ListAfter(ctx, "stuck", "", 2); !errors.Is(err, ErrInvalidStatus) {
		t.Fatalf("an unknown status: %v, want ErrInvalidStatus", err)
	}
}
