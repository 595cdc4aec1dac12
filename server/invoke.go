package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// Calling functions from outside: the clients' executeFunction (the invoke
// trigger) and the public URL of the http trigger. Both are hot paths: a
// call costs the body's decoding, the run on a pooled Lua state (the
// registry caches compiled functions) and the answer's encoding; the
// execution record is written later, in a batch.

// bindFunctionsApi registers POST /api/functions/:name and ANY
// /functions/:name (also with a sub-path, /functions/:name/*).
func bindFunctionsApi(s *Server, r fiber.Router) {
	r.Post("/api/functions/:name", s.invokeFunction)
	r.All("/functions/:name", s.httpFunction)
	r.All("/functions/:name/*", s.httpFunction)
}

// invokeFunction runs a function with the invoke trigger. The JSON body
// (any JSON value; an empty body is {}) is its input; the signed-in user,
// if any, is ctx.user and the data calls act with that user's rights, or
// as anonymous (public collections only) when nobody is signed in.
// The answer is the return value as JSON, or the response the function
// built with backend.response(status, body, headers). A function without
// the invoke trigger answers 404, like a missing one.
func (s *Server) invokeFunction(c *fiber.Ctx) error {
	u, err := s.CurrentUser(c)
	if err != nil {
		return err
	}
	var input any = bson.M{}
	if body := c.Body(); len(body) > 0 {
		if input, err = s.decodeInput(body); err != nil {
			return err
		}
	}
	opts := engine.RunOptions{Trigger: functions.TriggerInvoke, Rights: engine.RightsCaller}
	if u != nil {
		opts.User = u.EventData()
	}
	res, err := s.functions.Run(c.UserContext(), nameParam(c), input, opts)
	if err != nil {
		return runFailed(c, err)
	}
	if res.Status != 0 {
		return s.sendResponse(c, res)
	}
	return s.sendJSON(c, fiber.StatusOK, res.Value)
}

// httpFunction runs a function with the http trigger, for anyone. Like an
// invoke, it acts as its caller: the user of a moonbase session's Bearer
// token (ctx.user), else anonymous, with public collections only — a
// webhook handler writes through backend.asServiceRole after checking
// whatever it must (a signature, a shared secret). An Authorization
// header that is not a moonbase session (a sender's own scheme, an
// expired token) leaves the run anonymous and reaches the function
// untouched, rather than refuse a request the function may accept. Its
// input is the request: {method, path, headers (names in lower case,
// repeated ones joined with ", "), query (first value of each name),
// rawQuery, body (the raw bytes as received), json (the body decoded when
// it is JSON, else nil)}. A returned {status, headers, body} table or
// backend.response sets the answer; a returned string is sent as it is
// (text/plain); anything else as JSON.
func (s *Server) httpFunction(c *fiber.Ctx) error {
	start := time.Now()
	opts := engine.RunOptions{Trigger: functions.TriggerHTTP, Rights: engine.RightsCaller}
	u, err := s.CurrentUser(c)
	switch {
	case errors.Is(err, ErrInvalidSession):
	case err != nil:
		return err
	case u != nil:
		opts.User = u.EventData()
	}
	input := &httpRequest{c: c, limits: s.limits, proxied: s.cfg.Server.ProxyHeader != ""}
	opts.Method = input.Method()
	res, err := s.functions.Run(c.UserContext(), nameParam(c), input, opts)
	err = s.answerHTTP(c, res, err)
	s.logInbound(c, input, start, res.ExecutionID, err)
	return err
}

// answerHTTP writes an http run's answer, or returns its error.
func (s *Server) answerHTTP(c *fiber.Ctx, res engine.Result, err error) error {
	if err != nil {
		return runFailed(c, err)
	}
	if res.Status != 0 {
		return s.sendResponse(c, res)
	}
	if str, ok := res.Value.(string); ok {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(fiber.StatusOK).SendString(str)
	}
	return s.sendJSON(c, fiber.StatusOK, res.Value)
}

// httpRequest is the request of an http run as the function reads it
// (engine.HTTPRequest). The runtime reads it only when the function first
// looks at its input, during the run, so a function that never does costs
// no table of headers, no copy of the body and no JSON decoding.
type httpRequest struct {
	c      *fiber.Ctx
	limits db.Limits
	// proxied is set behind a reverse proxy (server.proxy_header): the
	// URL the sender called is then in X-Forwarded-Proto and
	// X-Forwarded-Host.
	proxied bool
}

// URL is the full URL the sender called: scheme, host, then the path and
// query exactly as sent.
func (r *httpRequest) URL() string {
	scheme, host := "http", string(r.c.Request().Host())
	if r.c.Context().IsTLS() {
		scheme = "https"
	}
	if r.proxied {
		if p := firstField(r.c.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstField(r.c.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + string(r.c.Request().RequestURI())
}

// firstField is the first comma-separated value of a forwarded header,
// the one the first proxy set from what the sender called.
func firstField(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

func (r *httpRequest) Method() string   { return methodName(r.c.Method()) }
func (r *httpRequest) Path() string     { return strings.Clone(r.c.Path()) }
func (r *httpRequest) RawQuery() string { return string(r.c.Request().URI().QueryString()) }
func (r *httpRequest) Body() string     { return string(r.c.Request().Body()) }
func (r *httpRequest) NumHeaders() int  { return r.c.Request().Header.Len() }
func (r *httpRequest) NumQuery() int    { return r.c.Context().QueryArgs().Len() }

// methodName is m in memory of its own: fiber's method string points into
// the request's buffer, which the next request on the connection reuses,
// and a function may keep what it reads (in an event, say).
func methodName(m string) string {
	for _, name := range commonMethods {
		if m == name {
			return name
		}
	}
	return strings.Clone(m)
}

// commonMethods are the methods methodName answers without a copy.
var commonMethods = [...]string{
	fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
	fiber.MethodDelete, fiber.MethodHead, fiber.MethodOptions,
}

func (r *httpRequest) VisitHeaders(f func(name, value string)) {
	r.c.Request().Header.VisitAll(func(k, v []byte) { f(headerKey(k), string(v)) })
}

func (r *httpRequest) VisitQuery(f func(name, value string)) {
	r.c.Context().QueryArgs().VisitAll(func(k, v []byte) { f(string(k), string(v)) })
}

// JSON decodes the body under the server's limits. A body too deep or
// too big for them has no json; the function still has the raw body.
func (r *httpRequest) JSON() (any, bool) {
	body := r.c.Request().Body()
	if len(body) == 0 {
		return nil, false
	}
	v, err := db.DecodeJSONValue(body, r.limits)
	return v, err == nil && v != nil
}

// commonHeaders are the lower-case names of the usual request headers,
// so that those cost the http trigger's input no allocation.
var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, h := range []string{
		"host", "user-agent", "accept", "accept-encoding", "accept-language", "authorization",
		"cache-control", "connection", "content-length", "content-type", "cookie", "origin",
		"referer", "pragma", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip",
		"x-request-id", "if-none-match", "if-modified-since", "upgrade-insecure-requests",
	} {
		m[h] = h
	}
	return m
}()

// headerKey is a header's name in lower case.
func headerKey(k []byte) string {
	var buf [64]byte
	if len(k) > len(buf) {
		return strings.ToLower(string(k))
	}
	b := buf[:len(k)]
	for i, ch := range k {
		switch {
		case ch >= utf8.RuneSelf:
			return strings.ToLower(string(k)) // as strings.ToLower does it
		case 'A' <= ch && ch <= 'Z':
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	if name, ok := commonHeaders[string(b)]; ok {
		return name
	}
	return string(b)
}

// runFailed is the error of a run: a run stopped because the request
// itself ran out of time (server.request_timeout, shorter than the
// function's own timeout) is a timeout like the function's own, that
// names the request's timeout rather than the function's.
func runFailed(c *fiber.Ctx, err error) error {
	var re *engine.RunError
	if errors.As(err, &re) && (re.Kind == engine.ErrCanceled || re.Kind == engine.ErrTimeout) && errors.Is(c.UserContext().Err(), context.DeadlineExceeded) {
		return Errorf(fiber.StatusGatewayTimeout, "timeout", "function %q stopped: the request took longer than the server's request_timeout", re.Function)
	}
	return err
}

// decodeInput reads a function's JSON input under the server's limits:
// integers stay integers, other numbers are floats.
func (s *Server) decodeInput(body []byte) (any, error) {
	v, err := db.DecodeJSONValue(body, s.limits)
	if err != nil && !json.Valid(body) {
		return nil, errInvalidJSON
	}
	if err == nil && db.HasExtJSON(body) {
		v, err = db.FromExtJSON(v)
	}
	return v, err
}

// jsonValue is a run's result in the form encoding/json writes: dates as
// {"$date": "…Z"}, ObjectIDs as {"$oid": …} (db.ToExtJSON).
func jsonValue(v any) any { return db.ToExtJSON(v) }

// sendJSON answers v as JSON with status.
func (s *Server) sendJSON(c *fiber.Ctx, status int, v any) error {
	if err := s.setJSONBody(c, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(status)
	return nil
}

// maxKeptAnswerBuf is the largest encoding buffer kept for the next
// answer; a larger one, made for a large answer, is let go.
const maxKeptAnswerBuf = 64 << 10

// setJSONBody makes v, as JSON, the response's body. It is encoded in a
// buffer the server keeps from one answer to the next, which the response
// copies: a buffer of the call's own would be allocated for every answer.
func (s *Server) setJSONBody(c *fiber.Ctx, v any) error {
	bp, _ := s.answerBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 512)
		bp = &b
	}
	b, err := marshalJSON((*bp)[:0], v)
	if err == nil {
		c.Response().SetBody(b)
	}
	if cap(b) <= maxKeptAnswerBuf {
		*bp = b[:0]
		s.answerBufs.Put(bp)
	}
	return err
}

// framingHeaders are set by the server from the body it sends; a function
// choosing them would break the connection.
var framingHeaders = map[string]bool{"content-length": true, "transfer-encoding": true, "connection": true}

// sendResponse answers the response a function chose: its status and
// headers, and its body — a string as it is (text/plain unless the
// function set Content-Type), nothing for nil, anything else as JSON.
func (s *Server) sendResponse(c *fiber.Ctx, res engine.Result) error {
	contentType := ""
	for k, v := range res.Headers {
		lk := strings.ToLower(k)
		if framingHeaders[lk] {
			continue
		}
		if lk == "content-type" {
			contentType = v
		}
		c.Set(k, v)
	}
	c.Status(res.Status)
	switch body := res.Value.(type) {
	case nil:
		return nil
	case string:
		if contentType == "" {
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		}
		return c.SendString(body)
	default:
		if err := s.setJSONBody(c, body); err != nil {
			return err
		}
		if contentType == "" {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		}
		return nil
	}
}
