package server

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// The raw-request log of http triggers (_inbound): every request to a
// function's http trigger, with its raw body and what the function
// answered, kept webhooks.inbound_retention (90 days), listed and
// replayable to the function's current version.

// bindInboundApi registers the admin routes of the inbound log
// (docs/admin-api.md, "Inbound requests").
func bindInboundApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin/inbound")
	g.Get("/", s.adminInbound)
	g.Get("/:id", s.adminInboundRequest)
	g.Post("/:id/replay", s.adminReplayInbound)
}

// logInbound records one request to an http trigger with the answer it
// got. Requests to functions that do not exist are not logged, so
// scanning URLs cannot fill the log.
func (s *Server) logInbound(c *fiber.Ctx, req *httpRequest, start time.Time, execID string, runErr error) {
	if errors.Is(runErr, functions.ErrFunctionNotFound) {
		return
	}
	headers := map[string]string{}
	req.VisitHeaders(func(name, value string) {
		if prev, ok := headers[name]; ok {
			value = prev + ", " + value
		}
		headers[name] = value
	})
	in := webhooks.Inbound{
		Function: nameParam(c), Method: req.Method(), URL: req.URL(), Path: req.Path(), Query: req.RawQuery(),
		Headers: headers, Body: req.Body(), ReceivedAt: start, DurationMS: time.Since(start).Milliseconds(),
		ExecutionID: execID,
	}
	in.Status, in.Answer, in.Error = answerOf(c, runErr)
	if _, err := s.webhooks.RecordInbound(context.WithoutCancel(c.UserContext()), in); err != nil {
		s.requestLogger(c).Warn("inbound request log", "err", err)
	}
}

// answerOf is the status and body a request got, or will get from the
// error handler.
func answerOf(c *fiber.Ctx, err error) (int, string, string) {
	if err == nil {
		return c.Response().StatusCode(), string(c.Response().Body()), ""
	}
	status := fiber.StatusInternalServerError
	if apiErr := toAPIError(err); apiErr != nil {
		status = apiErr.Status
	}
	return status, "", err.Error()
}

// adminInbound lists logged requests: GET
// ?function=&status=&before=&limit= → {requests, next}, newest first;
// status is a code (500) or a class (5xx).
func (s *Server) adminInbound(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	list, err := s.webhooks.ListInbound(c.UserContext(), webhooks.InboundQuery{
		Function: c.Query("function"), Status: c.Query("status"), Before: c.Query("before"), Limit: limit,
	})
	if err != nil {
		return err
	}
	next := ""
	if len(list) == limit {
		next = list[len(list)-1].ID
	}
	return c.JSON(fiber.Map{"requests": list, "next": next})
}

func (s *Server) adminInboundRequest(c *fiber.Ctx) error {
	in, err := s.webhooks.InboundRequest(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"request": in})
}

// adminReplayInbound runs a logged request again against the current
// version of its function, as if the sender had sent it again (redacted
// headers stay redacted): 200 {request}, the new log entry with the
// answer. The function's input says replayed = true and carries the
// original receipt time (receivedAt), against which
// backend.webhooks.verify checks a signed timestamp, so that a Stripe,
// Slack or Standard Webhooks request replays days later.
func (s *Server) adminReplayInbound(c *fiber.Ctx) error {
	orig, err := s.webhooks.InboundRequest(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	req := &storedRequest{in: orig, limits: s.limits}
	first := orig.FirstReceivedAt()
	start := time.Now()
	res, runErr := s.functions.Run(c.UserContext(), orig.Function, req, engine.RunOptions{Trigger: functions.TriggerHTTP, Method: orig.Method})
	in := webhooks.Inbound{
		Function: orig.Function, Method: orig.Method, URL: orig.URL, Path: orig.Path, Query: orig.Query,
		Headers: orig.Headers, Body: orig.Body, ReceivedAt: start, ReplayOf: orig.ID, ExecutionID: res.ExecutionID,
		OriginalReceivedAt: first,
	}
	switch {
	case runErr != nil:
		in.Status, in.Error = fiber.StatusInternalServerError, runErr.Error()
		if apiErr := toAPIError(runErr); apiErr != nil {
			in.Status = apiErr.Status
		}
		if errors.Is(runErr, functions.ErrFunctionNotFound) {
			return runErr
		}
	case res.Status != 0:
		in.Status = res.Status
		in.Answer = answerText(res.Value)
	default:
		in.Status, in.Answer = fiber.StatusOK, answerText(res.Value)
	}
	in.DurationMS = time.Since(start).Milliseconds()
	if in.ID, err = s.webhooks.RecordInbound(c.UserContext(), in); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"request": in})
}

// answerText is a run's answer as text, for the log.
func answerText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := marshalJSON(nil, db.ToJSONValue(v))
	if err != nil {
		return ""
	}
	return string(b)
}

// storedRequest is a logged request handed to a run again
// (engine.ReplayedHTTPRequest).
type storedRequest struct {
	in     webhooks.Inbound
	limits db.Limits
}

// ReceivedAt is when the sender's request first arrived.
func (r *storedRequest) ReceivedAt() time.Time { return r.in.FirstReceivedAt() }

func (r *storedRequest) Method() string   { return r.in.Method }
func (r *storedRequest) Path() string     { return r.in.Path }
func (r *storedRequest) URL() string      { return r.in.URL }
func (r *storedRequest) RawQuery() string { return r.in.Query }
func (r *storedRequest) Body() string     { return r.in.Body }
func (r *storedRequest) NumHeaders() int  { return len(r.in.Headers) }
func (r *storedRequest) NumQuery() int    { return strings.Count(r.in.Query, "&") + 1 }

func (r *storedRequest) VisitHeaders(f func(name, value string)) {
	for k, v := range r.in.Headers {
		f(k, v)
	}
}

func (r *storedRequest) VisitQuery(f func(name, value string)) {
	q, err := url.ParseQuery(r.in.Query)
	if err != nil {
		return
	}
	for k, v := range q {
		f(k, v[0])
	}
}

func (r *storedRequest) JSON() (any, bool) {
	if r.in.Body == "" {
		return nil, false
	}
	v, err := db.DecodeJSONValue([]byte(r.in.Body), r.limits)
	return v, err == nil && v != nil
}
