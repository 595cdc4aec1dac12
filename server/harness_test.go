package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

const testAdminToken = "test-admin-token-0123456789"

// testConfig is a configuration for one test server: a free port, its own
// data directory, cheap bcrypt, a known admin token and one collection per
// access rule.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Auth.BcryptCost = 4
	cfg.AdminToken = testAdminToken
	cfg.Collections = map[string]CollectionConfig{
		"notes":     {}, // owner, the default
		"posts":     {Read: db.RulePublic, Write: db.RuleOwner},
		"board":     {Read: db.RuleAuthenticated, Write: db.RuleAuthenticated},
		"guestbook": {Read: db.RulePublic, Write: db.RulePublic},
		"vault":     {Read: db.RuleNone, Write: db.RuleNone},
		"slugs":     {Read: db.RulePublic, Write: db.RuleOwner, Indexes: []IndexConfig{{Fields: []string{"slug"}, Unique: true}}},
	}
	return cfg
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// containsLine reports whether one line of logs holds every one of parts.
func containsLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// testServer is a started server and a client for it.
type testServer struct {
	*Server
	logs *testsupport.LockedBuffer
}

// startServer builds and starts a server on cfg and shuts it down when the
// test ends.
func startServer(t *testing.T, cfg Config, deps Deps) *testServer {
	t.Helper()
	logs := &testsupport.LockedBuffer{}
	if deps.Logger == nil {
		deps.Logger = slogTo(logs)
	}
	if deps.Stderr == nil {
		deps.Stderr = io.Discard
	}
	s, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testServer{Server: s, logs: logs}
}

// response is an HTTP answer read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body into a map, failing the test if it is not one.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

var testClient = &http.Client{Timeout: 20 * time.Second}

// do sends one request. token "" sends no Authorization header.
func (ts *testServer) do(t *testing.T, method, path, body, token string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL()+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// testUser is a registered user and their session token.
type testUser struct {
	id, email, token string
}

// register signs a user up and returns their id and token.
func (ts *testServer) register(t *testing.T, email, password string) testUser {
	t.Helper()
	res := ts.do(t, "POST", "/api/auth/register", `{"email":"`+email+`","password":"`+password+`"}`, "")
	if res.status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, res.status, res.body)
	}
	m := res.json(t)
	user := m["user"].(map[string]any)
	return testUser{id: user["id"].(string), email: email, token: m["token"].(string)}
}

// eventNames lists the names of the events recorded in _events, oldest
// first.
func (ts *testServer) eventNames(t *testing.T) []string {
	t.Helper()
	return ts.eventNamesOf(t, nil)
}

// requestEventNames lists the names of the events requests recorded,
// oldest first: not those of functions' writes, which carry their run as
// their cause and land whenever the run does.
func (ts *testServer) requestEventNames(t *testing.T) []string {
	t.Helper()
	return ts.eventNamesOf(t, bson.M{"cause": bson.M{"$exists": false}})
}

func (ts *testServer) eventNamesOf(t *testing.T, filter bson.M) []string {
	t.Helper()
	docs, err := ts.Store().C(db.Events).Find(context.Background(), filter, &db.FindOptions{Sort: bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}})
	if err != nil {
		t.Fatalf("read _events: %v", err)
	}
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i], _ = d["name"].(string)
	}
	return names
}

// lastEvent returns the data of the newest event named name.
func (ts *testServer) lastEvent(t *testing.T, name string) map[string]any {
	t.Helper()
	docs, err := ts.Store().C(db.Events).Find(context.Background(), bson.M{"name": name}, &db.FindOptions{Sort: bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}})
	if err != nil || len(docs) == 0 {
		t.Fatalf("no %s event recorded (err %v)", name, err)
	}
	data, _ := docs[len(docs)-1]["data"].(bson.M)
	return data
}

// scenario is one HTTP exchange and what must come of it. Scenarios of one
// table run in order against one server, each seeing what the previous
// ones left.
type scenario struct {
	name    string
	method  string
	path    string // may hold {name} placeholders filled by vars
	body    string
	token   string // a vars key (such as "alice") or a literal token
	headers []string

	wantStatus  int
	wantContent []string // substrings the body must hold
	notContent  []string // substrings it must not hold
	wantEvents  []string // events recorded by this request, in order, not by functions' writes; nil means none
	// anyEvents skips the events check, for a request that starts work
	// whose events may or may not land before the check (a replayed job
	// that dies again emits job_dead).
	anyEvents bool

	// after runs with the response, to check more or remember ids.
	after func(t *testing.T, res response, vars map[string]string)
}

// runScenarios runs each scenario as a subtest against ts. vars fills
// {placeholders} in paths, bodies and expected content and names tokens.
func runScenarios(t *testing.T, ts *testServer, vars map[string]string, scenarios []scenario) {
	t.Helper()
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
			// Placeholders inside an escaped query parameter.
			s = strings.ReplaceAll(s, url.QueryEscape("{"+k+"}"), url.QueryEscape(v))
		}
		return s
	}
	for _, sc := range scenarios {
		ok := t.Run(sc.name, func(t *testing.T) {
			before := len(ts.requestEventNames(t))
			token := sc.token
			if v, ok := vars[token]; ok {
				token = v
			}
			res := ts.do(t, sc.method, expand(sc.path), expand(sc.body), token, sc.headers...)
			if res.status != sc.wantStatus {
				t.Errorf("status %d, want %d; body %s", res.status, sc.wantStatus, res.body)
			}
			for _, want := range sc.wantContent {
				if !strings.Contains(res.body, expand(want)) {
					t.Errorf("body lacks %q: %s", expand(want), res.body)
				}
			}
			for _, not := range sc.notContent {
				if strings.Contains(res.body, expand(not)) {
					t.Errorf("body holds %q: %s", expand(not), res.body)
				}
			}
			got := ts.requestEventNames(t)[before:]
			if !sc.anyEvents && !slices.Equal(got, sc.wantEvents) && !(len(got) == 0 && len(sc.wantEvents) == 0) {
				t.Errorf("events %v, want %v", got, sc.wantEvents)
			}
			if sc.after != nil && !t.Failed() {
				sc.after(t, res, vars)
			}
		})
		if !ok {
			t.Fatalf("scenario %q failed; later ones build on it", sc.name)
		}
	}
}

// requireRunsOK checks that function has exactly want execution records,
// every one of a run that ended well.
func requireRunsOK(t *testing.T, s *Server, function string, want int) {
	t.Helper()
	execs, err := s.functions.Executions(context.Background(), function, want+1)
	if err != nil || len(execs) != want {
		t.Errorf("%d execution records of %s (err %v), want %d", len(execs), function, err, want)
	}
	for _, e := range execs {
		if e.Status != "ok" {
			t.Errorf("%s run %+v", function, e)
		}
	}
}
