package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/moonbase-dev/moonbase/db"
)

// ErrTxDone: a collection of a transaction was used after Transact
// returned.
var ErrTxDone = errors.New("embedded: the transaction has ended")

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
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx db.Tx) error) error {
	var fnErr error
	err := s.writeTx(ctx, "", "transaction", func(w runner) error {
		t := &txState{w: w}
		defer t.done.Store(true)
		fnErr = fn(ctx, txView{s: s, t: t})
		return fnErr
	})
	if fnErr != nil {
		// fn's own error, not the store's wording of it.
		return fnErr
	}
	return err
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
