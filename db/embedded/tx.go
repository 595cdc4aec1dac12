package embedded

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// querier is what reads need: the read pool, a read transaction or the
// write connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	// snapshot returns a querier whose statements all see the same data,
	// and the function that ends it.
	snapshot(ctx context.Context) (querier, func(), error)
}

// sqlHandle is a *sql.DB or a *sql.Conn.
type sqlHandle interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// maxCachedStmts bounds each statement cache. Statements are few (a
// handful per collection and query shape); past the bound, statements run
// unprepared rather than evicting ones that may be in use.
const maxCachedStmts = 1000

// runner runs statements through prepared statements it keeps: SQLite
// spends more time parsing a short statement than running it.
type runner struct {
	h     sqlHandle
	cache *stmtCache
}

type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// cached returns the statement already prepared for text, or nil.
func (r runner) cached(text string) *sql.Stmt {
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	return r.cache.m[text]
}

// full reports whether the cache takes no more statements.
func (r runner) full() bool {
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	return len(r.cache.m) >= maxCachedStmts
}

// stmt returns the prepared statement for text, or nil when the cache is
// full. A statement SQLite cannot prepare (its table does not exist yet)
// is not kept.
func (r runner) stmt(ctx context.Context, text string) (*sql.Stmt, error) {
	c := r.cache
	c.mu.Lock()
	st, full := c.m[text], len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if st != nil || full {
		return st, nil
	}
	st, err := r.h.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[text]; prev != nil {
		st.Close()
		return prev, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[text] = st
	return st, nil
}

func (r runner) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.h.QueryContext(ctx, text, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (r runner) ExecContext(ctx context.Context, text string, args ...any) (sql.Result, error) {
	st, err := r.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.h.ExecContext(ctx, text, args...)
	}
	return st.ExecContext(ctx, args...)
}

// snapshot opens a read transaction on the read pool. On the write
// connection every statement is already inside the write transaction.
func (r runner) snapshot(ctx context.Context) (querier, func(), error) {
	pool, ok := r.h.(*sql.DB)
	if !ok {
		return r, func() {}, nil
	}
	tx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	return txQuerier{tx: tx, r: r}, func() { tx.Rollback() }, nil
}

// txQuerier runs the read pool's prepared statements in one transaction.
type txQuerier struct {
	tx *sql.Tx
	r  runner
}

// QueryContext never prepares on the pool: the transaction already holds
// one of the pool's connections, and waiting for a second one while
// holding it deadlocks as soon as every connection is held that way. A
// statement not prepared yet runs unprepared on the transaction's own
// connection, and is prepared for next time by a goroutine that holds no
// connection while it waits for one.
func (q txQuerier) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st := q.r.cached(text); st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	if !q.r.full() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = q.r.stmt(ctx, text) // a failed warm-up only costs speed
		}()
	}
	return q.tx.QueryContext(ctx, text, args...)
}

func (q txQuerier) snapshot(context.Context) (querier, func(), error) { return q, func() {}, nil }

// queryInt runs a query of one integer.
func (r runner) queryInt(ctx context.Context, text string, args ...any) (int64, error) {
	rows, err := r.QueryContext(ctx, text, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// writeTx runs fn in one transaction on the write connection. BEGIN
// IMMEDIATE takes SQLite's write lock first, so fn reads and changes the
// database alone, also against other processes: this is what makes every
// read-modify-write of this package atomic. It also means a transaction
// never has to upgrade a read lock, so two processes cannot deadlock. An
// error from fn rolls everything back.
func (s *Store) writeTx(ctx context.Context, coll, op string, fn func(w runner) error) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return s.mapError(coll, op, ctx.Err())
	}
	defer func() { <-s.wlock }()
	if s.closed.Load() {
		return db.ErrClosed
	}
	w := s.writer
	if _, err := w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A BEGIN that ctx interrupted while it waited for another
		// process's lock may have begun all the same; left open, the
		// transaction would keep the write lock and refuse the next BEGIN
		// ("cannot start a transaction within a transaction").
		w.h.ExecContext(context.Background(), "ROLLBACK")
		return s.mapError(coll, op, orCtxErr(ctx, err))
	}
	err := fn(w)
	if err == nil {
		_, err = w.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		// Not under ctx: a cancelled call must still roll back. SQLite
		// may have rolled back already, which makes this fail harmlessly.
		w.h.ExecContext(context.Background(), "ROLLBACK")
		return s.mapError(coll, op, orCtxErr(ctx, err))
	}
	return nil
}
