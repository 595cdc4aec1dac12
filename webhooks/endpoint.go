package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// Endpoint is a receiver of outbound webhooks: a URL, the event types it
// subscribes to, its own signing secret and payload version.
type Endpoint struct {
	ID          string         `json:"id"`
	URL         string         `json:"url"`
	Events      []string       `json:"events"`
	Description string         `json:"description,omitempty"`
	Version     int            `json:"version"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	// RateLimit caps deliveries per second to the endpoint from one
	// instance; 0 is no cap.
	RateLimit int `json:"rate_limit,omitempty"`
	// MaxAttempts overrides Config.MaxAttempts; 0 takes it.
	MaxAttempts int  `json:"max_attempts,omitempty"`
	Disabled    bool `json:"disabled"`
	// DisabledReason says why the server disabled it (410 Gone, failing
	// for days), or that an admin did.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret is shown only when the endpoint is created or its secret
	// rotated.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretUntil is when a rotated-out secret stops signing.
	PreviousSecretUntil time.Time `json:"previous_secret_until,omitzero"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince time.Time `json:"failing_since,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`

	secret, previous string
}

// EndpointInput is what creating or updating an endpoint sets; a nil field
// of an update is left as it is.
type EndpointInput struct {
	URL         *string         `json:"url"`
	Events      *[]string       `json:"events"`
	Description *string         `json:"description"`
	Version     *int            `json:"version"`
	Metadata    *map[string]any `json:"metadata"`
	RateLimit   *int            `json:"rate_limit"`
	MaxAttempts *int            `json:"max_attempts"`
}

var eventType = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,99}$`)

// ValidateFilter checks an endpoint's event filter: each entry is an
// event type (letters, digits, _ . : -, starting with a letter), a prefix
// ending in ".*" ("order.*"), or "*" for every type.
func ValidateFilter(filter []string) error {
	if len(filter) == 0 {
		return fmt.Errorf("%w: events is empty; list event types, or [\"*\"] for every type", ErrInvalidEndpoint)
	}
	if len(filter) > 100 {
		return fmt.Errorf("%w: events lists more than 100 entries", ErrInvalidEndpoint)
	}
	for _, f := range filter {
		t := strings.TrimSuffix(f, ".*")
		if f == "*" || eventType.MatchString(t) {
			continue
		}
		return fmt.Errorf("%w: event filter %q: write an event type (order.paid), a prefix (order.*) or *", ErrInvalidEndpoint, f)
	}
	return nil
}

// Matches reports whether the filter subscribes to event type typ.
func Matches(filter []string, typ string) bool {
	for _, f := range filter {
		switch {
		case f == "*", f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, f[:len(f)-1]):
			return true
		}
	}
	return false
}

// ValidateEventType checks the type of an emitted message.
func ValidateEventType(typ string) error {
	if !eventType.MatchString(typ) {
		return fmt.Errorf("%w: event type %q: use 1 to 100 letters, digits, _ . : or -, starting with a letter", ErrInvalidMessage, typ)
	}
	return nil
}

// validateURL checks a receiver URL: absolute http or https with a host,
// and, when the host is an address or localhost, one the guard lets
// through (the same check is made again on every connection).
func (s *Service) validateURL(raw string) error {
	if len(raw) > 2048 {
		return fmt.Errorf("%w: url is longer than 2048 bytes", ErrInvalidEndpoint)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: url %q: give an absolute http or https URL", ErrInvalidEndpoint, raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%w: url %q: a fragment is never sent; remove it", ErrInvalidEndpoint, raw)
	}
	if s.deps.CheckHost != nil {
		if err := s.deps.CheckHost(u.Hostname(), u.Port()); err != nil {
			return fmt.Errorf("%w: url %q: %v", ErrInvalidEndpoint, raw, err)
		}
	}
	return nil
}

// NewSecret returns a fresh Standard Webhooks secret: whsec_ and 24
// random bytes in base64.
func NewSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

func (s *Service) applyInput(in EndpointInput, set bson.M) error {
	if in.URL != nil {
		if err := s.validateURL(*in.URL); err != nil {
			return err
		}
		set["url"] = *in.URL
	}
	if in.Events != nil {
		if err := ValidateFilter(*in.Events); err != nil {
			return err
		}
		set["events"] = *in.Events
	}
	if in.Description != nil {
		if len(*in.Description) > 1000 {
			return fmt.Errorf("%w: description is longer than 1000 bytes", ErrInvalidEndpoint)
		}
		set["description"] = *in.Description
	}
	if in.Version != nil {
		if *in.Version < 1 || *in.Version > 1000 {
			return fmt.Errorf("%w: version %d: use a whole number from 1", ErrInvalidEndpoint, *in.Version)
		}
		set["version"] = *in.Version
	}
	if in.Metadata != nil {
		set["metadata"] = *in.Metadata
	}
	if in.RateLimit != nil {
		if *in.RateLimit < 0 || *in.RateLimit > 10000 {
			return fmt.Errorf("%w: rate_limit %d: use 0 (none) to 10000 deliveries per second", ErrInvalidEndpoint, *in.RateLimit)
		}
		set["rate_limit"] = *in.RateLimit
	}
	if in.MaxAttempts != nil {
		if *in.MaxAttempts < 0 || *in.MaxAttempts > MaxAttemptsLimit {
			return fmt.Errorf("%w: max_attempts %d: use 1 to %d, or 0 for the default", ErrInvalidEndpoint, *in.MaxAttempts, MaxAttemptsLimit)
		}
		set["max_attempts"] = *in.MaxAttempts
	}
	return nil
}

// CreateEndpoint stores a new endpoint and returns it with its secret,
// which is shown this once.
func (s *Service) CreateEndpoint(ctx context.Context, in EndpointInput) (Endpoint, error) {
	if in.URL == nil {
		return Endpoint{}, fmt.Errorf("%w: url is required", ErrInvalidEndpoint)
	}
	if in.Events == nil {
		return Endpoint{}, fmt.Errorf("%w: events is required; list event types, or [\"*\"] for every type", ErrInvalidEndpoint)
	}
	now := s.now()
	doc := bson.M{
		"_id": "ep_" + primitive.NewObjectID().Hex(), "version": 1, "disabled": false,
		"secret": NewSecret(), "created_at": now, "updated_at": now,
	}
	if err := s.applyInput(in, doc); err != nil {
		return Endpoint{}, err
	}
	if _, err := s.endpoints.InsertOne(ctx, doc); err != nil {
		return Endpoint{}, fmt.Errorf("create endpoint: %w", err)
	}
	ep := endpointFromDoc(doc)
	ep.Secret = ep.secret
	return ep, nil
}

// UpdateEndpoint changes the fields in is set.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, in EndpointInput) (Endpoint, error) {
	set := bson.M{"updated_at": s.now()}
	if err := s.applyInput(in, set); err != nil {
		return Endpoint{}, err
	}
	return s.updateEndpoint(ctx, id, bson.M{"$set": set})
}

// SetDisabled disables or enables an endpoint. Disabling by hand records
// reason; enabling clears the failure record so the next failure starts a
// new count.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool, reason string) (Endpoint, error) {
	now := s.now()
	if disabled {
		return s.updateEndpoint(ctx, id, bson.M{"$set": bson.M{"disabled": true, "disabled_reason": reason, "updated_at": now}})
	}
	return s.updateEndpoint(ctx, id, bson.M{
		"$set":   bson.M{"disabled": false, "updated_at": now},
		"$unset": bson.M{"disabled_reason": "", "failing_since": ""},
	})
}

// RotateSecret gives the endpoint a new secret, returned this once; the
// old one keeps signing beside it for Config.RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (Endpoint, error) {
	cur, err := s.endpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	now := s.now()
	secret := NewSecret()
	ep, err := s.updateEndpoint(ctx, id, bson.M{"$set": bson.M{
		"secret": secret, "previous_secret": cur.secret,
		"previous_secret_until": now.Add(s.cfg.RotationOverlap), "updated_at": now,
	}})
	ep.Secret = secret
	return ep, err
}

// DeleteEndpoint removes an endpoint. Its deliveries stay for the record;
// pending ones fail at their next attempt.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	n, err := s.endpoints.DeleteOne(ctx, db.ByID(id))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrEndpointNotFound, id)
	}
	return nil
}

// Endpoint returns one endpoint, without its secret.
func (s *Service) Endpoint(ctx context.Context, id string) (Endpoint, error) {
	return s.endpoint(ctx, id)
}

// ListEndpoints returns up to limit endpoints in id order after the id
// after ("" for the first page).
func (s *Service) ListEndpoints(ctx context.Context, after string, limit int) ([]Endpoint, error) {
	filter := bson.M{}
	if after != "" {
		filter["_id"] = bson.M{"$gt": after}
	}
	docs, err := s.endpoints.Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Limit: int64(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(docs))
	for _, d := range docs {
		out = append(out, endpointFromDoc(d))
	}
	return out, nil
}

func (s *Service) endpoint(ctx context.Context, id string) (Endpoint, error) {
	d, err := s.endpoints.FindOne(ctx, db.ByID(id), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Endpoint{}, fmt.Errorf("%w: %q", ErrEndpointNotFound, id)
	}
	if err != nil {
		return Endpoint{}, err
	}
	return endpointFromDoc(d), nil
}

func (s *Service) updateEndpoint(ctx context.Context, id string, update bson.M) (Endpoint, error) {
	d, err := s.endpoints.FindOneAndUpdate(ctx, db.ByID(id), update, &db.FindOneAndUpdateOptions{ReturnAfter: true})
	if errors.Is(err, db.ErrNotFound) {
		return Endpoint{}, fmt.Errorf("%w: %q", ErrEndpointNotFound, id)
	}
	if err != nil {
		return Endpoint{}, err
	}
	return endpointFromDoc(d), nil
}

func endpointFromDoc(d bson.M) Endpoint {
	ep := Endpoint{
		ID: str(d["_id"]), URL: str(d["url"]), Description: str(d["description"]),
		Version: intOf(d["version"]), RateLimit: intOf(d["rate_limit"]), MaxAttempts: intOf(d["max_attempts"]),
		Disabled: d["disabled"] == true, DisabledReason: str(d["disabled_reason"]),
		PreviousSecretUntil: db.TimeOf(d["previous_secret_until"]), FailingSince: db.TimeOf(d["failing_since"]),
		CreatedAt: db.TimeOf(d["created_at"]), UpdatedAt: db.TimeOf(d["updated_at"]),
		secret: str(d["secret"]), previous: str(d["previous_secret"]),
	}
	ep.Events = strings1(d["events"])
	if m, ok := db.ToJSONValue(d["metadata"]).(map[string]any); ok {
		ep.Metadata = m
	}
	return ep
}
