package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
)

// readyTimeout bounds the store ping behind /readyz, so a load balancer's
// probe gets an answer even when the database hangs.
const readyTimeout = 2 * time.Second

func bindHealthApi(s *Server, r fiber.Router) {
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
}

// healthz answers while the process serves requests.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 when the database answers a ping, 503 otherwise.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.requestLogger(c).Warn("store does not answer", "error", err.Error())
		return Errorf(http.StatusServiceUnavailable, "unavailable", "the database does not answer")
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
