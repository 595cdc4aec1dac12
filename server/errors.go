package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/admin"
	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// Error is an error with the HTTP answer it gets. Handlers return one for a
// failure no package error describes; everything else is mapped by
// toAPIError.
type Error struct {
	Status  int
	Code    string
	Message string
	// Details, when set, is answered as error.details: a list of problems
	// when one request has several (a deploy of many functions).
	Details any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// badInput is a 400 about a request field or parameter.
func badInput(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalid_input", format, args...)
}

// Errors of sign-in.
var (
	// ErrInvalidCredentials: the email or the password is wrong. Which one
	// is never said.
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrInvalidSession: a bearer token that is unknown or expired.
	ErrInvalidSession = errors.New("session is invalid or has expired")
	// ErrInvalidAdminToken: /api/admin was called without the admin token.
	ErrInvalidAdminToken = errors.New("admin token missing or wrong")
	// ErrThrottled: too many failed attempts; see ThrottledError.
	ErrThrottled = errors.New("too many failed attempts")
)

// ThrottledError says how long until a throttled caller may try again.
// errors.Is(err, ErrThrottled) holds for it.
type ThrottledError struct {
	RetryAfter time.Duration
	// Reason replaces "too many failed attempts" in the message.
	Reason string
}

func (e *ThrottledError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "too many failed attempts"
	}
	return fmt.Sprintf("%s, try again in %d seconds", reason, retryAfterSeconds(e.RetryAfter))
}

// retryAfterSeconds rounds up, so a client that waits as told is let in.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// toAPIError maps any error a handler returns to its answer. It is the one
// place that decides statuses and codes; a nil result's caller answers 500.
func toAPIError(err error) *Error {
	// The common errors, unwrapped, first: errors.As below needs its
	// targets on the heap, five allocations for every error answered.
	switch e := err.(type) {
	case *Error:
		return e
	case *fiber.Error:
		return fromFiberError(e)
	}
	var (
		apiErr   *Error
		fiberErr *fiber.Error
		dupErr   *db.DuplicateKeyError
		compErr  *engine.CompileError
		runErr   *engine.RunError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &fiberErr):
		return fromFiberError(fiberErr)
	case errors.Is(err, ErrThrottled):
		return newError(http.StatusTooManyRequests, "too_many_requests", err.Error())
	case errors.Is(err, ErrEmailTaken):
		return newError(http.StatusConflict, "email_taken", err.Error())
	case errors.Is(err, ErrInvalidCredentials):
		return newError(http.StatusUnauthorized, "invalid_credentials", err.Error())
	case errors.Is(err, ErrWrongPassword):
		return newError(http.StatusForbidden, "wrong_password", err.Error())
	case errors.Is(err, ErrInvalidToken):
		return newError(http.StatusBadRequest, "invalid_token", err.Error())
	case errors.Is(err, ErrEmailNotVerified):
		return newError(http.StatusForbidden, "email_not_verified", err.Error())
	case errors.Is(err, ErrInvalidSession):
		return newError(http.StatusUnauthorized, "unauthenticated", err.Error())
	case errors.Is(err, ErrInvalidAdminToken):
		return newError(http.StatusUnauthorized, "unauthenticated", err.Error())
	case errors.Is(err, admin.ErrWrongToken):
		return newError(http.StatusUnauthorized, "invalid_token", err.Error())
	case errors.Is(err, admin.ErrNoSession):
		return newError(http.StatusUnauthorized, "unauthenticated", err.Error())
	case errors.Is(err, admin.ErrCSRF):
		return newError(http.StatusForbidden, "csrf_failed", err.Error())
	case errors.Is(err, admin.ErrInvalidInput):
		return newError(http.StatusBadRequest, "invalid_input", err.Error())
	case errors.Is(err, db.ErrUnauthenticated):
		return newError(http.StatusUnauthorized, "unauthenticated", "sign in required")
	case errors.Is(err, db.ErrForbidden):
		return newError(http.StatusForbidden, "forbidden", "not allowed")
	case errors.Is(err, db.ErrNotFound):
		return newError(http.StatusNotFound, "not_found", "not found")
	case errors.As(err, &dupErr):
		return newError(http.StatusConflict, "conflict", duplicateMessage(dupErr))
	case errors.Is(err, db.ErrDuplicateKey):
		return newError(http.StatusConflict, "conflict", "a document with the same unique value exists")
	case errors.Is(err, db.ErrInvalidQuery):
		return newError(http.StatusBadRequest, "invalid_query", err.Error())
	case errors.Is(err, db.ErrInvalidText):
		// Valid JSON syntax holding what is not Unicode text.
		return newError(http.StatusBadRequest, "invalid_json", "request body is not valid JSON: "+err.Error())
	case errors.Is(err, db.ErrInvalidDocument):
		return newError(http.StatusBadRequest, "invalid_document", err.Error())
	case errors.Is(err, db.ErrInvalidName):
		return newError(http.StatusBadRequest, "invalid_name", err.Error())
	case errors.Is(err, events.ErrInvalidEventName):
		return newError(http.StatusBadRequest, "invalid_event_name", err.Error())
	case errors.Is(err, events.ErrInvalidEventData):
		return newError(http.StatusBadRequest, "invalid_event_data", err.Error())
	case errors.Is(err, events.ErrEventTooLarge):
		return newError(http.StatusRequestEntityTooLarge, "event_too_large", err.Error())
	case errors.Is(err, events.ErrInvalidSchedule):
		return newError(http.StatusBadRequest, "invalid_trigger", err.Error())
	case errors.Is(err, events.ErrInvalidStatus):
		return newError(http.StatusBadRequest, "invalid_input", err.Error())
	case errors.Is(err, events.ErrJobNotFound), errors.Is(err, events.ErrScheduleNotFound):
		return newError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, webhooks.ErrVerification), errors.Is(err, webhooks.ErrUnknownScheme):
		return newError(http.StatusBadRequest, "invalid_signature", err.Error())
	case errors.Is(err, webhooks.ErrInvalidEndpoint), errors.Is(err, webhooks.ErrInvalidMessage), errors.Is(err, webhooks.ErrInvalidQuery):
		return newError(http.StatusBadRequest, "invalid_input", err.Error())
	case errors.Is(err, webhooks.ErrPayloadTooLarge):
		return newError(http.StatusBadRequest, "payload_too_large", err.Error())
	case errors.Is(err, webhooks.ErrEndpointNotFound), errors.Is(err, webhooks.ErrDeliveryNotFound), errors.Is(err, webhooks.ErrInboundNotFound):
		return newError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, webhooks.ErrNotReplayable):
		return newError(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, events.ErrNotReplayable):
		return newError(http.StatusConflict, "conflict", err.Error())
	case errors.As(err, &compErr):
		return &Error{Status: http.StatusBadRequest, Code: "compile_error", Message: err.Error(),
			Details: map[string]int{"line": compErr.Line, "column": compErr.Column}}
	case errors.As(err, &runErr):
		return runAPIError(runErr)
	case errors.Is(err, functions.ErrFunctionNotFound), errors.Is(err, functions.ErrVersionNotFound), errors.Is(err, functions.ErrSecretNotFound),
		errors.Is(err, functions.ErrExecutionNotFound):
		return newError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, functions.ErrInputNotKept):
		return newError(http.StatusConflict, "input_not_kept", err.Error())
	case errors.Is(err, functions.ErrMethodNotAllowed):
		return newError(http.StatusMethodNotAllowed, "method_not_allowed", err.Error())
	case errors.Is(err, functions.ErrInvalidDefinition):
		return newError(http.StatusBadRequest, "invalid_definition", strings.TrimPrefix(err.Error(), functions.ErrInvalidDefinition.Error()+": "))
	case errors.Is(err, engine.ErrInvalidInput), errors.Is(err, functions.ErrInvalidSecret), errors.Is(err, functions.ErrInvalidExecutionID):
		return newError(http.StatusBadRequest, "invalid_input", err.Error())
	case errors.Is(err, channels.ErrInvalidChannel):
		return newError(http.StatusBadRequest, "invalid_channel", err.Error())
	case errors.Is(err, channels.ErrInvalidInput):
		return newError(http.StatusBadRequest, "invalid_input", err.Error())
	case errors.Is(err, channels.ErrTooLarge):
		return newError(http.StatusRequestEntityTooLarge, "message_too_large", err.Error())
	case errors.Is(err, channels.ErrNotStored):
		return newError(http.StatusServiceUnavailable, "unavailable", err.Error())
	case errors.Is(err, functions.ErrClosed), errors.Is(err, db.ErrClosed), errors.Is(err, channels.ErrClosed):
		return newError(http.StatusServiceUnavailable, "unavailable", "the server is shutting down")
	case errors.Is(err, context.DeadlineExceeded):
		return newError(http.StatusServiceUnavailable, "timeout", "the request took too long")
	}
	return nil
}

// runAPIError answers a function run that did not complete. The message
// names the function and the Lua line, never Go internals: a timeout is
// 504, a run stopped because the request ended or the server is stopping
// 503, anything else (an uncaught Lua error, the memory limit, a value
// that cannot be sent) 500.
func runAPIError(e *engine.RunError) *Error {
	switch e.Kind {
	case engine.ErrTimeout:
		return newError(http.StatusGatewayTimeout, "timeout", e.Error())
	case engine.ErrCanceled:
		return newError(http.StatusServiceUnavailable, "unavailable", e.Error())
	}
	return newError(http.StatusInternalServerError, "function_error", e.Error())
}

func duplicateMessage(e *db.DuplicateKeyError) string {
	if e.Index == "" {
		return "a document with the same unique value exists"
	}
	return fmt.Sprintf("a document with the same unique value exists (index %s)", e.Index)
}

// fromFiberError maps the errors fiber and fasthttp raise themselves.
func fromFiberError(e *fiber.Error) *Error {
	switch e.Code {
	case http.StatusNotFound:
		return newError(e.Code, "not_found", "no such route")
	case http.StatusMethodNotAllowed:
		return newError(e.Code, "method_not_allowed", "method not allowed on this route")
	case http.StatusRequestEntityTooLarge:
		return newError(e.Code, "body_too_large", "request body is too large")
	case http.StatusRequestHeaderFieldsTooLarge:
		return newError(e.Code, "headers_too_large", "request headers are too large")
	case http.StatusRequestTimeout:
		return newError(e.Code, "timeout", "request timed out")
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(e.Code), " ", "_"))
	if e.Code >= 500 || code == "" {
		return nil
	}
	return newError(e.Code, code, e.Message)
}

// errorBody is the one JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	} `json:"error"`
}

// errorHandler is fiber's single ErrorHandler. 5xx answers carry a generic
// message; the real error is logged with the request id.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if RequestID(c) == "" {
		// fasthttp's own errors (an oversize body) come before routing.
		s.beginRequest(c)
	}
	apiErr := toAPIError(err)
	if apiErr == nil || apiErr.Status >= 500 {
		level := slog.LevelError
		if apiErr != nil {
			level = slog.LevelWarn
		}
		s.requestLogger(c).Log(c.UserContext(), level, "request failed", "error", err.Error())
		if apiErr == nil {
			apiErr = newError(http.StatusInternalServerError, "internal", "internal error")
		}
	}
	var me *functions.MethodError
	if errors.As(err, &me) {
		c.Set(fiber.HeaderAllow, strings.Join(me.Allow, ", "))
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds(te.RetryAfter)))
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Details = apiErr.Code, apiErr.Message, apiErr.Details
	return c.Status(apiErr.Status).JSON(body)
}
