package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

func TestConcurrentClaimsAreExclusive(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	jobs := s.C("jobs")
	mustIndex(t, jobs, false, "state")
	batch := make([]bson.M, 200)
	for i := range batch {
		batch[i] = bson.M{"n": i, "state": "queued"}
	}
	if _, err := jobs.InsertMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claims := map[int32]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				doc, err := jobs.FindOneAndUpdate(ctx, bson.M{"state": "queued"},
					bson.M{"$set": bson.M{"state": "claimed", "by": w}}, &db.FindOneAndUpdateOptions{ReturnAfter: true})
				if errors.Is(err, db.ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if doc["state"] != "claimed" || doc["by"] != int32(w) {
					errs <- errors.New("the returned document is not the updated one")
					return
				}
				mu.Lock()
				claims[doc["n"].(int32)]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claims) != 200 {
		t.Fatalf("%d jobs claimed, want 200", len(claims))
	}
	for n, k := range claims {
		if k != 1 {
			t.Errorf("job %d claimed %d times", n, k)
		}
	}
}

func TestConcurrentIncrementsAllCount(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("counters")
	ids := mustInsert(t, c, bson.M{"n": 0})
	var wg sync.WaitGroup
	errs := make(chan error, 16*100)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				res, err := c.UpdateOne(ctx, db.ByID(ids[0]), bson.M{"$inc": bson.M{"n": 1}}, nil)
				if err == nil && (res.Matched != 1 || res.Modified != 1) {
					err = errors.New("an increment did not modify the counter")
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	doc, err := c.FindOne(ctx, db.ByID(ids[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := doc["n"].(int32); n != 1600 {
		t.Fatalf("n = %#v, want 1600", doc["n"])
	}
}

func TestConcurrentUniqueInsertsHaveOneWinner(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("once")
	mustIndex(t, c, true, "key")
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		results := make(chan error, 16)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				_, err := c.InsertOne(ctx, bson.M{"key": round, "by": w})
				results <- err
			}(w)
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			var dup *db.DuplicateKeyError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &dup) && dup.Index == "key_1":
			default:
				t.Fatalf("insert: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, wins)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	c := s.C("ctx")
	mustInsert(t, c, bson.M{"a": 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.InsertOne(ctx, bson.M{"a": 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("InsertOne with a cancelled context = %v", err)
	}
	if _, err := c.Find(ctx, bson.M{"a": 1}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Find with a cancelled context = %v", err)
	}
	if _, err := c.UpdateMany(ctx, nil, bson.M{"$set": bson.M{"a": 3}}); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateMany with a cancelled context = %v", err)
	}
	if n, err := c.Count(context.Background(), nil); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1: a cancelled write changed nothing", n, err)
	}
}

// Sorted reads through an index hold a read transaction; many of them at
// once, more than the read pool has connections, on statements not
// prepared yet, must all finish rather than wait on each other.
func TestConcurrentSortedReadsDoNotStarveThePool(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	versions := s.C("versions")
	mustIndex(t, versions, false, "name", "version")
	for v := 1; v <= 5; v++ {
		mustInsert(t, versions, bson.M{"name": "f", "version": v})
	}
	workers := 4 * DefaultReadConns
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				// A new sort direction per worker keeps statements unprepared.
				doc, err := versions.FindOne(ctx, bson.M{"name": "f", "version": bson.M{"$gte": w % 3}}, &db.FindOptions{Sort: bson.D{{Key: "version", Value: -1}}})
				if err != nil {
					errs <- err
					return
				}
				if got := doc["version"]; got != int32(5) {
					errs <- fmt.Errorf("latest version = %v, want 5", got)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
