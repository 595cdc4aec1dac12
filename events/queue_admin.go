package events

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// List returns up to limit jobs with status ("" for every status): pending
// jobs in the order they will run, running jobs oldest claim first, done
// and dead jobs latest first by when their last attempt was due (claims
// take jobs in that order, so it is the order they finished in, give or
// take how long attempts ran), all jobs newest first by id (an id begins
// with the second its job was enqueued). A limit of 0 or less takes
// DefaultListLimit; it is capped at MaxListLimit.
//
// Each order but that of running jobs is one field an index serves (see
// jobIndexes), so a page reads its own jobs and no others, however long
// the backlog; ties come in the store's index order, the order claims see
// them in. Running jobs, a few per instance, are sorted as they are read.
func (q *Queue) List(ctx context.Context, status string, limit int) ([]Job, error) {
	return q.ListPage(ctx, status, limit, 0)
}

// ListPage is List after skipping skip jobs, for paging through a long
// list.
func (q *Queue) ListPage(ctx context.Context, status string, limit, skip int) ([]Job, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var filter bson.M
	var sortBy bson.D
	switch status {
	case "":
		sortBy = bson.D{{Key: "_id", Value: -1}}
	case StatusPending:
		sortBy = bson.D{{Key: "run_at", Value: 1}}
	case StatusRunning:
		sortBy = bson.D{{Key: "started_at", Value: 1}, {Key: "_id", Value: 1}}
	case StatusDone, StatusDead:
		sortBy = bson.D{{Key: "run_at", Value: -1}}
	default:
		return nil, fmt.Errorf("%w %q: use pending, running, done or dead", ErrInvalidStatus, status)
	}
	if status != "" {
		filter = bson.M{"status": status}
	}
	docs, err := q.jobs.Find(ctx, filter, &db.FindOptions{Sort: sortBy, Limit: int64(limit), Skip: int64(max(skip, 0))})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs := make([]Job, len(docs))
	for i, d := range docs {
		jobs[i] = jobFromDoc(d)
	}
	return jobs, nil
}

// Get returns the job with id, or ErrJobNotFound.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	d, err := q.jobs.FindOne(ctx, db.ByID(id), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Job{}, fmt.Errorf("%w: %q", ErrJobNotFound, id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	return jobFromDoc(d), nil
}

// replayUpdate makes a finished job pending again, due now, with a fresh
// set of attempts. Its error history stays.
func (q *Queue) replayUpdate() bson.M {
	now := storeTime(q.now())
	return bson.M{
		"$set":   bson.M{"status": StatusPending, "run_at": now, "attempt": 0, "updated_at": now},
		"$unset": bson.M{"finished_at": "", "worker": "", "lease_until": ""},
		"$inc":   bson.M{"replays": 1},
	}
}

// Replay runs a dead or done job again, with a fresh set of attempts, and
// returns it as it is now. A job that is pending or running is
// ErrNotReplayable; an unknown id ErrJobNotFound.
func (q *Queue) Replay(ctx context.Context, id string) (Job, error) {
	d, err := q.jobs.FindOneAndUpdate(ctx,
		bson.M{"_id": id, "status": bson.M{"$in": bson.A{StatusDead, StatusDone}}},
		q.replayUpdate(), &db.FindOneAndUpdateOptions{ReturnAfter: true})
	if errors.Is(err, db.ErrNotFound) {
		job, gerr := q.Get(ctx, id)
		if gerr != nil {
			return Job{}, gerr
		}
		return Job{}, fmt.Errorf("%w: job %s is %s", ErrNotReplayable, id, job.Status)
	}
	if err != nil {
		return Job{}, fmt.Errorf("replay job %s: %w", id, err)
	}
	q.signal()
	return jobFromDoc(d), nil
}

// ReplayDead runs every dead job again and returns how many.
func (q *Queue) ReplayDead(ctx context.Context) (int, error) {
	res, err := q.jobs.UpdateMany(ctx, bson.M{"status": StatusDead}, q.replayUpdate())
	if err != nil {
		return 0, fmt.Errorf("replay dead jobs: %w", err)
	}
	if res.Modified > 0 {
		q.signal()
	}
	return int(res.Modified), nil
}
