package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAdmin is an HTTP server on 127.0.0.1 that answers the admin API's
// routes as docs/admin-api.md describes them, keeping its state in memory.
// It lets the client be tested against every documented answer, including
// the error ones. A Lua line holding "!!" is its syntax error; a schedule
// "never" its unparsable schedule; a run whose input has "fail" fails at
// line 3.
type fakeAdmin struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	funcs    map[string][]fakeFunction // versions, oldest first
	execs    []map[string]any          // oldest first
	secrets  map[string]string
	jobs     []map[string]any
	paused   map[string]bool
	requests []string // "METHOD path", in order
}

type fakeFunction struct {
	definition
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const fakeToken = "fake-admin-token-0123456789"

func newFakeAdmin(t *testing.T) *fakeAdmin {
	t.Helper()
	f := &fakeAdmin{
		token:   fakeToken,
		funcs:   map[string][]fakeFunction{},
		secrets: map[string]string{},
		paused:  map[string]bool{},
		jobs: []map[string]any{
			{"id": "j1", "kind": "function", "status": "dead", "attempt": 4, "max_attempts": 4, "run_at": "2025-01-02T09:00:00Z", "last_error": `function "charge" failed at line 7: card declined`, "payload": map[string]any{"function": "charge"}},
			{"id": "j2", "kind": "email", "status": "done", "attempt": 1, "max_attempts": 8, "run_at": "2025-01-02T09:00:01Z", "payload": map[string]any{"to": "a@example.com"}},
			{"id": "j3", "kind": "function", "status": "dead", "attempt": 4, "max_attempts": 4, "run_at": "2025-01-02T09:00:02Z", "last_error": "boom", "payload": map[string]any{"function": "charge"}},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/admin/functions", f.list)
	mux.HandleFunc("PUT /api/admin/functions/{name}", f.put)
	mux.HandleFunc("GET /api/admin/functions/{name}", f.get)
	mux.HandleFunc("DELETE /api/admin/functions/{name}", f.delete)
	mux.HandleFunc("GET /api/admin/functions/{name}/versions", f.versions)
	mux.HandleFunc("POST /api/admin/functions/{name}/rollback", f.rollback)
	mux.HandleFunc("GET /api/admin/functions/{name}/executions", f.executions)
	mux.HandleFunc("POST /api/admin/functions/{name}/run", f.run)
	mux.HandleFunc("POST /api/admin/deploy", f.deploy)
	mux.HandleFunc("PUT /api/admin/secrets/{name}", f.putSecret)
	mux.HandleFunc("GET /api/admin/secrets", f.listSecrets)
	mux.HandleFunc("DELETE /api/admin/secrets/{name}", f.deleteSecret)
	mux.HandleFunc("GET /api/admin/jobs", f.listJobs)
	mux.HandleFunc("POST /api/admin/jobs/replay-dead", f.replayDead)
	mux.HandleFunc("POST /api/admin/jobs/{id}/replay", f.replay)
	mux.HandleFunc("GET /api/admin/schedules", f.schedules)
	mux.HandleFunc("POST /api/admin/schedules/{function}/{action}", f.scheduleAction)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			fakeError(w, 401, "unauthorized", "admin token missing or wrong", nil)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func fakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fakeError(w http.ResponseWriter, status int, code, msg string, details any) {
	e := map[string]any{"code": code, "message": msg}
	if details != nil {
		e["details"] = details
	}
	fakeJSON(w, status, map[string]any{"error": e})
}

func fakeNotFound(w http.ResponseWriter, name string) {
	fakeError(w, 404, "not_found", fmt.Sprintf("function %q not found", name), nil)
}

// check is the server's compile and trigger validation.
func (f *fakeAdmin) check(d definition) (code, msg string) {
	for i, line := range strings.Split(d.Source, "\n") {
		if strings.Contains(line, "!!") {
			return "compile_error", fmt.Sprintf("function %q: syntax error at line %d: unexpected symbol near '!'", d.Name, i+1)
		}
	}
	for _, t := range d.Triggers {
		if t.Schedule == "never" {
			return "invalid_trigger", fmt.Sprintf("function %q: schedule %q cannot be parsed", d.Name, t.Schedule)
		}
	}
	return "", ""
}

// save stores d; it returns the function and "created", "updated" or
// "unchanged".
func (f *fakeAdmin) save(d definition, dryRun bool) (fakeFunction, string) {
	vs := f.funcs[d.Name]
	now := time.Now().UTC()
	if len(vs) > 0 {
		cur := vs[len(vs)-1]
		if cur.Source == d.Source && cur.Handler == d.Handler && cur.Timeout == d.Timeout && slices.Equal(cur.Triggers, d.Triggers) {
			return cur, "unchanged"
		}
		fn := fakeFunction{definition: d, Version: cur.Version + 1, CreatedAt: cur.CreatedAt, UpdatedAt: now}
		if !dryRun {
			f.funcs[d.Name] = append(vs, fn)
		}
		return fn, "updated"
	}
	fn := fakeFunction{definition: d, Version: 1, CreatedAt: now, UpdatedAt: now}
	if !dryRun {
		f.funcs[d.Name] = []fakeFunction{fn}
	}
	return fn, "created"
}

func (f *fakeAdmin) current(name string) (fakeFunction, bool) {
	vs := f.funcs[name]
	if len(vs) == 0 {
		return fakeFunction{}, false
	}
	return vs[len(vs)-1], true
}

func (f *fakeAdmin) list(w http.ResponseWriter, _ *http.Request) {
	names := make([]string, 0, len(f.funcs))
	for n := range f.funcs {
		names = append(names, n)
	}
	slices.Sort(names)
	list := []map[string]any{}
	for _, n := range names {
		fn, _ := f.current(n)
		list = append(list, map[string]any{"name": n, "version": fn.Version, "handler": fn.Handler, "triggers": fn.Triggers, "timeout": fn.Timeout, "retries": fn.Retries, "updated_at": fn.UpdatedAt})
	}
	fakeJSON(w, 200, map[string]any{"functions": list})
}

func (f *fakeAdmin) put(w http.ResponseWriter, r *http.Request) {
	var d definition
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		fakeError(w, 400, "invalid_input", "malformed definition: "+err.Error(), nil)
		return
	}
	d.Name = r.PathValue("name")
	if code, msg := f.check(d); code != "" {
		fakeError(w, 400, code, msg, nil)
		return
	}
	fn, action := f.save(d, false)
	status := 200
	if action == "created" {
		status = 201
	}
	fakeJSON(w, status, map[string]any{"function": fn})
}

func (f *fakeAdmin) get(w http.ResponseWriter, r *http.Request) {
	fn, ok := f.current(r.PathValue("name"))
	if !ok {
		fakeNotFound(w, r.PathValue("name"))
		return
	}
	fakeJSON(w, 200, map[string]any{"function": fn})
}

func (f *fakeAdmin) delete(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.current(r.PathValue("name")); !ok {
		fakeNotFound(w, r.PathValue("name"))
		return
	}
	delete(f.funcs, r.PathValue("name"))
	w.WriteHeader(204)
}

func (f *fakeAdmin) versions(w http.ResponseWriter, r *http.Request) {
	vs := f.funcs[r.PathValue("name")]
	if len(vs) == 0 {
		fakeNotFound(w, r.PathValue("name"))
		return
	}
	list := []map[string]any{}
	for _, v := range slices.Backward(vs) {
		list = append(list, map[string]any{"version": v.Version, "created_at": v.UpdatedAt.Format(time.RFC3339Nano), "source": v.Source})
	}
	fakeJSON(w, 200, map[string]any{"versions": list})
}

func (f *fakeAdmin) rollback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Version int64 `json:"version"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	for _, v := range f.funcs[r.PathValue("name")] {
		if v.Version == body.Version {
			cur, _ := f.current(v.Name)
			d := v.definition
			d.Triggers = cur.Triggers
			fn := fakeFunction{definition: d, Version: cur.Version + 1, CreatedAt: cur.CreatedAt, UpdatedAt: time.Now().UTC()}
			f.funcs[v.Name] = append(f.funcs[v.Name], fn)
			fakeJSON(w, 200, map[string]any{"function": fn})
			return
		}
	}
	fakeError(w, 404, "not_found", fmt.Sprintf("function %q has no version %d", r.PathValue("name"), body.Version), nil)
}

func (f *fakeAdmin) executions(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 50
	}
	after := r.URL.Query().Get("after")
	list := []map[string]any{}
	for _, e := range slices.Backward(f.execs) {
		if e["function"] == name && e["id"].(string) > after && len(list) < limit {
			list = append(list, e)
		}
	}
	fakeJSON(w, 200, map[string]any{"executions": list})
}

// record adds an execution record and returns it.
func (f *fakeAdmin) record(name string, version int64, input map[string]any) map[string]any {
	e := map[string]any{
		"id": fmt.Sprintf("e%06d", len(f.execs)+1), "function": name, "version": version, "trigger": "test",
		"started_at": time.Date(2025, 1, 2, 9, 0, len(f.execs), 0, time.UTC), "duration_ms": 1.5, "status": "ok",
		"output": []map[string]any{{"at": time.Now(), "level": "print", "message": fmt.Sprintf("got %v", input["n"])}, {"at": time.Now(), "level": "warn", "message": "careful"}},
	}
	if input["fail"] == true {
		e["status"], e["error"], e["line"] = "error", fmt.Sprintf("function %q failed at line 3: input.fail was set", name), 3
	}
	f.execs = append(f.execs, e)
	return e
}

func (f *fakeAdmin) run(w http.ResponseWriter, r *http.Request) {
	fn, ok := f.current(r.PathValue("name"))
	if !ok {
		fakeNotFound(w, r.PathValue("name"))
		return
	}
	var body struct {
		Input map[string]any `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fakeError(w, 400, "invalid_input", "malformed body", nil)
		return
	}
	e := f.record(fn.Name, fn.Version, body.Input)
	ans := map[string]any{"status": 200, "headers": map[string]any{}, "output": e["output"], "duration_ms": 1.5, "execution_id": e["id"]}
	if e["error"] != nil {
		ans["error"], ans["status"], ans["result"] = e["error"], 500, nil
	} else {
		ans["result"] = map[string]any{"echo": body.Input}
	}
	fakeJSON(w, 200, ans)
}

func (f *fakeAdmin) deploy(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Functions []definition `json:"functions"`
		DryRun    bool         `json:"dry_run"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fakeError(w, 400, "invalid_input", "malformed body", nil)
		return
	}
	var details []map[string]string
	var msgs []string
	for _, d := range body.Functions {
		if _, msg := f.check(d); msg != "" {
			details = append(details, map[string]string{"name": d.Name, "error": msg})
			msgs = append(msgs, msg)
		}
	}
	if len(details) > 0 {
		fakeError(w, 400, "deploy_refused", "deploy refused: "+strings.Join(msgs, "; "), details)
		return
	}
	results := []map[string]any{}
	for _, d := range body.Functions {
		fn, action := f.save(d, body.DryRun)
		results = append(results, map[string]any{"name": d.Name, "action": action, "version": fn.Version})
	}
	fakeJSON(w, 200, map[string]any{"functions": results})
}

func (f *fakeAdmin) putSecret(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Value *string `json:"value"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.Value == nil {
		fakeError(w, 400, "invalid_input", "value is required", nil)
		return
	}
	f.secrets[r.PathValue("name")] = *body.Value
	w.WriteHeader(204)
}

func (f *fakeAdmin) listSecrets(w http.ResponseWriter, _ *http.Request) {
	names := []string{}
	for n := range f.secrets {
		names = append(names, n)
	}
	slices.Sort(names)
	fakeJSON(w, 200, map[string]any{"secrets": names})
}

func (f *fakeAdmin) deleteSecret(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.secrets[r.PathValue("name")]; !ok {
		fakeError(w, 404, "not_found", fmt.Sprintf("secret %q not found", r.PathValue("name")), nil)
		return
	}
	delete(f.secrets, r.PathValue("name"))
	w.WriteHeader(204)
}

func (f *fakeAdmin) listJobs(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	list := []map[string]any{}
	for _, j := range f.jobs {
		if status == "" || j["status"] == status {
			list = append(list, j)
		}
	}
	fakeJSON(w, 200, map[string]any{"jobs": list})
}

func (f *fakeAdmin) replay(w http.ResponseWriter, r *http.Request) {
	for _, j := range f.jobs {
		if j["id"] == r.PathValue("id") {
			j["status"], j["attempt"] = "pending", 0
			fakeJSON(w, 200, map[string]any{"job": j})
			return
		}
	}
	fakeError(w, 404, "not_found", fmt.Sprintf("job %q not found", r.PathValue("id")), nil)
}

func (f *fakeAdmin) replayDead(w http.ResponseWriter, _ *http.Request) {
	n := 0
	for _, j := range f.jobs {
		if j["status"] == "dead" {
			j["status"], j["attempt"] = "pending", 0
			n++
		}
	}
	fakeJSON(w, 200, map[string]any{"replayed": n})
}

func (f *fakeAdmin) schedules(w http.ResponseWriter, _ *http.Request) {
	list := []map[string]any{}
	for name, vs := range f.funcs {
		for _, t := range vs[len(vs)-1].Triggers {
			if t.Schedule != "" {
				next := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
				list = append(list, map[string]any{"function": name, "expression": t.Schedule, "timezone": t.Timezone, "paused": f.paused[name], "next": []time.Time{next, next.Add(24 * time.Hour)}})
			}
		}
	}
	fakeJSON(w, 200, map[string]any{"schedules": list})
}

func (f *fakeAdmin) scheduleAction(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("function"), r.PathValue("action")
	fn, ok := f.current(name)
	if !ok || !slices.ContainsFunc(fn.Triggers, func(t trigger) bool { return t.Schedule != "" }) {
		fakeError(w, 404, "not_found", fmt.Sprintf("function %q has no schedule", name), nil)
		return
	}
	switch action {
	case "pause", "resume":
		f.paused[name] = action == "pause"
		fakeJSON(w, 200, map[string]any{"schedule": map[string]any{"function": name, "paused": f.paused[name]}})
	case "run":
		fakeJSON(w, 200, map[string]any{"job_id": "j-run-" + name})
	default:
		http.NotFound(w, r)
	}
}

// cliBuffer is a bytes.Buffer that a command may write while the test
// reads it.
type cliBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *cliBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *cliBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliRun is what one command printed and returned.
type cliRun struct {
	stdout, stderr string
	err            error
}

// runCLI runs the real command tree with args, as main does: stderr ends
// with the "moonbase: …" line main prints for an error.
func runCLI(t *testing.T, stdin string, args ...string) cliRun {
	t.Helper()
	return runCLIContext(context.Background(), t, stdin, &cliBuffer{}, args...)
}

func runCLIContext(ctx context.Context, t *testing.T, stdin string, stdout *cliBuffer, args ...string) cliRun {
	t.Helper()
	root := newRootCmd()
	var stderr cliBuffer
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(&stderr, "moonbase: "+oneLine(err.Error()))
	}
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// cliWaitFor polls cond until it holds or the deadline passes.
func cliWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
