package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// A server killed with SIGKILL while it deletes the documents of a
// deleted account leaves the rest to the account's clean-up job: the next
// server to start on the data directory deletes them, and every document
// ends up deleted exactly once, with one doc_deleted.
func TestKilledServerFinishesAccountCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const owned = 1500
	dir := t.TempDir()
	env := []string{"MOONBASE_AUTH_ON_DELETE=delete", "MOONBASE_EVENTS_LEASE=2s"}
	p := startServerProcess(t, dir, env...)
	token := p.signUp(t, "alice@example.com")
	me := p.call(t, "GET", "/api/auth/me", "", token)
	if me.status != http.StatusOK {
		t.Fatalf("me: %d %s", me.status, me.body)
	}
	user, _ := me.json(t)["user"].(map[string]any)
	aliceID, _ := user["id"].(string)
	if aliceID == "" {
		t.Fatalf("me answered no id: %s", me.body)
	}
	if res := p.call(t, "POST", "/api/db/notes", `{"first":true}`, token); res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	// The rest of alice's notes go straight into the store, which is
	// quicker than as many requests.
	st := openShared(t, dir)
	ctx := context.Background()
	docs := make([]bson.M, owned-1)
	for i := range docs {
		docs[i] = bson.M{"_id": primitive.NewObjectID(), db.OwnerField: aliceID, "n": i}
	}
	if _, err := st.C("notes").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.C("notes").InsertOne(ctx, bson.M{"_id": primitive.NewObjectID(), db.OwnerField: "someone else"}); err != nil {
		t.Fatal(err)
	}

	deleted := func() int64 {
		return countDocs(t, st, db.Events, bson.M{"name": events.DocDeleted, "data.collection": "notes"})
	}
	answered := make(chan int, 1)
	go func() {
		status, _ := tryCall(p.url, "DELETE", "/api/auth/me", `{"password":"password123"}`, token)
		answered <- status
	}()
	waitLong(t, 30*time.Second, "the clean-up to start", func() bool { return deleted() > 0 })
	p.kill(t)
	<-answered
	left := countDocs(t, st, "notes", bson.M{db.OwnerField: aliceID})
	if left == 0 {
		t.Fatalf("the clean-up of %d documents finished before the kill; nothing left to prove", owned)
	}
	t.Logf("killed with %d of %d documents left", left, owned)
	if n := countDocs(t, st, db.Users, bson.M{"email": "alice@example.com"}); n != 0 {
		t.Fatalf("the account is still stored after its deletion started")
	}

	startServerProcess(t, dir, env...)
	waitLong(t, 60*time.Second, "the clean-up job to finish", func() bool {
		return countDocs(t, st, db.Jobs, bson.M{"kind": KindAccountCleanup, "status": events.StatusDone}) == 1
	})
	if n := countDocs(t, st, "notes", bson.M{db.OwnerField: aliceID}); n != 0 {
		t.Errorf("%d of alice's documents left", n)
	}
	if n := countDocs(t, st, "notes", nil); n != 1 {
		t.Errorf("%d notes left, want the other owner's one", n)
	}
	evs, err := st.C(db.Events).Find(ctx, bson.M{"name": events.DocDeleted, "data.collection": "notes"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range evs {
		data, _ := ev["data"].(bson.M)
		seen[fmt.Sprint(data["id"])]++
	}
	if len(seen) != owned || len(evs) != owned {
		t.Errorf("%d doc_deleted events for %d documents, want one for each of %d", len(evs), len(seen), owned)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("document %s: %d doc_deleted events", id, n)
		}
	}
	if n := countDocs(t, st, db.Events, bson.M{"pending": bson.M{"$exists": true}}); n != 0 {
		t.Errorf("%d events left pending", n)
	}
}
