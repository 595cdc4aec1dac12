package server

import (
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// bindSecretsApi registers the secrets functions read with backend.env
// (docs/admin-api.md, "Secrets"). The admin token guards them; values are
// written, never read back.
func bindSecretsApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin/secrets")
	g.Get("/", s.adminListSecrets)
	g.Get("/:name", s.adminGetSecret)
	g.Put("/:name", s.adminPutSecret)
	g.Delete("/:name", s.adminDeleteSecret)
}

// adminPutSecret creates or replaces a secret from {value}: 204.
func (s *Server) adminPutSecret(c *fiber.Ctx) error {
	var req adminapi.SecretRequest
	if err := s.strictBody(c, &req, "value"); err != nil {
		return err
	}
	if req.Value == nil {
		return badInput("value is required (a string)")
	}
	if err := s.functions.SetSecret(c.UserContext(), nameParam(c), *req.Value); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// adminListSecrets answers GET /api/admin/secrets?limit=&after= with
// {secrets: [name, …], next}, sorted; never values. after is the last
// name of the previous page (paging.go).
func (s *Server) adminListSecrets(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	after, err := cursorParam(c, "after")
	if err != nil {
		return err
	}
	names, err := s.functions.SecretNamesPage(c.UserContext(), after, limit)
	if err != nil {
		return err
	}
	last := ""
	if len(names) > 0 {
		last = names[len(names)-1]
	}
	return c.JSON(adminapi.SecretsAnswer{Secrets: names, Next: nextCursor(len(names), limit, last)})
}

// adminGetSecret tells whether a secret is set, without its value:
// 200 {name}, or 404. The dashboard asks it before replacing a value.
func (s *Server) adminGetSecret(c *fiber.Ctx) error {
	name := nameParam(c)
	if err := functions.ValidateSecretName(name); err != nil {
		return err
	}
	_, found, err := s.functions.Secret(c.UserContext(), name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %q", functions.ErrSecretNotFound, name)
	}
	return c.JSON(fiber.Map{"name": name})
}

// adminDeleteSecret removes a secret: 204, or 404 when there is none.
func (s *Server) adminDeleteSecret(c *fiber.Ctx) error {
	if err := s.functions.DeleteSecret(c.UserContext(), nameParam(c)); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}
