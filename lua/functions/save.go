package functions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// saveAttempts bounds the retries of a save that lost a race for its
// version number to a concurrent save of the same function.
const saveAttempts = 16

// Validate checks a definition and compiles its source without saving
// anything: deploy calls it for every function of a folder before changing
// any. A syntax error is what Deps.Compile says (the runtime's
// *CompileError, with the line); other refusals wrap ErrInvalidDefinition.
func (s *Store) Validate(def Definition) error {
	def, err := s.Normalize(def)
	if err != nil {
		return err
	}
	return s.compile(def)
}

// Normalize checks a definition and fills its defaults (the handler, an
// empty list of triggers), without compiling it. Refusals wrap
// ErrInvalidDefinition.
func (s *Store) Normalize(def Definition) (Definition, error) {
	return def.normalize(s.cfg, s.deps.CheckSchedule)
}

func (s *Store) compile(def Definition) error {
	if s.deps.Compile == nil {
		return nil
	}
	return s.deps.Compile(def.Name, def.Source, def.Handler)
}

// saved tells Deps.Saved of fn.
func (s *Store) saved(fn Function) {
	if s.deps.Saved != nil {
		s.deps.Saved(fn)
	}
}

// Save creates a function or makes def its new version. It compiles first:
// a definition that does not compile or validate changes nothing. Saving
// what is already current (same source, handler, triggers, timeout and
// retries) changes nothing either and returns the current version. Either
// way Deps.Saved hears of the version now current, so the runtime caches
// what it compiled at once and the next run does not compile.
func (s *Store) Save(ctx context.Context, def Definition) (Function, error) {
	if s.closed.Load() {
		return Function{}, ErrClosed
	}
	def, err := s.Normalize(def)
	if err != nil {
		return Function{}, err
	}
	if err := s.compile(def); err != nil {
		return Function{}, err
	}
	for attempt := range saveAttempts {
		cur, err := s.Get(ctx, def.Name)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrFunctionNotFound) {
			return Function{}, err
		}
		if exists && def.sameAs(cur) {
			s.saved(cur)
			return cur, nil
		}
		latest, err := s.latestVersion(ctx, def.Name)
		if err != nil {
			return Function{}, err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		fn := Function{
			Name: def.Name, Version: max(latest, cur.Version) + 1, Source: def.Source, Handler: def.Handler, Triggers: def.Triggers,
			Timeout: def.Timeout, Retries: def.Retries, Backoff: def.Backoff, CreatedAt: now, UpdatedAt: now,
		}
		if exists {
			fn.CreatedAt = cur.CreatedAt
		}
		// The unique _id "name@N" of the history makes a version number
		// one save's only: a concurrent save of the same function collides
		// here and tries again with the next number.
		if _, err := s.store.C(db.FunctionVersions).InsertOne(ctx, versionDoc(fn)); err != nil {
			if errors.Is(err, db.ErrDuplicateKey) {
				time.Sleep(time.Duration(attempt+1) * time.Millisecond)
				continue
			}
			return Function{}, fmt.Errorf("save function %q: %w", def.Name, err)
		}
		// Become current unless a newer version already is; then the
		// upsert collides on _id and this version stays in the history.
		filter := bson.M{"_id": fn.Name, "version": bson.M{"$lt": fn.Version}}
		if _, err := s.store.C(db.Functions).ReplaceOne(ctx, filter, functionDoc(fn), &db.UpdateOptions{Upsert: true}); err != nil && !errors.Is(err, db.ErrDuplicateKey) {
			return Function{}, fmt.Errorf("save function %q: %w", def.Name, err)
		}
		s.saved(fn)
		return fn, nil
	}
	return Function{}, fmt.Errorf("save function %q: too many concurrent saves, try again", def.Name)
}

// latestVersion is the highest version in a function's history (0 for
// none): the next save takes the one after it.
func (s *Store) latestVersion(ctx context.Context, name string) (int64, error) {
	doc, err := s.store.C(db.FunctionVersions).FindOne(ctx, bson.M{"name": name}, &db.FindOptions{
		Sort: bson.D{{Key: "version", Value: -1}}, Projection: bson.M{"version": 1},
	})
	if errors.Is(err, db.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("save function %q: %w", name, err)
	}
	return db.Int64Of(doc["version"]), nil
}

// Get returns the current version of a function, or ErrFunctionNotFound.
func (s *Store) Get(ctx context.Context, name string) (Function, error) {
	doc, err := s.store.C(db.Functions).FindOne(ctx, db.ByID(name), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Function{}, fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	if err != nil {
		return Function{}, fmt.Errorf("get function %q: %w", name, err)
	}
	return functionFromDoc(doc), nil
}

// CurrentVersion returns the version number of a function's current
// version, reading only that: the runtime checks it before trusting its
// cache. A missing function is ErrFunctionNotFound.
func (s *Store) CurrentVersion(ctx context.Context, name string) (int64, error) {
	doc, err := s.store.C(db.Functions).FindOne(ctx, db.ByID(name), &db.FindOptions{Projection: bson.M{"version": 1}})
	if errors.Is(err, db.ErrNotFound) {
		return 0, fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	if err != nil {
		return 0, fmt.Errorf("load function %q: %w", name, err)
	}
	return db.Int64Of(doc["version"]), nil
}

// List returns every function by name, without their sources (Get has
// them).
func (s *Store) List(ctx context.Context) ([]Function, error) {
	return s.ListPage(ctx, "", "", 0)
}

// Delete removes a function and its version history. Its execution
// records stay until they age out.
func (s *Store) Delete(ctx context.Context, name string) error {
	n, err := s.store.C(db.Functions).DeleteOne(ctx, db.ByID(name))
	if err != nil {
		return fmt.Errorf("delete function %q: %w", name, err)
	}
	if s.deps.Deleted != nil {
		s.deps.Deleted(name)
	}
	if _, err := s.store.C(db.FunctionVersions).DeleteMany(ctx, bson.M{"name": name}); err != nil {
		return fmt.Errorf("delete history of function %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	return nil
}

// Versions returns a function's saved versions, newest first.
func (s *Store) Versions(ctx context.Context, name string) ([]Function, error) {
	docs, err := s.store.C(db.FunctionVersions).Find(ctx, bson.M{"name": name}, &db.FindOptions{Sort: bson.D{{Key: "version", Value: -1}}})
	if err != nil {
		return nil, fmt.Errorf("versions of function %q: %w", name, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	out := make([]Function, len(docs))
	for i, d := range docs {
		out[i] = functionFromDoc(d)
	}
	return out, nil
}

// Rollback makes an earlier version current again by saving its content
// as a new version (the history only grows), and returns that version. If
// the earlier version's content is already current, nothing changes.
func (s *Store) Rollback(ctx context.Context, name string, version int64) (Function, error) {
	doc, err := s.store.C(db.FunctionVersions).FindOne(ctx, db.ByID(fmt.Sprintf("%s@%d", name, version)), nil)
	if errors.Is(err, db.ErrNotFound) {
		if _, gerr := s.Get(ctx, name); gerr != nil {
			return Function{}, gerr
		}
		return Function{}, fmt.Errorf("%w: function %q has no version %d", ErrVersionNotFound, name, version)
	}
	if err != nil {
		return Function{}, fmt.Errorf("rollback function %q: %w", name, err)
	}
	return s.Save(ctx, functionFromDoc(doc).Definition())
}
