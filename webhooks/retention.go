package webhooks

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// sweepBatch bounds the documents one delete removes, so that a large
// sweep never holds the database's write lock for long.
const sweepBatch = 500

// SweepDeliveries deletes the deliveries that finished, delivered or
// dead, more than Config.DeliveryRetention before now, their attempts
// with them. A pending delivery stays however old it is: it is still
// being retried. The retention counts from a delivery's last change (its
// last attempt, or a replay), so a delivery retried for days and dead
// yesterday stays the full retention from yesterday. The retention
// sweeper of package events calls it (events.Sweeper.AddSweep).
func (s *Service) SweepDeliveries(ctx context.Context, now time.Time) (int64, error) {
	cutoff := s.cutoff(now)
	// updated_at is never before created_at, so bounding created_at too
	// selects the same deliveries through the index on status and
	// created_at.
	filter := bson.M{
		"status":     bson.M{"$in": bson.A{StatusDelivered, StatusDead}},
		"created_at": bson.M{"$lt": cutoff},
		"updated_at": bson.M{"$lt": cutoff},
	}
	var total int64
	for {
		docs, err := s.delivs.Find(ctx, filter, &db.FindOptions{Projection: bson.M{"_id": 1}, Limit: sweepBatch})
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", db.Deliveries, err)
		}
		if len(docs) == 0 {
			return total, nil
		}
		// The filter again, so that a delivery replayed since it was read
		// (pending again) stays.
		n, err := s.delivs.DeleteMany(ctx, bson.M{
			"_id": bson.M{"$in": ids(docs)}, "status": filter["status"], "updated_at": filter["updated_at"],
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", db.Deliveries, err)
		}
		if len(docs) < sweepBatch {
			return total, nil
		}
	}
}

// SweepMessages deletes the messages older than Config.DeliveryRetention
// none of whose deliveries is left (SweepDeliveries runs first). A message
// with a delivery still pending, or finished within the retention, stays:
// the delivery needs its body to be sent or replayed.
func (s *Service) SweepMessages(ctx context.Context, now time.Time) (int64, error) {
	filter := bson.M{"created_at": bson.M{"$lt": s.cutoff(now)}}
	var total int64
	after := ""
	for {
		page := filter
		if after != "" {
			page = bson.M{"created_at": filter["created_at"], "_id": bson.M{"$gt": after}}
		}
		docs, err := s.messages.Find(ctx, page, &db.FindOptions{Projection: bson.M{"_id": 1}, Sort: bson.D{{Key: "_id", Value: 1}}, Limit: sweepBatch})
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", db.WebhookMessages, err)
		}
		if len(docs) == 0 {
			return total, nil
		}
		after = str(docs[len(docs)-1]["_id"])
		batch := ids(docs)
		kept, err := s.delivs.Find(ctx, bson.M{"message_id": bson.M{"$in": batch}}, &db.FindOptions{Projection: bson.M{"message_id": 1}})
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", db.WebhookMessages, err)
		}
		inUse := map[string]bool{}
		for _, d := range kept {
			inUse[str(d["message_id"])] = true
		}
		var gone bson.A
		for _, id := range batch {
			if !inUse[str(id)] {
				gone = append(gone, id)
			}
		}
		// No delivery can come to reference an old message: emit makes a
		// message with its deliveries, and a replay reuses a delivery.
		if len(gone) > 0 {
			n, err := s.messages.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": gone}})
			total += n
			if err != nil {
				return total, fmt.Errorf("sweep %s: %w", db.WebhookMessages, err)
			}
		}
		if len(docs) < sweepBatch {
			return total, nil
		}
	}
}

// cutoff is the time before which finished records are past retention.
func (s *Service) cutoff(now time.Time) time.Time {
	return now.UTC().Add(-s.cfg.DeliveryRetention).Truncate(time.Millisecond)
}

func ids(docs []bson.M) bson.A {
	out := make(bson.A, len(docs))
	for i, d := range docs {
		out[i] = d["_id"]
	}
	return out
}
