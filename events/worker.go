package events

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// fetchTick claims a job once a worker slot is free and starts it. It
// asks to be called again at once when it claimed one; otherwise the fetch
// loop polls after PollInterval, or sooner when a local Enqueue or a
// finished job signals it.
func (q *Queue) fetchTick(ctx context.Context) bool {
	select {
	case q.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	var (
		claimed *claim
		err     error
	)
	// Expired leases are rare; looking for them every few polls is
	// enough, and each look is a write on the store.
	if time.Since(q.lastReclaim) >= max(q.cfg.PollInterval, q.cfg.Lease/4) {
		q.lastReclaim = time.Now()
		claimed, err = q.claim(true)
	}
	if claimed == nil && err == nil {
		claimed, err = q.claim(false)
	}
	if claimed != nil {
		q.running.Add(1)
		go q.run(claimed)
		return true
	}
	<-q.slots
	if err != nil {
		// A busy or unreachable store: try again at the next poll.
		q.log.Warn("claim job", "err", err)
	}
	return false
}

// claim is a job this instance holds, with what it needs to finish it.
type claim struct {
	job  Job
	kind kind
	// chain lets recording the job's outcome claim the next job.
	chain bool
}

// claim atomically takes the oldest due pending job, or with reclaim the
// job whose lease ran out longest ago. It returns nil when there is none.
// (Under a backlog most jobs are not claimed here but by the worker that
// finished the one before, in the same write: see finish.)
func (q *Queue) claim(reclaim bool) (*claim, error) {
	kinds := q.kindNames()
	if len(kinds) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Lease)
	defer cancel()
	now := storeTime(q.now())
	filter, update, opts := q.claimQuery(reclaim, kinds, now)
	before, err := q.jobs.FindOneAndUpdate(ctx, filter, update, opts)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := q.claimed(before, now)
	if err != nil {
		return nil, err
	}
	job := c.job
	if reclaim {
		// The document as it was tells which worker lost its lease.
		lost := fmt.Errorf("lease expired: worker %s stopped or stalled during attempt %d", str(before["worker"]), job.Attempt-1)
		q.log.Warn("reclaimed job", "job", job.ID, "kind", job.Kind, "err", lost)
		if err := q.recordLost(ctx, job, lost, now); err != nil {
			return nil, err
		}
		if job.Attempt > job.MaxAttempts {
			// The lost attempt was the last one.
			return nil, nil
		}
	}
	return c, nil
}

// claimQuery is the filter, update and sort of one claim at now: the
// oldest due pending job, or with reclaim the running job whose lease ran
// out longest ago.
func (q *Queue) claimQuery(reclaim bool, kinds bson.A, now time.Time) (bson.M, bson.M, *db.FindOneAndUpdateOptions) {
	filter := bson.M{"status": StatusPending, "run_at": bson.M{"$lte": now}, "kind": bson.M{"$in": kinds}}
	sortBy := bson.D{{Key: "run_at", Value: 1}}
	if reclaim {
		filter = bson.M{"status": StatusRunning, "lease_until": bson.M{"$lt": now}, "kind": bson.M{"$in": kinds}}
		sortBy = bson.D{{Key: "lease_until", Value: 1}}
	}
	lease := storeTime(now.Add(q.cfg.Lease))
	update := bson.M{
		"$set": bson.M{"status": StatusRunning, "worker": q.worker, "lease_until": lease, "started_at": now, "updated_at": now},
		"$inc": bson.M{"attempt": 1},
	}
	return filter, update, &db.FindOneAndUpdateOptions{Sort: sortBy}
}

// claimed is the claim of the job whose document was before, as it was
// before a claim at now.
func (q *Queue) claimed(before bson.M, now time.Time) (*claim, error) {
	job := jobFromDoc(before)
	job.Status, job.Worker, job.LeaseUntil, job.StartedAt, job.UpdatedAt = StatusRunning, q.worker, storeTime(now.Add(q.cfg.Lease)), now, now
	job.Attempt++
	k, ok := q.kind(job.Kind)
	if !ok {
		// Kinds are never unregistered, so this cannot happen; leave the
		// job to its lease rather than lose it.
		return nil, fmt.Errorf("claimed job %s of unregistered kind %q", job.ID, job.Kind)
	}
	return &claim{job: job, kind: k}, nil
}

// recordLost adds the attempt a dead worker left unfinished to the error
// history of the job just reclaimed, and makes the job dead when that
// attempt was its last.
func (q *Queue) recordLost(ctx context.Context, job Job, lost error, now time.Time) error {
	msg := lost.Error()
	entry := bson.M{"attempt": job.Attempt - 1, "at": now, "error": msg}
	update := bson.M{"$set": bson.M{"last_error": msg}}
	if job.Attempt > job.MaxAttempts {
		update = bson.M{
			"$set":   bson.M{"status": StatusDead, "last_error": msg, "finished_at": now, "updated_at": now},
			"$unset": bson.M{"lease_until": ""},
			"$inc":   bson.M{"attempt": -1},
		}
		q.log.Warn("job dead", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt-1, "err", msg)
	} else {
		entry["retry_at"] = now
	}
	update["$push"] = bson.M{"errors": entry}
	res, err := q.jobs.UpdateOne(ctx, q.fence(job), update, nil)
	if err == nil && res.Matched > 0 && job.Attempt > job.MaxAttempts {
		job.Status, job.LastError, job.Attempt = StatusDead, msg, job.Attempt-1
		q.died(job)
	}
	return err
}

// fence selects the job only while this instance still holds the attempt
// it claimed, so a worker that lost its lease cannot overwrite the work of
// the one that took the job over.
func (q *Queue) fence(j Job) bson.M {
	return bson.M{"_id": j.ID, "status": StatusRunning, "worker": q.worker, "attempt": j.Attempt}
}

// run runs a claimed job, holding a worker slot. Recording its outcome
// may claim the next due job in the same write (see finish); run then runs
// that one too, up to chainMax jobs, after which it gives the slot back
// to the fetch loop, which also looks for expired leases.
func (q *Queue) run(c *claim) {
	defer q.running.Done()
	defer func() { <-q.slots }()
	for n := 1; c != nil; n++ {
		c.chain = n < chainMax
		c = q.runOnce(c)
	}
}

// chainMax bounds the jobs one worker runs in a row without going back
// to the fetch loop.
const chainMax = 64

// runOnce runs one attempt of a claimed job and records its outcome. It
// returns the job claimed with the outcome, if any.
func (q *Queue) runOnce(c *claim) *claim {
	ctx, cancel := context.WithCancel(q.runCtx)
	defer cancel()
	st := &settlement{}
	ctx = context.WithValue(ctx, settleKey{}, st)
	renewed := make(chan struct{})
	go q.renew(ctx, cancel, c.job, renewed)
	hctx := ctx
	if c.kind.timeout > 0 {
		var stop context.CancelFunc
		hctx, stop = context.WithTimeout(ctx, c.kind.timeout)
		defer stop()
	}
	err := call(hctx, c.kind.handler, c.job)
	cancel()
	<-renewed
	if err != nil && q.cutOff.Load() {
		// Cut off by Shutdown: the job stays leased and is claimed again
		// when the lease runs out.
		return nil
	}
	return q.finish(c, err, storeTime(q.now()), st.take()...)
}

// call runs h, turning a panic into an error so one bad job cannot stop
// the workers.
func call(ctx context.Context, h JobHandler, job Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, job)
}

// renew extends the lease of a running job each time a third of it is
// used up, until ctx ends. The first renewal is timed from the lease the
// claim obtained, so a claim that waited long for the database renews at
// once. When the lease turns out lost (another worker reclaimed the job),
// it cancels the job's context.
func (q *Queue) renew(ctx context.Context, lost context.CancelFunc, job Job, done chan<- struct{}) {
	defer close(done)
	next := job.LeaseUntil.Add(-2 * q.cfg.Lease / 3)
	for {
		timer := time.NewTimer(max(next.Sub(q.now()), 0))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		now := q.now()
		res, err := q.jobs.UpdateOne(ctx, q.fence(job), bson.M{"$set": bson.M{
			"lease_until": storeTime(now.Add(q.cfg.Lease)), "updated_at": storeTime(now),
		}}, nil)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// The lease still runs; try again well before it ends.
			q.log.Warn("renew job lease", "job", job.ID, "err", err)
			next = now.Add(q.cfg.Lease / 10)
		case res.Matched == 0:
			q.log.Warn("job lease lost to another worker", "job", job.ID, "kind", job.Kind)
			lost()
			return
		default:
			next = now.Add(q.cfg.Lease / 3)
		}
	}
}

// finish records the outcome of an attempt: done, a retry after the job's
// own backoff or else its kind's, or dead after the last attempt or a
// permanent error. The handler's writes (Settle) go with it. With c.chain
// set and the queue not stopping, the same write claims the next due job,
// which finish returns for the caller to run.
func (q *Queue) finish(c *claim, runErr error, now time.Time, writes ...SettleFunc) *claim {
	job := c.job
	var update bson.M
	dead := false
	switch {
	case runErr == nil:
		update = bson.M{
			"$set":   bson.M{"status": StatusDone, "finished_at": now, "updated_at": now},
			"$unset": bson.M{"lease_until": ""},
		}
	case IsPermanent(runErr) || job.Attempt >= job.MaxAttempts:
		msg := summarize(runErr)
		dead = true
		update = bson.M{
			"$set":   bson.M{"status": StatusDead, "last_error": msg, "finished_at": now, "updated_at": now},
			"$unset": bson.M{"lease_until": ""},
			"$push":  bson.M{"errors": bson.M{"attempt": job.Attempt, "at": now, "error": msg}},
		}
		q.log.Warn("job dead", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "err", msg)
	default:
		msg := summarize(runErr)
		delay := c.kind.backoff
		if job.Backoff != nil {
			delay = job.Backoff.delay
		}
		wait := delay(job.Attempt)
		var re *RetryError
		if errors.As(runErr, &re) {
			wait = re.After
		}
		retryAt := storeTime(now.Add(wait))
		update = bson.M{
			"$set":   bson.M{"status": StatusPending, "run_at": retryAt, "last_error": msg, "updated_at": now},
			"$unset": bson.M{"lease_until": "", "worker": ""},
			"$push":  bson.M{"errors": bson.M{"attempt": job.Attempt, "at": now, "error": msg, "retry_at": retryAt}},
		}
		q.log.Info("job failed, will retry", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "retry_at", retryAt, "err", msg)
	}
	// The outcome is worth a few tries: if it is not recorded, the job
	// runs again once its lease expires.
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Lease)
		res, next, err := q.record(ctx, job, update, &writes, c.chain && !q.draining.Load())
		cancel()
		switch {
		case err == nil && res.Matched == 0:
			q.log.Warn("job outcome not recorded: its lease was lost to another worker", "job", job.ID, "kind", job.Kind)
			return next
		case err == nil:
			if dead {
				job.Status, job.LastError, job.FinishedAt = StatusDead, summarize(runErr), now
				q.died(job)
			}
			return next
		case try == 3:
			q.log.Error("record job outcome", "job", job.ID, "kind", job.Kind, "err", err)
			return nil
		}
		time.Sleep(time.Duration(try) * 100 * time.Millisecond)
	}
}
