package events

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// KindRetention is the kind of the job that deletes old records.
const KindRetention = "retention"

// sweepBatch bounds the documents one delete removes, so a large sweep
// never holds the database's write lock for long.
const sweepBatch = 500

// SweepResult counts what one sweep deleted: documents, so Executions
// counts packs of execution records (one per function and flush, see
// lua's executions), not runs.
type SweepResult struct {
	Events     int64 `json:"events"`
	Executions int64 `json:"executions"`
	DoneJobs   int64 `json:"done_jobs"`
	DeadJobs   int64 `json:"dead_jobs"`
	// Other counts the deletions of the rules added with AddRule, by
	// collection.
	Other map[string]int64 `json:"other,omitempty"`
}

// rule is a retention rule another part added: documents of collection
// whose field is older than age, or what sweep deletes.
type rule struct {
	collection, field string
	age               time.Duration
	sweep             SweepFunc
}

// SweepFunc deletes the records another part keeps that are past their
// retention at now, and returns how many documents it deleted.
type SweepFunc func(ctx context.Context, now time.Time) (int64, error)

// AddSweep makes every sweep also call fn, for records whose retention is
// more than a date field's age (a webhook delivery is kept while it is
// pending, however old); its deletions are counted under collection in
// SweepResult.Other. It is meant for start-up wiring, before Start.
func (s *Sweeper) AddSweep(collection string, fn SweepFunc) {
	if fn != nil {
		s.rules = append(s.rules, rule{collection: collection, sweep: fn})
	}
}

// AddRule makes every sweep also delete the documents of collection whose
// date field is older than age, for records another part keeps (the
// inbound request log). It is meant for start-up wiring, before Start.
func (s *Sweeper) AddRule(collection, field string, age time.Duration) {
	if age > 0 {
		s.rules = append(s.rules, rule{collection: collection, field: field, age: age})
	}
}

// Sweeper keeps _events, _executions and finished _jobs within the ages of
// Config.Retention. It runs as a job (KindRetention) enqueued once per
// Retention.Interval under a key naming the interval, so several instances
// sweep once between them, and a sweep that fails is retried like any job.
type Sweeper struct {
	cfg   Retention
	store db.Store
	queue *Queue
	log   *slog.Logger
	now   func() time.Time

	rules []rule
	loop  *looper
}

// NewSweeper returns a sweeper over deps.Store and registers its job kind
// on deps.Queue.
func NewSweeper(cfg Config, deps Deps) (*Sweeper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Queue == nil {
		return nil, fmt.Errorf("%w: the retention sweeper needs a store and a queue", ErrInvalidConfig)
	}
	s := &Sweeper{
		cfg:   cfg.WithDefaults().Retention,
		store: deps.Store,
		queue: deps.Queue,
		log:   deps.logger(),
		now:   deps.clock(),
		loop:  newLooper("retention sweeper"),
	}
	deps.Queue.RegisterKind(KindRetention, func(ctx context.Context, _ Job) error {
		res, err := s.Sweep(ctx)
		if err == nil {
			s.log.Info("retention sweep", "events", res.Events, "executions", res.Executions, "done_jobs", res.DoneJobs, "dead_jobs", res.DeadJobs, "other", res.Other)
		}
		return err
	}, KindOptions{MaxAttempts: 3})
	return s, nil
}

// Start enqueues a sweep for the current interval and another at the
// start of every later one. ctx bounds the start-up only.
func (s *Sweeper) Start(ctx context.Context) error {
	if err := s.enqueue(ctx); err != nil {
		return err
	}
	return s.loop.startLater(func(ctx context.Context) bool {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.enqueue(ctx); err != nil {
			s.log.Warn("enqueue retention sweep", "err", err)
		}
		return false
	}, s.untilNextInterval)
}

// Shutdown stops enqueuing sweeps. It is idempotent.
func (s *Sweeper) Shutdown(ctx context.Context) error { return s.loop.shutdown(ctx) }

// untilNextInterval is the time left until the next interval starts.
func (s *Sweeper) untilNextInterval() time.Duration {
	now := s.now()
	return now.Truncate(s.cfg.Interval).Add(s.cfg.Interval).Sub(now)
}

// enqueue adds the sweep of the current interval unless an instance
// already did.
func (s *Sweeper) enqueue(ctx context.Context) error {
	period := s.now().UTC().Truncate(s.cfg.Interval)
	_, err := s.queue.Enqueue(ctx, KindRetention, nil, EnqueueOptions{Key: "retention@" + period.Format(time.RFC3339)})
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("enqueue retention sweep: %w", err)
	}
	return nil
}

// Sweep deletes the records older than their retention: events by `at`,
// executions by `started_at` (or `at` or `created_at`, whichever they
// carry), done and dead jobs by `finished_at`.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	now := s.now()
	before := func(d time.Duration) bson.M { return bson.M{"$lt": storeTime(now.Add(-d))} }
	var res SweepResult
	var err error
	if res.Events, err = s.deleteOld(ctx, db.Events, bson.M{"at": before(s.cfg.Events)}); err != nil {
		return res, err
	}
	old := before(s.cfg.Executions)
	execs := bson.M{"$or": bson.A{bson.M{"started_at": old}, bson.M{"at": old}, bson.M{"created_at": old}}}
	if res.Executions, err = s.deleteOld(ctx, db.Executions, execs); err != nil {
		return res, err
	}
	// A job finishes after it is due, so bounding run_at as well selects
	// the same jobs (or, with the enqueuing instance's clock ahead, keeps a
	// job a little longer) through the index on status and run_at.
	oldJobs := func(status string, age time.Duration) bson.M {
		return bson.M{"status": status, "run_at": before(age), "finished_at": before(age)}
	}
	if res.DoneJobs, err = s.deleteOld(ctx, db.Jobs, oldJobs(StatusDone, s.cfg.DoneJobs)); err != nil {
		return res, err
	}
	if res.DeadJobs, err = s.deleteOld(ctx, db.Jobs, oldJobs(StatusDead, s.cfg.DeadJobs)); err != nil {
		return res, err
	}
	for _, r := range s.rules {
		var n int64
		if r.sweep != nil {
			n, err = r.sweep(ctx, now)
		} else {
			n, err = s.deleteOld(ctx, r.collection, bson.M{r.field: before(r.age)})
		}
		if n > 0 {
			if res.Other == nil {
				res.Other = map[string]int64{}
			}
			res.Other[r.collection] += n
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// deleteOld deletes the documents of collection matching filter, a batch
// at a time.
func (s *Sweeper) deleteOld(ctx context.Context, collection string, filter bson.M) (int64, error) {
	c := s.store.C(collection)
	var total int64
	for {
		docs, err := c.Find(ctx, filter, &db.FindOptions{Projection: bson.M{"_id": 1}, Limit: sweepBatch})
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", collection, err)
		}
		if len(docs) == 0 {
			return total, nil
		}
		ids := make(bson.A, len(docs))
		for i, d := range docs {
			ids[i] = d["_id"]
		}
		// The filter again, in case a document changed since it was read
		// (a dead job replayed in between).
		batch := maps.Clone(filter)
		batch["_id"] = bson.M{"$in": ids}
		n, err := c.DeleteMany(ctx, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep %s: %w", collection, err)
		}
		if len(docs) < sweepBatch {
			return total, nil
		}
	}
}
