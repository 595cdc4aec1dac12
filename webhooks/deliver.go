package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// MaxResponseSnippet is how much of a receiver's answer an attempt keeps.
const MaxResponseSnippet = 1024

// Attempt is one try of a delivery.
type Attempt struct {
	N               int               `json:"n"`
	At              time.Time         `json:"at"`
	Status          int               `json:"status,omitempty"`
	DurationMS      int64             `json:"duration_ms"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	Error           string            `json:"error,omitempty"`
	// RetryAt is when the next attempt is due; zero after the last one.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// outcome is what one request to a receiver did.
type outcome struct {
	status     int
	header     http.Header
	body       string
	err        error
	retryAfter time.Duration
}

// deliver is the job handler of KindDelivery: one attempt of one delivery.
func (s *Service) deliver(ctx context.Context, job events.Job) error {
	id := str(job.Payload["delivery"])
	d, err := s.delivs.FindOne(ctx, db.ByID(id), nil)
	if errors.Is(err, db.ErrNotFound) {
		return events.Permanent(fmt.Errorf("delivery %q no longer exists", id))
	}
	if err != nil {
		return err
	}
	if str(d["status"]) != StatusPending || intOf(d["replays"]) != intOf(job.Payload["replay"]) {
		// Delivered or dead by an attempt whose outcome this job missed,
		// or a job of an earlier run that a replay has replaced.
		return nil
	}
	msg, err := s.messages.FindOne(ctx, db.ByID(str(d["message_id"])), nil)
	if err != nil {
		return fmt.Errorf("message of delivery %s: %w", id, err)
	}
	body := str(mapOf(msg["bodies"])[str(d["version"])])
	url, secrets, headers := str(d["url"]), []string{}, map[string]string{}
	var ep Endpoint
	if epID := str(d["endpoint_id"]); epID != "" {
		ep, err = s.endpoint(ctx, epID)
		switch {
		case errors.Is(err, ErrEndpointNotFound):
			return s.dead(ctx, job, d, ep, fmt.Errorf("endpoint %s was deleted", epID))
		case err != nil:
			return err
		case ep.Disabled:
			return s.dead(ctx, job, d, ep, fmt.Errorf("endpoint %s is disabled", epID))
		}
		url = ep.URL
		secrets = append(secrets, ep.secret)
		if ep.previous != "" && s.now().Before(ep.PreviousSecretUntil) {
			secrets = append(secrets, ep.previous)
		}
		if err := s.waitTurn(ctx, ep); err != nil {
			return err
		}
	} else {
		if sec := str(d["secret"]); sec != "" {
			secrets = append(secrets, sec)
		}
		for k, v := range mapOf(d["headers"]) {
			headers[k] = str(v)
		}
	}
	start := s.now()
	out := s.post(ctx, url, str(d["message_id"]), body, secrets, headers)
	att := bson.M{"n": intOf(d["attempt_count"]) + 1, "at": start, "duration_ms": time.Since(start).Milliseconds()}
	if out.status != 0 {
		att["status"] = out.status
		att["response_headers"] = firstValues(out.header)
		att["response_body"] = out.body
	}
	if out.err != nil {
		att["error"] = out.err.Error()
	}
	if ctx.Err() != nil && out.err != nil {
		// The lease was lost or the queue is stopping: the attempt is not
		// an answer from the receiver; the job runs again.
		return out.err
	}
	last := job.Attempt >= job.MaxAttempts
	switch {
	case out.err == nil && out.status >= 200 && out.status < 300:
		if !ep.FailingSince.IsZero() {
			_, _ = s.endpoints.UpdateOne(ctx, db.ByID(ep.ID), bson.M{"$unset": bson.M{"failing_since": ""}}, nil)
		}
		return s.finishAttempt(ctx, id, att, bson.M{"status": StatusDelivered, "delivered_at": s.now(), "last_status": out.status}, false)
	case out.status == http.StatusGone && ep.ID != "":
		cause := errors.New("the receiver answered 410 Gone")
		s.disable(ctx, ep, "the receiver answered 410 Gone")
		att["error"] = cause.Error()
		return s.deadWith(ctx, job, d, ep, att, cause)
	}
	failure := out.err
	if failure == nil {
		failure = fmt.Errorf("the receiver answered %d", out.status)
	}
	if ep.ID != "" {
		if ep.FailingSince.IsZero() {
			_, _ = s.endpoints.UpdateOne(ctx, db.ByID(ep.ID), bson.M{"$set": bson.M{"failing_since": start}}, nil)
		} else if start.Sub(ep.FailingSince) >= s.cfg.DisableAfter {
			s.disable(ctx, ep, fmt.Sprintf("every attempt failed for %s", s.cfg.DisableAfter))
			return s.deadWith(ctx, job, d, ep, att, failure)
		}
	}
	if last {
		return s.deadWith(ctx, job, d, ep, att, failure)
	}
	delay := s.backoff(job.Attempt)
	if out.retryAfter > 0 {
		delay = min(out.retryAfter, s.cfg.BackoffMax)
	}
	retryAt := s.now().Add(delay)
	att["retry_at"] = retryAt
	if err := s.finishAttempt(ctx, id, att, bson.M{"next_attempt_at": retryAt, "last_status": out.status, "last_error": failure.Error()}, false); err != nil {
		return err
	}
	return events.RetryAfter(delay, failure)
}

// backoff is min(base·2^(n−1), max) less up to a quarter of jitter.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.cfg.BackoffBase
	for i := 1; i < attempt && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.BackoffMax)
	return d - time.Duration(rand.Float64()*0.25*float64(d))
}

// post sends one signed request and reads the start of the answer.
func (s *Service) post(ctx context.Context, url, msgID, body string, secrets []string, headers map[string]string) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return outcome{err: err}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Moonbase-Webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	var sigs []string
	for _, sec := range secrets {
		if key, err := DecodeSecret(sec); err == nil {
			sigs = append(sigs, StandardSignature(key, msgID, ts, []byte(body)))
		}
	}
	if len(sigs) > 0 {
		req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, rerr := io.CopyN(&buf, resp.Body, MaxResponseSnippet)
	// Read a little more so the connection can be reused, no more.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	out := outcome{status: resp.StatusCode, header: resp.Header, body: strings.ToValidUTF8(buf.String(), "\uFFFD")}
	if rerr != nil && rerr != io.EOF && (resp.StatusCode < 200 || resp.StatusCode >= 300) {
		out.err = fmt.Errorf("reading the answer: %w", rerr)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return out
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func firstValues(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if len(out) == 50 {
			break
		}
		if len(v) > 0 {
			out[k] = truncate(v[0], 512)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// finishAttempt records an attempt and the delivery's new state. Inside a
// delivery job the write joins the job's own outcome (events.Settle): one
// transaction records both (and claims the next job), so that a delivery
// costs one write under a backlog, and a crash leaves the attempt and the
// job's outcome together or neither (the job then runs again). With now
// set, or outside a job, it writes at once.
func (s *Service) finishAttempt(ctx context.Context, id string, att bson.M, set bson.M, now bool) error {
	set["updated_at"] = s.now()
	update := bson.M{
		"$set":  set,
		"$push": bson.M{"attempts": att},
		"$inc":  bson.M{"attempt_count": 1},
	}
	write := func(ctx context.Context, tx db.Tx) error {
		_, err := tx.C(db.Deliveries).UpdateOne(ctx, db.ByID(id), update, nil)
		return err
	}
	if !now && events.Settle(ctx, write) {
		return nil
	}
	return write(ctx, s.deps.Store)
}

// dead ends a delivery without an attempt (its endpoint is gone).
func (s *Service) dead(ctx context.Context, job events.Job, d bson.M, ep Endpoint, cause error) error {
	return s.deadWith(ctx, job, d, ep, bson.M{"n": intOf(d["attempt_count"]) + 1, "at": s.now(), "duration_ms": 0, "error": cause.Error()}, cause)
}

// deadWith records the last attempt, marks the delivery dead and emits
// webhook_dead; the job ends with a permanent error.
func (s *Service) deadWith(ctx context.Context, job events.Job, d bson.M, ep Endpoint, att bson.M, cause error) error {
	id := str(d["_id"])
	// At once, so that webhook_dead's subscribers find the delivery dead.
	if err := s.finishAttempt(ctx, id, att, bson.M{"status": StatusDead, "last_error": cause.Error(), "last_status": intOf(att["status"])}, true); err != nil {
		return err
	}
	s.emit(ctx, events.WebhookDead, map[string]any{
		"delivery_id": id, "message_id": str(d["message_id"]), "endpoint_id": ep.ID,
		"url": firstNonEmpty(ep.URL, str(d["url"])), "type": str(d["type"]),
		"attempts": intOf(d["attempt_count"]) + 1, "error": cause.Error(),
	})
	return events.Permanent(cause)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// disable turns an endpoint off for failing and emits
// webhook_endpoint_disabled, once.
func (s *Service) disable(ctx context.Context, ep Endpoint, reason string) {
	_, err := s.endpoints.FindOneAndUpdate(ctx, bson.M{"_id": ep.ID, "disabled": false}, bson.M{
		"$set": bson.M{"disabled": true, "disabled_reason": reason, "updated_at": s.now()},
	}, nil)
	if err != nil {
		return // already disabled, or gone
	}
	s.log.Warn("webhook endpoint disabled", "endpoint", ep.ID, "url", ep.URL, "reason", reason)
	s.emit(ctx, events.WebhookEndpointDisabled, map[string]any{"endpoint_id": ep.ID, "url": ep.URL, "reason": reason})
}

// jobDied marks dead a delivery whose last attempt was lost with its
// worker, so that no delivery stays pending without a job.
func (s *Service) jobDied(ctx context.Context, job events.Job) {
	if job.Kind != KindDelivery {
		return
	}
	id := str(job.Payload["delivery"])
	// Only the run this job was for: a replay made since has its own job.
	filter := bson.M{"_id": id, "status": StatusPending, "replays": intOf(job.Payload["replay"])}
	res, err := s.delivs.UpdateOne(ctx, filter, bson.M{"$set": bson.M{
		"status": StatusDead, "last_error": job.LastError, "updated_at": s.now(),
	}}, nil)
	if err == nil && res.Matched > 0 {
		s.emit(ctx, events.WebhookDead, map[string]any{"delivery_id": id, "attempts": job.Attempt, "error": job.LastError})
	}
}

// waitTurn paces deliveries to an endpoint with a rate limit, on this
// instance.
func (s *Service) waitTurn(ctx context.Context, ep Endpoint) error {
	if ep.RateLimit <= 0 {
		return nil
	}
	gap := time.Second / time.Duration(ep.RateLimit)
	s.paceMu.Lock()
	now := time.Now()
	slot := now
	if next := s.pace[ep.ID]; next.After(now) {
		slot = next
	}
	s.pace[ep.ID] = slot.Add(gap)
	s.paceMu.Unlock()
	if wait := slot.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
