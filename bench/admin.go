package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/server"
)

// The dashboard's lists and charts over a busy server: 10,000 execution
// records of one function (one run in ten failing) and 10,000 dead jobs,
// all within the last hour. The target is an answer within 200 ms.

const adminBacklog = 10000

// adminRun is the server the admin scenarios share.
type adminRun struct {
	url string
	// deepRun is the id of busy's 9,950th newest run: the before of the
	// last page of 50.
	deepRun string
	// deepJob is the 9,950th dead job's id: the after of the last page.
	deepJob string
}

func adminScenarios() []Scenario {
	page := func(r int) string { return strconv.Itoa(50 * r) }
	fixed := func(path string) func(*adminRun, *Worker) string {
		return func(*adminRun, *Worker) string { return path }
	}
	return []Scenario{
		adminScenario("admin/embedded/jobs-first-page", "GET /api/admin/jobs?limit=50: the newest 50 of 10,000 jobs, any status",
			fixed("/api/admin/jobs?limit=50")),
		adminScenario("admin/embedded/dead-jobs-page", "GET /api/admin/jobs?status=dead&limit=50&skip=<a random page> of 10,000 dead jobs",
			func(_ *adminRun, w *Worker) string {
				return "/api/admin/jobs?status=dead&limit=50&skip=" + page(w.Rand.IntN(adminBacklog/50))
			}),
		adminScenario("admin/embedded/dead-jobs-last-page", "GET /api/admin/jobs?status=dead&limit=50&skip=9950: the oldest 50 of 10,000 dead jobs",
			fixed("/api/admin/jobs?status=dead&limit=50&skip="+page(adminBacklog/50-1))),
		adminScenario("admin/embedded/dead-jobs-last-page-cursor", "GET /api/admin/jobs?status=dead&limit=50&after=<the 9,950th job>: the oldest 50 of 10,000 dead jobs",
			func(a *adminRun, _ *Worker) string {
				return "/api/admin/jobs?status=dead&limit=50&after=" + a.deepJob
			}),
		adminScenario("admin/embedded/executions-page", "GET /api/admin/functions/busy/executions?limit=50: the newest 50 of 10,000 runs",
			fixed("/api/admin/functions/busy/executions?limit=50")),
		adminScenario("admin/embedded/executions-errors", "GET /api/admin/functions/busy/executions?status=error&limit=50: the newest 50 failed of 10,000 runs",
			fixed("/api/admin/functions/busy/executions?status=error&limit=50")),
		adminScenario("admin/embedded/executions-last-page", "GET /api/admin/functions/busy/executions?limit=50&before=<the 9,950th run>: the oldest 50 of 10,000 runs",
			func(a *adminRun, _ *Worker) string {
				return "/api/admin/functions/busy/executions?limit=50&before=" + a.deepRun
			}),
		adminScenario("admin/embedded/function-stats-1h", "GET /api/admin/functions/busy/stats?window=1h over 10,000 runs in the hour",
			fixed("/api/admin/functions/busy/stats?window=1h")),
		adminScenario("admin/embedded/job-stats-1h", "GET /api/admin/jobs/stats?window=1h over 10,000 jobs dead in the hour",
			fixed("/api/admin/jobs/stats?window=1h")),
	}
}

// adminScenario measures GETs of the path pathOf gives, with the admin
// token, on the shared busy server.
func adminScenario(name, about string, pathOf func(*adminRun, *Worker) string) Scenario {
	return Scenario{
		Name: name, About: about, Workers: 2,
		Setup: func(ctx context.Context, env *Env) (Op, error) {
			a, err := adminServer(ctx, env)
			if err != nil {
				return nil, err
			}
			client := &http.Client{Timeout: time.Minute}
			return func(ctx context.Context, w *Worker) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+pathOf(a, w), nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+benchAdminToken)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				if _, err := io.Copy(io.Discard, res.Body); err != nil {
					return err
				}
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("%s: status %d", req.URL.Path, res.StatusCode)
				}
				return nil
			}, nil
		},
	}
}

// adminServer starts the busy server once per run: the function "busy"
// run adminBacklog times through its invoke trigger, and adminBacklog
// dead jobs written straight into the store.
func adminServer(ctx context.Context, env *Env) (*adminRun, error) {
	return Shared(env, "admin/server", func() (*adminRun, error) {
		cfg := server.DefaultConfig()
		cfg.Server.Addr = "127.0.0.1:0"
		cfg.DataDir = filepath.Join(env.Dir, "admin")
		cfg.AdminToken = benchAdminToken
		srv, err := server.New(cfg, server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stderr: io.Discard})
		if err != nil {
			return nil, err
		}
		if err := srv.Start(ctx); err != nil {
			_ = srv.Shutdown(ctx)
			return nil, err
		}
		env.Cleanup(func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
		a := &adminRun{url: srv.URL()}
		src := `function handle(input) if input.fail then error("asked to fail") end return {ok = true} end`
		if err := putFunction(a.url, "busy", src, `[{"invoke": true}]`); err != nil {
			return nil, err
		}
		if err := a.invokeMany(ctx, adminBacklog); err != nil {
			return nil, err
		}
		if a.deepRun, err = a.nthRun(ctx, "busy", adminBacklog-50); err != nil {
			return nil, err
		}
		ids, err := deadJobs(ctx, srv.Store(), adminBacklog)
		if err != nil {
			return nil, err
		}
		a.deepJob = ids[adminBacklog-51]
		return a, nil
	})
}

// nthRun is the id of function's n-th newest run (from 1), read through
// the admin API's pages.
func (a *adminRun) nthRun(ctx context.Context, function string, n int) (string, error) {
	client := &http.Client{Timeout: time.Minute}
	seen, before := 0, ""
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/api/admin/functions/"+function+"/executions?limit=1000&before="+before, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+benchAdminToken)
		res, err := client.Do(req)
		if err != nil {
			return "", err
		}
		var page struct {
			Executions []struct{ ID string } `json:"executions"`
			Next       string                `json:"next"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			return "", fmt.Errorf("runs of %s: %w", function, err)
		}
		if seen+len(page.Executions) >= n {
			return page.Executions[n-seen-1].ID, nil
		}
		if page.Next == "" {
			return "", fmt.Errorf("%s has %d runs, not %d", function, seen+len(page.Executions), n)
		}
		seen += len(page.Executions)
		before = page.Next
	}
}

// invokeMany calls busy n times from 8 connections, one call in ten
// asking it to fail.
func (a *adminRun) invokeMany(ctx context.Context, n int) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	client := &http.Client{Timeout: time.Minute}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				body := `{"fail":` + strconv.FormatBool(i%10 == 0) + `}`
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/api/functions/busy", bytes.NewReader([]byte(body)))
				if err == nil {
					req.Header.Set("Content-Type", "application/json")
					var res *http.Response
					if res, err = client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("invoke busy: %w", errs[0])
	}
	return nil
}

// deadJobs writes n dead function jobs, as the queue leaves them, spread
// over the last hour, and returns their ids, newest first.
func deadJobs(ctx context.Context, store db.Store, n int) ([]string, error) {
	now := time.Now().UTC()
	ids := make([]string, 0, n)
	docs := make([]bson.M, 0, 1000)
	for i := range n {
		at := now.Add(-time.Duration(i) * time.Hour / time.Duration(n))
		id := primitive.NewObjectIDFromTimestamp(at).Hex()
		ids = append(ids, id)
		docs = append(docs, bson.M{
			"_id": id, "kind": "function", "status": "dead", "key": fmt.Sprintf("bench-dead-%d", i),
			"attempt": 1, "max_attempts": 1, "run_at": at, "created_at": at, "updated_at": at, "finished_at": at,
			"last_error": "asked to fail", "payload": bson.M{"function": "busy", "trigger": "event", "input": bson.M{"n": i}},
		})
		if len(docs) == cap(docs) || i == n-1 {
			if _, err := store.C(db.Jobs).InsertMany(ctx, docs); err != nil {
				return nil, fmt.Errorf("write dead jobs: %w", err)
			}
			docs = docs[:0]
		}
	}
	return ids, nil
}
