package events

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// The wired service runs an event's function, a scheduled function and a
// new kind of job, and shuts down twice without complaint.
func TestServiceWiresEverything(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	saveFunction(t, store, "on-order", nil, bson.M{"event": "order_placed"})
	saveFunction(t, store, "nightly", nil, bson.M{"schedule": "daily at 03:00", "timezone": "Europe/Paris"})
	r := &runner{}
	svc, err := New(testConfig(), Deps{Store: store, Runner: r, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan string, 1)
	svc.Queue.Register("email", func(ctx context.Context, job Job) error { sent <- str(job.Payload["to"]); return nil })
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}

	ev, err := svc.Bus.Publish(ctx, "order_placed", map[string]any{"orderId": 1})
	if err != nil {
		t.Fatal(err)
	}
	testsupport.WaitForWithin(t, 10*time.Second, "the event's function", func() bool { return len(r.of(ev.ID)) == 1 })

	list, err := svc.Scheduler.List(ctx)
	if err != nil || len(list) != 1 || list[0].Function != "nightly" || len(list[0].Next) != 5 {
		t.Fatalf("schedules after start = %+v, %v", list, err)
	}
	id, err := svc.Scheduler.RunNow(ctx, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, svc.Queue, id, StatusDone)

	if _, err := svc.Queue.Enqueue(ctx, "email", map[string]any{"to": "ada@example.com"}, EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	if to := <-sent; to != "ada@example.com" {
		t.Fatalf("email job got %q", to)
	}
	if n := count(t, store, db.Jobs, bson.M{"kind": KindRetention}); n != 1 {
		t.Fatalf("retention jobs after start = %d, want 1", n)
	}

	for range 2 {
		if err := svc.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	}
}
