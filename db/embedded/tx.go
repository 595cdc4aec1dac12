package embedded

import (
	"context"
	"database/sql"

	"github.com/moonbase-dev/moonbase/db"
)

// querier is what reads need: the read pool or a write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// writeTx runs fn in one write transaction on the write connection. The
// connection's BEGIN IMMEDIATE takes SQLite's write lock first, so fn sees
// and changes the database alone, also across processes: this is what
// makes every read-modify-write of this package atomic. fn's error rolls
// everything back.
func (s *Store) writeTx(ctx context.Context, coll, op string, fn func(tx *sql.Tx) error) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.mapError(coll, op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.mapError(coll, op, err)
	}
	if err := tx.Commit(); err != nil {
		if ctx.Err() != nil {
			// database/sql rolls back a transaction whose context ended.
			return s.mapError(coll, op, ctx.Err())
		}
		return s.mapError(coll, op, err)
	}
	return nil
}
