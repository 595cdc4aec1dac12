package events

import (
	"context"
	"errors"
)

// Service is the whole package wired together: the queue, the bus that
// enqueues function runs on it, the scheduler and the retention sweeper.
// It is the one thing the server needs to build, start and shut down.
type Service struct {
	Queue     *Queue
	Bus       *Bus
	Scheduler *Scheduler
	Sweeper   *Sweeper
}

// New builds a Service over deps.Store; deps.Queue is ignored (the service
// makes its own). Further job kinds are one Register call on s.Queue.
func New(cfg Config, deps Deps) (*Service, error) {
	q, err := NewQueue(cfg, deps)
	if err != nil {
		return nil, err
	}
	deps.Queue = q
	sched, err := NewScheduler(cfg, deps)
	if err != nil {
		return nil, err
	}
	sweeper, err := NewSweeper(cfg, deps)
	if err != nil {
		return nil, err
	}
	bus := NewBus(cfg, deps)
	q.OnDead(func(ctx context.Context, job Job) { emitJobDead(ctx, bus, job) })
	return &Service{Queue: q, Bus: bus, Scheduler: sched, Sweeper: sweeper}, nil
}

// emitJobDead emits job_dead for a job gone to dead letters, so a function
// subscribed to it can alert someone. A function run caused by job_dead
// that dies itself emits nothing, or an alerting function that always
// fails would feed itself.
func emitJobDead(ctx context.Context, bus *Bus, job Job) {
	if job.Kind == KindFunction && str(job.Payload["event_name"]) == JobDead {
		return
	}
	data := map[string]any{
		"job_id": job.ID, "kind": job.Kind, "attempts": job.Attempt,
		"error": job.LastError, "payload": job.Payload,
	}
	if fn := str(job.Payload["function"]); fn != "" {
		data["function"] = fn
	}
	if _, err := bus.Emit(ctx, JobDead, data); err != nil {
		bus.log.Warn("emit job_dead", "job", job.ID, "err", err)
	}
}

// Start starts the queue, then the sweeper, the scheduler and the bus's
// redispatch. ctx bounds the start-up only.
func (s *Service) Start(ctx context.Context) error {
	for _, start := range []func(context.Context) error{s.Queue.Start, s.Sweeper.Start, s.Scheduler.Start, s.Bus.Start} {
		if err := start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown stops them in reverse order, the queue last so that running
// jobs get what is left of ctx to finish. It is idempotent.
func (s *Service) Shutdown(ctx context.Context) error {
	var errs []error
	for _, stop := range []func(context.Context) error{s.Bus.Shutdown, s.Scheduler.Shutdown, s.Sweeper.Shutdown, s.Queue.Shutdown} {
		errs = append(errs, stop(ctx))
	}
	return errors.Join(errs...)
}
