package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
)

// HeaderRequestID carries a request's id, in both directions.
const HeaderRequestID = "X-Request-Id"

// Keys of the values a request carries in fiber's Locals.
const (
	localRequest = "moonbase.request" // *requestContext
	localUser    = "moonbase.user"
)

// useMiddleware installs what runs around every route, outermost first.
// Each layer is a step of fiber's routing, so what every request needs
// (its id, context, log line and panic recovery) is one layer.
func (s *Server) useMiddleware(app *fiber.App) {
	app.Use(s.requestScope)
	if len(s.cfg.Server.CORSOrigins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins:  strings.Join(s.cfg.Server.CORSOrigins, ","),
			AllowMethods:  "GET,POST,PUT,PATCH,DELETE,HEAD",
			AllowHeaders:  "Authorization,Content-Type," + HeaderRequestID,
			ExposeHeaders: HeaderRequestID + ",Retry-After,Location",
			MaxAge:        600,
		}))
	}
}

// requestScope gives the request its id and its context (with the request
// timeout), recovers a panic in what follows, answers any error it ends
// with through the error handler, and logs the request once it is
// answered, so the log line has the final status.
func (s *Server) requestScope(c *fiber.Ctx) error {
	start := time.Now()
	rc := s.beginRequest(c)
	defer rc.end()

	if err := s.nextRecovered(c); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			s.requestLogger(c).Error("writing the error response failed", "error", herr.Error())
		}
	}

	level := slog.LevelInfo
	path := c.Path()
	if path == "/healthz" || path == "/readyz" {
		level = slog.LevelDebug
	}
	if !s.log.Enabled(rc, level) {
		return nil
	}
	attrs := [7]slog.Attr{
		slog.String("request_id", rc.id),
		slog.String("method", c.Method()),
		slog.String("path", path),
		slog.Int("status", c.Response().StatusCode()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("ip", s.clientAddr(c)),
	}
	n := 6
	if u, ok := c.Locals(localUser).(*User); ok && u != nil {
		attrs[n] = slog.String("user_id", u.ID)
		n++
	}
	// The record goes to the handler directly: Logger.LogAttrs would look
	// up its caller's frame for a source the handler never writes.
	r := slog.NewRecord(time.Now(), level, "request", 0)
	r.AddAttrs(attrs[:n]...)
	_ = s.log.Handler().Handle(rc, r)
	return nil
}

// nextRecovered runs the rest of the chain, turning a panic into an error
// for the error handler (a 500 unless the panic's value is an error with
// an answer of its own) after logging it with its stack.
func (s *Server) nextRecovered(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.requestLogger(c).Error("panic in handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			var ok bool
			if err, ok = r.(error); !ok {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	return c.Next()
}

// clientAddr is the client's address: the connection's, or behind a reverse
// proxy (server.proxy_header) the last address in that header, the one the
// proxy itself added; addresses before it are whatever the client sent.
func (s *Server) clientAddr(c *fiber.Ctx) string {
	h := s.cfg.Server.ProxyHeader
	if h == "" {
		return c.Context().RemoteIP().String()
	}
	v := c.Get(h)
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if v = strings.TrimSpace(v); v == "" {
		return c.Context().RemoteIP().String()
	}
	return strings.Clone(v) // fasthttp reuses header buffers
}

// requestLogger is the server's logger with the request's id attached; every
// log line about a request but the request's own goes through it.
func (s *Server) requestLogger(c *fiber.Ctx) *slog.Logger {
	id := RequestID(c)
	if id == "" {
		// Errors fasthttp raises before routing (an oversize body) reach
		// the error handler without passing requestScope.
		id = s.beginRequest(c).id
	}
	return s.log.With("request_id", id)
}

// beginRequest gives the request the client's id if it is sane, else a
// new one, puts it on the response, and gives the request its context.
func (s *Server) beginRequest(c *fiber.Ctx) *requestContext {
	var id string
	if h := c.Request().Header.Peek(HeaderRequestID); saneRequestID(h) {
		id = string(h) // a copy: fasthttp reuses the header's buffer
	} else {
		id = s.requestIDs.next()
	}
	c.Response().Header.Set(HeaderRequestID, id)
	rc := newRequestContext(s.baseCtx, s.cfg.Server.RequestTimeout, id)
	c.Locals(localRequest, rc)
	c.SetUserContext(rc)
	return rc
}

// RequestID is the id of the request c serves.
func RequestID(c *fiber.Ctx) string {
	if rc, ok := c.Locals(localRequest).(*requestContext); ok {
		return rc.id
	}
	return ""
}

// saneRequestID accepts a client's id if it is short and plain enough to
// put in a log line as is.
func saneRequestID[T string | []byte](id T) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '-' || ch == '_' || ch == '.' || ch == ':'
		if !ok {
			return false
		}
	}
	return true
}

// requestIDs makes the ids of requests that come without one: a random
// prefix drawn once per process, then a counter, so an id costs an atomic
// add and one small string, and ids from two processes (or two runs of
// one) still differ.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	var buf [48]byte
	b := append(buf[:0], g.prefix...)
	return string(strconv.AppendUint(b, g.n.Add(1), 36))
}
