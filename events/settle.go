package events

import (
	"context"
	"errors"
	"sync"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// SettleFunc is a write a job handler leaves for the queue to make when it
// records the outcome of the attempt (see Settle). It must make its writes
// through tx with the ctx it is given, return the error of any that fails,
// and have no effect outside tx: it may run more than once when the store
// retries a transaction.
type SettleFunc func(ctx context.Context, tx db.Tx) error

// settleKey carries a running attempt's *settlement in its context.
type settleKey struct{}

// settlement collects the SettleFuncs of one attempt.
type settlement struct {
	mu     sync.Mutex
	writes []SettleFunc
}

func (s *settlement) take() []SettleFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.writes
	s.writes = nil
	return w
}

// Settle makes write part of recording the outcome of the job attempt
// that ctx belongs to, and reports whether it did; outside a job's
// handler it does nothing and returns false, and the caller writes itself.
//
// On a store with transactions, the handler's write and the job's outcome
// commit together, so a crash leaves both or neither: a job recorded done
// always has its handler's record, and a job whose record was lost runs
// again. Handlers that finish with one write of their own (a webhook
// delivery recording its attempt) save a transaction per job this way,
// and on the embedded store the outcomes of jobs finishing together share
// one commit. On a store without transactions, write runs just before the
// outcome is recorded, as if the handler had made it last.
//
// The write is made whatever the outcome, even when the worker lost its
// lease meanwhile (the attempt did happen). If it fails, the outcome is
// not recorded either and the job runs again when its lease runs out.
func Settle(ctx context.Context, write SettleFunc) bool {
	s, ok := ctx.Value(settleKey{}).(*settlement)
	if !ok || write == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, write)
	return true
}

// record writes a job's outcome, fenced by its claim, together with the
// handler's writes, and with chain claims the next due job in the same
// transaction. On a store without transactions the writes go first, each
// once: a successful one is removed from *writes so that a retry of the
// outcome does not repeat it; the next job is then claimed on its own.
func (q *Queue) record(ctx context.Context, job Job, update bson.M, writes *[]SettleFunc, chain bool) (db.UpdateResult, *claim, error) {
	var res db.UpdateResult
	if len(*writes) == 0 && !chain {
		res, err := q.jobs.UpdateOne(ctx, q.fence(job), update, nil)
		return res, nil, err
	}
	var kinds bson.A
	if chain {
		kinds = q.kindNames()
	}
	now := storeTime(q.now())
	var next bson.M
	err := q.store.Transact(ctx, func(ctx context.Context, tx db.Tx) error {
		next = nil
		for _, w := range *writes {
			if err := w(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if res, err = tx.C(db.Jobs).UpdateOne(ctx, q.fence(job), update, nil); err != nil || len(kinds) == 0 {
			return err
		}
		filter, claimUpdate, opts := q.claimQuery(false, kinds, now)
		next, err = tx.C(db.Jobs).FindOneAndUpdate(ctx, filter, claimUpdate, opts)
		if errors.Is(err, db.ErrNotFound) {
			next, err = nil, nil
		}
		return err
	})
	if errors.Is(err, db.ErrNoTransactions) {
		return q.recordApart(ctx, job, update, writes, chain)
	}
	if err != nil || next == nil {
		return res, nil, err
	}
	c, err := q.claimed(next, now)
	if err != nil {
		// Left to its lease, like a claim of an unknown kind.
		q.log.Warn("claim job", "err", err)
		return res, nil, nil
	}
	return res, c, nil
}

// recordApart is record on a store without transactions.
func (q *Queue) recordApart(ctx context.Context, job Job, update bson.M, writes *[]SettleFunc, chain bool) (db.UpdateResult, *claim, error) {
	for len(*writes) > 0 {
		if err := (*writes)[0](ctx, q.store); err != nil {
			return db.UpdateResult{}, nil, err
		}
		*writes = (*writes)[1:]
	}
	res, err := q.jobs.UpdateOne(ctx, q.fence(job), update, nil)
	if err != nil || !chain {
		return res, nil, err
	}
	next, err := q.claim(false)
	if err != nil {
		// The outcome is recorded; the fetch loop claims what is due.
		q.log.Warn("claim job", "err", err)
	}
	return res, next, nil
}
