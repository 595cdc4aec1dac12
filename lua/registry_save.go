package lua

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
// any. A syntax error is a *CompileError with the line; other refusals wrap
// ErrInvalidDefinition.
func (r *Registry) Validate(def Definition) error {
	def, err := def.normalize(r.cfg, r.deps.CheckSchedule)
	if err != nil {
		return err
	}
	_, err = compile(def.Name, def.Source, def.Handler)
	return err
}

// Save creates a function or makes def its new version. It compiles first:
// a definition that does not compile or validate changes nothing. Saving
// what is already current (same source, handler, triggers, timeout and
// retries) changes nothing either and returns the current version. The
// compiled version is cached at once, so the next run does not compile.
func (r *Registry) Save(ctx context.Context, def Definition) (Function, error) {
	if r.closed.Load() {
		return Function{}, ErrClosed
	}
	def, err := def.normalize(r.cfg, r.deps.CheckSchedule)
	if err != nil {
		return Function{}, err
	}
	proto, err := compile(def.Name, def.Source, def.Handler)
	if err != nil {
		return Function{}, err
	}
	for attempt := range saveAttempts {
		cur, err := r.Get(ctx, def.Name)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrFunctionNotFound) {
			return Function{}, err
		}
		if exists && def.sameAs(cur) {
			r.remember(cur, proto)
			return cur, nil
		}
		latest, err := r.latestVersion(ctx, def.Name)
		if err != nil {
			return Function{}, err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		fn := Function{
			Name: def.Name, Version: max(latest, cur.Version) + 1, Source: def.Source, Handler: def.Handler, Triggers: def.Triggers,
			Timeout: def.Timeout, Retries: def.Retries, CreatedAt: now, UpdatedAt: now,
		}
		if exists {
			fn.CreatedAt = cur.CreatedAt
		}
		// The unique _id "name@N" of the history makes a version number
		// one save's only: a concurrent save of the same function collides
		// here and tries again with the next number.
		if _, err := r.store.C(db.FunctionVersions).InsertOne(ctx, versionDoc(fn)); err != nil {
			if errors.Is(err, db.ErrDuplicateKey) {
				time.Sleep(time.Duration(attempt+1) * time.Millisecond)
				continue
			}
			return Function{}, fmt.Errorf("save function %q: %w", def.Name, err)
		}
		// Become current unless a newer version already is; then the
		// upsert collides on _id and this version stays in the history.
		filter := bson.M{"_id": fn.Name, "version": bson.M{"$lt": fn.Version}}
		if _, err := r.store.C(db.Functions).ReplaceOne(ctx, filter, functionDoc(fn), &db.UpdateOptions{Upsert: true}); err != nil && !errors.Is(err, db.ErrDuplicateKey) {
			return Function{}, fmt.Errorf("save function %q: %w", def.Name, err)
		}
		r.remember(fn, proto)
		return fn, nil
	}
	return Function{}, fmt.Errorf("save function %q: too many concurrent saves, try again", def.Name)
}

// latestVersion is the highest version in a function's history (0 for
// none): the next save takes the one after it.
func (r *Registry) latestVersion(ctx context.Context, name string) (int64, error) {
	doc, err := r.store.C(db.FunctionVersions).FindOne(ctx, bson.M{"name": name}, &db.FindOptions{
		Sort: bson.D{{Key: "version", Value: -1}}, Projection: bson.M{"version": 1},
	})
	if errors.Is(err, db.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("save function %q: %w", name, err)
	}
	return int64Of(doc["version"]), nil
}

// Get returns the current version of a function, or ErrFunctionNotFound.
func (r *Registry) Get(ctx context.Context, name string) (Function, error) {
	doc, err := r.store.C(db.Functions).FindOne(ctx, db.ByID(name), nil)
	if errors.Is(err, db.ErrNotFound) {
		return Function{}, fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	if err != nil {
		return Function{}, fmt.Errorf("get function %q: %w", name, err)
	}
	return functionFromDoc(doc), nil
}

// List returns every function by name, without their sources (Get has
// them).
func (r *Registry) List(ctx context.Context) ([]Function, error) {
	docs, err := r.store.C(db.Functions).Find(ctx, nil, &db.FindOptions{
		Sort:       bson.D{{Key: "_id", Value: 1}},
		Projection: bson.M{"source": 0},
	})
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	out := make([]Function, len(docs))
	for i, d := range docs {
		out[i] = functionFromDoc(d)
	}
	return out, nil
}

// Delete removes a function and its version history. Its execution
// records stay until they age out.
func (r *Registry) Delete(ctx context.Context, name string) error {
	n, err := r.store.C(db.Functions).DeleteOne(ctx, db.ByID(name))
	if err != nil {
		return fmt.Errorf("delete function %q: %w", name, err)
	}
	r.forget(name)
	if _, err := r.store.C(db.FunctionVersions).DeleteMany(ctx, bson.M{"name": name}); err != nil {
		return fmt.Errorf("delete history of function %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	return nil
}

// Versions returns a function's saved versions, newest first.
func (r *Registry) Versions(ctx context.Context, name string) ([]Function, error) {
	docs, err := r.store.C(db.FunctionVersions).Find(ctx, bson.M{"name": name}, &db.FindOptions{Sort: bson.D{{Key: "version", Value: -1}}})
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
func (r *Registry) Rollback(ctx context.Context, name string, version int64) (Function, error) {
	doc, err := r.store.C(db.FunctionVersions).FindOne(ctx, db.ByID(fmt.Sprintf("%s@%d", name, version)), nil)
	if errors.Is(err, db.ErrNotFound) {
		if _, gerr := r.Get(ctx, name); gerr != nil {
			return Function{}, gerr
		}
		return Function{}, fmt.Errorf("%w: function %q has no version %d", ErrVersionNotFound, name, version)
	}
	if err != nil {
		return Function{}, fmt.Errorf("rollback function %q: %w", name, err)
	}
	return r.Save(ctx, functionFromDoc(doc).Definition())
}
