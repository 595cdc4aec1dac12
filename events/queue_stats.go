package events

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

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
	filter := bson.M{"$or": bson.A{
		bson.M{"created_at": bson.M{"$gte": since}},
		bson.M{"finished_at": bson.M{"$gte": since}},
	}}
	proj := bson.M{"created_at": 1, "finished_at": 1, "status": 1}
	docs, err := q.jobs.Find(ctx, filter, &db.FindOptions{Projection: proj})
	if err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	for _, d := range docs {
		if i := slot(timeOf(d["created_at"])); i >= 0 {
			st.Buckets[i].Created++
		}
		i := slot(timeOf(d["finished_at"]))
		if i < 0 {
			continue
		}
		switch str(d["status"]) {
		case StatusDone:
			st.Buckets[i].Done++
		case StatusDead:
			st.Buckets[i].Dead++
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
