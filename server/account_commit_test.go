package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/storetest"
	"github.com/moonbase-dev/moonbase/events"
)

// blockEvent makes the store refuse to record the next event named name
// about userID: a unique index on (name, data.user.id) and an event
// already holding that pair.
func blockEvent(t *testing.T, ts *testServer, name, userID string) {
	t.Helper()
	ctx := context.Background()
	col := ts.Store().C(db.Events)
	if err := col.EnsureIndex(ctx, db.Index{Name: "test_block", Keys: []db.IndexKey{{Field: "name"}, {Field: "data.user.id"}}, Unique: true}); err != nil {
		t.Fatalf("index _events: %v", err)
	}
	if _, err := col.InsertOne(ctx, bson.M{
		"_id": "blocker", "name": name, "data": bson.M{"user": bson.M{"id": userID}},
		"at": time.Now().UTC(), "depth": 0, "dispatched": true,
	}); err != nil {
		t.Fatalf("insert the blocking event: %v", err)
	}
}

// A change to an account and its event are stored together or not at
// all: when the store refuses the event, the change is not made either,
// whichever call or function makes it.
func TestAccountChangesCommitWithTheirEvents(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name  string
		event string
		// change makes the change; it must not succeed.
		change func(t *testing.T, ts *testServer, alice testUser)
	}{
		{"a profile update", events.UserUpdated, func(t *testing.T, ts *testServer, alice testUser) {
			if res := ts.do(t, "PATCH", "/api/auth/me", `{"name":"Mallory"}`, alice.token); res.status < 400 {
				t.Errorf("profile update answered %d %s", res.status, res.body)
			}
		}},
		{"a password change", events.UserUpdated, func(t *testing.T, ts *testServer, alice testUser) {
			res := ts.do(t, "POST", "/api/auth/password", `{"current_password":"alice's password","new_password":"a new password"}`, alice.token)
			if res.status < 400 {
				t.Errorf("password change answered %d %s", res.status, res.body)
			}
		}},
		{"a function's update", events.UserUpdated, func(t *testing.T, ts *testServer, alice testUser) {
			ts.putFunction(t, "upgrade", `function handle(input, ctx)
  return backend.asServiceRole.update("users", ctx.user.id, {plan = "pro"})
end`, `[{"invoke": true}]`)
			if res := ts.do(t, "POST", "/api/functions/upgrade", `{}`, alice.token); res.status < 400 {
				t.Errorf("upgrade answered %d %s", res.status, res.body)
			}
		}},
		{"a deletion", events.UserDeleted, func(t *testing.T, ts *testServer, alice testUser) {
			if res := ts.do(t, "DELETE", "/api/auth/me", `{"password":"alice's password"}`, alice.token); res.status < 400 {
				t.Errorf("deletion answered %d %s", res.status, res.body)
			}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, accountConfig(t), Deps{})
			alice := ts.register(t, "alice@example.com", "alice's password")
			oid, _ := primitive.ObjectIDFromHex(alice.id)
			before, err := ts.Store().C(db.Users).FindOne(context.Background(), db.ByID(oid), nil)
			if err != nil {
				t.Fatal(err)
			}
			blockEvent(t, ts, sc.event, alice.id)
			sc.change(t, ts, alice)
			after, err := ts.Store().C(db.Users).FindOne(context.Background(), db.ByID(oid), nil)
			if err != nil {
				t.Fatalf("the account is gone without its event: %v", err)
			}
			for _, f := range []string{"name", db.UserPasswordHash, db.UserUpdatedAt, "plan"} {
				if !equalValues(before[f], after[f]) {
					t.Errorf("%s changed from %v to %v without its event", f, before[f], after[f])
				}
			}
			if n := len(ts.docs(t, db.Sessions, bson.M{"user_id": alice.id})); n != 1 {
				t.Errorf("%d sessions left, want alice's one", n)
			}
			if n := len(ts.docs(t, db.Events, bson.M{"name": sc.event})); n != 1 {
				t.Errorf("%d %s events, want only the blocking one", n, sc.event)
			}
		})
	}
}

// equalValues compares two stored values of the same field.
func equalValues(a, b any) bool {
	if ta, tb := db.TimeOf(a), db.TimeOf(b); !ta.IsZero() || !tb.IsZero() {
		return ta.Equal(tb)
	}
	return a == b
}

// On a store without transactions (MongoDB, here FerretDB) account
// changes record their events as pending and settle them: each ends up
// recorded once, settled, with the account as changed.
func TestAccountChangesOnMongoDB(t *testing.T) {
	t.Parallel()
	cfg := accountConfig(t)
	cfg.DB.URI = storetest.StartFerretDB(t)
	cfg.DB.Database = "moonbase_accounts_test"
	cfg.Auth.OnDelete = OnDeleteDelete
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	ts.putFunction(t, "upgrade", `function handle(input, ctx)
  return backend.asServiceRole.update("users", ctx.user.id, {plan = "pro"})
end`, `[{"invoke": true}]`)
	if res := ts.do(t, "POST", "/api/db/notes", `{"x":1}`, alice.token); res.status != http.StatusCreated {
		t.Fatalf("create note: %d %s", res.status, res.body)
	}
	steps := []struct {
		method, path, body string
		status             int
		event              string
		check              func(data bson.M) bool
	}{
		{"PATCH", "/api/auth/me", `{"name":"Alice"}`, http.StatusOK, events.UserUpdated,
			func(d bson.M) bool { return d["user"].(bson.M)["name"] == "Alice" }},
		{"POST", "/api/functions/upgrade", `{}`, http.StatusOK, events.UserUpdated,
			func(d bson.M) bool { return d["user"].(bson.M)["plan"] == "pro" }},
		{"POST", "/api/auth/password", `{"current_password":"alice's password","new_password":"a new password"}`, http.StatusNoContent, events.UserUpdated,
			func(d bson.M) bool { f, _ := d["fields"].(bson.A); return len(f) == 1 && f[0] == "password" }},
		{"DELETE", "/api/auth/me", `{"password":"a new password"}`, http.StatusNoContent, events.UserDeleted,
			func(d bson.M) bool { return d["on_delete"] == OnDeleteDelete }},
	}
	for _, st := range steps {
		before := len(ts.docs(t, db.Events, bson.M{"name": st.event}))
		if res := ts.do(t, st.method, st.path, st.body, alice.token); res.status != st.status {
			t.Fatalf("%s %s: %d %s", st.method, st.path, res.status, res.body)
		}
		evs := ts.docs(t, db.Events, bson.M{"name": st.event})
		if len(evs) != before+1 {
			t.Fatalf("%s %s: %d %s events, want %d", st.method, st.path, len(evs), st.event, before+1)
		}
		ev := ts.lastEvent(t, st.event)
		if !st.check(ev) {
			t.Errorf("%s %s: %s data %v", st.method, st.path, st.event, ev)
		}
	}
	if n := len(ts.docs(t, db.Events, bson.M{"pending": bson.M{"$exists": true}})); n != 0 {
		t.Errorf("%d events left pending", n)
	}
	if evs := ts.eventDocs(t, events.DocDeleted, "notes"); len(evs) != 1 {
		t.Errorf("%d doc_deleted events for alice's note, want 1", len(evs))
	}
}
