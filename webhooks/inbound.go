package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// MaxInboundAnswer is how much of a function's answer the inbound log
// keeps.
const MaxInboundAnswer = 4096

// Redacted replaces the value of a header the inbound log does not keep.
const Redacted = "[redacted]"

// Inbound is one request to an http trigger as the raw-request log keeps
// it: enough to read what the sender sent, byte for byte, and to replay it.
type Inbound struct {
	ID       string `json:"id"`
	Function string `json:"function"`
	Method   string `json:"method"`
	// URL is the full URL the sender called; Path and Query its parts.
	URL   string `json:"url"`
	Path  string `json:"path"`
	Query string `json:"query,omitempty"`
	// Headers are the request's headers, names in lower case, those of
	// Config.RedactHeaders replaced by "[redacted]".
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	ReceivedAt time.Time         `json:"received_at"`
	// Status and Answer are what the function answered (the first 4 KiB);
	// Error is why a run failed.
	Status      int    `json:"status"`
	Answer      string `json:"answer,omitempty"`
	Error       string `json:"error,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	ExecutionID string `json:"execution_id,omitempty"`
	// ReplayOf is the id of the request this one replayed, and
	// OriginalReceivedAt when the sender's request first arrived (a
	// replay of a replay keeps the first time).
	ReplayOf           string    `json:"replay_of,omitempty"`
	OriginalReceivedAt time.Time `json:"original_received_at,omitzero"`
}

// FirstReceivedAt is when the sender's request first arrived: its own
// receipt, or for a replay the original's.
func (in Inbound) FirstReceivedAt() time.Time {
	if !in.OriginalReceivedAt.IsZero() {
		return in.OriginalReceivedAt
	}
	return in.ReceivedAt
}

// Redact applies Config.RedactHeaders to headers, in place.
func (s *Service) Redact(headers map[string]string) {
	for name := range headers {
		for _, r := range s.cfg.RedactHeaders {
			if strings.EqualFold(name, r) {
				headers[name] = Redacted
			}
		}
	}
}

// RecordInbound logs one request to an http trigger, redacting its
// headers, and returns its id. The entry is written with the next batch
// (see inboundLog); reads of the log see it at once.
func (s *Service) RecordInbound(ctx context.Context, in Inbound) (string, error) {
	if in.ID == "" {
		in.ID = newID("in_")
	}
	s.Redact(in.Headers)
	headers := bson.M{}
	for k, v := range in.Headers {
		headers[k] = v
	}
	doc := bson.M{
		"_id": in.ID, "function": in.Function, "method": in.Method, "url": in.URL, "path": in.Path,
		"query": in.Query, "headers": headers, "body": in.Body, "received_at": in.ReceivedAt.UTC().Truncate(time.Millisecond),
		"status": in.Status, "answer": truncate(in.Answer, MaxInboundAnswer), "duration_ms": in.DurationMS,
	}
	for k, v := range map[string]string{"error": in.Error, "execution_id": in.ExecutionID, "replay_of": in.ReplayOf} {
		if v != "" {
			doc[k] = v
		}
	}
	if !in.OriginalReceivedAt.IsZero() {
		doc["original_received_at"] = in.OriginalReceivedAt.UTC().Truncate(time.Millisecond)
	}
	if err := s.inbound.add(ctx, doc); err != nil {
		return "", fmt.Errorf("record inbound request: %w", err)
	}
	return in.ID, nil
}

// InboundQuery filters ListInbound. Status is a code ("500") or a class
// ("2xx", "4xx", "5xx"); pages go newest first, Before being the id of the
// last request of the previous page.
type InboundQuery struct {
	Function string
	Status   string
	Before   string
	Limit    int
}

// ListInbound returns logged requests matching q, newest first.
func (s *Service) ListInbound(ctx context.Context, q InboundQuery) ([]Inbound, error) {
	if err := s.inbound.flush(ctx); err != nil {
		return nil, fmt.Errorf("write the inbound request log: %w", err)
	}
	filter := bson.M{}
	if q.Function != "" {
		filter["function"] = q.Function
	}
	if q.Status != "" {
		if len(q.Status) == 3 && strings.HasSuffix(q.Status, "xx") && q.Status[0] >= '1' && q.Status[0] <= '5' {
			lo := int(q.Status[0]-'0') * 100
			filter["status"] = bson.M{"$gte": lo, "$lt": lo + 100}
		} else if n, err := strconv.Atoi(q.Status); err == nil && n >= 100 && n <= 599 {
			filter["status"] = n
		} else {
			return nil, fmt.Errorf("%w: status %q: give a code such as 500 or a class such as 5xx", ErrInvalidQuery, q.Status)
		}
	}
	if q.Before != "" {
		filter["_id"] = bson.M{"$lt": q.Before}
	}
	docs, err := s.deps.Store.C(db.Inbound).Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: -1}}, Limit: int64(q.Limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Inbound, 0, len(docs))
	for _, d := range docs {
		out = append(out, inboundFromDoc(d))
	}
	return out, nil
}

// InboundRequest returns one logged request.
func (s *Service) InboundRequest(ctx context.Context, id string) (Inbound, error) {
	if err := s.inbound.flush(ctx); err != nil {
		return Inbound{}, fmt.Errorf("write the inbound request log: %w", err)
	}
	d, err := s.deps.Store.C(db.Inbound).FindOne(ctx, db.ByID(id), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Inbound{}, fmt.Errorf("%w: %q", ErrInboundNotFound, id)
	}
	if err != nil {
		return Inbound{}, err
	}
	return inboundFromDoc(d), nil
}

func inboundFromDoc(d bson.M) Inbound {
	in := Inbound{
		ID: str(d["_id"]), Function: str(d["function"]), Method: str(d["method"]), URL: str(d["url"]),
		Path: str(d["path"]), Query: str(d["query"]), Body: str(d["body"]), ReceivedAt: db.TimeOf(d["received_at"]),
		Status: intOf(d["status"]), Answer: str(d["answer"]), Error: str(d["error"]),
		DurationMS: int64(intOf(d["duration_ms"])), ExecutionID: str(d["execution_id"]), ReplayOf: str(d["replay_of"]),
		Headers: map[string]string{},
	}
	if d["original_received_at"] != nil {
		in.OriginalReceivedAt = db.TimeOf(d["original_received_at"])
	}
	for k, v := range mapOf(d["headers"]) {
		in.Headers[k] = str(v)
	}
	return in
}
