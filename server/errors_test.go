package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("deep inside: %w", err) }
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{wrap(db.ErrNotFound), 404, "not_found"},
		{wrap(&db.DuplicateKeyError{Collection: "posts", Index: "slug_1"}), 409, "conflict"},
		{wrap(db.ErrDuplicateKey), 409, "conflict"},
		{wrap(&db.QueryError{Op: "$where", Msg: "not allowed"}), 400, "invalid_query"},
		{wrap(&db.DocumentError{Path: "$set", Msg: "no"}), 400, "invalid_document"},
		{wrap(db.ErrInvalidName), 400, "invalid_name"},
		{wrap(db.ErrUnauthenticated), 401, "unauthenticated"},
		{wrap(db.ErrForbidden), 403, "forbidden"},
		{wrap(db.ErrClosed), 503, "unavailable"},
		{wrap(context.DeadlineExceeded), 503, "timeout"},
		{wrap(ErrInvalidCredentials), 401, "invalid_credentials"},
		{wrap(ErrInvalidSession), 401, "unauthenticated"},
		{wrap(ErrEmailTaken), 409, "email_taken"},
		{wrap(&ThrottledError{RetryAfter: time.Minute}), 429, "too_many_requests"},
		{fiber.ErrRequestEntityTooLarge, 413, "body_too_large"},
		{fiber.ErrNotFound, 404, "not_found"},
		{fiber.ErrMethodNotAllowed, 405, "method_not_allowed"},
		{fiber.ErrUnsupportedMediaType, 415, "unsupported_media_type"},
		{wrap(Errorf(418, "teapot", "short and stout")), 418, "teapot"},
	}
	for _, c := range cases {
		got := toAPIError(c.err)
		if got == nil || got.Status != c.status || got.Code != c.code {
			t.Errorf("%v: got %+v, want %d %s", c.err, got, c.status, c.code)
		}
	}
	for _, err := range []error{errors.New("disk on fire"), fiber.ErrBadGateway} {
		if got := toAPIError(err); got != nil {
			t.Errorf("%v maps to %+v; want nil (a 500 with a generic message)", err, got)
		}
	}
}

// TestErrorAnswers drives the error handler through the app: a 5xx keeps its
// cause out of the answer and in the log, and details are answered.
func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	logs := &testsupport.LockedBuffer{}
	cfg := testConfig(t)
	s, err := New(cfg, Deps{Logger: slogTo(logs), Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.App().Get("/fail", func(*fiber.Ctx) error { return errors.New("disk on fire") })
	s.App().Get("/panic", func(*fiber.Ctx) error { panic("boom") })
	s.App().Get("/details", func(*fiber.Ctx) error {
		return &Error{Status: 400, Code: "deploy_refused", Message: "2 functions failed", Details: []map[string]string{{"name": "a", "error": "line 1"}}}
	})
	cases := []struct {
		path, body, log string
		status          int
	}{
		{"/fail", `{"error":{"code":"internal","message":"internal error"}}`, "disk on fire", 500},
		{"/panic", `{"error":{"code":"internal","message":"internal error"}}`, "boom", 500},
		{"/details", `{"error":{"code":"deploy_refused","message":"2 functions failed","details":[{"error":"line 1","name":"a"}]}}`, "", 400},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		req.Header.Set(HeaderRequestID, "req-"+c.path[1:])
		res, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.status || string(body) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.path, res.StatusCode, body, c.status, c.body)
		}
		if c.log != "" && !containsLine(logs.String(), "request_id=req-"+c.path[1:], c.log) {
			t.Errorf("%s: no log line with its request id and %q:\n%s", c.path, c.log, logs.String())
		}
	}
}
