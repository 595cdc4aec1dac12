package functions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Secrets are name → value pairs in _secrets ({_id: name, value,
// updated_at}) that functions read with backend.env(name). Values are
// stored as given: protect the database as you would the secrets.

// secretTTL is how long a run trusts a secret it read; a change made
// through this store is seen at once, one made on another instance
// within secretTTL.
const secretTTL = 5 * time.Second

// MaxSecretBytes caps a secret's value.
const MaxSecretBytes = 64 << 10

var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,127}$`)

// ValidateSecretName refuses a name that is not 1-128 letters, digits, _,
// . or -, starting with a letter or _.
func ValidateSecretName(name string) error {
	if !secretName.MatchString(name) {
		return fmt.Errorf("%w: secret name %q: use 1-128 letters, digits, _, . or -, starting with a letter or _", ErrInvalidSecret, name)
	}
	return nil
}

type secretCache struct {
	mu      sync.Mutex
	entries map[string]secretEntry
}

type secretEntry struct {
	value string
	found bool
	at    time.Time
}

func (c *secretCache) get(name string) (secretEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[name]
	if !ok || time.Since(e.at) > secretTTL {
		return secretEntry{}, false
	}
	return e, true
}

func (c *secretCache) put(name string, e secretEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[name] = e
}

// SetSecret creates or replaces a secret.
func (s *Store) SetSecret(ctx context.Context, name, value string) error {
	if err := ValidateSecretName(name); err != nil {
		return err
	}
	if len(value) > MaxSecretBytes {
		return fmt.Errorf("%w: secret %q is longer than %s", ErrInvalidSecret, name, fmt.Sprintf("%d KiB", MaxSecretBytes>>10))
	}
	doc := bson.M{"_id": name, "value": value, "updated_at": time.Now().UTC().Truncate(time.Millisecond)}
	if _, err := s.store.C(db.Secrets).ReplaceOne(ctx, db.ByID(name), doc, &db.UpdateOptions{Upsert: true}); err != nil {
		return fmt.Errorf("set secret %q: %w", name, err)
	}
	s.secrets.put(name, secretEntry{value: value, found: true, at: time.Now()})
	return nil
}

// DeleteSecret removes a secret, or says ErrSecretNotFound.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	n, err := s.store.C(db.Secrets).DeleteOne(ctx, db.ByID(name))
	if err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	s.secrets.put(name, secretEntry{at: time.Now()})
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrSecretNotFound, name)
	}
	return nil
}

// SecretNames lists the secrets' names, sorted; never their values.
func (s *Store) SecretNames(ctx context.Context) ([]string, error) {
	return s.SecretNamesPage(ctx, "", 0)
}

// SecretNamesPage is SecretNames a page at a time: the limit names (all
// when limit ≤ 0) that sort after after ("" for the first page).
func (s *Store) SecretNamesPage(ctx context.Context, after string, limit int) ([]string, error) {
	var filter bson.M
	if after != "" {
		filter = bson.M{"_id": bson.M{"$gt": after}}
	}
	docs, err := s.store.C(db.Secrets).Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Projection: bson.M{"_id": 1}, Limit: int64(max(limit, 0))})
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	names := make([]string, 0, len(docs))
	for _, d := range docs {
		names = append(names, str(d["_id"]))
	}
	return names, nil
}

// Secret reads one secret for backend.env, through a cache: a change made
// through this store is seen at once, one made on another instance within
// a few seconds. found is false when there is no such secret.
func (s *Store) Secret(ctx context.Context, name string) (value string, found bool, err error) {
	if e, ok := s.secrets.get(name); ok {
		return e.value, e.found, nil
	}
	doc, err := s.store.C(db.Secrets).FindOne(ctx, db.ByID(name), nil)
	if errors.Is(err, db.ErrNotFound) {
		s.secrets.put(name, secretEntry{at: time.Now()})
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	e := secretEntry{value: str(doc["value"]), found: true, at: time.Now()}
	s.secrets.put(name, e)
	return e.value, true, nil
}
