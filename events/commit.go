package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// LoopStopped is the warning logged, and shown on the function's
// executions, when a chain of function-caused events goes past
// Config.MaxChainDepth.
const LoopStopped = "loop_stopped"

// Change is a write to the store and the event that reports it. Bus.Commit
// stores both or neither.
type Change struct {
	// Name is the event's name (doc_created, user_registered, …).
	Name string
	// Write makes the change through tx, passing on the ctx it gets, and
	// returns the event's data. It may run more than once (a transaction
	// the store retries) and must have no effect outside tx.
	Write func(ctx context.Context, tx db.Tx) (map[string]any, error)
	// Pending and Check serve stores without transactions (MongoDB)
	// only. There Commit records the event as pending, with the data
	// Pending returns (nil: no data), before the write, and settles it
	// after. Should the process die between the two, the redispatch sweep
	// settles it by Check: it is dispatched when Check finds the write,
	// with Pending's data (its "doc", if any, read again from the store),
	// and kept as aborted, never dispatched, when it does not.
	Pending func(ctx context.Context) (map[string]any, error)
	Check   Check
	// Cause is the id of the function run that made the write; empty for
	// a client's write.
	Cause string
	// Depth is the event's place in a chain of function-caused events: 0
	// for a client's write, the triggering event's depth + 1 for a write
	// made by a function that an event ran.
	Depth int
}

// Check tells whether a write took effect: it did when a document of
// Collection matches Filter (Exists), or when none does (!Exists). Filter
// holds plain field equalities, such as {_id: id, _updated_at: t}.
type Check struct {
	Collection string
	Filter     bson.M
	Exists     bool
}

// Commit makes ch's write and records its event as one step, then runs
// the event's functions as Emit does. On a store with transactions (the
// embedded store) the write, the event and the event's jobs commit in one
// transaction: after a crash either all of them are stored or none. On a
// store without (MongoDB, whose Transact answers db.ErrNoTransactions on
// every deployment), the event is recorded as pending first and settled
// after the write (see Change.Pending). Write's error is returned as it
// is, with nothing stored.
//
// An event deeper than Config.MaxChainDepth is recorded but runs no
// function; Event.Stopped says so, and a loop_stopped warning is logged.
func (b *Bus) Commit(ctx context.Context, ch Change) (Event, error) {
	if ch.Write == nil {
		return Event{}, fmt.Errorf("commit %s: the change has no write", ch.Name)
	}
	if b.queue != nil {
		// Index set-up writes outside the transaction, so it comes first.
		if err := b.queue.EnsureIndexes(ctx); err != nil {
			return Event{}, err
		}
	}
	ev := Event{
		ID: primitive.NewObjectID().Hex(), Name: ch.Name, At: storeTime(b.now()),
		Cause: ch.Cause, Depth: ch.Depth, Stopped: ch.Depth > b.cfg.MaxChainDepth,
	}
	var due bool
	err := b.store.Transact(ctx, func(ctx context.Context, tx db.Tx) error {
		data, err := ch.Write(ctx, tx)
		if err != nil {
			return err
		}
		if data == nil {
			data = map[string]any{}
		}
		ev.Data, due = data, false
		if b.queue != nil && !ev.Stopped {
			if due, err = b.enqueueJobs(ctx, tx, ev); err != nil {
				return err
			}
		}
		doc := eventDoc(ev)
		doc["dispatched"] = true // its jobs are in this transaction
		_, err = tx.C(db.Events).InsertOne(ctx, doc)
		if err != nil {
			return fmt.Errorf("record event %s: %w", ev.Name, err)
		}
		return nil
	})
	if errors.Is(err, db.ErrNoTransactions) {
		return b.commitPending(ctx, ch, ev)
	}
	if err != nil {
		return Event{}, err
	}
	b.committed(ctx, ev)
	if due {
		b.queue.signal()
	}
	return ev, nil
}

// commitPending is Commit on a store without transactions: record the
// event as pending, write, then settle the event and dispatch it.
func (b *Bus) commitPending(ctx context.Context, ch Change, ev Event) (Event, error) {
	events := b.store.C(db.Events)
	pending := ev
	if ch.Pending != nil {
		data, err := ch.Pending(ctx)
		if err != nil {
			return Event{}, err
		}
		pending.Data = data
	}
	if pending.Data == nil {
		pending.Data = map[string]any{}
	}
	doc := eventDoc(pending)
	doc["dispatched"] = false
	doc["pending"] = bson.M{"collection": ch.Check.Collection, "filter": ch.Check.Filter, "exists": ch.Check.Exists}
	if _, err := events.InsertOne(ctx, doc); err != nil {
		return Event{}, fmt.Errorf("record event %s: %w", ev.Name, err)
	}
	data, err := ch.Write(ctx, b.store)
	// Past this point the outcome stands whether or not the caller waits.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err != nil {
		// Nothing was written: withdraw the event. Should that fail too,
		// the sweep finds no write and keeps the event as aborted.
		if _, derr := events.DeleteOne(sctx, db.ByID(ev.ID)); derr != nil {
			b.log.Warn("withdraw the event of a failed write", "event", ev.ID, "name", ev.Name, "err", derr)
		}
		return Event{}, err
	}
	if data == nil {
		data = map[string]any{}
	}
	ev.Data = data
	// Undo a sweep that judged the write absent while it was still under
	// way: the writer knows better.
	_, err = events.UpdateOne(sctx, db.ByID(ev.ID), bson.M{
		"$set":   bson.M{"data": data, "dispatched": ev.Stopped},
		"$unset": bson.M{"pending": "", "aborted": ""},
	}, nil)
	if err != nil {
		b.log.Warn("settle event, the sweep will", "event", ev.ID, "name", ev.Name, "err", err)
		return ev, nil
	}
	b.committed(sctx, ev)
	if b.queue != nil && !ev.Stopped {
		if err := b.dispatch(sctx, ev); err != nil {
			b.log.Warn("dispatch event, will retry", "event", ev.ID, "name", ev.Name, "err", err)
		}
	}
	return ev, nil
}

// committed tells the in-process subscribers of a stored event, and warns
// of a chain it stopped.
func (b *Bus) committed(ctx context.Context, ev Event) {
	if ev.Stopped {
		b.log.Warn(LoopStopped+": a chain of events caused by functions' writes went past events.max_chain_depth; the event is recorded but runs no function",
			"event", ev.ID, "name", ev.Name, "depth", ev.Depth, "cause", ev.Cause, "max_chain_depth", b.cfg.MaxChainDepth)
	}
	for _, h := range b.handlers {
		h(ctx, ev)
	}
}

// settle resolves an event left pending by a process that died between
// recording it and settling it: it reports whether the write took effect
// and, if it did, the event with its data.
func (b *Bus) settle(ctx context.Context, d bson.M) (Event, bool, error) {
	ev := eventFromDoc(d)
	p := mapOf(d["pending"])
	filter := bson.M(mapOf(p["filter"]))
	found, err := b.store.C(str(p["collection"])).FindOne(ctx, filter, nil)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return Event{}, false, fmt.Errorf("check the write of event %s: %w", ev.ID, err)
	}
	exists, _ := p["exists"].(bool)
	if took := err == nil; took != exists {
		_, err := b.store.C(db.Events).UpdateOne(ctx, bson.M{"_id": ev.ID, "pending": bson.M{"$exists": true}},
			bson.M{"$set": bson.M{"dispatched": true, "aborted": true}, "$unset": bson.M{"pending": ""}}, nil)
		return Event{}, false, err
	}
	if _, ok := ev.Data["doc"]; ok && found != nil {
		ev.Data["doc"] = found
	}
	res, err := b.store.C(db.Events).UpdateOne(ctx, bson.M{"_id": ev.ID, "pending": bson.M{"$exists": true}},
		bson.M{"$set": bson.M{"data": ev.Data}, "$unset": bson.M{"pending": ""}}, nil)
	if err != nil {
		return Event{}, false, err
	}
	// Settled meanwhile by its writer, which dispatches it itself.
	return ev, res.Matched == 1, nil
}

// eventDoc is how an event is stored in _events.
func eventDoc(ev Event) bson.M {
	doc := bson.M{"_id": ev.ID, "name": ev.Name, "data": ev.Data, "at": ev.At, "depth": ev.Depth}
	if ev.Cause != "" {
		doc["cause"] = ev.Cause
	}
	if ev.Stopped {
		doc[LoopStopped] = true
	}
	return doc
}

// eventFromDoc reads an _events document.
func eventFromDoc(d bson.M) Event {
	return Event{
		ID: str(d["_id"]), Name: str(d["name"]), Data: mapOf(d["data"]), At: db.TimeOf(d["at"]),
		Cause: str(d["cause"]), Depth: intOf(d["depth"]), Stopped: d[LoopStopped] == true,
	}
}
