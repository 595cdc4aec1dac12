package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// The concurrency cases are the mutual exclusions moonbase builds on:
// claiming a job with FindOneAndUpdate, counting with $inc, and a unique
// key insert that only one writer wins. Each runs on one store shared by
// all workers, as the server shares its store.

func testConcurrency(t *testing.T, s *suite) {
	st := s.open(t)

	t.Run("ClaimEachJobOnce", func(t *testing.T) {
		s.parallel(t)
		const jobs, workers = 200, 8
		c := coll(t, st)
		docs := make([]bson.M, jobs)
		for i := range docs {
			docs[i] = bson.M{"_id": int32(i), "state": "ready"}
		}
		insert(t, c, docs...)

		claims := make([][]int32, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					doc, err := c.FindOneAndUpdate(t.Context(), bson.M{"state": "ready"},
						bson.M{"$set": bson.M{"state": "taken", "by": int32(w)}},
						&db.FindOneAndUpdateOptions{Sort: bson.D{{Key: "_id", Value: 1}}, ReturnAfter: true})
					if errors.Is(err, db.ErrNotFound) {
						return
					}
					if err != nil {
						errs[w] = err
						return
					}
					if doc["by"] != int32(w) {
						errs[w] = fmt.Errorf("worker %d got back %s, claimed by someone else", w, describe(doc))
						return
					}
					claims[w] = append(claims[w], doc["_id"].(int32))
				}
			}()
		}
		wg.Wait()
		ok(t, errors.Join(errs...), "claim")
		seen := map[int32]int{}
		total := 0
		for _, list := range claims {
			for _, id := range list {
				seen[id]++
				total++
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("job %d was claimed %d times", id, n)
			}
		}
		same(t, "claims", total, jobs)
		same(t, "jobs still ready", count(t, c, bson.M{"state": "ready"}), int64(0))
		for w, list := range claims {
			same(t, fmt.Sprintf("jobs recorded as worker %d's", w), count(t, c, bson.M{"by": int32(w)}), int64(len(list)))
		}
	})

	t.Run("IncrementsAddUp", func(t *testing.T) {
		s.parallel(t)
		const writers, each = 16, 100
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "counter", "n": int32(0)})
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					res, err := c.UpdateOne(t.Context(), db.ByID("counter"), bson.M{"$inc": bson.M{"n": 1}}, nil)
					if err == nil && res.Modified != 1 {
						err = fmt.Errorf("an increment modified %d documents", res.Modified)
					}
					if err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		ok(t, errors.Join(errs...), "increment")
		same(t, "counter", get(t, c, "counter"), bson.M{"_id": "counter", "n": int32(writers * each)})
	})

	t.Run("UniqueInsertHasOneWinner", func(t *testing.T) {
		s.parallel(t)
		const writers, keys = 16, 5
		c := coll(t, st)
		ok(t, c.EnsureIndex(t.Context(), uniqueOn("key")), "ensure index")
		for k := range keys {
			key := fmt.Sprintf("k%d", k)
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[w] = c.InsertOne(t.Context(), bson.M{"key": key, "w": int32(w)})
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, db.ErrDuplicateKey):
					t.Errorf("insert of %s: got %v, want nil or db.ErrDuplicateKey", key, err)
				}
			}
			same(t, "winners for "+key, wins, 1)
			same(t, "documents with "+key, count(t, c, bson.M{"key": key}), int64(1))
		}
	})
}
