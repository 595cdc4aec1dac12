package embedded

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The benchmarks report cpu-ns/op, the process's processor time per
// operation, beside ns/op: on a machine shared with other work the wall
// time swings with what the others do, the processor time much less.

// cpuTime is the processor time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op b.N times and reports cpu-ns/op.
func measure(b *testing.B, op func(i int) error) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// benchPeople loads n documents shaped like the bench program's people,
// email uniquely indexed, and returns their ids.
func benchPeople(b *testing.B, s *Store, n int) (db.Collection, []any) {
	b.Helper()
	ctx := context.Background()
	c := s.C("people")
	if err := c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "email"}}, Unique: true}); err != nil {
		b.Fatal(err)
	}
	var ids []any
	for start := 0; start < n; start += 1000 {
		batch := make([]bson.M, 0, 1000)
		for i := start; i < start+1000 && i < n; i++ {
			batch = append(batch, bson.M{
				"name":    fmt.Sprintf("person %d", i),
				"email":   fmt.Sprintf("p%d@example.com", i),
				"age":     int64(20 + i%60),
				"score":   float64(i) / 7,
				"active":  i%2 == 0,
				"joined":  primitive.NewDateTimeFromTime(time.Unix(int64(i), 0)),
				"tags":    bson.A{"a", "b", fmt.Sprint(i % 10)},
				"address": bson.M{"city": "Lisbon", "zip": fmt.Sprint(1000 + i%100)},
			})
		}
		got, err := c.InsertMany(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return c, ids
}

func BenchmarkFindOneByID(b *testing.B) {
	c, ids := benchPeople(b, openBench(b), 10000)
	ctx := context.Background()
	measure(b, func(i int) error {
		_, err := c.FindOne(ctx, bson.M{"_id": ids[i*7919%len(ids)]}, nil)
		return err
	})
}

func BenchmarkFindOneByIndexedField(b *testing.B) {
	c, ids := benchPeople(b, openBench(b), 10000)
	ctx := context.Background()
	measure(b, func(i int) error {
		_, err := c.FindOne(ctx, bson.M{"email": fmt.Sprintf("p%d@example.com", i*7919%len(ids))}, nil)
		return err
	})
}

// benchJobs makes a collection with the five indexes of the job queue and
// n pending jobs due now.
func benchJobs(b *testing.B, s *Store, n int) db.Collection {
	b.Helper()
	ctx := context.Background()
	c := s.C("jobs")
	for _, idx := range []db.Index{
		{Name: "key_unique", Keys: []db.IndexKey{{Field: "key"}}, Unique: true},
		{Keys: []db.IndexKey{{Field: "status"}, {Field: "run_at"}}},
		{Keys: []db.IndexKey{{Field: "status"}, {Field: "lease_until"}}},
		{Keys: []db.IndexKey{{Field: "status"}, {Field: "finished_at"}}},
		{Keys: []db.IndexKey{{Field: "created_at"}}},
	} {
		if err := c.EnsureIndex(ctx, idx); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Unix(1_800_000_000, 0).UTC()
	batch := make([]bson.M, n)
	for i := range batch {
		at := now.Add(time.Duration(i) * time.Millisecond)
		batch[i] = bson.M{
			"key": fmt.Sprintf("job-%d", i), "kind": "email", "status": "pending",
			"payload": bson.M{"to": fmt.Sprintf("u%d@example.com", i), "template": "welcome"},
			"attempt": int32(0), "max_attempts": int32(5),
			"run_at": at, "created_at": at, "updated_at": at,
		}
	}
	if _, err := c.InsertMany(ctx, batch); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkClaimJob claims the oldest due job the way the job queue does:
// a FindOneAndUpdate over five indexes, sorted by run_at.
func BenchmarkClaimJob(b *testing.B) {
	c := benchJobs(b, openBench(b), b.N+100)
	ctx := context.Background()
	now := time.Unix(1_900_000_000, 0).UTC()
	measure(b, func(i int) error {
		_, err := c.FindOneAndUpdate(ctx,
			bson.M{"status": "pending", "run_at": bson.M{"$lte": now}, "kind": bson.M{"$in": bson.A{"email", "sms"}}},
			bson.M{
				"$set": bson.M{"status": "running", "worker": "w1", "lease_until": now.Add(time.Minute), "started_at": now, "updated_at": now},
				"$inc": bson.M{"attempt": 1},
			},
			&db.FindOneAndUpdateOptions{Sort: bson.D{{Key: "run_at", Value: 1}}})
		return err
	})
}

// BenchmarkFinishJob marks a running job done through the fence the job
// queue uses.
func BenchmarkFinishJob(b *testing.B) {
	s := openBench(b)
	c := benchJobs(b, s, b.N+100)
	ctx := context.Background()
	now := time.Unix(1_900_000_000, 0).UTC()
	if _, err := c.UpdateMany(ctx, bson.M{}, bson.M{"$set": bson.M{"status": "running", "worker": "w1", "lease_until": now, "attempt": int32(1)}}); err != nil {
		b.Fatal(err)
	}
	docs, err := c.Find(ctx, bson.M{}, &db.FindOptions{Projection: bson.M{"_id": 1}})
	if err != nil {
		b.Fatal(err)
	}
	measure(b, func(i int) error {
		res, err := c.UpdateOne(ctx,
			bson.M{"_id": docs[i]["_id"], "status": "running", "worker": "w1", "attempt": int32(1)},
			bson.M{"$set": bson.M{"status": "done", "finished_at": now, "updated_at": now}, "$unset": bson.M{"lease_until": ""}},
			nil)
		if err == nil && res.Modified != 1 {
			err = fmt.Errorf("modified %d", res.Modified)
		}
		return err
	})
}

// BenchmarkInsertMany inserts execution records in batches of 100; one op
// is one record.
func BenchmarkInsertMany(b *testing.B) {
	s := openBench(b)
	c := s.C("executions")
	ctx := context.Background()
	for _, f := range []string{"function", "started_at"} {
		if err := c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: f}}}); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Unix(1_800_000_000, 0).UTC()
	batch := make([]bson.M, 0, 100)
	measure(b, func(i int) error {
		batch = append(batch, bson.M{
			"function": fmt.Sprintf("fn%d", i%20), "status": "ok", "duration_ms": int64(i % 300),
			"started_at": now.Add(time.Duration(i) * time.Millisecond), "logs": bson.A{"started", "finished"},
		})
		if len(batch) < cap(batch) && i < b.N-1 {
			return nil
		}
		_, err := c.InsertMany(ctx, batch)
		batch = batch[:0]
		return err
	})
}
