package webhooks

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// TestDeliveryRetention sweeps finished deliveries and their messages
// once they are past webhooks.delivery_retention, and never a pending
// delivery or a message one still needs.
func TestDeliveryRetention(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	delivered := newReceiver(t, ok200)
	failing := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(500) })
	later := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(503)
	})
	e.endpoint(t, delivered.URL, []string{"done.*", "mixed"}, nil)
	e.endpoint(t, failing.URL, []string{"dead.*"}, func(in *EndpointInput) { in.MaxAttempts = ptr(1) })
	e.endpoint(t, later.URL, []string{"pending.*", "mixed"}, nil)

	emit := func(typ string, want ...string) (Message, []Delivery) {
		t.Helper()
		msg, err := e.svc.Emit(ctx, typ, map[string]any{"n": 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds := e.deliveriesOf(t, msg.ID)
		if len(ds) != len(want) {
			t.Fatalf("%s: %d deliveries, want %d", typ, len(ds), len(want))
		}
		for _, d := range ds {
			d, wantOne := e.waitAttempted(t, d.ID), false
			for _, w := range want {
				wantOne = wantOne || d.Status == w
			}
			if !wantOne {
				t.Fatalf("%s: delivery %s is %s, want one of %v", typ, d.ID, d.Status, want)
			}
		}
		return msg, ds
	}
	done, _ := emit("done.x", StatusDelivered)
	dead, _ := emit("dead.x", StatusDead)
	pending, _ := emit("pending.x", StatusPending)
	mixed, _ := emit("mixed", StatusDelivered, StatusPending)
	day := 24 * time.Hour
	if e.svc.Config().DeliveryRetention != 30*day {
		t.Fatalf("default delivery retention %s, want 30 days", e.svc.Config().DeliveryRetention)
	}

	messagesLeft := func() []string {
		t.Helper()
		docs, err := e.store.C(db.WebhookMessages).Find(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range docs {
			ids = append(ids, str(d["_id"]))
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	scenarios := []struct {
		name       string
		at         time.Duration // after now
		deliveries int64         // swept
		messages   int64
		left       []string // messages
		kept       int      // deliveries
	}{
		{"within the retention", 29 * day, 0, 0, sorted(done.ID, dead.ID, pending.ID, mixed.ID), 5},
		{"past it", 31 * day, 3, 2, sorted(pending.ID, mixed.ID), 2},
		{"again", 31 * day, 0, 0, sorted(pending.ID, mixed.ID), 2},
		{"a year on: pending stays pending", 365 * day, 0, 0, sorted(pending.ID, mixed.ID), 2},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			now := time.Now().Add(s.at)
			n, err := e.svc.SweepDeliveries(ctx, now)
			if err != nil || n != s.deliveries {
				t.Fatalf("SweepDeliveries = %d, %v; want %d", n, err, s.deliveries)
			}
			if n, err = e.svc.SweepMessages(ctx, now); err != nil || n != s.messages {
				t.Fatalf("SweepMessages = %d, %v; want %d", n, err, s.messages)
			}
			if got := messagesLeft(); !slices.Equal(got, s.left) {
				t.Fatalf("messages left %v, want %v", got, s.left)
			}
			ds, err := e.svc.ListDeliveries(ctx, DeliveryQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			pendingLeft := 0
			for _, d := range ds {
				if d.Status == StatusPending {
					pendingLeft++
				}
			}
			if len(ds) != s.kept || pendingLeft != 2 {
				t.Fatalf("%d deliveries left, %d of them pending; want %d, the 2 pending among them", len(ds), pendingLeft, s.kept)
			}
		})
	}

	t.Run("a replayed delivery counts from its replay", func(t *testing.T) {
		msg, ds := emit("done.replayed", StatusDelivered)
		old := time.Now().Add(-40 * day).UTC()
		if _, err := e.store.C(db.Deliveries).UpdateOne(ctx, db.ByID(ds[0].ID), bson.M{"$set": bson.M{"created_at": old, "updated_at": old}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.C(db.WebhookMessages).UpdateOne(ctx, db.ByID(msg.ID), bson.M{"$set": bson.M{"created_at": old}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Replay(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(t, ds[0].ID, StatusDelivered)
		if n, err := e.svc.SweepDeliveries(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("SweepDeliveries = %d, %v; want the replayed delivery kept", n, err)
		}
		if n, err := e.svc.SweepMessages(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("SweepMessages = %d, %v; want the replayed delivery's message kept", n, err)
		}
	})

	t.Run("more than a batch", func(t *testing.T) {
		old := time.Now().Add(-40 * day).UTC()
		var docs, msgs []bson.M
		for i := range sweepBatch + 10 {
			id := newID("msg_")
			msgs = append(msgs, bson.M{"_id": id, "type": "bulk", "bodies": bson.M{"0": "{}"}, "deliveries": 1, "created_at": old})
			status := StatusDelivered
			if i%2 == 1 {
				status = StatusDead
			}
			docs = append(docs, bson.M{"_id": newID("dlv_"), "message_id": id, "status": status, "created_at": old, "updated_at": old})
		}
		if _, err := e.store.C(db.WebhookMessages).InsertMany(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.C(db.Deliveries).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.SweepDeliveries(ctx, time.Now()); err != nil || n != int64(len(docs)) {
			t.Fatalf("SweepDeliveries = %d, %v; want %d", n, err, len(docs))
		}
		if n, err := e.svc.SweepMessages(ctx, time.Now()); err != nil || n != int64(len(msgs)) {
			t.Fatalf("SweepMessages = %d, %v; want %d", n, err, len(msgs))
		}
	})

	t.Run("a closed store", func(t *testing.T) {
		if err := e.store.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SweepDeliveries(ctx, time.Now()); !errors.Is(err, db.ErrClosed) {
			t.Fatalf("SweepDeliveries on a closed store = %v, want ErrClosed", err)
		}
		if _, err := e.svc.SweepMessages(ctx, time.Now()); !errors.Is(err, db.ErrClosed) {
			t.Fatalf("SweepMessages on a closed store = %v, want ErrClosed", err)
		}
	})
}

// waitAttempted waits until delivery id has had an attempt and returns it.
func (e *env) waitAttempted(t *testing.T, id string) Delivery {
	t.Helper()
	var d Delivery
	testsupport.WaitForWithin(t, 10*time.Second, "delivery "+id+" attempted", func() bool {
		var err error
		if d, err = e.svc.Delivery(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return d.Attempts > 0
	})
	return d
}
