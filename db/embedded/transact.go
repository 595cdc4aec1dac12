package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/moonbase-dev/moonbase/db"
	"modernc.org/sqlite"
)

var (
	// ErrTxDone: a collection of a transaction was used after Transact
	// returned.
	ErrTxDone = errors.New("embedded: the transaction has ended")
	// ErrTxAborted: SQLite ended a group of transactions that this call
	// was part of (a full disk, an I/O error); nothing of it is stored,
	// and trying again can succeed.
	ErrTxAborted = errors.New("embedded: transaction aborted")
)

// txState is a transaction under way on the write connection.
type txState struct {
	w    runner
	done atomic.Bool
}

// txView is the db.Tx handed to a transaction's function.
type txView struct {
	s *Store
	t *txState
}

func (v txView) C(name string) db.Collection {
	c := v.s.C(name).(*collection)
	c.tx = v.t
	return c
}

// Transact runs fn in one SQLite transaction (BEGIN IMMEDIATE on the
// write connection, as every write of the store): what fn writes through
// tx commits together, or not at all when fn returns an error or the
// process dies first. Each call fn makes is atomic on its own too (a
// savepoint), so a call that fails (a duplicate key) undoes only itself
// and fn may go on. The collections of tx are not for concurrent use.
//
// Concurrent calls commit as a group: the one that gets the write lock
// runs every call waiting by then, each inside a savepoint of its own,
// and commits them with one COMMIT, so that a burst of writers pays for
// one transaction rather than one each. A call whose fn fails is rolled
// back to its savepoint and does not touch the others. Statements run
// under a context that is not cancelled (fn's ctx keeps its values), so
// that an interrupted statement cannot roll back the whole group; a call
// whose ctx ends before its turn does not run.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx db.Tx) error) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	req := &txReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.group.mu.Lock()
	s.group.queue = append(s.group.queue, req)
	s.group.mu.Unlock()
	for {
		select {
		case err := <-req.done:
			return err
		case s.wlock <- struct{}{}:
			s.group.mu.Lock()
			batch := s.group.queue
			if len(batch) > maxGroup {
				batch, s.group.queue = batch[:maxGroup], append([]*txReq(nil), batch[maxGroup:]...)
			} else {
				s.group.queue = nil
			}
			s.group.mu.Unlock()
			s.runGroup(batch)
			<-s.wlock
		}
	}
}

// maxGroup caps the calls one group commit runs, so that the first of
// them does not wait on an unbounded queue.
const maxGroup = 64

// txReq is one Transact call waiting for its group.
type txReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx db.Tx) error
	err  error
	done chan error
}

// txGroup is the queue of Transact calls waiting for the write lock.
type txGroup struct {
	mu    sync.Mutex
	queue []*txReq
}

// runGroup runs batch in one transaction, the caller holding the write
// lock, and answers each call.
func (s *Store) runGroup(batch []*txReq) {
	if len(batch) == 0 {
		return
	}
	answer := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
			r.done <- r.err
		}
	}
	if s.closed.Load() {
		answer(db.ErrClosed)
		return
	}
	bg := context.Background()
	w := s.writer
	if _, err := w.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		answer(s.mapError("", "transaction", err))
		return
	}
	poisoned := error(nil)
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if _, err := w.ExecContext(bg, "SAVEPOINT mb_tx"); err != nil {
			poisoned = err
			break
		}
		t := &txState{w: w}
		err := r.fn(context.WithoutCancel(r.ctx), txView{s: s, t: t})
		t.done.Store(true)
		if err != nil {
			r.err = err
			if _, rerr := w.ExecContext(bg, "ROLLBACK TO mb_tx"); rerr != nil {
				poisoned = rerr
				break
			}
		}
		if _, err := w.ExecContext(bg, "RELEASE mb_tx"); err != nil {
			poisoned = err
			break
		}
		if err != nil && !statementError(err) {
			// An error SQLite may have ended the whole transaction on
			// (a full disk, an I/O error): commit nothing.
			poisoned = err
			break
		}
	}
	if poisoned == nil {
		if _, err := w.ExecContext(bg, "COMMIT"); err != nil {
			poisoned = err
		}
	}
	if poisoned != nil {
		w.h.ExecContext(bg, "ROLLBACK")
		err := fmt.Errorf("%w: the transaction was rolled back: %v", ErrTxAborted, s.mapError("", "transaction", poisoned))
		for _, r := range batch {
			// A call whose fn failed keeps its own error: nothing of it
			// was to be stored anyway.
			if r.err == nil {
				r.err = err
			}
		}
	}
	answer(nil)
}

// statementError reports whether err is one that undoes only the
// statement or call that failed, which the group can survive: the
// caller's own error, or one of the store's refusals.
func statementError(err error) bool {
	for _, e := range []error{db.ErrDuplicateKey, db.ErrInvalidQuery, db.ErrInvalidDocument, db.ErrInvalidName, db.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	var se *sqlite.Error
	return !errors.As(err, &se) && !errors.Is(err, ErrBusy) && !errors.Is(err, db.ErrClosed)
}

// writeTx runs fn as one atomic step: its own write transaction, or a
// savepoint inside the caller's transaction.
func (c *collection) writeTx(ctx context.Context, op string, fn func(w runner) error) error {
	if c.tx == nil {
		return c.s.writeTx(ctx, c.name, op, fn)
	}
	if c.tx.done.Load() {
		return fmt.Errorf("%s %s: %w", op, c.name, ErrTxDone)
	}
	w := c.tx.w
	if _, err := w.ExecContext(ctx, "SAVEPOINT mb_op"); err != nil {
		return c.s.mapError(c.name, op, orCtxErr(ctx, err))
	}
	err := fn(w)
	if err != nil {
		// Not under ctx, so that a cancelled call still undoes itself.
		w.h.ExecContext(context.Background(), "ROLLBACK TO mb_op")
	}
	if _, rerr := w.h.ExecContext(context.Background(), "RELEASE mb_op"); err == nil {
		err = rerr
	}
	return c.s.mapError(c.name, op, orCtxErr(ctx, err))
}

// reader is where the collection reads: the read pool, or inside a
// transaction the write connection, which sees the transaction's writes.
func (c *collection) reader() runner {
	if c.tx != nil {
		return c.tx.w
	}
	return c.s.reader
}
