package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Delivery statuses. A delivery is pending from the moment it is recorded
// until an attempt succeeds (delivered) or its last attempt fails (dead).
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
)

// Message is one emitted event, delivered to every endpoint subscribed to
// its type.
type Message struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Payloads are the data per payload version ("1", "2"…); "0" is the
	// default for versions without their own.
	Payloads   map[string]any `json:"payloads,omitempty"`
	URL        string         `json:"url,omitempty"`
	Deliveries int            `json:"deliveries"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Emit records a message of type typ and one delivery per enabled
// endpoint subscribed to it, and queues the deliveries, all before it
// returns. payload is the data for every endpoint; versions, when given,
// holds the data for endpoints pinned to a payload version (an endpoint
// gets the entry of the highest version not above its own, or payload
// when none is). Each receiver gets {type, timestamp, data}.
func (s *Service) Emit(ctx context.Context, typ string, payload any, versions map[int]any) (Message, error) {
	if err := ValidateEventType(typ); err != nil {
		return Message{}, err
	}
	now := s.now()
	msgID := newID("msg_")
	bodies := map[string]string{}
	payloads := map[string]any{}
	encode := func(key string, data any) error {
		b, err := json.Marshal(map[string]any{"type": typ, "timestamp": now.Format(time.RFC3339Nano), "data": data})
		if err != nil {
			return fmt.Errorf("%w: the payload does not encode as JSON: %v", ErrInvalidMessage, err)
		}
		if len(b) > s.cfg.MaxPayloadBytes {
			return fmt.Errorf("%w: %d bytes of JSON, the limit is %d", ErrPayloadTooLarge, len(b), s.cfg.MaxPayloadBytes)
		}
		bodies[key], payloads[key] = string(b), data
		return nil
	}
	if err := encode("0", payload); err != nil {
		return Message{}, err
	}
	for v, data := range versions {
		if v < 1 {
			return Message{}, fmt.Errorf("%w: payload version %d: versions start at 1", ErrInvalidMessage, v)
		}
		if err := encode(strconv.Itoa(v), data); err != nil {
			return Message{}, err
		}
	}
	docs, err := s.endpoints.Find(ctx, bson.M{"disabled": false}, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return Message{}, err
	}
	var eps []Endpoint
	for _, d := range docs {
		if ep := endpointFromDoc(d); Matches(ep.Events, typ) {
			eps = append(eps, ep)
		}
	}
	if _, err := s.messages.InsertOne(ctx, bson.M{
		"_id": msgID, "type": typ, "bodies": bodies, "deliveries": len(eps), "created_at": now,
	}); err != nil {
		return Message{}, fmt.Errorf("record message: %w", err)
	}
	var dels []bson.M
	for _, ep := range eps {
		dels = append(dels, bson.M{
			"_id": newID("dlv_"), "message_id": msgID, "endpoint_id": ep.ID, "type": typ,
			"version": pickVersion(bodies, ep.Version), "status": StatusPending,
			"max_attempts": s.maxAttempts(ep), "attempts": bson.A{}, "attempt_count": 0, "replays": 0,
			"created_at": now, "updated_at": now,
		})
	}
	if err := s.record(ctx, dels); err != nil {
		return Message{}, err
	}
	return Message{ID: msgID, Type: typ, Payloads: payloads, Deliveries: len(eps), CreatedAt: now}, nil
}

// SendOptions go with a one-off Send.
type SendOptions struct {
	// Secret signs the delivery the Standard Webhooks way (a whsec_
	// secret); empty sends it unsigned, with webhook-id and
	// webhook-timestamp still set.
	Secret string
	// Headers are added to the request.
	Headers map[string]string
	// MaxAttempts overrides Config.MaxAttempts.
	MaxAttempts int
}

// Send records and queues one delivery of payload, as JSON, to url,
// outside any endpoint: the same queue, retries, attempts and replay as
// an endpoint's deliveries.
func (s *Service) Send(ctx context.Context, url string, payload any, o SendOptions) (Message, string, error) {
	if err := s.validateURL(url); err != nil {
		return Message{}, "", err
	}
	if o.Secret != "" {
		if _, err := DecodeSecret(o.Secret); err != nil {
			return Message{}, "", fmt.Errorf("%w: secret: a Standard Webhooks secret is whsec_ followed by base64", ErrInvalidMessage)
		}
	}
	if o.MaxAttempts < 0 || o.MaxAttempts > MaxAttemptsLimit {
		return Message{}, "", fmt.Errorf("%w: max attempts %d is not within 1 to %d", ErrInvalidMessage, o.MaxAttempts, MaxAttemptsLimit)
	}
	headers := map[string]any{}
	for k, v := range o.Headers {
		if http.CanonicalHeaderKey(k) == "" || !validHeader(k, v) {
			return Message{}, "", fmt.Errorf("%w: header %q is not a valid header", ErrInvalidMessage, k)
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return Message{}, "", fmt.Errorf("%w: the payload does not encode as JSON: %v", ErrInvalidMessage, err)
	}
	if len(b) > s.cfg.MaxPayloadBytes {
		return Message{}, "", fmt.Errorf("%w: %d bytes of JSON, the limit is %d", ErrPayloadTooLarge, len(b), s.cfg.MaxPayloadBytes)
	}
	now := s.now()
	msgID := newID("msg_")
	if _, err := s.messages.InsertOne(ctx, bson.M{
		"_id": msgID, "url": url, "bodies": bson.M{"0": string(b)}, "deliveries": 1, "created_at": now,
	}); err != nil {
		return Message{}, "", fmt.Errorf("record message: %w", err)
	}
	maxAttempts := o.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = s.cfg.MaxAttempts
	}
	id := newID("dlv_")
	if err := s.record(ctx, []bson.M{{
		"_id": id, "message_id": msgID, "url": url, "secret": o.Secret, "headers": headers,
		"version": "0", "status": StatusPending, "max_attempts": maxAttempts,
		"attempts": bson.A{}, "attempt_count": 0, "replays": 0, "created_at": now, "updated_at": now,
	}}); err != nil {
		return Message{}, "", err
	}
	return Message{ID: msgID, URL: url, Payloads: map[string]any{"0": payload}, Deliveries: 1, CreatedAt: now}, id, nil
}

// record stores deliveries and queues them.
func (s *Service) record(ctx context.Context, dels []bson.M) error {
	if len(dels) == 0 {
		return nil
	}
	if _, err := s.delivs.InsertMany(ctx, dels); err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	for _, d := range dels {
		if err := s.enqueue(ctx, str(d["_id"]), 0, intOf(d["max_attempts"])); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) maxAttempts(ep Endpoint) int {
	if ep.MaxAttempts > 0 {
		return ep.MaxAttempts
	}
	return s.cfg.MaxAttempts
}

// pickVersion is the body key for an endpoint pinned to version v: the
// highest version with a payload of its own not above v, else "0".
func pickVersion(bodies map[string]string, v int) string {
	var have []int
	for k := range bodies {
		if n, _ := strconv.Atoi(k); n > 0 && n <= v {
			have = append(have, n)
		}
	}
	if len(have) == 0 {
		return "0"
	}
	sort.Ints(have)
	return strconv.Itoa(have[len(have)-1])
}

func validHeader(k, v string) bool {
	if k == "" || len(k) > 256 || len(v) > 8192 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	for _, c := range v {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

// Versions lists the distinct payload versions of the enabled endpoints
// subscribed to typ, in order.
func (s *Service) Versions(ctx context.Context, typ string) ([]int, error) {
	docs, err := s.endpoints.Find(ctx, bson.M{"disabled": false}, &db.FindOptions{Projection: bson.M{"events": 1, "version": 1}})
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	var out []int
	for _, d := range docs {
		v := intOf(d["version"])
		if Matches(strings1(d["events"]), typ) && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}
