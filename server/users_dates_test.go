package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// An account's created_at is a date wherever it shows, written
// {"$date": "…Z"} as documents' dates are: register, login, me and the
// admin list agree on it, and a function compares it as a date.
func TestAccountCreatedAtIsADate(t *testing.T) {
	t.Parallel()
	ts := startServer(t, accountConfig(t), Deps{})
	before := time.Now().UTC().Truncate(time.Millisecond)
	reg := ts.do(t, "POST", "/api/auth/register", `{"email":"alice@example.com","password":"alice's password"}`, "")
	if reg.status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	token := reg.json(t)["token"].(string)
	ts.putFunction(t, "signedUp", `function handle(input)
  local u = backend.findOne("users", {email = "alice@example.com", created_at = {["$lte"] = backend.now()}})
  local none = backend.count("users", {created_at = {["$gt"] = backend.now()}})
  return {kind = type(u.created_at), later = u.created_at + 60, none = none}
end`, `[{"invoke": true}]`)
	// createdAt reads created_at out of an answer at path (keys into
	// nested objects, the last may be an array index).
	createdAt := func(t *testing.T, what string, res response, path ...any) time.Time {
		t.Helper()
		if res.status != http.StatusOK && res.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", what, res.status, res.body)
		}
		var v any
		if err := json.Unmarshal([]byte(res.body), &v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		date, ok := v.(map[string]any)
		if !ok || len(date) != 1 {
			t.Fatalf("%s: created_at is %v, want {\"$date\": …}", what, v)
		}
		at, err := time.Parse(db.ExtJSONTimeFormat, date["$date"].(string))
		if err != nil {
			t.Fatalf("%s: created_at %v: %v", what, date, err)
		}
		return at
	}
	first := createdAt(t, "register", reg, "user", "created_at")
	if first.Before(before) || first.After(time.Now()) {
		t.Errorf("created_at %v is not the time of registering (after %v)", first, before)
	}
	scenarios := []struct {
		name string
		res  response
		path []any
	}{
		{"login", ts.do(t, "POST", "/api/auth/login", `{"email":"alice@example.com","password":"alice's password"}`, ""), []any{"user", "created_at"}},
		{"me", ts.do(t, "GET", "/api/auth/me", "", token), []any{"user", "created_at"}},
		{"admin users", ts.do(t, "GET", "/api/admin/users", "", testAdminToken), []any{"users", 0, "created_at"}},
		{"a function's query of users", ts.do(t, "POST", "/api/admin/functions/signedUp/run", `{"input":{},"trigger":"schedule"}`, testAdminToken), nil},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.path == nil {
				res := sc.res.json(t)["result"]
				m, _ := res.(map[string]any)
				later, _ := m["later"].(map[string]any)
				if m["kind"] != "userdata" || m["none"] != float64(0) || later["$date"] != first.Add(time.Minute).Format(db.ExtJSONTimeFormat) {
					t.Errorf("the function saw %v: %s", res, sc.res.body)
				}
				return
			}
			if got := createdAt(t, sc.name, sc.res, sc.path...); !got.Equal(first) {
				t.Errorf("created_at %v, register said %v", got, first)
			}
		})
	}
}
