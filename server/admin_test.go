package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
)

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	if res := ts.do(t, "POST", "/api/db/scratch", `{"x":1}`, alice.token); res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	vars := map[string]string{"admin": testAdminToken, "alice": alice.token}
	runScenarios(t, ts, vars, []scenario{
		{
			name: "no token", method: "GET", path: "/api/admin/collections",
			wantStatus:  http.StatusUnauthorized,
			wantContent: []string{`{"error":{"code":"unauthenticated","message":"admin token missing or wrong"}}`},
		},
		{
			name: "a user's token is not the admin's", method: "GET", path: "/api/admin/collections", token: "alice",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "a wrong token", method: "GET", path: "/api/admin/collections", token: testAdminToken + "x",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "unknown admin routes need the token too", method: "GET", path: "/api/admin/nothing",
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "collections", method: "GET", path: "/api/admin/collections", token: "admin",
			wantStatus: http.StatusOK,
			wantContent: []string{
				`{"name":"posts","read":"public","write":"owner","indexes":[],"configured":true,"exists":true}`,
				`{"name":"scratch","read":"owner","write":"owner","indexes":[],"configured":false,"exists":true}`,
				`{"name":"slugs","read":"public","write":"owner","indexes":[{"fields":["slug"],"unique":true}],"configured":true,"exists":true}`,
				`"name":"vault","read":"none","write":"none"`,
			},
			notContent: []string{db.Users, db.Sessions, db.Events},
		},
		{
			name: "unknown admin route", method: "GET", path: "/api/admin/nothing", token: "admin",
			wantStatus: http.StatusNotFound, wantContent: []string{`"code":"not_found"`},
		},
	})
}

// TestAdminTokenGuardsEveryAdminRoute binds an admin route the way another
// area's file would, after the admin API's own: it needs the token too.
func TestAdminTokenGuardsEveryAdminRoute(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig(t), Deps{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.App().Get("/api/admin/later", func(c *fiber.Ctx) error { return c.SendString("secret") })
	for _, c := range []struct {
		token  string
		status int
	}{{"", 401}, {"wrong-token-of-some-length", 401}, {testAdminToken, 200}} {
		req := httptest.NewRequest(http.MethodGet, "/api/admin/later", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != c.status {
			t.Errorf("token %q: status %d, want %d", c.token, res.StatusCode, c.status)
		}
	}
}
