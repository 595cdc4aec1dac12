// Package server is Moonbase's HTTP server: the fiber app, its middleware
// (request ids and logs, panics, CORS, body limits), sign-in, the data API
// with its access rules, the admin API, and the one place where errors
// become HTTP answers (errors.go).
//
// It also wires the parts below it together at start-up: the Lua function
// registry (functions.go), and the events service — the job queue, the
// event bus, the scheduler and the retention sweeper — with email as a job
// kind (events.go, jobs.go, mail.go). runner.go is where the queue runs
// functions through the registry, so neither package imports the other.
//
// Each area binds its routes in its own file through a bind<Area>Api
// function listed once in newApp; a handler returns errors and never writes
// an error answer itself, and reaches the signed-in user with
// s.CurrentUser(c) or s.RequireUser(c). Everything under /api/admin asks
// for the admin token before any route there runs.
//
// Example:
//
//	cfg, err := server.LoadConfig("config.yaml", false, os.Environ())
//	srv, err := server.New(cfg, server.Deps{})
//	err = srv.Start(ctx)          // listens on cfg.Server.Addr; srv.URL() says where
//	defer srv.Shutdown(shutdownCtx)
package server
