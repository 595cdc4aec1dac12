package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// System event names.
const (
	UserRegistered = "user_registered"
	UserLogin      = "user_login"
	UserUpdated    = "user_updated"
	UserDeleted    = "user_deleted"
	DocCreated     = "doc_created"
	DocUpdated     = "doc_updated"
	DocDeleted     = "doc_deleted"
	ChanIn         = "chan_in"
	// ChannelJoin names the trigger of functions that decide joins to
	// realtime channels. It is never recorded: the channels hub runs those
	// functions itself, at once, while the client waits.
	ChannelJoin = "channel_join"
	// JobDead: a job of any kind went to dead letters.
	JobDead = "job_dead"
	// WebhookDead: an outbound webhook delivery failed its last attempt.
	WebhookDead = "webhook_dead"
	// WebhookEndpointDisabled: an outbound webhook endpoint was disabled
	// for failing (410 Gone, or failing for days).
	WebhookEndpointDisabled = "webhook_endpoint_disabled"
)

// Event is one thing that happened.
type Event struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
	At   time.Time      `json:"at"`
	// Cause is the id of the function run whose write the event reports;
	// empty when a client's request made it.
	Cause string `json:"cause,omitempty"`
	// Depth is the event's place in a chain of function-caused events (0
	// when no function caused it).
	Depth int `json:"depth"`
	// Stopped is set on an event past Config.MaxChainDepth: it is
	// recorded but runs no function.
	Stopped bool `json:"loop_stopped,omitempty"`
}

// Emitter is the emit point every producer of events calls. Callers depend
// on this interface only, so what happens after an event is recorded can
// change without touching them.
type Emitter interface {
	// Emit records an event that reports no write of its own.
	Emit(ctx context.Context, name string, data map[string]any) (Event, error)
	// Commit makes a write and records the event that reports it as one
	// step (see Bus.Commit).
	Commit(ctx context.Context, ch Change) (Event, error)
}

// Handler is told of every event after it has been recorded.
type Handler func(ctx context.Context, ev Event)

// Bus records events in _events, passes them to its in-process
// subscribers, and enqueues a job for every function subscribed to them.
type Bus struct {
	cfg      Config
	store    db.Store
	queue    *Queue
	log      *slog.Logger
	now      func() time.Time
	handlers []Handler

	sweep *looper
}

// NewBus returns a bus over deps.Store. With deps.Queue set, every event
// runs its subscribed functions as jobs on that queue; without it the bus
// only records events.
func NewBus(cfg Config, deps Deps) *Bus {
	return &Bus{
		cfg:   cfg.WithDefaults(),
		store: deps.Store,
		queue: deps.Queue,
		log:   deps.logger(),
		now:   deps.clock(),
		sweep: newLooper("bus"),
	}
}

// Subscribe adds h; it is called for every event emitted afterwards. It is
// meant for start-up wiring and is not safe to call while events flow.
func (b *Bus) Subscribe(h Handler) { b.handlers = append(b.handlers, h) }

// Emit records the event, hands it to the in-process subscribers and
// enqueues a job per subscribed function. The event is durable once Emit
// returns without error: should enqueuing fail, the event stays marked
// undispatched and the bus enqueues its jobs later (see Start).
func (b *Bus) Emit(ctx context.Context, name string, data map[string]any) (Event, error) {
	if data == nil {
		data = map[string]any{}
	}
	ev := Event{ID: primitive.NewObjectID().Hex(), Name: name, Data: data, At: storeTime(b.now())}
	doc := eventDoc(ev)
	// With no queue there is nothing to dispatch to.
	doc["dispatched"] = b.queue == nil
	_, err := b.store.C(db.Events).InsertOne(ctx, doc)
	if err != nil {
		return Event{}, fmt.Errorf("record event %s: %w", name, err)
	}
	for _, h := range b.handlers {
		h(ctx, ev)
	}
	if b.queue != nil {
		// The event is recorded: finish dispatching it even if the
		// caller gives up waiting.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := b.dispatch(dctx, ev); err != nil {
			b.log.Warn("dispatch event, will retry", "event", ev.ID, "name", name, "err", err)
		}
	}
	return ev, nil
}

// Publish emits a custom event after checking its name (ValidateEventName)
// and the size of its data (Config.MaxEventBytes). POST /api/events and
// backend.publishEvent go through it; system events use Emit.
func (b *Bus) Publish(ctx context.Context, name string, data map[string]any) (Event, error) {
	if err := ValidateEventName(name); err != nil {
		return Event{}, err
	}
	if err := checkEventSize(data, b.cfg.MaxEventBytes); err != nil {
		return Event{}, err
	}
	return b.Emit(ctx, name, data)
}

// dispatch enqueues one job per function subscribed to ev, then marks the
// event dispatched. Each job's idempotency key is the event and the
// function, so dispatching an event twice enqueues nothing new.
func (b *Bus) dispatch(ctx context.Context, ev Event) error {
	if _, err := b.enqueueJobs(ctx, b.store, ev); err != nil {
		return err
	}
	b.queue.signal()
	if _, err := b.store.C(db.Events).UpdateOne(ctx, db.ByID(ev.ID), bson.M{"$set": bson.M{"dispatched": true}}, nil); err != nil {
		return fmt.Errorf("mark event %s dispatched: %w", ev.ID, err)
	}
	return nil
}

// enqueueJobs enqueues through tx (the store itself, or a transaction)
// one job per function subscribed to ev, and reports whether it enqueued
// any. Each job's idempotency key is the event and the function, so
// dispatching an event twice enqueues nothing new.
func (b *Bus) enqueueJobs(ctx context.Context, tx db.Tx, ev Event) (bool, error) {
	docs, err := tx.C(db.Functions).Find(ctx, bson.M{"triggers.event": ev.Name}, &db.FindOptions{Projection: functionProjection})
	if err != nil {
		return false, fmt.Errorf("find subscribers of %s: %w", ev.Name, err)
	}
	jobs := tx.C(db.Jobs)
	found := false
	for _, d := range docs {
		f := functionFromDoc(d)
		if !f.subscribes(ev) {
			continue
		}
		payload := functionPayload(FunctionRun{
			Function: f.Name, Input: ev.Data, Trigger: TriggerEvent,
			EventName: ev.Name, EventID: ev.ID, At: ev.At, Depth: ev.Depth,
		})
		_, _, err := b.queue.insertJob(ctx, jobs, KindFunction, payload, f.enqueueOptions("event:"+ev.ID+":"+f.Name))
		if err != nil && !isDuplicate(err) {
			return false, fmt.Errorf("enqueue %s for event %s: %w", f.Name, ev.ID, err)
		}
		found = true
	}
	return found, nil
}

// Redispatch timing: an event left undispatched for redispatchGrace (its
// Emit failed half-way, or its process died) is dispatched again by the
// next sweep, which runs at start and every redispatchEvery.
const (
	redispatchGrace = 10 * time.Second
	redispatchEvery = 30 * time.Second
)

// Start ensures the index the redispatch sweep uses and starts the sweep.
// A bus without a queue has nothing to start. ctx bounds the start-up only.
func (b *Bus) Start(ctx context.Context) error {
	if b.queue == nil {
		return nil
	}
	err := b.store.C(db.Events).EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "dispatched"}, {Field: "at"}}})
	if err != nil {
		return fmt.Errorf("ensure index on %s: %w", db.Events, err)
	}
	return b.sweep.start(func(ctx context.Context) bool {
		if n, err := b.redispatch(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("redispatch events", "err", err)
		} else if n > 0 {
			b.log.Info("redispatched events", "count", n)
		}
		return false
	}, func() time.Duration { return redispatchEvery })
}

// Shutdown stops the redispatch sweep. It is idempotent.
func (b *Bus) Shutdown(ctx context.Context) error { return b.sweep.shutdown(ctx) }

// redispatch dispatches the events left undispatched for longer than
// redispatchGrace and returns how many it dispatched.
func (b *Bus) redispatch(ctx context.Context) (int, error) {
	n := 0
	for {
		cutoff := storeTime(b.now().Add(-redispatchGrace))
		docs, err := b.store.C(db.Events).Find(ctx, bson.M{"dispatched": false, "at": bson.M{"$lt": cutoff}},
			&db.FindOptions{Sort: bson.D{{Key: "at", Value: 1}}, Limit: 100})
		if err != nil {
			return n, err
		}
		for _, d := range docs {
			ev := eventFromDoc(d)
			if _, ok := d["pending"]; ok {
				// Its process died between recording it and settling it.
				settled, took, err := b.settle(ctx, d)
				if err != nil {
					return n, err
				}
				if !took {
					continue
				}
				ev = settled
			}
			if ev.Stopped {
				if _, err := b.store.C(db.Events).UpdateOne(ctx, db.ByID(ev.ID), bson.M{"$set": bson.M{"dispatched": true}}, nil); err != nil {
					return n, err
				}
				continue
			}
			if err := b.dispatch(ctx, ev); err != nil {
				return n, err
			}
			n++
		}
		if len(docs) < 100 {
			return n, nil
		}
	}
}
