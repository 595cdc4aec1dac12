package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// serveHelper, set in a process's environment, makes TestServeProcess run
// a Moonbase server configured by the MOONBASE_* variables, as `moonbase
// serve` would, until its stdin closes. The tests below start it as a
// separate process to share a data directory with another one, or to kill
// it with SIGKILL.
const serveHelper = "MOONBASE_TEST_SERVE_PROCESS"

// serveConfigHelper names a config.yaml for the server process, for the
// settings no environment variable holds (rules per channel pattern).
const serveConfigHelper = "MOONBASE_TEST_SERVE_CONFIG"

// TestServeProcess is not a test: it is a server process started by the
// tests below.
func TestServeProcess(t *testing.T) {
	if os.Getenv(serveHelper) == "" {
		return
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "server process:", err)
		os.Exit(2)
	}
	cfg, err := LoadConfig(os.Getenv(serveConfigHelper), false, os.Environ())
	if err != nil {
		fail(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := New(cfg, Deps{Logger: logger, Stderr: io.Discard})
	if err != nil {
		fail(err)
	}
	if err := s.Start(context.Background()); err != nil {
		fail(err)
	}
	fmt.Printf("listening %s\n", s.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// serverProcess is a Moonbase server running in a process of its own.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	logs  *testsupport.LockedBuffer
	done  chan struct{}
}

// startServerProcess starts a server on dir with the admin token
// testAdminToken and env's extra settings, and stops it when the test
// ends.
func startServerProcess(t *testing.T, dir string, env ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeProcess$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, serveHelper+"=1",
		"MOONBASE_DATA_DIR="+dir,
		"MOONBASE_SERVER_ADDR=127.0.0.1:0",
		"MOONBASE_ADMIN_TOKEN="+testAdminToken,
		"MOONBASE_AUTH_BCRYPT_COST=4",
		"MOONBASE_EVENTS_POLL_INTERVAL=20ms",
		"MOONBASE_EVENTS_BACKOFF_BASE=50ms",
		"MOONBASE_EVENTS_BACKOFF_MAX=200ms",
	)
	cmd.Env = append(cmd.Env, env...)
	p := &serverProcess{cmd: cmd, logs: &testsupport.LockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("server process %d logs:\n%s", cmd.Process.Pid, p.logs.String())
		}
	})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				listening <- url
			}
		}
	}()
	select {
	case p.url = <-listening:
	case <-p.done:
		t.Fatalf("server process exited before listening:\n%s", p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server process did not start within a minute:\n%s", p.logs.String())
	}
	return p
}

// stop asks the process to shut down (closing its stdin) and kills it if
// it has not within 20 seconds.
func (p *serverProcess) stop(t *testing.T) {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Errorf("server process %d did not stop; killing it", p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill ends the process with SIGKILL, as a crash or kill -9 would.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// call sends one request to the process, as testServer.do does to an
// in-process server.
func (p *serverProcess) call(t *testing.T, method, path, body, token string) response {
	t.Helper()
	return callURL(t, p.url, method, path, body, token)
}

// callURL sends one request to base+path; token "" sends no
// Authorization header.
func callURL(t *testing.T, base, method, path, body, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// signUp registers a user on the process and returns the session token.
func (p *serverProcess) signUp(t *testing.T, email string) string {
	t.Helper()
	res := p.call(t, "POST", "/api/auth/register", `{"email":"`+email+`","password":"password123"}`, "")
	if res.status != http.StatusCreated {
		t.Fatalf("register: %d %s", res.status, res.body)
	}
	tok, _ := res.json(t)["token"].(string)
	return tok
}

// httpGate is an HTTP server that calls hold for every request before
// answering 200.
func httpGate(t *testing.T, hold func(*http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hold(r)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// openShared opens the embedded store in dir from the test process, a
// third user of the directory, to read what the servers did.
func openShared(t *testing.T, dir string) db.Store {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

func countDocs(t *testing.T, st db.Store, col string, filter bson.M) int64 {
	t.Helper()
	n, err := st.C(col).Count(context.Background(), filter)
	if err != nil {
		t.Fatalf("count %s: %v", col, err)
	}
	return n
}

// waitLong polls cond until it holds or d passes.
func waitLong(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two server processes sharing one embedded data directory run every one
// of 200 function jobs exactly once: each run inserts a document keyed by
// its event's id, and a second run of the same event would find the key
// taken and say so.
func TestTwoProcessesRunEveryJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const jobs = 200
	dir := t.TempDir()
	// Three processes share SQLite's write lock; a lease well above the
	// longest wait for it keeps every job with the worker that claimed it.
	a := startServerProcess(t, dir, "MOONBASE_EVENTS_LEASE=10s")
	b := startServerProcess(t, dir, "MOONBASE_EVENTS_LEASE=10s")
	saveFunctionAt(t, a.url, "count", map[string]any{"triggers": []any{map[string]any{"event": "tick"}}, "source": `
function handle(input, ctx)
  local ok = pcall(backend.create, "runs", {_id = ctx.id, n = input.n})
  if not ok then backend.create("dups", {event = ctx.id, n = input.n}) end
end`})
	token := a.signUp(t, "ada@example.com")

	var wg sync.WaitGroup
	errs := make(chan string, jobs)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < jobs; i += 4 {
				p := a
				if i%2 == 1 {
					p = b
				}
				if res := p.call(t, "POST", "/api/events", fmt.Sprintf(`{"name":"tick","data":{"n":%d}}`, i), token); res.status != http.StatusAccepted {
					errs <- fmt.Sprintf("publish %d: %d %s", i, res.status, res.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}

	st := openShared(t, dir)
	done := bson.M{"kind": events.KindFunction, "status": events.StatusDone}
	waitLong(t, 2*time.Minute, "every job to be done", func() bool { return countDocs(t, st, db.Jobs, done) == jobs })
	if n := countDocs(t, st, "runs", nil); n != jobs {
		t.Errorf("%d runs recorded, want %d", n, jobs)
	}
	if n := countDocs(t, st, "dups", nil); n != 0 {
		t.Errorf("%d jobs ran more than once", n)
	}
	if n := countDocs(t, st, db.Jobs, bson.M{"kind": events.KindFunction, "attempt": bson.M{"$ne": 1}}); n != 0 {
		t.Errorf("%d jobs took more than one attempt", n)
	}
	workers := map[string]int{}
	docs, err := st.C(db.Jobs).Find(context.Background(), done, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		w, _ := d["worker"].(string)
		workers[w]++
	}
	if len(workers) != 2 {
		t.Errorf("jobs ran on %d workers, want both processes: %v", len(workers), workers)
	}
}

// A server killed with SIGKILL while its jobs run loses none: restarted on
// the same data directory, it runs each of them again once its lease has
// run out, and every job completes.
func TestKilledServerLosesNoJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const jobs = 12
	// The handlers wait at this gate: they are all running when the
	// server is killed, and finish once it opens.
	var (
		mu      sync.Mutex
		waiting int
		open    = make(chan struct{})
	)
	gate := httpGate(t, func(r *http.Request) {
		mu.Lock()
		waiting++
		mu.Unlock()
		select {
		case <-open:
		case <-r.Context().Done():
		}
	})
	dir := t.TempDir()
	env := []string{
		"MOONBASE_EVENTS_LEASE=2s",
		"MOONBASE_EVENTS_WORKERS=" + fmt.Sprint(jobs),
		"MOONBASE_FUNCTIONS_HTTP_ALLOW_HOSTS=" + strings.TrimPrefix(gate, "http://"),
	}
	first := startServerProcess(t, dir, env...)
	saveFunctionAt(t, first.url, "slow", map[string]any{"triggers": []any{map[string]any{"event": "work"}}, "timeout": "1m", "source": `
function handle(input, ctx)
  backend.create("started", {event = ctx.id, attempt = ctx.attempt})
  backend.http.request{url = "` + gate + `", timeout = 60}
  local ok = pcall(backend.create, "finished", {_id = ctx.id})
  if not ok then backend.create("again", {event = ctx.id}) end
end`})
	token := first.signUp(t, "ada@example.com")
	for i := range jobs {
		if res := first.call(t, "POST", "/api/events", fmt.Sprintf(`{"name":"work","data":{"n":%d}}`, i), token); res.status != http.StatusAccepted {
			t.Fatalf("publish %d: %d %s", i, res.status, res.body)
		}
	}
	waitLong(t, time.Minute, "every handler to wait at the gate", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return waiting == jobs
	})
	first.kill(t)
	close(open)

	st := openShared(t, dir)
	running := bson.M{"kind": events.KindFunction, "status": events.StatusRunning}
	if n := countDocs(t, st, db.Jobs, running); n != jobs {
		t.Fatalf("%d jobs running when the server was killed, want %d", n, jobs)
	}
	startServerProcess(t, dir, env...)
	done := bson.M{"kind": events.KindFunction, "status": events.StatusDone}
	waitLong(t, 2*time.Minute, "every job to be done after the restart", func() bool { return countDocs(t, st, db.Jobs, done) == jobs })
	if n := countDocs(t, st, "finished", nil); n != jobs {
		t.Errorf("%d handlers finished, want %d", n, jobs)
	}
	lost := bson.M{"kind": events.KindFunction, "attempt": 2, "errors.0.error": bson.M{"$regex": "^lease expired: worker .* stopped or stalled during attempt 1$"}}
	if n := countDocs(t, st, db.Jobs, lost); n != jobs {
		t.Errorf("%d jobs record the attempt lost with the killed server, want %d", n, jobs)
	}
}
