package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/events"
)

// bindAuthApi registers users and signs them in and out.
func bindAuthApi(s *Server, r fiber.Router) {
	g := r.Group("/api/auth")
	g.Post("/register", s.register)
	g.Post("/login", s.login)
	g.Post("/logout", s.logout)
	g.Get("/me", s.me)
	bindAccountApi(s, r)
}

// authAnswer is what register and login answer: the user and a new session.
type authAnswer struct {
	User *User `json:"user"`
	Session
}

// register creates an account and signs it in: 201 {user, token, expires_at}.
func (s *Server) register(c *fiber.Ctx) error {
	body, err := s.jsonBody(c)
	if err != nil {
		return err
	}
	if err := onlyFields(body, "email", "password", "name"); err != nil {
		return err
	}
	rawEmail, err := requiredString(body, "email")
	if err != nil {
		return err
	}
	email, err := normalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	password, err := requiredString(body, "password")
	if err != nil {
		return err
	}
	if err := s.checkPassword(password); err != nil {
		return err
	}
	name, err := stringField(body, "name")
	if err != nil {
		return err
	}
	if len([]rune(name)) > maxNameChars {
		return badInput("name is longer than %d characters", maxNameChars)
	}

	ctx := c.UserContext()
	u, err := s.createUser(ctx, email, name, password)
	if err != nil {
		return err
	}
	if s.cfg.Auth.VerifyEmail || s.cfg.Auth.RequireVerified {
		// The account stands even if the link cannot be queued; the user
		// asks for another with /api/auth/verify-email/request.
		if err := s.sendAccountLink(context.WithoutCancel(ctx), u, tokenVerify); err != nil && !errors.As(err, new(errLinkTooSoon)) {
			s.requestLogger(c).Error("queueing the verification email failed", "error", err.Error())
		}
	}
	if s.cfg.Auth.RequireVerified {
		return c.Status(http.StatusCreated).JSON(fiber.Map{"user": u, "verification": "sent"})
	}
	sess, err := s.createSession(ctx, u, c)
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	return c.Status(http.StatusCreated).JSON(authAnswer{User: u, Session: sess})
}

// login checks the email and password, throttling repeated failures per
// email and per client address: 200 {user, token, expires_at}.
func (s *Server) login(c *fiber.Ctx) error {
	fields, err := s.stringsBody(c, "email", "password")
	if err != nil {
		return err
	}
	rawEmail, password := fields[0], fields[1]
	email, err := normalizeEmail(rawEmail)
	if err != nil {
		// No account can have it, so it is a failed attempt like any other.
		email = rawEmail
	}
	addr := s.clientAddr(c)
	if err := s.throttle.check(email, addr); err != nil {
		return err
	}

	ctx := c.UserContext()
	u, err := s.authenticate(ctx, email, password)
	if errors.Is(err, ErrInvalidCredentials) {
		s.throttle.fail(email, addr)
		s.requestLogger(c).Info("failed sign-in", "ip", addr)
		return err
	}
	if err != nil {
		return err
	}
	s.throttle.succeed(email)
	if s.cfg.Auth.RequireVerified && !u.Verified {
		return ErrEmailNotVerified
	}
	sess, err := s.createSession(ctx, u, c)
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	s.emit(c, events.UserLogin, map[string]any{"user": u.EventData()})
	return c.JSON(authAnswer{User: u, Session: sess})
}

// logout ends the session of the request's token: 204.
func (s *Server) logout(c *fiber.Ctx) error {
	if _, err := s.RequireUser(c); err != nil {
		return err
	}
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// me answers the signed-in user's account as stored now: 200 {user}.
func (s *Server) me(c *fiber.Ctx) error {
	u, err := s.freshUser(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user": u})
}

// emit hands an event to the emitter once the change it reports is stored.
// The change stands whatever happens to the event, so a failure is logged
// rather than answered: the client must not retry a write that succeeded.
func (s *Server) emit(c *fiber.Ctx, name string, data map[string]any) {
	ctx := context.WithoutCancel(c.UserContext())
	if _, err := s.events.Emit(ctx, name, data); err != nil {
		s.requestLogger(c).Error("recording event failed", "event", name, "error", err.Error())
	}
}
