package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

// The harness every example's test uses: a real server on the embedded
// store and a free port, the example folders deployed through the real
// admin deploy route (what `moonbase deploy` sends), and small clients for
// the user and admin APIs.

const adminToken = "examples-admin-token-0123456789"

// exampleWait bounds every wait of these tests: an example server runs
// more at once than a package test does, so it is given longer.
const exampleWait = 15 * time.Second

// testServer is a started server.
type testServer struct {
	*server.Server
	t *testing.T
}

// startServer starts a server for one test, with its own data directory,
// and shuts it down when the test ends. configure, when given, changes the
// configuration first (collections, limits, …).
func startServer(t *testing.T, configure ...func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.Auth.BcryptCost = 4
	cfg.Events.PollInterval = 50 * time.Millisecond
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := server.New(cfg, server.Deps{Logger: slog.New(slog.DiscardHandler), Stderr: io.Discard})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testServer{Server: srv, t: t}
}

// response is an answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body into v, failing the test when it cannot.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("answer is not the JSON expected: %v\n%s", err, r.Body)
	}
}

// Map is the body as a JSON object.
func (r response) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

var client = &http.Client{Timeout: 30 * time.Second}

// do sends one request. body is sent as it is when it is a string, as JSON
// otherwise (nil sends none); token "" sends no Authorization header.
func (s *testServer) do(t *testing.T, method, path string, body any, token string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

// admin sends one admin API request.
func (s *testServer) admin(t *testing.T, method, path string, body any) response {
	t.Helper()
	return s.do(t, method, path, body, adminToken)
}

// user is a registered, signed-in user.
type user struct {
	ID, Email, Name, Token string
}

// register signs a user up.
func (s *testServer) register(t *testing.T, email, name string) user {
	t.Helper()
	res := s.do(t, "POST", "/api/auth/register", map[string]string{"email": email, "password": "password of " + email, "name": name}, "")
	if res.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, res.Status, res.Body)
	}
	var ans struct {
		User  struct{ ID string }
		Token string
	}
	res.JSON(t, &ans)
	return user{ID: ans.User.ID, Email: email, Name: name, Token: ans.Token}
}

// functionFile is function.yaml.
type functionFile struct {
	Name     string            `yaml:"name"`
	Entry    string            `yaml:"entry"`
	Handler  string            `yaml:"handler"`
	Triggers []map[string]any  `yaml:"triggers"`
	Timeout  string            `yaml:"timeout"`
	Retries  *int              `yaml:"retries"`
	Backoff  map[string]string `yaml:"backoff"`
}

// readFunction reads one function folder (function.yaml and its entry,
// main.lua by default) into the definition the admin API takes.
func readFunction(t *testing.T, dir string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "function.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ff functionFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&ff); err != nil {
		t.Fatalf("%s/function.yaml: %v", dir, err)
	}
	name := filepath.Base(dir)
	if ff.Name != "" && ff.Name != name {
		t.Fatalf("%s/function.yaml names %q; the folder and the name must agree", dir, ff.Name)
	}
	if ff.Entry == "" {
		ff.Entry = "main.lua"
	}
	src, err := os.ReadFile(filepath.Join(dir, ff.Entry))
	if err != nil {
		t.Fatal(err)
	}
	def := map[string]any{"name": name, "source": string(src), "triggers": ff.Triggers}
	if ff.Triggers == nil {
		def["triggers"] = []any{}
	}
	if ff.Handler != "" {
		def["handler"] = ff.Handler
	}
	if ff.Timeout != "" {
		def["timeout"] = ff.Timeout
	}
	if ff.Retries != nil {
		def["retries"] = *ff.Retries
	}
	if ff.Backoff != nil {
		def["backoff"] = ff.Backoff
	}
	return def
}

// functionDirs lists the function folders of a functions folder: those
// holding a function.yaml.
func functionDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		_, err := os.Stat(filepath.Join(dir, e.Name(), "function.yaml"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		dirs = append(dirs, filepath.Join(dir, e.Name()))
	}
	return dirs
}

// deployed is what a deploy did to one function.
type deployed struct {
	Name    string `json:"name"`
	Action  string `json:"action"`
	Version int64  `json:"version"`
}

// deploy sends the function folders in one POST /api/admin/deploy, as
// `moonbase deploy` does, and fails the test unless it is accepted.
func (s *testServer) deploy(t *testing.T, dirs ...string) []deployed {
	t.Helper()
	defs := make([]map[string]any, len(dirs))
	for i, d := range dirs {
		defs[i] = readFunction(t, d)
	}
	res := s.admin(t, "POST", "/api/admin/deploy", map[string]any{"functions": defs})
	if res.Status != http.StatusOK {
		t.Fatalf("deploy %v: %d %s", dirs, res.Status, res.Body)
	}
	var ans struct{ Functions []deployed }
	res.JSON(t, &ans)
	return ans.Functions
}

// outboxMessage is an email the server stored instead of sending (no SMTP
// server is configured in tests).
type outboxMessage struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
}

// outbox lists the stored emails, newest first.
func (s *testServer) outbox(t *testing.T) []outboxMessage {
	t.Helper()
	res := s.admin(t, "GET", "/api/admin/outbox", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("outbox: %d %s", res.Status, res.Body)
	}
	var ans struct{ Messages []outboxMessage }
	res.JSON(t, &ans)
	return ans.Messages
}

// waitForOutbox waits until n emails are in the outbox (emails are queued
// and sent by a worker) and returns them, newest first.
func (s *testServer) waitForOutbox(t *testing.T, n int) []outboxMessage {
	t.Helper()
	var msgs []outboxMessage
	testsupport.WaitForWithin(t, exampleWait, "emails in the outbox", func() bool {
		msgs = s.outbox(t)
		return len(msgs) >= n
	})
	return msgs
}

// docs reads a collection straight from the store, for checking effects.
func (s *testServer) docs(t *testing.T, collection string, filter map[string]any) []map[string]any {
	t.Helper()
	found, err := s.Store().C(collection).Find(context.Background(), filter, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(found))
	for i, d := range found {
		out[i] = d
	}
	return out
}

// insert writes documents straight into the store, for setting up data a
// client could not write as such (dates, other users' documents).
func (s *testServer) insert(t *testing.T, collection string, docs ...map[string]any) {
	t.Helper()
	for _, d := range docs {
		if _, err := s.Store().C(collection).InsertOne(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
}

// account registers a user and sets app fields on their account, as a
// function keeps them (trialEndsAt, isPaid …), straight in the store.
func (s *testServer) account(t *testing.T, email, name string, fields map[string]any) user {
	t.Helper()
	u := s.register(t, email, name)
	if _, err := s.Store().C(db.Users).UpdateOne(context.Background(), map[string]any{"email": email},
		map[string]any{"$set": fields}, nil); err != nil {
		t.Fatal(err)
	}
	return u
}
