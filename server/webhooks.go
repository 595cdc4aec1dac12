package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/server/adminapi"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// newWebhooks builds outbound delivery over the job queue. Deliveries go
// through the transport of backend.http.request, so endpoint URLs obey
// functions.http.allow_hosts at connect time like a function's requests.
func newWebhooks(cfg Config, store db.Store, q *events.Queue, em events.Emitter, log *slog.Logger) (*webhooks.Service, error) {
	httpCfg := cfg.Functions.WithDefaults().HTTP
	return webhooks.New(cfg.Webhooks, webhooks.Deps{
		Store: store, Queue: q, Emitter: em, Logger: log,
		Transport: engine.GuardedTransport(httpCfg),
		CheckHost: func(host, port string) error { return engine.CheckHost(httpCfg, host, port) },
	})
}

// Webhooks is the outbound webhooks service, for wiring other parts to it
// (backend.webhooks in functions).
func (s *Server) Webhooks() *webhooks.Service { return s.webhooks }

// bindWebhooksApi registers the admin routes of outbound webhooks
// (docs/admin-api.md, "Webhooks"): endpoints, emitting, messages,
// deliveries with their attempts, and replay. Every list is paged.
func bindWebhooksApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin/webhooks")
	g.Post("/endpoints", s.adminCreateEndpoint)
	g.Get("/endpoints", s.adminListEndpoints)
	g.Get("/endpoints/:id", s.adminGetEndpoint)
	g.Patch("/endpoints/:id", s.adminUpdateEndpoint)
	g.Delete("/endpoints/:id", s.adminDeleteEndpoint)
	g.Post("/endpoints/:id/disable", s.adminDisableEndpoint)
	g.Post("/endpoints/:id/enable", s.adminEnableEndpoint)
	g.Post("/endpoints/:id/rotate", s.adminRotateEndpoint)
	g.Post("/endpoints/:id/replay", s.adminReplayEndpoint)
	g.Post("/emit", s.adminEmit)
	g.Get("/messages", s.adminMessages)
	g.Get("/deliveries", s.adminDeliveries)
	g.Get("/deliveries/:id", s.adminDelivery)
	g.Get("/deliveries/:id/attempts", s.adminAttempts)
	g.Post("/deliveries/:id/replay", s.adminReplayDelivery)
}

const endpointFields = "url, events, description, version, metadata, rate_limit, max_attempts"

// adminCreateEndpoint: POST {url, events, description?, version?,
// metadata?, rate_limit?, max_attempts?} → 201 {endpoint}, its secret shown
// this once.
func (s *Server) adminCreateEndpoint(c *fiber.Ctx) error {
	var in webhooks.EndpointInput
	if err := s.strictBody(c, &in, endpointFields); err != nil {
		return err
	}
	ep, err := s.webhooks.CreateEndpoint(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(endpointAnswer(ep))
}

// adminListEndpoints: GET ?limit=&after= → {endpoints, next}; next is the
// after of the following page, empty on the last.
func (s *Server) adminListEndpoints(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	eps, err := s.webhooks.ListEndpoints(c.UserContext(), c.Query("after"), limit)
	if err != nil {
		return err
	}
	next := ""
	if len(eps) == limit {
		next = eps[len(eps)-1].ID
	}
	return c.JSON(adminapi.WebhookEndpointsAnswer{Endpoints: bodies(eps, endpointBody), Next: next})
}

func (s *Server) adminGetEndpoint(c *fiber.Ctx) error {
	ep, err := s.webhooks.Endpoint(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(endpointAnswer(ep))
}

// adminUpdateEndpoint: PATCH with any of the create fields → {endpoint}.
func (s *Server) adminUpdateEndpoint(c *fiber.Ctx) error {
	var in webhooks.EndpointInput
	if err := s.strictBody(c, &in, endpointFields); err != nil {
		return err
	}
	ep, err := s.webhooks.UpdateEndpoint(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(endpointAnswer(ep))
}

func (s *Server) adminDeleteEndpoint(c *fiber.Ctx) error {
	if err := s.webhooks.DeleteEndpoint(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) adminDisableEndpoint(c *fiber.Ctx) error {
	ep, err := s.webhooks.SetDisabled(c.UserContext(), c.Params("id"), true, "disabled by an admin")
	if err != nil {
		return err
	}
	return c.JSON(endpointAnswer(ep))
}

func (s *Server) adminEnableEndpoint(c *fiber.Ctx) error {
	ep, err := s.webhooks.SetDisabled(c.UserContext(), c.Params("id"), false, "")
	if err != nil {
		return err
	}
	return c.JSON(endpointAnswer(ep))
}

// adminRotateEndpoint issues a new secret, shown this once; the old one
// keeps signing beside it for webhooks.rotation_overlap.
func (s *Server) adminRotateEndpoint(c *fiber.Ctx) error {
	ep, err := s.webhooks.RotateSecret(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(endpointAnswer(ep))
}

// adminReplayEndpoint replays every dead delivery of the endpoint created
// since a time: POST {since: RFC 3339} → {replayed: N}.
func (s *Server) adminReplayEndpoint(c *fiber.Ctx) error {
	var req adminapi.WebhookReplayRequest
	if err := s.strictBody(c, &req, "since"); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339, req.Since)
	if err != nil {
		return badInput("since %q: give a time such as 2026-12-01T00:00:00Z", req.Since)
	}
	n, err := s.webhooks.ReplayFailed(c.UserContext(), c.Params("id"), since)
	if err != nil {
		return err
	}
	return c.JSON(adminapi.WebhookReplayAnswer{Replayed: n})
}

// adminEmit: POST {type, payload, versions?: {"2": payload}} → 202
// {message}, the message and its deliveries recorded and queued.
func (s *Server) adminEmit(c *fiber.Ctx) error {
	var req struct {
		Type     string                     `json:"type"`
		Payload  json.RawMessage            `json:"payload"`
		Versions map[string]json.RawMessage `json:"versions"`
	}
	if err := s.strictBody(c, &req, "type, payload, versions"); err != nil {
		return err
	}
	if req.Type == "" {
		return badInput("type is required")
	}
	payload, err := s.runInput(req.Payload)
	if err != nil {
		return err
	}
	versions := map[int]any{}
	for k, raw := range req.Versions {
		v, err := strconv.Atoi(k)
		if err != nil || v < 1 {
			return badInput("versions: key %q is not a version number from 1", k)
		}
		if versions[v], err = s.runInput(raw); err != nil {
			return err
		}
	}
	msg, err := s.webhooks.Emit(c.UserContext(), req.Type, db.ToJSONValue(payload), jsonValues(versions))
	if err != nil {
		return err
	}
	return c.Status(http.StatusAccepted).JSON(adminapi.WebhookMessageAnswer{Message: messageBody(msg)})
}

func jsonValues(m map[int]any) map[int]any {
	for k, v := range m {
		m[k] = db.ToJSONValue(v)
	}
	return m
}

// adminMessages: GET ?type=&before=&limit= → {messages, next}, newest
// first.
func (s *Server) adminMessages(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	msgs, err := s.webhooks.ListMessages(c.UserContext(), c.Query("type"), c.Query("before"), limit)
	if err != nil {
		return err
	}
	next := ""
	if len(msgs) == limit {
		next = msgs[len(msgs)-1].ID
	}
	return c.JSON(adminapi.WebhookMessagesAnswer{Messages: bodies(msgs, messageBody), Next: next})
}

// adminDeliveries: GET ?endpoint=&status=&message=&before=&limit= →
// {deliveries, next}, newest first.
func (s *Server) adminDeliveries(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	ds, err := s.webhooks.ListDeliveries(c.UserContext(), webhooks.DeliveryQuery{
		Endpoint: c.Query("endpoint"), Status: c.Query("status"), Message: c.Query("message"),
		Before: c.Query("before"), Limit: limit,
	})
	if err != nil {
		return err
	}
	next := ""
	if len(ds) == limit {
		next = ds[len(ds)-1].ID
	}
	return c.JSON(adminapi.WebhookDeliveriesAnswer{Deliveries: bodies(ds, deliveryBody), Next: next})
}

func (s *Server) adminDelivery(c *fiber.Ctx) error {
	d, err := s.webhooks.Delivery(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(adminapi.WebhookDeliveryAnswer{Delivery: deliveryBody(d)})
}

// adminAttempts: GET → {attempts}, oldest first: time, status, duration,
// response headers, the first KiB of the answer, error.
func (s *Server) adminAttempts(c *fiber.Ctx) error {
	atts, err := s.webhooks.Attempts(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(adminapi.WebhookAttemptsAnswer{Attempts: bodies(atts, attemptBody)})
}

// adminReplayDelivery sends a delivered or dead delivery again: 200
// {delivery}; 409 while it is pending.
func (s *Server) adminReplayDelivery(c *fiber.Ctx) error {
	d, err := s.webhooks.Replay(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(adminapi.WebhookDeliveryAnswer{Delivery: deliveryBody(d)})
}

// webhookCalls serves backend.webhooks (engine.Webhooks) from the webhooks
// service.
type webhookCalls struct{ svc *webhooks.Service }

func (w webhookCalls) Verify(scheme string, req engine.WebhookRequest, secret string, o engine.WebhookVerifyOptions) error {
	h := http.Header{}
	for k, v := range req.Headers {
		h.Set(k, v)
	}
	opts := webhooks.Options{Tolerance: o.Tolerance, Header: o.Header, Encoding: o.Encoding, TimestampHeader: o.TimestampHeader}
	if at := o.ReceivedAt; !at.IsZero() {
		opts.Now = func() time.Time { return at }
	}
	return webhooks.Verify(scheme, webhooks.Request{Method: req.Method, URL: req.URL, Header: h, Body: req.Body}, secret, opts)
}

func (w webhookCalls) Versions(ctx context.Context, typ string) ([]int, error) {
	return w.svc.Versions(ctx, typ)
}

func (w webhookCalls) Emit(ctx context.Context, typ string, payload any, versions map[int]any) (string, int, error) {
	msg, err := w.svc.Emit(ctx, typ, db.ToJSONValue(payload), jsonValues(versions))
	return msg.ID, msg.Deliveries, err
}

func (w webhookCalls) Send(ctx context.Context, url string, payload any, o engine.WebhookSendOptions) (string, error) {
	_, id, err := w.svc.Send(ctx, url, db.ToJSONValue(payload), webhooks.SendOptions{Secret: o.Secret, Headers: o.Headers, MaxAttempts: o.MaxAttempts})
	return id, err
}

func (w webhookCalls) Deliveries(ctx context.Context, endpoint, status string, limit int) ([]any, error) {
	if _, err := w.svc.Endpoint(ctx, endpoint); err != nil {
		return nil, err
	}
	list, err := w.svc.ListDeliveries(ctx, webhooks.DeliveryQuery{Endpoint: endpoint, Status: status, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(list))
	for _, d := range list {
		atts, err := w.svc.Attempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		// attempts is the list here; the count becomes attempt_count.
		var m map[string]any
		var list []any
		raw, _ := json.Marshal(d)
		rawAtts, _ := json.Marshal(atts)
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(rawAtts, &list); err != nil {
			return nil, err
		}
		m["attempt_count"], m["attempts"] = m["attempts"], list
		out = append(out, m)
	}
	return out, nil
}

func (w webhookCalls) Replay(ctx context.Context, endpoint, delivery string) error {
	d, err := w.svc.Delivery(ctx, delivery)
	if err != nil {
		return err
	}
	if d.EndpointID != endpoint {
		return fmt.Errorf("%w: %q of endpoint %q", webhooks.ErrDeliveryNotFound, delivery, endpoint)
	}
	_, err = w.svc.Replay(ctx, delivery)
	return err
}
