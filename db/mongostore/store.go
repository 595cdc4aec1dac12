package mongostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Store is a db.Store on one MongoDB database. It is safe for concurrent
// use.
type Store struct {
	client   *mongo.Client
	database *mongo.Database
	closed   atomic.Bool
}

var _ db.Store = (*Store)(nil)

// Open connects to the deployment in cfg.URI and checks that it answers
// within ctx, so a wrong URI fails at start-up rather than on first use.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	opts := options.Client().ApplyURI(cfg.URI).
		// Nested documents must come back as bson.M like top-level ones;
		// the driver's default for them is bson.D.
		SetBSONOptions(&options.BSONOptions{DefaultDocumentM: true})
	if cfg.MaxPoolSize > 0 {
		opts.SetMaxPoolSize(cfg.MaxPoolSize)
	}
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, err.Error())
	}
	s := &Store{client: client, database: client.Database(cfg.Database)}
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("open mongodb database %s: %w", cfg.Database, err)
	}
	return s, nil
}

// Database is the name of the database the store uses.
func (s *Store) Database() string { return s.database.Name() }

// C returns the collection name. An invalid name is reported by the
// collection's methods as db.ErrInvalidName.
func (s *Store) C(name string) db.Collection {
	return &collection{
		store:   s,
		name:    name,
		nameErr: db.ValidateCollectionName(name),
		coll:    s.database.Collection(name),
	}
}

// Collections lists the database's collections in name order, leaving out
// MongoDB's own system.* collections.
func (s *Store) Collections(ctx context.Context) ([]string, error) {
	if s.closed.Load() {
		return nil, db.ErrClosed
	}
	names, err := s.database.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return nil, mapError("", "list collections", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, "system.") })
	slices.Sort(names)
	return names, nil
}

// Ping reports whether the deployment answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return db.ErrClosed
	}
	if err := s.client.Ping(ctx, nil); err != nil {
		return mapError(s.database.Name(), "ping", err)
	}
	return nil
}

// Close disconnects. It is idempotent; every later call on the store or
// its collections returns db.ErrClosed.
func (s *Store) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("close mongodb: %s", err.Error())
	}
	return nil
}
