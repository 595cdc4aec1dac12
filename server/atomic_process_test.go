package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// Two server processes share a data directory while clients create,
// update and delete documents, register accounts and change their
// profiles through both, and the processes are killed with SIGKILL in the
// middle of it, again and again. Afterwards every change the store holds
// has exactly one event, no event reports a change the store does not
// hold, and every event's function ran.
func TestKilledServersLoseNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const (
		kills   = 6
		clients = 16
	)
	dir := t.TempDir()
	// Several processes writing flat out on one directory: SQLite does
	// not queue their writers fairly, and on a loaded machine a process
	// starting beside a busy one waited more than the default 5s for the
	// write lock. Waiting is not what this test is about.
	env := []string{"MOONBASE_EVENTS_LEASE=2s", "MOONBASE_DB_BUSY_TIMEOUT=30s"}
	var (
		mu    sync.Mutex
		procs = []*serverProcess{startServerProcess(t, dir, env...), startServerProcess(t, dir, env...)}
	)
	urlOf := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return procs[i%len(procs)].url
	}
	triggers := []any{map[string]any{"event": events.UserRegistered}}
	for _, name := range []string{events.DocCreated, events.DocUpdated, events.DocDeleted} {
		triggers = append(triggers, map[string]any{"event": name, "collection": "items"})
	}
	// Each run leaves a mark named after its event; a second run of the
	// same event (after a kill) finds it there, which is allowed.
	saveFunctionAt(t, procs[0].url, "audit", map[string]any{"triggers": triggers, "source": `
function handle(input, ctx)
  pcall(backend.create, "seen", {_id = ctx.id, event = ctx.event})
end`})
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i] = procs[i%2].signUp(t, fmt.Sprintf("client%d@example.com", i))
	}

	// Clients write until told to stop. An answer says a change was
	// stored; a request cut by a kill may or may not have been.
	var (
		stop    atomic.Bool
		ops     atomic.Int64
		wg      sync.WaitGroup
		updated sync.Map // "id v" of every update answered 200
		renamed sync.Map // every name a profile update was answered 200 for
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				base := urlOf(c + i)
				if i%5 == 4 {
					tryCall(base, "POST", "/api/auth/register", fmt.Sprintf(`{"email":"c%d-%d@example.com","password":"password123"}`, c, i), "")
					ops.Add(1)
					continue
				}
				if i%5 == 2 {
					name := fmt.Sprintf("n%d-%d", c, i)
					if status, _ := tryCall(base, "PATCH", "/api/auth/me", `{"name":"`+name+`"}`, tokens[c]); status == http.StatusOK {
						renamed.Store(name, true)
					}
					ops.Add(1)
					continue
				}
				status, body := tryCall(base, "POST", "/api/db/items", fmt.Sprintf(`{"client":%d,"i":%d}`, c, i), tokens[c])
				ops.Add(1)
				if status != http.StatusCreated {
					continue
				}
				var doc struct {
					ID string `json:"_id"`
				}
				if json.Unmarshal([]byte(body), &doc) != nil || doc.ID == "" {
					continue
				}
				v := fmt.Sprintf("%d-%d", c, i)
				if status, _ := tryCall(urlOf(c+i+1), "PATCH", "/api/db/items/"+doc.ID, `{"v":"`+v+`"}`, tokens[c]); status == http.StatusOK {
					updated.Store(doc.ID+" "+v, true)
				}
				ops.Add(1)
				if i%3 == 0 {
					tryCall(urlOf(c+i), "DELETE", "/api/db/items/"+doc.ID, "", tokens[c])
					ops.Add(1)
				}
			}
		}()
	}
	for k := range kills {
		// Let some writes through, then kill one process mid-stream and
		// start another in its place.
		target := ops.Load() + 150
		waitLong(t, 2*time.Minute, "clients to write", func() bool { return ops.Load() >= target })
		mu.Lock()
		victim := procs[k%2]
		mu.Unlock()
		victim.kill(t)
		next := startServerProcess(t, dir, env...)
		mu.Lock()
		procs[k%2] = next
		mu.Unlock()
	}
	target := ops.Load() + 30
	waitLong(t, 2*time.Minute, "clients to write after the last kill", func() bool { return ops.Load() >= target })
	stop.Store(true)
	wg.Wait()

	st := openShared(t, dir)
	ctx := context.Background()
	evs, err := st.C(db.Events).Find(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Events by what they report.
	created, deleted, registered := map[string]int{}, map[string]int{}, map[string]int{}
	names := map[string]int{} // "user-id name" of each user_updated
	updates := map[string]int{}
	subscribed := 0
	for _, e := range evs {
		data, _ := e["data"].(bson.M)
		if c, ok := data["collection"]; ok && c != "items" {
			continue // the function's own marks
		}
		switch e["name"] {
		case events.DocCreated:
			created[fmt.Sprint(data["id"])]++
		case events.DocUpdated:
			doc, _ := data["doc"].(bson.M)
			updates[fmt.Sprint(data["id"])+" "+fmt.Sprint(doc["v"])]++
		case events.DocDeleted:
			deleted[fmt.Sprint(data["id"])]++
		case events.UserRegistered:
			user, _ := data["user"].(bson.M)
			registered[fmt.Sprint(user["id"])]++
		case events.UserUpdated:
			user, _ := data["user"].(bson.M)
			names[fmt.Sprint(user["id"])+" "+fmt.Sprint(user["name"])]++
			continue
		default:
			continue
		}
		subscribed++
		if e["pending"] != nil {
			t.Errorf("event %v is still pending", e["_id"])
		}
	}
	items, err := st.C("items").Find(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range items {
		id := idString(d["_id"])
		if created[id] != 1 {
			t.Errorf("item %s has %d doc_created events, want 1", id, created[id])
		}
		if deleted[id] != 0 {
			t.Errorf("item %s is stored but has %d doc_deleted events", id, deleted[id])
		}
		if v, ok := d["v"]; ok && updates[id+" "+fmt.Sprint(v)] != 1 {
			t.Errorf("item %s holds v=%v, which has %d doc_updated events, want 1", id, v, updates[id+" "+fmt.Sprint(v)])
		}
	}
	for id, n := range created {
		if n != 1 {
			t.Errorf("item %s has %d doc_created events, want 1", id, n)
		}
	}
	for id, n := range deleted {
		if n != 1 || created[id] != 1 {
			t.Errorf("item %s has %d doc_deleted and %d doc_created events, want 1 of each", id, n, created[id])
		}
	}
	for key, n := range updates {
		if n != 1 {
			t.Errorf("update %q has %d doc_updated events, want 1", key, n)
		}
	}
	answered := 0
	updated.Range(func(k, _ any) bool {
		answered++
		if updates[k.(string)] != 1 {
			t.Errorf("update %q was answered 200 but has %d events", k, updates[k.(string)])
		}
		return true
	})
	users, err := st.C(db.Users).Find(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		id := u["_id"].(primitive.ObjectID).Hex()
		if registered[id] != 1 {
			t.Errorf("user %s has %d user_registered events, want 1", u["email"], registered[id])
		}
		if name, _ := u["name"].(string); name != "" && names[id+" "+name] != 1 {
			t.Errorf("user %s holds name %s, which has %d user_updated events, want 1", u["email"], name, names[id+" "+name])
		}
	}
	for key, n := range names {
		if n != 1 {
			t.Errorf("profile update %q has %d user_updated events, want 1", key, n)
		}
	}
	renamed.Range(func(k, _ any) bool {
		found := 0
		for key, n := range names {
			if strings.HasSuffix(key, " "+k.(string)) {
				found += n
			}
		}
		if found != 1 {
			t.Errorf("profile update to %q was answered 200 but has %d user_updated events", k, found)
		}
		return true
	})
	if len(registered) != len(users) {
		t.Errorf("%d user_registered events for %d users", len(registered), len(users))
	}
	t.Logf("%d operations, %d events, %d items kept, %d deleted, %d updates answered, %d users", ops.Load(), subscribed, len(items), len(deleted), answered, len(users))

	// Every event's function ran, in the end (jobs held by a killed
	// process run again once their lease runs out).
	waitLong(t, 2*time.Minute, "every event's function to run", func() bool {
		return countDocs(t, st, "seen", nil) == int64(subscribed)
	})
}

// tryCall sends one request and returns its status and body, or status 0
// when the request failed (its server was killed).
func tryCall(base, method, path, body, token string) (int, string) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, ""
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := testClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, ""
	}
	return res.StatusCode, string(b)
}
