package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/moonbase-dev/moonbase/db"
	"modernc.org/sqlite"
)

// FileName is the database file inside Config.Dir.
const FileName = "moonbase.db"

// schemaVersion is the layout of the file this code reads and writes,
// kept in SQLite's user_version.
const schemaVersion = 1

// Store is the embedded store: documents in one SQLite file. It implements
// db.Store and is safe for concurrent use, also by several processes
// sharing Config.Dir.
type Store struct {
	cfg     Config
	path    string
	write   *sql.DB       // holds the one write connection
	read    *sql.DB       // a pool of read-only connections
	writer  runner        // the write connection; wlock guards it
	reader  runner        // the read pool
	wlock   chan struct{} // one write transaction at a time in this process
	group   txGroup       // Transact calls waiting to commit together
	closed  atomic.Bool
	indexes indexCache
}

var _ db.Store = (*Store)(nil)

// Open opens (creating when needed) the database in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded: data dir %q: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	s := &Store{cfg: cfg, path: filepath.Join(dir, FileName), wlock: make(chan struct{}, 1)}

	// A driver of our own carries mb_key to exactly our connections,
	// without registering anything process-wide.
	drv := &sqlite.Driver{}
	if err := drv.RegisterFunction("mb_key", &sqlite.FunctionImpl{
		NArgs:         2,
		Deterministic: true,
		// mb_key copies everything it returns, so it may read the
		// document in place instead of copying every row's BSON first.
		VolatileArgs: true,
		Scalar:       sqlKey,
	}); err != nil {
		return nil, fmt.Errorf("embedded: register mb_key: %w", err)
	}

	s.write = sql.OpenDB(connector{drv: drv, dsn: s.dsn(true)})
	s.write.SetMaxOpenConns(1)
	// The store keeps its write connection for its whole life, with the
	// statements prepared on it.
	wconn, err := s.write.Conn(context.Background())
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", s.path, err)
	}
	s.writer = runner{h: wconn, cache: &stmtCache{}}
	if err := s.initSchema(); err != nil {
		wconn.Close()
		s.write.Close()
		return nil, err
	}
	s.read = sql.OpenDB(connector{drv: drv, dsn: s.dsn(false)})
	s.read.SetMaxOpenConns(cfg.ReadConns)
	s.read.SetMaxIdleConns(cfg.ReadConns)
	s.reader = runner{h: s.read, cache: &stmtCache{}}
	return s, nil
}

// dsn builds the connection string. busy_timeout comes first (the driver
// runs it before the other pragmas) so that even switching to WAL waits
// for another process instead of failing.
func (s *Store) dsn(write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(s.cfg.BusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "synchronous("+s.cfg.Synchronous+")")
	q.Add("_pragma", "temp_store(memory)")
	// A negative cache_size is in KiB rather than pages.
	q.Add("_pragma", "cache_size(-"+strconv.Itoa(s.cfg.CacheKB)+")")
	if write {
		q.Add("_pragma", "journal_mode(wal)")
		// After a burst of writes the log is checkpointed; keep the file
		// from staying at its largest size.
		q.Add("_pragma", "journal_size_limit(67108864)")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: s.path, RawQuery: q.Encode()}
	return u.String()
}

// initSchema creates the metadata tables, once per file.
func (s *Store) initSchema() error {
	ctx := context.Background()
	w := s.writer.h
	if _, err := w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("embedded: open %s: %w", s.path, s.mapError("", "open", err))
	}
	err := s.createMetadata(ctx)
	if err == nil {
		_, err = w.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.ExecContext(ctx, "ROLLBACK")
	}
	return err
}

func (s *Store) createMetadata(ctx context.Context) error {
	version, err := s.writer.queryInt(ctx, "PRAGMA user_version")
	if err != nil {
		return fmt.Errorf("embedded: open %s: %w", s.path, err)
	}
	if version > schemaVersion {
		return fmt.Errorf("embedded: %s has layout version %d; this Moonbase reads up to %d, so it is older than the one that wrote the file", s.path, version, schemaVersion)
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS mb_collections (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS mb_indexes (collection TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (collection, name)) WITHOUT ROWID`,
		`PRAGMA user_version = ` + strconv.Itoa(schemaVersion),
	} {
		if _, err := s.writer.h.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("embedded: create the metadata of %s: %w", s.path, err)
		}
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// C returns the collection called name. An invalid name is reported by
// every method of the collection.
func (s *Store) C(name string) db.Collection {
	return &collection{s: s, name: name, table: tableName(name), nameErr: db.ValidateCollectionName(name)}
}

// Collections lists the collections that exist, in name order.
func (s *Store) Collections(ctx context.Context) ([]string, error) {
	if s.closed.Load() {
		return nil, db.ErrClosed
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT name FROM mb_collections ORDER BY name`)
	if err != nil {
		return nil, s.mapError("", "list collections", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.mapError("", "list collections", err)
		}
		names = append(names, n)
	}
	return names, s.mapError("", "list collections", rows.Err())
}

// Ping reports whether the database file answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	if _, err := s.reader.queryInt(ctx, `SELECT 1`); err != nil {
		return s.mapError("", "ping", err)
	}
	return nil
}

// Close closes the database; later calls return nil, and every other
// method db.ErrClosed.
func (s *Store) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	// Let a write transaction under way finish, unless ctx ends first.
	select {
	case s.wlock <- struct{}{}:
		defer func() { <-s.wlock }()
	case <-ctx.Done():
	}
	return errors.Join(s.read.Close(), s.writer.h.(*sql.Conn).Close(), s.write.Close())
}

// connector opens connections through a driver of our own, which carries
// mb_key.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// sqlKey is mb_key(doc, path): the index key of the value at path.
func sqlKey(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	doc, ok := args[0].([]byte)
	if !ok {
		return nil, errors.New("mb_key: the document is not a BLOB")
	}
	path, ok := args[1].(string)
	if !ok {
		return nil, errors.New("mb_key: the path is not TEXT")
	}
	return keyFunc(doc, path), nil
}
