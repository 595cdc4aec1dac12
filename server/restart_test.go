package server

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

var printedAdminToken = regexp.MustCompile(`mbadmin_[A-Za-z0-9_-]{43}`)

// TestRestartKeepsEverything stops a server and starts another on the same
// data_dir: users, sessions, documents and the admin token are all still
// there, and the token is not printed again.
func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.AdminToken = "" // generated on first start

	var firstOut testsupport.LockedBuffer
	first, err := New(cfg, Deps{Logger: discardLogger(), Stderr: &firstOut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Shutdown(context.Background()) }) // if the test stops early
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: first, logs: &testsupport.LockedBuffer{}}
	adminToken := printedAdminToken.FindString(firstOut.String())
	if adminToken == "" {
		t.Fatalf("first start printed no admin token: %q", firstOut.String())
	}
	alice := ts.register(t, "alice@example.com", "alice's password")
	created := ts.do(t, "POST", "/api/db/notes", `{"title":"kept"}`, alice.token)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	id := created.json(t)["_id"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(first.URL() + "/healthz"); err == nil {
		t.Error("the first server still answers after Shutdown")
	}

	var secondOut testsupport.LockedBuffer
	second := startServer(t, cfg, Deps{Stderr: &secondOut})
	if secondOut.String() != "" {
		t.Errorf("second start printed %q; the token is shown only once", secondOut.String())
	}
	if res := second.do(t, "GET", "/api/auth/me", "", alice.token); res.status != http.StatusOK {
		t.Errorf("old session after restart: %d %s", res.status, res.body)
	}
	login := second.do(t, "POST", "/api/auth/login", `{"email":"alice@example.com","password":"alice's password"}`, "")
	if login.status != http.StatusOK {
		t.Fatalf("login after restart: %d %s", login.status, login.body)
	}
	token := login.json(t)["token"].(string)
	if res := second.do(t, "GET", "/api/db/notes/"+id, "", token); res.status != http.StatusOK || !strings.Contains(res.body, `"title":"kept"`) {
		t.Errorf("document after restart: %d %s", res.status, res.body)
	}
	if res := second.do(t, "GET", "/api/admin/collections", "", adminToken); res.status != http.StatusOK {
		t.Errorf("admin token after restart: %d %s", res.status, res.body)
	}
	names := second.eventNames(t)
	if strings.Join(names, ",") != "user_registered,doc_created,user_login" {
		t.Errorf("events after restart: %v", names)
	}
}
