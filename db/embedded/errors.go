package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrInvalidConfig is returned by Open and Config.Validate for a
	// configuration that cannot work.
	ErrInvalidConfig = errors.New("invalid embedded store configuration")
	// ErrBusy: another process held the database's write lock for longer
	// than Config.BusyTimeout. Retrying later can succeed.
	ErrBusy = errors.New("database busy")
)

// idIndex is the name MongoDB gives the index on _id.
const idIndex = db.IDIndex

// mapError turns a SQLite error into the db sentinels. op and coll say what
// was being done, for errors that are not the caller's fault.
func (s *Store) mapError(coll, op string, err error) error {
	if err == nil {
		return nil
	}
	for _, typed := range []error{db.ErrDuplicateKey, db.ErrInvalidQuery, db.ErrInvalidDocument,
		db.ErrInvalidName, db.ErrNotFound, db.ErrClosed, ErrBusy} {
		if errors.Is(err, typed) {
			return err
		}
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, coll, err)
	case errors.Is(err, sql.ErrConnDone), strings.Contains(err.Error(), "sql: database is closed"):
		// database/sql has no sentinel for a closed *sql.DB.
		return db.ErrClosed
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return &db.DuplicateKeyError{Collection: coll, Index: uniqueIndexName(se.Error())}
			}
		case sqlite3.SQLITE_BUSY:
			return fmt.Errorf("%s %s: %w: another process held the write lock for more than %s", op, coll, ErrBusy, s.cfg.BusyTimeout)
		case sqlite3.SQLITE_INTERRUPT:
			return fmt.Errorf("%s %s: %w", op, coll, context.Canceled)
		}
	}
	if s.closed.Load() {
		return db.ErrClosed
	}
	return fmt.Errorf("%s %s: sqlite: %w", op, coll, err)
}

// uniqueIndexName recovers the index a UNIQUE constraint failed on from
// SQLite's message: "UNIQUE constraint failed: index 'i_orders.email_1'"
// for an index, "UNIQUE constraint failed: c_orders.id" for _id.
func uniqueIndexName(msg string) string {
	if i := strings.Index(msg, "index '"); i >= 0 {
		name := strings.TrimSuffix(msg[i+len("index '"):], "'")
		if j := strings.LastIndex(name, "'"); j >= 0 {
			name = name[:j]
		}
		if _, idx, ok := strings.Cut(name, "."); ok {
			return unescapeName(idx)
		}
		return name
	}
	if strings.HasSuffix(msg, ".id") || strings.Contains(msg, ".id ") {
		return idIndex
	}
	return ""
}

// isNoTable reports whether err says a collection's table does not exist,
// which for reads means an empty collection.
func isNoTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// orCtxErr prefers the context's error: SQLite reports a cancelled or
// timed-out statement only as "interrupted".
func orCtxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
