package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Delivery is one message on its way to one endpoint (or to a URL, for a
// one-off Send).
type Delivery struct {
	ID           string    `json:"id"`
	MessageID    string    `json:"message_id"`
	EndpointID   string    `json:"endpoint_id,omitempty"`
	URL          string    `json:"url,omitempty"`
	Type         string    `json:"type,omitempty"`
	Version      string    `json:"version"`
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	MaxAttempts  int       `json:"max_attempts"`
	Replays      int       `json:"replays,omitempty"`
	LastStatus   int       `json:"last_status,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	NextAttempt  time.Time `json:"next_attempt_at,omitzero"`
	DeliveredAt  time.Time `json:"delivered_at,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	attemptsList []Attempt
}

func deliveryFromDoc(d bson.M) Delivery {
	out := Delivery{
		ID: str(d["_id"]), MessageID: str(d["message_id"]), EndpointID: str(d["endpoint_id"]),
		URL: str(d["url"]), Type: str(d["type"]), Version: str(d["version"]), Status: str(d["status"]),
		Attempts: intOf(d["attempt_count"]), MaxAttempts: intOf(d["max_attempts"]), Replays: intOf(d["replays"]),
		LastStatus: intOf(d["last_status"]), LastError: str(d["last_error"]),
		NextAttempt: db.TimeOf(d["next_attempt_at"]), DeliveredAt: db.TimeOf(d["delivered_at"]),
		CreatedAt: db.TimeOf(d["created_at"]), UpdatedAt: db.TimeOf(d["updated_at"]),
	}
	if a, ok := d["attempts"].(bson.A); ok {
		for _, e := range a {
			m := mapOf(e)
			att := Attempt{
				N: intOf(m["n"]), At: db.TimeOf(m["at"]), Status: intOf(m["status"]),
				DurationMS: int64(intOf(m["duration_ms"])), ResponseBody: str(m["response_body"]),
				Error: str(m["error"]), RetryAt: db.TimeOf(m["retry_at"]),
			}
			if h := mapOf(m["response_headers"]); len(h) > 0 {
				att.ResponseHeaders = map[string]string{}
				for k, v := range h {
					att.ResponseHeaders[k] = str(v)
				}
			}
			out.attemptsList = append(out.attemptsList, att)
		}
	}
	return out
}

// DeliveryQuery filters ListDeliveries. Pages go newest first: Before is
// the id of the last delivery of the previous page.
type DeliveryQuery struct {
	Endpoint string
	Message  string
	Status   string
	Before   string
	Limit    int
}

// ListDeliveries returns deliveries matching q, newest first.
func (s *Service) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error) {
	filter := bson.M{}
	switch q.Status {
	case "", StatusPending, StatusDelivered, StatusDead:
	default:
		return nil, fmt.Errorf("%w: status %q: use pending, delivered or dead", ErrInvalidQuery, q.Status)
	}
	if q.Status != "" {
		filter["status"] = q.Status
	}
	if q.Endpoint != "" {
		filter["endpoint_id"] = q.Endpoint
	}
	if q.Message != "" {
		filter["message_id"] = q.Message
	}
	if q.Before != "" {
		filter["_id"] = bson.M{"$lt": q.Before}
	}
	docs, err := s.delivs.Find(ctx, filter, &db.FindOptions{
		Sort: bson.D{{Key: "_id", Value: -1}}, Limit: int64(q.Limit), Projection: bson.M{"attempts": 0},
	})
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(docs))
	for _, d := range docs {
		out = append(out, deliveryFromDoc(d))
	}
	return out, nil
}

// Delivery returns one delivery.
func (s *Service) Delivery(ctx context.Context, id string) (Delivery, error) {
	d, err := s.delivs.FindOne(ctx, db.ByID(id), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Delivery{}, fmt.Errorf("%w: %q", ErrDeliveryNotFound, id)
	}
	if err != nil {
		return Delivery{}, err
	}
	return deliveryFromDoc(d), nil
}

// Attempts returns every attempt of a delivery, oldest first.
func (s *Service) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.attemptsList == nil {
		return []Attempt{}, nil
	}
	return d.attemptsList, nil
}

// ListMessages returns messages newest first, of type typ when given;
// Before is the id of the last message of the previous page.
func (s *Service) ListMessages(ctx context.Context, typ, before string, limit int) ([]Message, error) {
	filter := bson.M{}
	if typ != "" {
		filter["type"] = typ
	}
	if before != "" {
		filter["_id"] = bson.M{"$lt": before}
	}
	docs, err := s.messages.Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: -1}}, Limit: int64(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(docs))
	for _, d := range docs {
		m := Message{ID: str(d["_id"]), Type: str(d["type"]), URL: str(d["url"]), Deliveries: intOf(d["deliveries"]), CreatedAt: db.TimeOf(d["created_at"])}
		m.Payloads = map[string]any{}
		for k, v := range mapOf(d["bodies"]) {
			m.Payloads[k] = db.ToJSONValue(rawJSON(str(v)))
		}
		out = append(out, m)
	}
	return out, nil
}

// Replay sends a delivered or dead delivery again, with a fresh set of
// attempts and the same webhook-id.
func (s *Service) Replay(ctx context.Context, id string) (Delivery, error) {
	d, err := s.delivs.FindOneAndUpdate(ctx, bson.M{"_id": id, "status": bson.M{"$in": bson.A{StatusDelivered, StatusDead}}}, bson.M{
		"$set": bson.M{"status": StatusPending, "updated_at": s.now()},
		"$inc": bson.M{"replays": 1},
	}, &db.FindOneAndUpdateOptions{ReturnAfter: true})
	if errors.Is(err, db.ErrNotFound) {
		if _, gerr := s.Delivery(ctx, id); gerr != nil {
			return Delivery{}, gerr
		}
		return Delivery{}, fmt.Errorf("%w: %q", ErrNotReplayable, id)
	}
	if err != nil {
		return Delivery{}, err
	}
	out := deliveryFromDoc(d)
	if err := s.enqueue(ctx, id, out.Replays, out.MaxAttempts); err != nil {
		return Delivery{}, err
	}
	return out, nil
}

// ReplayFailed replays every dead delivery of an endpoint created at or
// after since, and returns how many.
func (s *Service) ReplayFailed(ctx context.Context, endpoint string, since time.Time) (int, error) {
	if _, err := s.endpoint(ctx, endpoint); err != nil {
		return 0, err
	}
	docs, err := s.delivs.Find(ctx, bson.M{"endpoint_id": endpoint, "status": StatusDead, "created_at": bson.M{"$gte": since.UTC()}},
		&db.FindOptions{Projection: bson.M{"_id": 1}, Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		if _, err := s.Replay(ctx, str(d["_id"])); err != nil {
			if errors.Is(err, ErrNotReplayable) {
				continue // replayed meanwhile
			}
			return n, err
		}
		n++
	}
	return n, nil
}
