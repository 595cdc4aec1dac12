package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/storetest"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// durableStores are the two code paths of events.Bus.Commit: one
// transaction on the embedded store, pending-then-settle on MongoDB
// (here FerretDB).
var durableStores = []struct {
	name  string
	mongo bool
}{
	{"embedded", false},
	{"mongodb", true},
}

// durableConfig is accountConfig on the store of sc.
func durableConfig(t *testing.T, mongo bool, database string) Config {
	t.Helper()
	cfg := accountConfig(t)
	if mongo {
		cfg.DB.URI = storetest.StartFerretDB(t)
		cfg.DB.Database = database
	}
	return cfg
}

// blockDocDeleted makes the store refuse the doc_deleted event of one
// document: a unique index on (name, data.id, data.user.id) and an event
// already holding the triple. It returns the undo.
func blockDocDeleted(t *testing.T, ts *testServer, docID, userID string) func() {
	t.Helper()
	ctx := context.Background()
	col := ts.Store().C(db.Events)
	if err := col.EnsureIndex(ctx, db.Index{Name: "test_block_doc", Unique: true,
		Keys: []db.IndexKey{{Field: "name"}, {Field: "data.id"}, {Field: "data.user.id"}}}); err != nil {
		t.Fatalf("index _events: %v", err)
	}
	if _, err := col.InsertOne(ctx, bson.M{
		"_id": "blocker", "name": events.DocDeleted, "data": bson.M{"id": docID, "user": bson.M{"id": userID}},
		"at": time.Now().UTC(), "depth": 0, "dispatched": true,
	}); err != nil {
		t.Fatalf("insert the blocking event: %v", err)
	}
	return func() {
		t.Helper()
		if err := col.DropIndex(ctx, "test_block_doc"); err != nil {
			t.Fatalf("drop the blocking index: %v", err)
		}
		if _, err := col.DeleteOne(ctx, db.ByID("blocker")); err != nil {
			t.Fatalf("delete the blocking event: %v", err)
		}
	}
}

// cleanupJob returns the clean-up job of the account id, if there is one.
func (ts *testServer) cleanupJob(t *testing.T, id string) (events.Job, bool) {
	t.Helper()
	for _, j := range ts.listJobs(t, "") {
		if j.Kind == KindAccountCleanup {
			if u, _ := j.Payload["user"].(map[string]any); u != nil && u["id"] == id {
				return j, true
			}
			if u, _ := j.Payload["user"].(bson.M); u != nil && u["id"] == id {
				return j, true
			}
		}
	}
	return events.Job{}, false
}

// The documents of a deleted account are deleted even when the clean-up
// fails part-way: the store refuses the doc_deleted event of one of them,
// so the request's clean-up stops there; the job stored with the deletion
// retries until the store accepts it, and then every document is deleted
// exactly once, each with its doc_deleted.
func TestAccountCleanupOutlastsAFailure(t *testing.T) {
	t.Parallel()
	for _, sc := range durableStores {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			cfg := durableConfig(t, sc.mongo, "moonbase_cleanup_test")
			cfg.Auth.OnDelete = OnDeleteDelete
			ts := startServer(t, cfg, Deps{})
			alice := ts.register(t, "alice@example.com", "alice's password")
			bob := ts.register(t, "bob@example.com", "bob's password")
			created := map[string]bool{}
			blocked := ""
			for _, w := range []struct{ col, token string }{
				{"notes", alice.token}, {"notes", alice.token}, {"notes", alice.token}, {"posts", alice.token}, {"notes", bob.token},
			} {
				res := ts.do(t, "POST", "/api/db/"+w.col, `{"x":1}`, w.token)
				if res.status != http.StatusCreated {
					t.Fatalf("create: %d %s", res.status, res.body)
				}
				if w.token == alice.token {
					id := jsonField(t, res.body, "_id")
					created[w.col+"/"+id] = true
					if blocked == "" {
						blocked = id
					}
				}
			}
			owned := func(id string) int {
				return len(ts.docs(t, "notes", bson.M{db.OwnerField: id})) + len(ts.docs(t, "posts", bson.M{db.OwnerField: id}))
			}
			unblock := blockDocDeleted(t, ts, blocked, alice.id)
			if res := ts.do(t, "DELETE", "/api/auth/me", `{"password":"alice's password"}`, alice.token); res.status != http.StatusNoContent {
				t.Fatalf("delete the account: %d %s", res.status, res.body)
			}
			if res := ts.do(t, "GET", "/api/auth/me", "", alice.token); res.status != http.StatusUnauthorized {
				t.Errorf("the deleted account's session answered %d", res.status)
			}
			if n := len(ts.docs(t, db.Events, bson.M{"name": events.UserDeleted, "data.user.id": alice.id})); n != 1 {
				t.Errorf("%d user_deleted events, want 1", n)
			}
			testsupport.WaitFor(t, "the clean-up job to fail once", func() bool {
				j, ok := ts.cleanupJob(t, alice.id)
				return ok && j.Attempt >= 1 && j.LastError != "" && j.Status == events.StatusPending
			})
			if n := len(ts.docs(t, "notes", bson.M{"_id": mustOID(t, blocked)})); n != 1 {
				t.Fatalf("the note whose doc_deleted the store refuses is gone without it")
			}
			unblock()
			testsupport.WaitFor(t, "the clean-up job to finish", func() bool {
				j, ok := ts.cleanupJob(t, alice.id)
				return ok && j.Status == events.StatusDone
			})
			if n := owned(alice.id); n != 0 {
				t.Errorf("%d of alice's documents left", n)
			}
			if n := owned(bob.id); n != 1 {
				t.Errorf("%d of bob's documents left, want 1", n)
			}
			seen := map[string]int{}
			for _, col := range []string{"notes", "posts"} {
				for _, d := range ts.eventDocs(t, events.DocDeleted, col) {
					data := d["data"].(bson.M)
					user, _ := data["user"].(bson.M)
					if user["id"] != alice.id || user["email"] != "alice@example.com" || data["reason"] != ReasonAccountDeleted {
						t.Errorf("doc_deleted of %s = %v", col, data)
					}
					seen[col+"/"+data["id"].(string)]++
				}
			}
			for id := range created {
				if seen[id] != 1 {
					t.Errorf("%s: %d doc_deleted events, want 1", id, seen[id])
				}
			}
			if len(seen) != len(created) {
				t.Errorf("doc_deleted events for %v, want %v", seen, created)
			}
			if n := len(ts.docs(t, db.Events, bson.M{"pending": bson.M{"$exists": true}})); n != 0 {
				t.Errorf("%d events left pending", n)
			}
		})
	}
}

// A deletion that fails leaves the account, its documents and no
// clean-up job behind.
func TestFailedAccountDeletionQueuesNoCleanup(t *testing.T) {
	t.Parallel()
	for _, sc := range durableStores {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			cfg := durableConfig(t, sc.mongo, "moonbase_cleanup_fail_test")
			cfg.Auth.OnDelete = OnDeleteDelete
			ts := startServer(t, cfg, Deps{})
			alice := ts.register(t, "alice@example.com", "alice's password")
			if res := ts.do(t, "POST", "/api/db/notes", `{"x":1}`, alice.token); res.status != http.StatusCreated {
				t.Fatalf("create: %d %s", res.status, res.body)
			}
			blockEvent(t, ts, events.UserDeleted, alice.id)
			if res := ts.do(t, "DELETE", "/api/auth/me", `{"password":"alice's password"}`, alice.token); res.status < 400 {
				t.Fatalf("the deletion answered %d %s", res.status, res.body)
			}
			if j, ok := ts.cleanupJob(t, alice.id); ok {
				t.Errorf("a clean-up job was kept for an account still there: %+v", j)
			}
			if res := ts.do(t, "GET", "/api/auth/me", "", alice.token); res.status != http.StatusOK {
				t.Errorf("the account's session answered %d %s", res.status, res.body)
			}
			if n := len(ts.docs(t, "notes", bson.M{db.OwnerField: alice.id})); n != 1 {
				t.Errorf("%d of alice's notes left, want 1", n)
			}
		})
	}
}

// mustOID parses a document id the API answered.
func mustOID(t *testing.T, hex string) primitive.ObjectID {
	t.Helper()
	oid, err := primitive.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatalf("id %q: %v", hex, err)
	}
	return oid
}

// jsonField returns the string field name of a JSON object body.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	s, ok := m[name].(string)
	if !ok {
		t.Fatalf("answer %s has no string %s", body, name)
	}
	return s
}

// unblockEvent undoes blockEvent: the blocking event and its index go.
func unblockEvent(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	col := ts.Store().C(db.Events)
	if err := col.DropIndex(ctx, "test_block"); err != nil {
		t.Fatalf("drop the blocking index: %v", err)
	}
	if _, err := col.DeleteOne(ctx, db.ByID("blocker")); err != nil {
		t.Fatalf("delete the blocking event: %v", err)
	}
}

// A link is used in the same step as the change it asks for: when the
// change fails — here the store refuses its user_updated event — the link
// still works afterwards, once, on either store.
func TestLinkSurvivesAFailedChange(t *testing.T) {
	t.Parallel()
	flows := []struct {
		name string
		// link asks for a link for alice and returns its token.
		link func(t *testing.T, ts *testServer, alice testUser) string
		// use uses the token and returns the status.
		use func(t *testing.T, ts *testServer, token string) response
		ok  int
		// after checks the change was made.
		after func(t *testing.T, ts *testServer, alice testUser)
	}{
		{
			"password reset",
			func(t *testing.T, ts *testServer, alice testUser) string {
				n := len(ts.mailsTo(t, "alice@example.com"))
				if res := ts.do(t, "POST", "/api/auth/password-reset", `{"email":"alice@example.com"}`, ""); res.status != http.StatusAccepted {
					t.Fatalf("reset request: %d %s", res.status, res.body)
				}
				return ts.awaitLink(t, "alice@example.com", "Reset your password", n+1)
			},
			func(t *testing.T, ts *testServer, token string) response {
				return ts.do(t, "POST", "/api/auth/password-reset/confirm", `{"token":"`+token+`","password":"a new password"}`, "")
			},
			http.StatusNoContent,
			func(t *testing.T, ts *testServer, alice testUser) {
				if res := ts.do(t, "POST", "/api/auth/login", `{"email":"alice@example.com","password":"a new password"}`, ""); res.status != http.StatusOK {
					t.Errorf("sign-in with the new password: %d %s", res.status, res.body)
				}
			},
		},
		{
			"email verification",
			func(t *testing.T, ts *testServer, alice testUser) string {
				n := len(ts.mailsTo(t, "alice@example.com"))
				if res := ts.do(t, "POST", "/api/auth/verify-email/request", `{}`, alice.token); res.status != http.StatusAccepted {
					t.Fatalf("verification request: %d %s", res.status, res.body)
				}
				return ts.awaitLink(t, "alice@example.com", "Verify your email", n+1)
			},
			func(t *testing.T, ts *testServer, token string) response {
				return ts.do(t, "POST", "/api/auth/verify-email", `{"token":"`+token+`"}`, "")
			},
			http.StatusOK,
			func(t *testing.T, ts *testServer, alice testUser) {
				if res := ts.do(t, "GET", "/api/auth/me", "", alice.token); !strings.Contains(res.body, `"verified":true`) {
					t.Errorf("me after verification: %d %s", res.status, res.body)
				}
			},
		},
		{
			"email change",
			func(t *testing.T, ts *testServer, alice testUser) string {
				res := ts.do(t, "POST", "/api/auth/email", `{"new_email":"alice@example.org","password":"alice's password"}`, alice.token)
				if res.status != http.StatusAccepted {
					t.Fatalf("email change request: %d %s", res.status, res.body)
				}
				return ts.awaitLink(t, "alice@example.org", "Confirm your new email", 1)
			},
			func(t *testing.T, ts *testServer, token string) response {
				return ts.do(t, "POST", "/api/auth/email/confirm", `{"token":"`+token+`"}`, "")
			},
			http.StatusOK,
			func(t *testing.T, ts *testServer, alice testUser) {
				if res := ts.do(t, "GET", "/api/auth/me", "", alice.token); !strings.Contains(res.body, `"email":"alice@example.org"`) {
					t.Errorf("me after the change: %d %s", res.status, res.body)
				}
			},
		},
	}
	for _, sc := range durableStores {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, durableConfig(t, sc.mongo, "moonbase_links_test"), Deps{})
			for i, fl := range flows {
				t.Run(fl.name, func(t *testing.T) {
					email := "alice@example.com"
					alice := ts.register(t, email, "alice's password")
					defer func() { // free the email for the next flow
						cur := email
						if i == 2 {
							cur = "alice@example.org"
						}
						if _, err := ts.Store().C(db.Users).DeleteOne(context.Background(), bson.M{db.UserEmail: cur}); err != nil {
							t.Fatal(err)
						}
					}()
					token := fl.link(t, ts, alice)
					blockEvent(t, ts, events.UserUpdated, alice.id)
					if res := fl.use(t, ts, token); res.status < 400 {
						t.Fatalf("the change answered %d %s though the store refuses its event", res.status, res.body)
					}
					unblockEvent(t, ts)
					if res := fl.use(t, ts, token); res.status != fl.ok {
						t.Fatalf("the link after the failed change: %d %s, want %d", res.status, res.body, fl.ok)
					}
					fl.after(t, ts, alice)
					if res := fl.use(t, ts, token); res.status != http.StatusBadRequest || !strings.Contains(res.body, `"invalid_token"`) {
						t.Errorf("the link used twice: %d %s", res.status, res.body)
					}
				})
			}
		})
	}
}

// An email change refused because another account took the address
// meanwhile (a write the store refuses after the link is marked used, on
// a store without transactions) leaves the link usable once the address
// is free again.
func TestEmailLinkSurvivesATakenAddress(t *testing.T) {
	t.Parallel()
	for _, sc := range durableStores {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, durableConfig(t, sc.mongo, "moonbase_email_link_test"), Deps{})
			alice := ts.register(t, "alice@example.com", "alice's password")
			res := ts.do(t, "POST", "/api/auth/email", `{"new_email":"carol@example.com","password":"alice's password"}`, alice.token)
			if res.status != http.StatusAccepted {
				t.Fatalf("email change request: %d %s", res.status, res.body)
			}
			token := ts.awaitLink(t, "carol@example.com", "Confirm your new email", 1)
			carol := ts.register(t, "carol@example.com", "carol's password")
			confirm := `{"token":"` + token + `"}`
			// FerretDB reports the unique index's refusal of a
			// find-and-modify as an internal error, not as MongoDB's
			// duplicate key, so there the refusal is a 500.
			res = ts.do(t, "POST", "/api/auth/email/confirm", confirm, "")
			if want := http.StatusConflict; (!sc.mongo && res.status != want) || res.status < 400 {
				t.Fatalf("confirm with the address taken: %d %s, want %d", res.status, res.body, want)
			}
			if res := ts.do(t, "DELETE", "/api/auth/me", `{"password":"carol's password"}`, carol.token); res.status != http.StatusNoContent {
				t.Fatalf("delete carol: %d %s", res.status, res.body)
			}
			if res := ts.do(t, "POST", "/api/auth/email/confirm", confirm, ""); res.status != http.StatusOK || !strings.Contains(res.body, `"email":"carol@example.com"`) {
				t.Fatalf("confirm once the address is free: %d %s", res.status, res.body)
			}
			if res := ts.do(t, "POST", "/api/auth/email/confirm", confirm, ""); res.status != http.StatusBadRequest {
				t.Errorf("the link used twice: %d %s", res.status, res.body)
			}
		})
	}
}
