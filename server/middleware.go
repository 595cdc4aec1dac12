package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// HeaderRequestID carries a request's id, in both directions.
const HeaderRequestID = "X-Request-Id"

// Keys of the values a request carries in fiber's Locals.
const (
	localRequestID = "moonbase.request_id"
	localUser      = "moonbase.user"
)

// useMiddleware installs what runs around every route, outermost first.
func (s *Server) useMiddleware(app *fiber.App) {
	app.Use(s.requestScope)
	app.Use(recover.New(recover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, e any) {
			s.requestLogger(c).Error("panic in handler", "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
		},
	}))
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
// timeout), answers any error it ends with through the error handler, and
// logs the request once it is answered, so the log line has the final
// status.
func (s *Server) requestScope(c *fiber.Ctx) error {
	start := time.Now()
	s.assignRequestID(c)

	ctx, cancel := context.WithTimeout(s.baseCtx, s.cfg.Server.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)

	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			s.requestLogger(c).Error("writing the error response failed", "error", herr.Error())
		}
	}

	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if p := c.Path(); p == "/healthz" || p == "/readyz" {
		level = slog.LevelDebug
	}
	attrs := []any{
		"method", c.Method(),
		"path", c.Path(),
		"status", status,
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"ip", s.clientAddr(c),
	}
	if u, ok := c.Locals(localUser).(*User); ok && u != nil {
		attrs = append(attrs, "user_id", u.ID)
	}
	s.requestLogger(c).Log(ctx, level, "request", attrs...)
	return nil
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
// log line about a request goes through it.
func (s *Server) requestLogger(c *fiber.Ctx) *slog.Logger {
	id, _ := c.Locals(localRequestID).(string)
	if id == "" {
		// Errors fasthttp raises before routing (an oversize body) reach
		// the error handler without passing requestScope.
		id = s.assignRequestID(c)
	}
	return s.log.With("request_id", id)
}

// assignRequestID gives the request the client's id if it is sane, else a
// new one, and puts it on the response.
func (s *Server) assignRequestID(c *fiber.Ctx) string {
	id := c.Get(HeaderRequestID)
	if saneRequestID(id) {
		id = strings.Clone(id) // fasthttp reuses the header's buffer
	} else {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(HeaderRequestID, id)
	return id
}

// RequestID is the id of the request c serves.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// saneRequestID accepts a client's id if it is short and plain enough to
// put in a log line as is.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
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

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
