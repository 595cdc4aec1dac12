package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// bindDeployApi registers POST /api/admin/deploy (docs/admin-api.md,
// "Deploy"), what `moonbase deploy` calls. The admin token guards it.
func bindDeployApi(s *Server, r fiber.Router) {
	r.Post("/api/admin/deploy", s.adminDeploy)
}

// adminDeploy takes {functions: [definition, …], dry_run} and checks every
// definition first (its name, that it compiles, its triggers and
// schedules). If any fails it answers 400 deploy_refused, with every
// problem in the message and in details [{name, error}], and changes
// nothing. Otherwise it saves each definition that differs from what is
// saved (none with dry_run) and answers {functions: [{name, action:
// created|updated|unchanged, version}]} in the order given. Functions that
// are not in the deploy are left alone.
//
// Every check comes before the first save, so a refused deploy changes
// nothing; a database failure half-way through leaves the functions saved
// before it in place, and deploying again finishes the job.
func (s *Server) adminDeploy(c *fiber.Ctx) error {
	var req struct {
		Functions []json.RawMessage `json:"functions"`
		DryRun    bool              `json:"dry_run"`
	}
	if err := s.strictBody(c, &req, "functions, dry_run"); err != nil {
		return err
	}
	if len(req.Functions) == 0 {
		return badInput("functions is empty: give at least one function definition")
	}
	defs, problems := s.checkDeploy(req.Functions)
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error
		}
		return &Error{
			Status:  http.StatusBadRequest,
			Code:    "deploy_refused",
			Message: fmt.Sprintf("deploy refused, nothing was changed: %s", strings.Join(msgs, "; ")),
			Details: problems,
		}
	}
	ctx := c.UserContext()
	results := make([]adminapi.DeployResult, len(defs))
	for i, def := range defs {
		cur, err := s.functions.Get(ctx, def.Name)
		exists := err == nil
		if err != nil && !errors.Is(err, functions.ErrFunctionNotFound) {
			return err
		}
		r := adminapi.DeployResult{Name: def.Name, Action: adminapi.DeployCreated}
		switch {
		case exists && sameDefinition(def, cur):
			r.Action, r.Version = adminapi.DeployUnchanged, cur.Version
		case exists:
			r.Action, r.Version = adminapi.DeployUpdated, cur.Version
		}
		if !req.DryRun && r.Action != adminapi.DeployUnchanged {
			fn, err := s.functions.Save(ctx, def)
			if err != nil {
				return fmt.Errorf("deploy %s: %w", def.Name, err)
			}
			if err := s.functionSaved(ctx, fn); err != nil {
				return err
			}
			r.Version = fn.Version
		}
		results[i] = r
	}
	return c.JSON(adminapi.DeployAnswer{Functions: results})
}

// checkDeploy decodes and checks every definition, returning them all when
// every one passes and otherwise every problem found.
func (s *Server) checkDeploy(raws []json.RawMessage) ([]functions.Definition, []adminapi.DeployProblem) {
	defs := make([]functions.Definition, 0, len(raws))
	var problems []adminapi.DeployProblem
	seen := map[string]bool{}
	for i, raw := range raws {
		def, err := decodeDefinition(raw)
		name := def.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if err == nil && def.Name == "" {
			err = badInput("function %d has no name", i+1)
		}
		if err == nil && seen[def.Name] {
			err = badInput("function %q is in the deploy twice", def.Name)
		}
		if err == nil {
			seen[def.Name] = true
			err = checkTriggers(def)
		}
		if err == nil {
			err = s.functions.Validate(def)
		}
		if err != nil {
			problems = append(problems, adminapi.DeployProblem{Name: name, Error: problemText(name, err)})
			continue
		}
		defs = append(defs, def)
	}
	return defs, problems
}

// problemText is err as one line of a refused deploy, naming the function
// once.
func problemText(name string, err error) string {
	msg := err.Error()
	var apiErr *Error
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	msg = strings.TrimPrefix(msg, functions.ErrInvalidDefinition.Error()+": ")
	if !strings.Contains(msg, fmt.Sprintf("%q", name)) {
		msg = fmt.Sprintf("function %q: %s", name, msg)
	}
	return msg
}
