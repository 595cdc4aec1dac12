package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/server"
)

// Lua functions over HTTP, each server in a process of its own so that its
// CPU time and peak memory are its alone. The load scenarios answer the
// same small JSON from a bare fiber app and from Moonbase's two ways of
// calling a function, 64 connections each, so their ratios are what the
// Lua runtime and Moonbase's layers cost.

// functionsCollection is the collection find-one reads.
const functionsCollection = "people"

// helloSource answers what the bare fiber handler answers.
const helloSource = `function handle(input, ctx)
  return {message = "hello"}
end`

// findPersonSource reads one document by its uniquely indexed email. The
// benchmark's caller is anonymous, so it reads with full rights, as
// before a function acted as its caller.
const findPersonSource = `function handle(input, ctx)
  return backend.asServiceRole.findOne("people", {email = input.email})
end`

// numberedSource is a function that says which of many it is.
const numberedSource = `function handle(input, ctx)
  return {message = "hello", n = %d}
end`

func functionScenarios() []Scenario {
	hello := `"message":"hello"`
	return []Scenario{
		loadScenario(fiberBaselineName,
			`GET /hello from a bare fiber app in its own process, answering {"message":"hello"}`,
			fiberServer, func(*Env) loadTarget { return loadTarget{Method: "GET", Path: "/hello", Want: hello} }),
		loadScenario("functions/lua/http",
			"GET /functions/hello: the http trigger of a Lua function returning {message = \"hello\"}",
			helloServer, func(*Env) loadTarget { return loadTarget{Method: "GET", Path: "/functions/hello", Want: hello} }),
		hostileScenario(),
		loadScenario("functions/lua/invoke",
			`POST /api/functions/hello with {"name":"bench"}: the invoke trigger of the same function`,
			helloServer, func(*Env) loadTarget {
				return loadTarget{Method: "POST", Path: "/api/functions/hello", Want: hello,
					Body: func(*rand.Rand) ([]byte, string) { return []byte(`{"name":"bench"}`), hello }}
			}),
		loadScenario("functions/lua/find-one",
			"POST /api/functions/findPerson {email}: backend.asServiceRole.findOne by a uniquely indexed field of -docs documents, the document answered",
			peopleServer, findOneTarget),
		{
			Name:    "functions/lua/first-call-after-save",
			About:   "PUT a new version of a function through the admin API (not timed), then its first call: POST /api/functions/fresh",
			Workers: 1,
			Measure: measureFirstCalls,
		},
		{
			Name:    "functions/lua/1000-functions",
			About:   "deploy 1,000 distinct functions to a fresh server (not timed), then call each once; peak RSS over the server's life",
			Workers: 1,
			Measure: measureManyFunctions,
		},
	}
}

// findOneTarget asks for a random one of -docs people.
func findOneTarget(env *Env) loadTarget {
	return loadTarget{
		Method: "POST", Path: "/api/functions/findPerson",
		Body: func(r *rand.Rand) ([]byte, string) {
			email := personEmail(r.IntN(env.Docs))
			return []byte(`{"email":"` + email + `"}`), email
		},
		WrkBody: fmt.Sprintf(`string.format('{"email":"user%%07d@example.com"}', math.random(0, %d))`, env.Docs-1),
	}
}

// loadScenario measures target on the server start returns: a checked
// request first (wrk checks no answers), a warm-up, then the load with the
// server's CPU time and peak RSS read around it.
func loadScenario(name, about string, start func(ctx context.Context, env *Env, dir string) (*serverProc, error), target func(*Env) loadTarget) Scenario {
	return Scenario{
		Name: name, About: about, Workers: httpConns,
		Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
			res := Result{Workers: httpConns}
			begin := time.Now()
			p, err := start(ctx, env, filepath.Join(env.Dir, strings.ReplaceAll(name, "/", "-")))
			if p != nil {
				defer p.stop()
			}
			if err != nil {
				return res, err
			}
			gen, err := loadGenerator(opts.Ops)
			if err != nil {
				return res, err
			}
			t := target(env)
			host := hostOf(p.url)
			if r := goLoad(ctx, host, t, 1, 0, 1); r.errors > 0 {
				return res, r.firstErr
			}
			if opts.Warmup > 0 {
				if _, err := runLoad(ctx, gen, p.url, t, httpConns, opts.Warmup, 0, env.Dir); err != nil {
					return res, err
				}
			}
			res.Setup = time.Since(begin)
			w, err := openWindow(p)
			if err != nil {
				return res, err
			}
			var lr loadResult
			err = profileDuring(p, opts.CPUProfile, func() (err error) {
				lr, err = runLoad(ctx, gen, p.url, t, httpConns, opts.Duration, opts.Ops, env.Dir)
				return err
			})
			if err := w.fill(&res); err != nil {
				return res, err
			}
			if err != nil {
				return res, err
			}
			res.Ops, res.Errors, res.FirstErr, res.Elapsed = lr.ops, lr.errors, lr.firstErr, lr.elapsed
			res.P50, res.P99 = lr.p50, lr.p99
			res.Name = name + " [" + lr.generator + "]" + compareWithFiber(env, name, res)
			return res, nil
		},
	}
}

// fiberBaselineName is the scenario the others are compared with.
const fiberBaselineName = "functions/fiber/hello"

// fiberBaseline is what the bare fiber app did in this run.
type fiberBaseline struct {
	opsPerSec, opsPerCPUSecond float64
}

// compareWithFiber remembers the bare fiber app's result, and for the
// other load scenarios returns their ratios to it when it ran before them
// in the same run: the figures the Lua runtime's targets are set in.
func compareWithFiber(env *Env, name string, res Result) string {
	base, err := Shared(env, "functions/fiber-baseline", func() (*fiberBaseline, error) { return &fiberBaseline{}, nil })
	if err != nil {
		return ""
	}
	if name == fiberBaselineName {
		base.opsPerSec, base.opsPerCPUSecond = res.OpsPerSec(), res.OpsPerCPUSecond()
		return ""
	}
	if base.opsPerSec == 0 || res.OpsPerCPUSecond() == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.2f× bare fiber's req/s, %.1f× its CPU per request)",
		res.OpsPerSec()/base.opsPerSec, base.opsPerCPUSecond/res.OpsPerCPUSecond())
}

// fiberServer starts the bare fiber app.
func fiberServer(_ context.Context, env *Env, _ string) (*serverProc, error) {
	return startServerProc(env, childSpec{Kind: childFiber})
}

// helloServer starts a Moonbase server with the function hello (invoke
// and http triggers) in a data directory of its own.
func helloServer(_ context.Context, env *Env, dir string) (*serverProc, error) {
	p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: dir})
	if err != nil {
		return nil, err
	}
	return p, putFunction(p.url, "hello", helloSource, `[{"invoke": true}, {"http": true}]`)
}

// peopleServer starts a Moonbase server whose people collection holds
// -docs documents (email uniquely indexed), with the function findPerson.
func peopleServer(ctx context.Context, env *Env, dir string) (*serverProc, error) {
	if err := loadPeople(ctx, dir, env.Docs); err != nil {
		return nil, err
	}
	p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: dir, Collections: map[string]server.CollectionConfig{
		functionsCollection: {Indexes: []server.IndexConfig{{Fields: []string{"email"}, Unique: true}}},
	}})
	if err != nil {
		return nil, err
	}
	return p, putFunction(p.url, "findPerson", findPersonSource, `[{"invoke": true}]`)
}

// loadPeople stores n people in a fresh embedded store under dir, before
// any server opens it, in batches of InsertMany.
func loadPeople(ctx context.Context, dir string, n int) error {
	s, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		return err
	}
	c := s.C(functionsCollection)
	err = c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "email"}}, Unique: true})
	const batch = 1000
	docs := make([]bson.M, 0, batch)
	for i := 0; i < n && err == nil; i += batch {
		docs = docs[:0]
		for j := i; j < min(i+batch, n); j++ {
			docs = append(docs, person(j))
		}
		_, err = c.InsertMany(ctx, docs)
	}
	if cerr := s.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", functionsCollection, err)
	}
	return nil
}

// measureFirstCalls saves a new version of one function, then times its
// first call, over and over: the save compiles, the call finds a version
// no pooled state has run yet.
func measureFirstCalls(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
	res := Result{Workers: 1}
	begin := time.Now()
	p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: filepath.Join(env.Dir, "functions-first-call")})
	if err != nil {
		return res, err
	}
	defer p.stop()
	c := &rawConn{addr: hostOf(p.url)}
	defer c.close()
	save := func(i int) error {
		return putFunction(p.url, "fresh", fmt.Sprintf(numberedSource, i), `[{"invoke": true}]`)
	}
	call := func(i int) error {
		return c.do(loadTarget{Method: "POST", Path: "/api/functions/fresh"}, []byte(`{}`), `"n":`+strconv.Itoa(i)+`}`)
	}
	for i := range 3 { // warm-up: the admin routes and the connection
		if err := save(-1 - i); err != nil {
			return res, err
		}
		if err := call(-1 - i); err != nil {
			return res, err
		}
	}
	res.Setup = time.Since(begin)
	w, err := openWindow(p)
	if err != nil {
		return res, err
	}
	var h histogram
	start := time.Now()
	err = profileDuring(p, opts.CPUProfile, func() error {
		for i := 1; ctx.Err() == nil; i++ {
			if (opts.Ops > 0 && uint64(i) > opts.Ops) || (opts.Ops == 0 && time.Since(start) >= opts.Duration) {
				return nil
			}
			if err := save(i); err != nil {
				return err
			}
			t0 := time.Now()
			err := call(i)
			h.record(time.Since(t0))
			res.Ops++
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
			}
		}
		return nil
	})
	res.Elapsed = time.Since(start)
	if werr := w.fill(&res); err == nil {
		err = werr
	}
	res.P50, res.P99 = h.quantile(0.50), h.quantile(0.99)
	return res, err
}

// manyFunctions is how many functions measureManyFunctions deploys.
const manyFunctions = 1000

// measureManyFunctions deploys manyFunctions distinct functions (fewer
// with -n) to a server of their own, calls each once, and reports the
// calls' latencies and the server's peak RSS since it started; the
// server is stopped afterwards.
func measureManyFunctions(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
	res := Result{Workers: 1}
	begin := time.Now()
	count := manyFunctions
	if opts.Ops > 0 {
		count = min(count, int(opts.Ops))
	}
	p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: filepath.Join(env.Dir, "functions-many")})
	if err != nil {
		return res, err
	}
	defer p.stop()
	name := func(i int) string { return fmt.Sprintf("fn%04d", i) }
	for i := range count {
		if err := putFunction(p.url, name(i), fmt.Sprintf(numberedSource, i), `[{"invoke": true}]`); err != nil {
			return res, err
		}
	}
	res.Setup = time.Since(begin)
	cpu0, err := procCPU(p.pid())
	if err != nil {
		return res, err
	}
	c := &rawConn{addr: hostOf(p.url)}
	defer c.close()
	var h histogram
	start := time.Now()
	err = profileDuring(p, opts.CPUProfile, func() error {
		for i := range count {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t0 := time.Now()
			err := c.do(loadTarget{Method: "POST", Path: "/api/functions/" + name(i)}, []byte(`{}`), `"n":`+strconv.Itoa(i)+`}`)
			h.record(time.Since(t0))
			res.Ops++
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
			}
		}
		return nil
	})
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	cpu, err := procCPU(p.pid())
	if err != nil {
		return res, err
	}
	res.CPU = cpu - cpu0
	// The peak since the process started: deploying included, no reset.
	res.PeakRSS, err = procStatusBytes(p.pid(), "VmHWM")
	res.PeakReset = true
	res.P50, res.P99 = h.quantile(0.50), h.quantile(0.99)
	return res, err
}

// putFunction saves a function through the admin API.
func putFunction(base, name, source, triggers string) error {
	src, err := json.Marshal(source)
	if err != nil {
		return err
	}
	body := `{"source":` + string(src) + `,"triggers":` + triggers + `}`
	_, err = callJSON(base, http.MethodPut, "/api/admin/functions/"+name, benchAdminToken, body, http.StatusOK, http.StatusCreated)
	return err
}

// callJSON sends one request and returns the answer's body, an error
// unless its status is one of ok.
func callJSON(base, method, path, token, body string, ok ...int) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	for _, s := range ok {
		if res.StatusCode == s {
			return b, nil
		}
	}
	return b, fmt.Errorf("%s %s: status %d: %.300s", method, path, res.StatusCode, b)
}

// hostOf is the host:port of a base URL.
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Host
}
