package mongostore

import (
	"context"

	"github.com/moonbase-dev/moonbase/db"
)

// Transact returns db.ErrNoTransactions without calling fn, on every
// deployment. MongoDB has multi-document transactions only on replica sets
// and sharded clusters, and FerretDB, the MongoDB the tests run against,
// has none; so that a write and its event behave the same on every
// deployment, through one path that the tests exercise, callers take their
// path for stores without transactions (for events, see docs/events.md).
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx db.Tx) error) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	return db.ErrNoTransactions
}
