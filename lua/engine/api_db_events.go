package engine

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// The doc_* events a function's writes fire, as the data API's do.
const (
	EventDocCreated = "doc_created"
	EventDocUpdated = "doc_updated"
	EventDocDeleted = "doc_deleted"
	// EventUserUpdated is what an update of users (the accounts) fires.
	EventUserUpdated = "user_updated"
)

// LoopStopped starts the warning a run logs when an event its write
// caused went past the chain depth limit and runs no function.
const LoopStopped = "loop_stopped"

// DocWrite is one document write of a function and what the doc_* event
// reporting it needs. Deps.Commit makes the write and records the event
// as one step.
type DocWrite struct {
	// Event is EventDocCreated, EventDocUpdated or EventDocDeleted, or
	// EventUserUpdated for an update of users, the accounts.
	Event      string
	Collection string
	// Fields are the names of the fields an update of users changes
	// (user_updated's fields).
	Fields []string
	// ID is the document's _id, chosen before a create.
	ID any
	// UpdatedAt is the _updated_at a create or update sets (updated_at
	// for an account), by which the write can be found again.
	UpdatedAt time.Time
	// User is the run's user (the event's "user"), nil for none.
	User map[string]any
	// Cause is the run's execution id.
	Cause string
	// Depth is the event's place in its chain: the run's
	// RunOptions.ChainDepth + 1.
	Depth int
	// Write makes the write through c (the collection inside the
	// transaction, passing on ctx) and returns the document the event
	// carries: the new one for a create or update, the deleted one for a
	// delete. It may run more than once (a retried transaction).
	Write func(ctx context.Context, c db.Collection) (bson.M, error)
}

// writeDoc makes one document write of t's run through Deps.Commit, which
// records its event, or straight on the collection when there is none.
// An event the chain limit stopped leaves a loop_stopped warning in the
// run's logs, where its execution record shows it.
func (v *vm) writeDoc(t dataTarget, event string, id any, updatedAt time.Time, write func(ctx context.Context, c db.Collection) (bson.M, error)) (bson.M, error) {
	return v.writeFields(t, event, id, updatedAt, nil, write)
}

// writeFields is writeDoc naming the fields an update of users changes.
func (v *vm) writeFields(t dataTarget, event string, id any, updatedAt time.Time, fields []string, write func(ctx context.Context, c db.Collection) (bson.M, error)) (bson.M, error) {
	commit := v.reg.deps.Commit
	if commit == nil {
		return write(t.ru.ctx, t.col)
	}
	var out bson.M
	stopped, err := commit(t.ru.ctx, DocWrite{
		Event: event, Collection: t.name, ID: id, UpdatedAt: updatedAt, Fields: fields,
		User: t.ru.user, Cause: t.ru.id, Depth: t.ru.opts.ChainDepth + 1,
		Write: func(ctx context.Context, c db.Collection) (bson.M, error) {
			doc, err := write(ctx, c)
			out = doc
			return doc, err
		},
	})
	if err != nil {
		return nil, err
	}
	if stopped {
		t.ru.addLog("warn", fmt.Sprintf("%s: %s on %s %v is chain depth %d, past the limit (events.max_chain_depth); it is recorded but runs no function", LoopStopped, event, t.name, id, t.ru.opts.ChainDepth+1))
	}
	return out, nil
}

// eachMatch runs one write per document that filter matches, so that
// each fires its own event; like MongoDB's updateMany and deleteMany, the
// writes are atomic one document at a time. It returns how many
// documents were written.
func (v *vm) eachMatch(t dataTarget, filter bson.M, one func(id any) (bool, error)) (int64, error) {
	docs, err := t.col.Find(t.ru.ctx, filter, &db.FindOptions{Projection: bson.M{"_id": 1}})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range docs {
		done, err := one(d["_id"])
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}
