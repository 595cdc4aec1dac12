package events

import (
	"context"

	"github.com/moonbase-dev/moonbase/db"
)

// EnqueueIn is Enqueue as part of a change made through tx (the
// transaction of a Bus.Commit write), so the job is stored together with
// the change or not at all. On a store without transactions tx is the
// store itself and the job is stored at once. The job starts no sooner
// than the next poll unless Wake is called once the change is committed.
// A job of the same key already kept is ErrDuplicateJob, as with Enqueue.
func (q *Queue) EnqueueIn(ctx context.Context, tx db.Tx, kind string, payload map[string]any, opts EnqueueOptions) (string, error) {
	id, _, err := q.insertJob(ctx, tx.C(db.Jobs), kind, payload, opts)
	return id, err
}

// Wake tells this instance's workers that a job may be due, as Enqueue
// does for the jobs it stores.
func (q *Queue) Wake() { q.signal() }
