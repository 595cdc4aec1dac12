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
	filter, sortBy, err := listOrder(status)
	if err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	docs, err := q.jobs.Find(ctx, filter, &db.FindOptions{Sort: sortBy, Limit: int64(limit), Skip: int64(max(skip, 0))})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobsOf(docs), nil
}

// ListAfter is List from the job after the one with id after (the last
// of the previous page; "" for the first page), in the list's order. The
// page starts from that job's place, so it costs what the first page
// does however deep it is, where skip steps over every job before it.
// Jobs sharing the sort key with it come in the index's order, which
// holds while they are not rewritten; should the job no longer be among
// them (it moved on), the page repeats those ties rather than miss any.
// An after that names no job is ErrJobNotFound.
func (q *Queue) ListAfter(ctx context.Context, status, after string, limit int) ([]Job, error) {
	filter, sortBy, err := listOrder(status)
	if err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	if after == "" {
		return q.ListPage(ctx, status, limit, 0)
	}
	key, dir := sortBy[0].Key, sortBy[0].Value.(int)
	cur, err := q.jobs.FindOne(ctx, db.ByID(after), &db.FindOptions{Projection: bson.M{key: 1}})
	if errors.Is(err, db.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q (it may have been swept since; start from the first page)", ErrJobNotFound, after)
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	if filter == nil {
		filter = bson.M{}
	}
	op := map[int]string{1: "$gt", -1: "$lt"}[dir]
	if key == "_id" {
		filter["_id"] = bson.M{op: cur["_id"]}
		docs, err := q.jobs.Find(ctx, filter, &db.FindOptions{Sort: sortBy, Limit: int64(limit)})
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		return jobsOf(docs), nil
	}
	v, ok := cur[key]
	if !ok || v == nil {
		return nil, fmt.Errorf("%w: job %q has no %s to page from (it changed status; start from the first page)", ErrJobNotFound, after, key)
	}
	// From the cursor's key on (ties included), dropping the ties up to
	// and including the cursor itself.
	filter[key] = bson.M{op + "e": v}
	at := db.TimeOf(v)
	for fetch := limit + 32; ; fetch *= 2 {
		docs, err := q.jobs.Find(ctx, filter, &db.FindOptions{Sort: sortBy, Limit: int64(fetch)})
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		ties := 0
		for ties < len(docs) && db.TimeOf(docs[ties][key]).Equal(at) {
			ties++
		}
		start := 0
		for i := range ties {
			if docs[i]["_id"] == cur["_id"] {
				start = i + 1
				break
			}
		}
		if start == 0 && ties == len(docs) && len(docs) == fetch {
			continue // the cursor may be further among the ties
		}
		page := docs[start:]
		if len(page) >= limit || len(docs) < fetch {
			return jobsOf(page[:min(limit, len(page))]), nil
		}
	}
}

// listOrder is the filter and order of the list of jobs with status.
func listOrder(status string) (bson.M, bson.D, error) {
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
		return nil, nil, fmt.Errorf("%w %q: use pending, running, done or dead", ErrInvalidStatus, status)
	}
	if status == "" {
		return nil, sortBy, nil
	}
	return bson.M{"status": status}, sortBy, nil
}

// listLimit applies List's default and cap.
func listLimit(limit int) int {
	if limit <= 0 {
		return DefaultListLimit
	}
	return min(limit, MaxListLimit)
}

func jobsOf(docs []bson.M) []Job {
	jobs := make([]Job, len(docs))
	for i, d := range docs {
		jobs[i] = jobFromDoc(d)
	}
	return jobs
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
