package events

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/mongostore"
	"github.com/moonbase-dev/moonbase/db/storetest"
)

// commitStores are the stores Commit is tested on: the embedded store,
// which has transactions, and MongoDB over FerretDB, which has none and
// takes the pending-event path.
func commitStores(t *testing.T) []struct {
	name string
	open func(t *testing.T) db.Store
} {
	return []struct {
		name string
		open func(t *testing.T) db.Store
	}{
		{"embedded", func(t *testing.T) db.Store { return openStore(t, t.TempDir()) }},
		{"mongodb", func(t *testing.T) db.Store {
			if testing.Short() {
				t.Skip("starts FerretDB")
			}
			s, err := mongostore.Open(context.Background(), mongostore.Config{URI: storetest.StartFerretDB(t), Database: "commit_test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close(context.Background()) })
			return s
		}},
	}
}

// createChange is a Change that inserts doc into orders as doc_created.
func createChange(doc bson.M, depth int) Change {
	data := func(context.Context) (map[string]any, error) {
		return map[string]any{"collection": "orders", "id": doc["_id"], "doc": doc}, nil
	}
	return Change{
		Name: DocCreated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			if _, err := tx.C("orders").InsertOne(ctx, doc); err != nil {
				return nil, err
			}
			return data(ctx)
		},
		Pending: data,
		Check:   Check{Collection: "orders", Filter: db.ByID(doc["_id"]), Exists: true},
		Cause:   "run-1",
		Depth:   depth,
	}
}

func TestCommitStoresTheWriteAndItsEventTogether(t *testing.T) {
	for _, st := range commitStores(t) {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			saveFunction(t, store, "on-order", nil, bson.M{"event": DocCreated, "collection": "orders"})
			r := &runner{}
			bus, _ := newBus(t, store, r)
			ctx := context.Background()

			// A write that succeeds: the document, the event and its run.
			ev, err := bus.Commit(ctx, createChange(bson.M{"_id": "o1", "total": 12}, 3))
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			settled(t, store, ev.ID)
			if n := count(t, store, "orders", db.ByID("o1")); n != 1 {
				t.Errorf("documents stored: %d, want 1", n)
			}
			if n := count(t, store, db.Events, bson.M{"_id": ev.ID, "name": DocCreated, "dispatched": true, "depth": 3, "cause": "run-1", "data.id": "o1"}); n != 1 {
				t.Errorf("events recorded and dispatched with depth and cause: %d, want 1", n)
			}
			runs := r.of(ev.ID)
			if len(runs) != 1 || runs[0].Function != "on-order" || runs[0].Depth != 3 {
				t.Fatalf("runs of the event = %+v, want one of on-order at depth 3", runs)
			}

			// A write that fails: its error as it is, and no event.
			_, err = bus.Commit(ctx, createChange(bson.M{"_id": "o1", "total": 13}, 0))
			if !errors.Is(err, db.ErrDuplicateKey) {
				t.Fatalf("Commit of a duplicate: %v, want db.ErrDuplicateKey", err)
			}
			if n := count(t, store, db.Events, nil); n != 1 {
				t.Errorf("events after a failed write: %d, want 1", n)
			}
			if n := count(t, store, "orders", bson.M{"total": 13}); n != 0 {
				t.Errorf("documents of the failed write: %d, want 0", n)
			}
		})
	}
}

func TestCommitStopsAChainPastTheDepthLimit(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	saveFunction(t, store, "on-order", nil, bson.M{"event": DocCreated})
	r := &runner{}
	bus, _ := newBus(t, store, r)
	scenarios := []struct {
		name    string
		depth   int
		stopped bool
	}{
		{"at the limit", DefaultMaxChainDepth, false},
		{"past the limit", DefaultMaxChainDepth + 1, true},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ev, err := bus.Commit(context.Background(), createChange(bson.M{"_id": s.name}, s.depth))
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if ev.Stopped != s.stopped {
				t.Errorf("Stopped = %v, want %v", ev.Stopped, s.stopped)
			}
			settled(t, store, ev.ID)
			want := 1
			if s.stopped {
				want = 0
				if n := count(t, store, db.Events, bson.M{"_id": ev.ID, LoopStopped: true, "depth": s.depth}); n != 1 {
					t.Errorf("stopped events recorded: %d, want 1", n)
				}
			}
			if n := count(t, store, db.Jobs, bson.M{"payload.event_id": ev.ID}); n != want {
				t.Errorf("jobs of the event: %d, want %d", n, want)
			}
		})
	}
}

// A process that dies between recording a pending event and settling it
// leaves the event pending; the sweep settles it by its check: dispatched
// when the write is there, aborted when it is not.
func TestSweepSettlesPendingEvents(t *testing.T) {
	for _, st := range commitStores(t) {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			saveFunction(t, store, "on-order", nil, bson.M{"event": DocCreated})
			r := &runner{}
			clk := newClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
			q := newQueue(t, testConfig(), Deps{Store: store, Runner: r}, nil)
			bus := NewBus(testConfig(), Deps{Store: store, Queue: q, Logger: quiet, Now: clk.Now})
			ctx := context.Background()

			pending := func(id string) string {
				evID := primitive.NewObjectID().Hex()
				ch := createChange(bson.M{"_id": id}, 0)
				data, _ := ch.Pending(ctx)
				doc := eventDoc(Event{ID: evID, Name: DocCreated, Data: data, At: storeTime(clk.Now())})
				doc["dispatched"] = false
				doc["pending"] = bson.M{"collection": ch.Check.Collection, "filter": ch.Check.Filter, "exists": true}
				if _, err := store.C(db.Events).InsertOne(ctx, doc); err != nil {
					t.Fatal(err)
				}
				return evID
			}
			written := pending("written")
			if _, err := store.C("orders").InsertOne(ctx, bson.M{"_id": "written", "total": 7}); err != nil {
				t.Fatal(err)
			}
			lost := pending("never-written")

			clk.Add(redispatchGrace + time.Second)
			if _, err := bus.redispatch(ctx); err != nil {
				t.Fatalf("redispatch: %v", err)
			}
			settled(t, store, written)
			if runs := r.of(written); len(runs) != 1 || mapOf(mapOf(runs[0].Input)["doc"])["total"] != int32(7) {
				t.Errorf("runs of the written change = %+v, want one with the stored document", runs)
			}
			if n := count(t, store, db.Events, bson.M{"_id": written, "dispatched": true, "pending": bson.M{"$exists": false}}); n != 1 {
				t.Errorf("settled events: %d, want 1", n)
			}
			if n := count(t, store, db.Events, bson.M{"_id": lost, "aborted": true, "dispatched": true}); n != 1 {
				t.Errorf("aborted events: %d, want 1", n)
			}
			if n := count(t, store, db.Jobs, bson.M{"payload.event_id": lost}); n != 0 {
				t.Errorf("jobs of the aborted event: %d, want 0", n)
			}
		})
	}
}
