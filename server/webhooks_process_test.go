package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// A server killed with SIGKILL in the middle of delivering 500 queued
// webhooks loses none: restarted on the same data directory, it delivers
// every one at least once, and a delivery sent twice carries the same
// webhook-id and body both times.
func TestKilledServerLosesNoDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const total = 500
	var (
		mu     sync.Mutex
		bodies = map[string]string{} // webhook-id → body
		seen   int
		dups   int
		bad    []string
		open   = make(chan struct{})
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-open
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		seen++
		if prev, ok := bodies[id]; ok {
			dups++
			if prev != string(body) {
				bad = append(bad, id)
			}
		}
		bodies[id] = string(body)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(open) }) }
	t.Cleanup(release)

	dir := t.TempDir()
	env := []string{"MOONBASE_EVENTS_LEASE=2s", "MOONBASE_FUNCTIONS_HTTP_ALLOW_HOSTS=127.0.0.1", "MOONBASE_EVENTS_WORKERS=16"}
	a := startServerProcess(t, dir, env...)
	res := a.call(t, "POST", "/api/admin/webhooks/endpoints", `{"url":"`+recv.URL+`/in","events":["order.*"]}`, testAdminToken)
	if res.status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", res.status, res.body)
	}
	for i := range total {
		res := a.call(t, "POST", "/api/admin/webhooks/emit", fmt.Sprintf(`{"type":"order.paid","payload":{"n":%d}}`, i), testAdminToken)
		if res.status != http.StatusAccepted {
			t.Fatalf("emit %d: %d %s", i, res.status, res.body)
		}
	}
	st := openShared(t, dir)
	if n := countDocs(t, st, db.Deliveries, nil); n != total {
		t.Fatalf("%d deliveries recorded, want %d", n, total)
	}
	release()
	waitLong(t, time.Minute, "some deliveries to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen >= 100
	})
	a.kill(t)
	mu.Lock()
	before := len(bodies)
	mu.Unlock()
	if before >= total {
		t.Fatalf("every delivery arrived before the kill; the test proves nothing")
	}

	startServerProcess(t, dir, env...)
	waitLong(t, 2*time.Minute, "every delivery to be delivered", func() bool {
		return countDocs(t, st, db.Deliveries, bson.M{"status": webhooks.StatusDelivered}) == total
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != total {
		t.Fatalf("the receiver got %d distinct webhook-ids, want %d", len(bodies), total)
	}
	if len(bad) > 0 {
		t.Fatalf("deliveries sent twice with different bodies: %v", bad)
	}
	msgs, err := st.C(db.WebhookMessages).Find(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, ok := bodies[m["_id"].(string)]; !ok {
			t.Fatalf("message %v never arrived", m["_id"])
		}
	}
	t.Logf("%d arrived before the kill, %d duplicates after the restart", before, dups)
}
