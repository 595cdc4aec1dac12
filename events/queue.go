package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// KindOptions tune one kind of job.
type KindOptions struct {
	// MaxAttempts is the default for jobs of the kind enqueued without
	// EnqueueOptions.MaxAttempts; zero takes Config.MaxAttempts.
	MaxAttempts int
	// Backoff gives the delay before a retry; nil takes
	// ExponentialBackoff(Config.BackoffBase, Config.BackoffMax).
	Backoff BackoffFunc
	// Timeout bounds one attempt: the handler's context ends after it, and
	// an attempt that returns an error then fails as usual. Zero leaves
	// time limits to the handler.
	Timeout time.Duration
}

// EnqueueOptions modify one Enqueue.
type EnqueueOptions struct {
	// MaxAttempts caps the job's attempts; zero takes the kind's default.
	MaxAttempts int
	// Backoff, when set, is the job's own delay before each retry in
	// place of the kind's (a function's retry policy).
	Backoff *Backoff
	// RunAt delays the job; zero runs it now.
	RunAt time.Time
	// Key is an optional idempotency key: while a job with the same key is
	// kept (see Retention), enqueuing another returns ErrDuplicateJob and
	// the existing job's id instead of a second job.
	Key string
}

// kind is one registered kind of job.
type kind struct {
	handler     JobHandler
	maxAttempts int
	backoff     BackoffFunc
	timeout     time.Duration
}

// Queue is the durable job queue over _jobs, shared by every instance that
// uses the same database. Each job runs at least once and, while workers
// keep their leases, exactly once: a worker claims a job atomically
// (find-one-and-update) and holds it with a lease it renews; a job whose
// worker died is claimed again when its lease runs out.
type Queue struct {
	cfg    Config
	store  db.Store
	jobs   db.Collection
	log    *slog.Logger
	now    func() time.Time
	worker string

	mu    sync.RWMutex
	kinds map[string]kind

	// indexed is set once the indexes of _jobs exist: idempotency keys
	// rely on the unique one, so the first Enqueue makes sure of them
	// even on a queue that is not started.
	indexMu sync.Mutex
	indexed bool

	// fetch claims jobs while a worker slot is free (see fetchTick).
	fetch   *looper
	slots   chan struct{}
	running sync.WaitGroup
	// lastReclaim is when fetchTick last looked for expired leases; only
	// the fetch loop reads and writes it.
	lastReclaim time.Time
	// runCtx is the parent of every job's context; cancelling it cuts off
	// jobs still running when Shutdown's deadline passes.
	runCtx     context.Context
	cancelRuns context.CancelFunc
	cutOff     atomic.Bool
	// draining is set by Shutdown: workers claim no further jobs.
	draining atomic.Bool
	// onDead is told of every job that goes to dead letters.
	onDead []func(ctx context.Context, job Job)
}

// OnDead adds f, called once for each job that goes to dead letters on
// this instance (after its last attempt, a permanent error, or a lost last
// attempt), after that is recorded. It is meant for start-up wiring; f
// runs on the worker that recorded the death and should be quick.
func (q *Queue) OnDead(f func(ctx context.Context, job Job)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.onDead = append(q.onDead, f)
}

// died tells the OnDead hooks of job.
func (q *Queue) died(job Job) {
	q.mu.RLock()
	hooks := q.onDead
	q.mu.RUnlock()
	if len(hooks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Lease)
	defer cancel()
	for _, f := range hooks {
		f(ctx, job)
	}
}

// NewQueue returns a queue over deps.Store. When deps.Runner is set, jobs
// of KindFunction run functions through it. The queue claims nothing
// before Start.
func NewQueue(cfg Config, deps Deps) (*Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("%w: the queue needs a store", ErrInvalidConfig)
	}
	cfg = cfg.WithDefaults()
	runCtx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		cfg:        cfg,
		store:      deps.Store,
		jobs:       deps.Store.C(db.Jobs),
		log:        deps.logger(),
		now:        deps.clock(),
		worker:     workerName(),
		kinds:      map[string]kind{},
		fetch:      newLooper("queue"),
		slots:      make(chan struct{}, cfg.Workers),
		runCtx:     runCtx,
		cancelRuns: cancel,
	}
	if deps.Runner != nil {
		q.Register(KindFunction, FunctionJobHandler(deps.Runner))
	}
	return q, nil
}

// workerName names this process's workers in the jobs they hold.
func workerName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Worker names this queue in the jobs it holds (host/pid/random).
func (q *Queue) Worker() string { return q.worker }

// Register makes h run the jobs of kind. Adding a kind of job is this one
// call at start-up, e.g. q.Register("email", sendEmail). It panics on an
// empty kind, a nil handler or a kind registered twice, which are
// programming errors.
func (q *Queue) Register(kind string, h JobHandler) { q.RegisterKind(kind, h, KindOptions{}) }

// RegisterKind is Register with options for the kind, such as its own
// backoff formula.
func (q *Queue) RegisterKind(name string, h JobHandler, opts KindOptions) {
	if name == "" || len(name) > 64 {
		panic("events: a job kind needs a name of 1 to 64 bytes")
	}
	if h == nil {
		panic("events: job kind " + name + " registered with a nil handler")
	}
	if opts.MaxAttempts < 0 || opts.MaxAttempts > MaxAttemptsLimit {
		panic(fmt.Sprintf("events: job kind %s: MaxAttempts %d is not within 0 to %d", name, opts.MaxAttempts, MaxAttemptsLimit))
	}
	k := kind{handler: h, maxAttempts: opts.MaxAttempts, backoff: opts.Backoff, timeout: opts.Timeout}
	if k.maxAttempts == 0 {
		k.maxAttempts = q.cfg.MaxAttempts
	}
	if k.backoff == nil {
		k.backoff = ExponentialBackoff(q.cfg.BackoffBase, q.cfg.BackoffMax)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.kinds[name]; dup {
		panic("events: job kind " + name + " registered twice")
	}
	q.kinds[name] = k
	q.signal()
}

// kind returns the registration of name.
func (q *Queue) kind(name string) (kind, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	k, ok := q.kinds[name]
	return k, ok
}

// kindNames lists the registered kinds, so an instance claims only jobs it
// can run (during a rolling upgrade, an older instance leaves a newer
// kind to the instances that know it).
func (q *Queue) kindNames() bson.A {
	q.mu.RLock()
	defer q.mu.RUnlock()
	names := make([]string, 0, len(q.kinds))
	for n := range q.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(bson.A, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out
}

// Enqueue adds a job of kind with payload and returns its id. A job due now
// starts at once on this instance when a worker is free. With opts.Key set
// and a job of that key already kept, it returns the existing job's id and
// an error wrapping ErrDuplicateJob.
func (q *Queue) Enqueue(ctx context.Context, kind string, payload map[string]any, opts EnqueueOptions) (string, error) {
	if err := q.EnsureIndexes(ctx); err != nil {
		return "", err
	}
	id, due, err := q.insertJob(ctx, q.jobs, kind, payload, opts)
	if err == nil && due {
		q.signal()
	}
	return id, err
}

// insertJob writes a new job into jobs (the queue's own collection, or
// the same collection inside a transaction) and reports whether it is due
// now. The indexes must exist already.
func (q *Queue) insertJob(ctx context.Context, jobs db.Collection, kind string, payload map[string]any, opts EnqueueOptions) (string, bool, error) {
	k, ok := q.kind(kind)
	if !ok {
		return "", false, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	maxAttempts := opts.MaxAttempts
	switch {
	case maxAttempts == 0:
		maxAttempts = k.maxAttempts
	case maxAttempts < 0 || maxAttempts > MaxAttemptsLimit:
		return "", false, fmt.Errorf("%w: max attempts %d is not within 1 to %d", ErrInvalidJob, maxAttempts, MaxAttemptsLimit)
	}
	if b := opts.Backoff; b != nil && (b.Initial <= 0 || b.Max < b.Initial) {
		return "", false, fmt.Errorf("%w: backoff initial %s and max %s: initial must be positive and max at least initial", ErrInvalidJob, b.Initial, b.Max)
	}
	if len(opts.Key) > 512 {
		return "", false, fmt.Errorf("%w: key is longer than 512 bytes", ErrInvalidJob)
	}
	if payload == nil {
		payload = map[string]any{}
	}
	now := storeTime(q.now())
	runAt := now
	if !opts.RunAt.IsZero() {
		runAt = storeTime(opts.RunAt)
	}
	id := primitive.NewObjectID().Hex()
	key := opts.Key
	if key == "" {
		// Every job has a key, so the unique index needs no sparse or
		// partial option, which not every store offers.
		key = id
	}
	doc := bson.M{
		"_id":          id,
		"kind":         kind,
		"payload":      payload,
		"status":       StatusPending,
		"key":          key,
		"attempt":      0,
		"max_attempts": maxAttempts,
		"run_at":       runAt,
		"errors":       bson.A{},
		"created_at":   now,
		"updated_at":   now,
	}
	if opts.Backoff != nil {
		doc["backoff"] = backoffDoc(*opts.Backoff)
	}
	_, err := jobs.InsertOne(ctx, doc)
	if errors.Is(err, db.ErrDuplicateKey) {
		existing, ferr := jobs.FindOne(ctx, bson.M{"key": key}, &db.FindOptions{Projection: bson.M{"_id": 1}})
		if ferr != nil {
			return "", false, fmt.Errorf("%w: key %q", ErrDuplicateJob, key)
		}
		return str(existing["_id"]), false, fmt.Errorf("%w: key %q", ErrDuplicateJob, key)
	}
	if err != nil {
		return "", false, fmt.Errorf("enqueue %s job: %w", kind, err)
	}
	return id, !runAt.After(now), nil
}

// isDuplicate reports whether an Enqueue error only says the job exists.
func isDuplicate(err error) bool { return errors.Is(err, ErrDuplicateJob) }

// signal tells the local fetch loop that a job may be waiting.
func (q *Queue) signal() { q.fetch.signal() }

// jobIndexes are the indexes of _jobs. Every claim and every outcome
// rewrites a job, and with it its entry in each index (in the embedded
// store, every index of the collection), so _jobs has only two:
//
//   - key makes idempotency keys unique.
//   - status then run_at serves everything else. Claiming reads the due
//     pending jobs in run_at order straight from it; reclaiming and
//     listing running jobs look among the running ones, a few per
//     instance; listing pending, done or dead jobs reads them in run_at
//     order, so a page costs its own jobs, not the backlog; the sweeper
//     bounds run_at as well as finished_at (a job finishes after it is
//     due); replaying dead jobs finds them by status. Listing every job
//     reads _id, whose own index every collection has.
//
// Earlier versions also made status+lease_until, status+finished_at and
// created_at. Nothing needs them any more, so EnsureIndexes drops them
// (oldJobIndexes): a database created then would otherwise keep paying
// for them on each write.
var jobIndexes = []db.Index{
	{Name: "key_unique", Keys: []db.IndexKey{{Field: "key"}}, Unique: true},
	{Keys: []db.IndexKey{{Field: "status"}, {Field: "run_at"}}},
}

// oldJobIndexes are the names of the indexes earlier versions made on
// _jobs and this one drops.
var oldJobIndexes = []string{"status_1_lease_until_1", "status_1_finished_at_1", "created_at_1"}

// EnsureIndexes creates the indexes of _jobs and drops those of earlier
// versions, unless this queue already did. Start and the first Enqueue
// call it; it is safe from several instances at once.
func (q *Queue) EnsureIndexes(ctx context.Context) error {
	q.indexMu.Lock()
	defer q.indexMu.Unlock()
	if q.indexed {
		return nil
	}
	for _, idx := range jobIndexes {
		if err := q.jobs.EnsureIndex(ctx, idx); err != nil {
			return fmt.Errorf("ensure index on %s: %w", db.Jobs, err)
		}
	}
	for _, name := range oldJobIndexes {
		if err := q.jobs.DropIndex(ctx, name); err != nil {
			return fmt.Errorf("drop index %s on %s: %w", name, db.Jobs, err)
		}
	}
	q.indexed = true
	return nil
}

// Start ensures the indexes and starts claiming jobs. ctx bounds the
// start-up only; the workers run until Shutdown.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.EnsureIndexes(ctx); err != nil {
		return err
	}
	return q.fetch.start(q.fetchTick, func() time.Duration { return q.cfg.PollInterval })
}

// Shutdown stops claiming jobs and waits for the running ones until ctx
// ends. Jobs still running then have their context cancelled and are left
// leased: another instance, or this one after a restart, claims them again
// once the lease runs out. It is idempotent.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.draining.Store(true)
	err := q.fetch.shutdown(ctx)
	if err == nil {
		done := make(chan struct{})
		go func() {
			q.running.Wait()
			close(done)
		}()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
		}
	}
	q.cutOff.Store(true)
	q.cancelRuns()
	return fmt.Errorf("queue shutdown: jobs still running were left to their leases: %w", ctx.Err())
}
