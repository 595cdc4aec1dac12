package events

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// finishLookback is how long before a stats window a job may have been
// last due and still finish inside it.
const finishLookback = time.Hour

// JobBucket counts what happened to jobs in one slice of a stats window:
// jobs queued, jobs that finished done and jobs that went dead.
type JobBucket struct {
	At      time.Time `json:"at"`
	Created int       `json:"created"`
	Done    int       `json:"done"`
	Dead    int       `json:"dead"`
}

// JobStats is the queue's activity over a window, in equal buckets, and
// how many jobs are in each state now.
type JobStats struct {
	Since         time.Time      `json:"since"`
	BucketSeconds int            `json:"bucket_seconds"`
	Buckets       []JobBucket    `json:"buckets"`
	Now           map[string]int `json:"now"` // status → jobs
}

// Stats counts the jobs queued and finished since since, in buckets of
// bucket, and the jobs in each state now. Done jobs removed by the
// retention sweep are no longer counted.
func (q *Queue) Stats(ctx context.Context, since time.Time, bucket time.Duration) (JobStats, error) {
	if bucket <= 0 {
		return JobStats{}, fmt.Errorf("job stats: bucket must be positive")
	}
	now := q.now()
	since = since.Truncate(bucket)
	n := int(now.Sub(since)/bucket) + 1
	st := JobStats{Since: since.UTC(), BucketSeconds: int(bucket / time.Second), Buckets: make([]JobBucket, n), Now: map[string]int{}}
	for i := range st.Buckets {
		st.Buckets[i].At = since.Add(time.Duration(i) * bucket).UTC()
	}
	slot := func(t time.Time) int {
		if t.Before(since) {
			return -1
		}
		return min(int(t.Sub(since)/bucket), n-1)
	}
	// Queued jobs are found by _id, which begins with the second they
	// were enqueued; finished ones by status and run_at (the index every
	// job list uses): a job finishes after it was last due, and one due
	// more than finishLookback before the window still running in it is
	// not counted.
	created, err := q.jobs.Find(ctx, bson.M{"_id": bson.M{"$gte": primitive.NewObjectIDFromTimestamp(since).Hex()}},
		&db.FindOptions{Projection: bson.M{"created_at": 1}})
	if err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	for _, d := range created {
		if i := slot(db.TimeOf(d["created_at"])); i >= 0 {
			st.Buckets[i].Created++
		}
	}
	for _, status := range []string{StatusDone, StatusDead} {
		docs, err := q.jobs.Find(ctx, bson.M{"status": status, "run_at": bson.M{"$gte": since.Add(-finishLookback)}},
			&db.FindOptions{Projection: bson.M{"finished_at": 1}})
		if err != nil {
			return st, fmt.Errorf("job stats: %w", err)
		}
		for _, d := range docs {
			i := slot(db.TimeOf(d["finished_at"]))
			switch {
			case i < 0:
			case status == StatusDone:
				st.Buckets[i].Done++
			default:
				st.Buckets[i].Dead++
			}
		}
	}
	for _, status := range []string{StatusPending, StatusRunning, StatusDone, StatusDead} {
		c, err := q.jobs.Count(ctx, bson.M{"status": status})
		if err != nil {
			return st, fmt.Errorf("job stats: %w", err)
		}
		st.Now[status] = int(c)
	}
	return st, nil
}
