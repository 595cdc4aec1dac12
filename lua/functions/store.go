package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/moonbase-dev/moonbase/db"
)

// Deps are what the store needs from the rest of the server. Only Store is
// required.
type Deps struct {
	Store db.Store
	// Compile checks that a definition's source compiles and defines its
	// handler; Validate and Save refuse what it refuses, before anything
	// changes. The runtime supplies it. Nil: sources are saved unchecked.
	Compile func(name, source, handler string) error
	// Saved is told of the version a Save made current (or found already
	// current), and Deleted of a deleted function, so a cache of compiled
	// functions follows at once. Either may be nil.
	Saved   func(fn Function)
	Deleted func(name string)
	// CheckSchedule validates a schedule trigger's expression at save time.
	// Nil: schedules are saved unchecked.
	CheckSchedule func(expr, timezone string) error
	// Logger receives the store's own warnings; nil discards them.
	Logger *slog.Logger
}

// Store keeps functions, their versions, the records of their runs and
// the secrets they read. It is safe for concurrent use.
type Store struct {
	cfg     Config
	deps    Deps
	store   db.Store
	execs   *execWriter
	secrets secretCache
	closed  atomic.Bool
}

// NewStore returns a store over deps.Store. It starts the execution-record
// writer; call Start before serving and Close at the end.
func NewStore(cfg Config, deps Deps) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("functions: NewStore needs a store")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg.WithDefaults(), deps: deps, store: deps.Store}
	s.secrets.entries = make(map[string]secretEntry)
	s.execs = newExecWriter(deps.Store, log)
	return s, nil
}

// Start creates the indexes the store reads by. It is safe to call at
// every start and from several instances at once.
func (s *Store) Start(ctx context.Context) error {
	for col, idx := range map[string]db.Index{
		db.Executions:       {Keys: []db.IndexKey{{Field: "function"}, {Field: "started_at", Desc: true}}},
		db.FunctionVersions: {Keys: []db.IndexKey{{Field: "name"}, {Field: "version", Desc: true}}},
	} {
		if err := s.store.C(col).EnsureIndex(ctx, idx); err != nil {
			return fmt.Errorf("ensure index on %s: %w", col, err)
		}
	}
	return nil
}

// Close refuses further saves and writes every execution record still
// buffered (bounded by ctx). It is idempotent.
func (s *Store) Close(ctx context.Context) error {
	s.closed.Store(true)
	return s.execs.close(ctx)
}

// Refuse makes further saves fail with ErrClosed, ahead of Close: the
// runtime calls it when its shutdown begins.
func (s *Store) Refuse() { s.closed.Store(true) }
