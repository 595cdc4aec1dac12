package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// The server's retention sweep keeps _deliveries and _webhook_messages
// within webhooks.delivery_retention, sparing pending deliveries and the
// messages they need.
func TestRetentionSweepsDeliveries(t *testing.T) {
	cfg := webhookConfig(t, false)
	cfg.Webhooks.DeliveryRetention = 7 * 24 * time.Hour
	ts := startServer(t, cfg, Deps{})
	ctx := context.Background()
	// The server sweeps once as it starts; that sweep must be over before
	// the records go in, or it takes some of them from the one under test.
	testsupport.WaitFor(t, "the start-up sweep", func() bool {
		return len(ts.docs(t, db.Jobs, bson.M{"kind": events.KindRetention, "status": events.StatusDone})) == 1
	})
	old := time.Now().Add(-8 * 24 * time.Hour).UTC()
	recent := time.Now().Add(-6 * 24 * time.Hour).UTC()
	for _, m := range []bson.M{
		{"_id": "msg_old_done", "created_at": old},
		{"_id": "msg_old_pending", "created_at": old},
		{"_id": "msg_recent", "created_at": recent},
	} {
		if _, err := ts.Store().C(db.WebhookMessages).InsertOne(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []bson.M{
		{"_id": "dlv_old_delivered", "message_id": "msg_old_done", "status": "delivered", "created_at": old, "updated_at": old},
		{"_id": "dlv_old_dead", "message_id": "msg_old_done", "status": "dead", "created_at": old, "updated_at": old},
		{"_id": "dlv_old_pending", "message_id": "msg_old_pending", "status": "pending", "created_at": old, "updated_at": old},
		{"_id": "dlv_dead_lately", "message_id": "msg_old_pending", "status": "dead", "created_at": old, "updated_at": recent},
		{"_id": "dlv_recent", "message_id": "msg_recent", "status": "delivered", "created_at": recent, "updated_at": recent},
	} {
		if _, err := ts.Store().C(db.Deliveries).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ts.jobs.Sweeper.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Other[db.Deliveries] != 2 || res.Other[db.WebhookMessages] != 1 {
		t.Fatalf("sweep = %+v, want 2 deliveries and 1 message", res)
	}
	var left []string
	for _, d := range ts.docs(t, db.Deliveries, nil) {
		left = append(left, d["_id"].(string))
	}
	for _, d := range ts.docs(t, db.WebhookMessages, nil) {
		left = append(left, d["_id"].(string))
	}
	want := "[dlv_dead_lately dlv_old_pending dlv_recent msg_old_pending msg_recent]"
	if got := fmt.Sprint(left); got != want {
		t.Fatalf("left %s, want %s", got, want)
	}
}
