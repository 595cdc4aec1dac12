package events

import (
	"fmt"
	"time"
)

// Defaults of Config. A zero field of Config takes its default.
const (
	// DefaultWorkers is how many jobs one instance runs at once.
	DefaultWorkers = 8
	// DefaultPollInterval is how often an idle instance looks for jobs
	// enqueued by other instances. Jobs enqueued on the instance itself
	// start at once.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultLease is how long a claimed job stays reserved for its worker
	// without a renewal; a running job renews it every third of it, so
	// only a worker that died or stalled loses its jobs.
	DefaultLease = 30 * time.Second
	// DefaultMaxAttempts is how many times a job runs before it is dead:
	// the first attempt and 5 retries. A function's `retries` overrides it
	// (max attempts = retries + 1).
	DefaultMaxAttempts = 6
	// DefaultBackoffBase is the delay before the first retry; it doubles
	// with every further retry.
	DefaultBackoffBase = 10 * time.Second
	// DefaultBackoffMax caps the delay between two attempts.
	DefaultBackoffMax = time.Hour
	// DefaultScheduleTick is how often the scheduler looks for due
	// occurrences.
	DefaultScheduleTick = time.Second
	// DefaultMaxEventBytes caps the JSON size of a custom event's data.
	DefaultMaxEventBytes = 64 << 10
	// DefaultMaxChainDepth is how deep a chain of function-caused events
	// may go before its next event is recorded but not dispatched (AWS
	// Lambda's recursion detection stops at 16 too).
	DefaultMaxChainDepth = 16
	// DefaultEventRetention is how long _events are kept.
	DefaultEventRetention = 30 * 24 * time.Hour
	// DefaultExecutionRetention is how long _executions are kept.
	DefaultExecutionRetention = 14 * 24 * time.Hour
	// DefaultDoneJobRetention is how long finished jobs are kept. It is
	// also how long an idempotency key is remembered after its job is done.
	DefaultDoneJobRetention = 7 * 24 * time.Hour
	// DefaultDeadJobRetention is how long dead jobs stay replayable.
	DefaultDeadJobRetention = 30 * 24 * time.Hour
	// DefaultSweepInterval is how often the retention sweeper runs.
	DefaultSweepInterval = time.Hour
)

// Config configures the event bus, the job queue, the scheduler and the
// retention sweeper. The zero value is the default configuration.
type Config struct {
	// Workers is how many jobs one instance runs at once.
	Workers int `yaml:"workers"`
	// PollInterval is how often an idle instance looks for jobs.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lease is how long a claimed job is reserved without renewal. Keep it
	// well above the longest a write may wait for the database (the
	// embedded store's busy_timeout, 5s by default): a worker that cannot
	// renew in time loses its job to another instance, which runs it again.
	Lease time.Duration `yaml:"lease"`
	// MaxAttempts is how many attempts a job gets when neither its
	// function (`retries`), its kind nor its enqueuer says otherwise.
	MaxAttempts int `yaml:"max_attempts"`
	// BackoffBase and BackoffMax shape the delay before a retry:
	// min(BackoffBase·2^(attempt−1), BackoffMax), less up to 25% jitter.
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// ScheduleTick is how often the scheduler looks for due occurrences.
	ScheduleTick time.Duration `yaml:"schedule_tick"`
	// MaxEventBytes caps the JSON size of a custom event's data.
	MaxEventBytes int `yaml:"max_event_bytes"`
	// MaxChainDepth bounds chains of events caused by functions' writes:
	// an event deeper than this is recorded but runs no function, and a
	// loop_stopped warning names the chain.
	MaxChainDepth int `yaml:"max_chain_depth"`
	// Retention says how long records are kept.
	Retention Retention `yaml:"retention"`
}

// Retention says how long the sweeper keeps each kind of record.
type Retention struct {
	Events     time.Duration `yaml:"events"`
	Executions time.Duration `yaml:"executions"`
	DoneJobs   time.Duration `yaml:"done_jobs"`
	DeadJobs   time.Duration `yaml:"dead_jobs"`
	// Interval is how often the sweeper runs.
	Interval time.Duration `yaml:"interval"`
}

// DefaultConfig returns the configuration with every default filled in.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with every zero field at its default.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}
	if c.MaxChainDepth == 0 {
		c.MaxChainDepth = DefaultMaxChainDepth
	}
	def(&c.PollInterval, DefaultPollInterval)
	def(&c.Lease, DefaultLease)
	def(&c.BackoffBase, DefaultBackoffBase)
	def(&c.BackoffMax, DefaultBackoffMax)
	def(&c.ScheduleTick, DefaultScheduleTick)
	def(&c.Retention.Events, DefaultEventRetention)
	def(&c.Retention.Executions, DefaultExecutionRetention)
	def(&c.Retention.DoneJobs, DefaultDoneJobRetention)
	def(&c.Retention.DeadJobs, DefaultDeadJobRetention)
	def(&c.Retention.Interval, DefaultSweepInterval)
	return c
}

// Validate reports the first setting that cannot work. Zero fields are
// valid: they take their defaults.
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Workers < 1 || c.Workers > 1024:
		return bad("workers is %d; use 1 to 1024", c.Workers)
	case c.PollInterval < time.Millisecond:
		return bad("poll_interval is %s; use at least 1ms", c.PollInterval)
	case c.Lease < 100*time.Millisecond:
		return bad("lease is %s; use at least 100ms", c.Lease)
	case c.MaxAttempts < 1 || c.MaxAttempts > MaxAttemptsLimit:
		return bad("max_attempts is %d; use 1 to %d", c.MaxAttempts, MaxAttemptsLimit)
	case c.BackoffBase < 0:
		return bad("backoff_base is negative (%s)", c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return bad("backoff_max (%s) is shorter than backoff_base (%s)", c.BackoffMax, c.BackoffBase)
	case c.ScheduleTick < 10*time.Millisecond:
		return bad("schedule_tick is %s; use at least 10ms", c.ScheduleTick)
	case c.MaxEventBytes < 0:
		return bad("max_event_bytes is negative (%d)", c.MaxEventBytes)
	case c.MaxChainDepth < 0 || c.MaxChainDepth > 1000:
		return bad("max_chain_depth is %d; use 1 to 1000", c.MaxChainDepth)
	}
	for _, r := range []struct {
		key string
		d   time.Duration
	}{
		{"events", c.Retention.Events},
		{"executions", c.Retention.Executions},
		{"done_jobs", c.Retention.DoneJobs},
		{"dead_jobs", c.Retention.DeadJobs},
		{"interval", c.Retention.Interval},
	} {
		if r.d < 0 {
			return bad("retention.%s is negative (%s)", r.key, r.d)
		}
	}
	return nil
}
