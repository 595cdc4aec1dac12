package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// indexSpec is one index of a collection as mb_indexes records it.
type indexSpec struct {
	Name   string        `json:"name"`
	Keys   []db.IndexKey `json:"keys"`
	Unique bool          `json:"unique"`
}

// indexCacheTTL is how long a process trusts its list of a collection's
// indexes. The list only steers the planner: an index another process
// created is used once the entry expires, and a plan naming a dropped
// index still returns the right rows (the WHERE clause is evaluated
// without it), so a stale list costs speed, never correctness.
const indexCacheTTL = time.Second

type indexCache struct {
	mu sync.Mutex
	m  map[string]cachedSpecs
}

type cachedSpecs struct {
	specs []indexSpec
	at    time.Time
}

// indexSpecs lists coll's indexes, from the cache when it is fresh.
func (s *Store) indexSpecs(ctx context.Context, coll string) ([]indexSpec, error) {
	s.indexes.mu.Lock()
	e, ok := s.indexes.m[coll]
	s.indexes.mu.Unlock()
	if ok && time.Since(e.at) < indexCacheTTL {
		return e.specs, nil
	}
	at := time.Now()
	specs, err := readSpecs(ctx, s.reader, coll)
	if err != nil {
		return nil, s.mapError(coll, "list indexes of", err)
	}
	s.indexes.mu.Lock()
	if s.indexes.m == nil {
		s.indexes.m = map[string]cachedSpecs{}
	}
	s.indexes.m[coll] = cachedSpecs{specs: specs, at: at}
	s.indexes.mu.Unlock()
	return specs, nil
}

// readSpecs reads coll's index definitions.
func readSpecs(ctx context.Context, qr querier, coll string) ([]indexSpec, error) {
	rows, err := qr.QueryContext(ctx, `SELECT spec FROM mb_indexes WHERE collection = ? ORDER BY name`, coll)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var specs []indexSpec
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var spec indexSpec
		if err := json.Unmarshal([]byte(raw), &spec); err != nil {
			return nil, fmt.Errorf("embedded: index of %s: unreadable definition %q: %w", coll, raw, err)
		}
		specs = append(specs, spec)
	}
	return specs, rows.Err()
}

// forgetIndexes drops coll's cached index list after this process changed it.
func (s *Store) forgetIndexes(coll string) {
	s.indexes.mu.Lock()
	delete(s.indexes.m, coll)
	s.indexes.mu.Unlock()
}

func (c *collection) EnsureIndex(ctx context.Context, idx db.Index) error {
	if err := c.ready(); err != nil {
		return err
	}
	if len(idx.Keys) == 0 {
		return &db.QueryError{Msg: "an index needs at least one field"}
	}
	seen := map[string]bool{}
	for _, k := range idx.Keys {
		if err := checkPath(k.Field, k.Field); err != nil {
			return err
		}
		if seen[k.Field] {
			return &db.QueryError{Op: k.Field, Msg: "the field appears twice in the index"}
		}
		seen[k.Field] = true
	}
	spec := indexSpec{Name: idx.Name, Keys: idx.Keys, Unique: idx.Unique}
	if spec.Name == "" {
		spec.Name = defaultIndexName(idx.Keys)
	}
	if err := db.ValidateIndexName(spec.Name); err != nil {
		return err
	}
	if len(spec.Keys) == 1 && spec.Keys[0].Field == "_id" {
		// Every collection has its unique _id index already.
		return nil
	}
	// An index that exists already is found without the write lock: every
	// server ensures its indexes as it starts, and one starting beside
	// others that keep the lock busy would otherwise wait for it (and
	// give up after BusyTimeout) only to learn that there is nothing to do.
	if existing, err := readSpecs(ctx, c.s.reader, c.name); err == nil {
		if found, err := c.existingIndex(existing, spec); found || err != nil {
			return err
		}
	}
	defer c.s.forgetIndexes(c.name)
	return c.writeTx(ctx, "create index on", func(w runner) error {
		if err := c.createTable(ctx, w); err != nil {
			return err
		}
		existing, err := readSpecs(ctx, w, c.name)
		if err != nil {
			return err
		}
		if found, err := c.existingIndex(existing, spec); found || err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, createIndexSQL(c.name, spec)); err != nil {
			if dup, ok := c.s.mapError(c.name, "", err).(*db.DuplicateKeyError); ok {
				dup.Index = spec.Name
				return dup
			}
			return err
		}
		raw, err := json.Marshal(spec)
		if err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, `INSERT INTO mb_indexes (collection, name, spec) VALUES (?, ?, ?)`, c.name, spec.Name, string(raw))
		return err
	})
}

// existingIndex reports whether spec is among existing, or why it
// conflicts with one of them.
func (c *collection) existingIndex(existing []indexSpec, spec indexSpec) (bool, error) {
	for _, e := range existing {
		sameKeys := slices.Equal(e.Keys, spec.Keys)
		switch {
		case e.Name == spec.Name && sameKeys && e.Unique == spec.Unique:
			return true, nil
		case e.Name == spec.Name:
			return false, fmt.Errorf("%w: index %q on %s already exists with different keys or options", db.ErrInvalidName, spec.Name, c.name)
		case sameKeys:
			return false, fmt.Errorf("%w: index %q on %s has the same keys as the existing index %q", db.ErrInvalidName, spec.Name, c.name, e.Name)
		}
	}
	return false, nil
}

func (c *collection) DropIndex(ctx context.Context, name string) error {
	if err := c.ready(); err != nil {
		return err
	}
	if name == idIndex {
		return &db.QueryError{Op: name, Msg: "the _id index cannot be dropped"}
	}
	if err := db.ValidateIndexName(name); err != nil {
		return err
	}
	// Forgetting the cached list keeps this process from planning with the
	// index; another process notices within indexCacheTTL, and its plans
	// stay correct meanwhile (see indexCacheTTL).
	defer c.s.forgetIndexes(c.name)
	return c.writeTx(ctx, "drop index on", func(w runner) error {
		if _, err := w.ExecContext(ctx, `DROP INDEX IF EXISTS `+indexSQLName(c.name, name)); err != nil {
			return err
		}
		_, err := w.ExecContext(ctx, `DELETE FROM mb_indexes WHERE collection = ? AND name = ?`, c.name, name)
		return err
	})
}

// createIndexSQL is the expression index behind spec.
func createIndexSQL(coll string, spec indexSpec) string {
	cols := make([]string, len(spec.Keys))
	for i, k := range spec.Keys {
		cols[i] = keyExpr(k.Field)
		if k.Desc {
			cols[i] += " DESC"
		}
	}
	unique := ""
	if spec.Unique {
		unique = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX IF NOT EXISTS %s ON %s (%s)",
		unique, indexSQLName(coll, spec.Name), tableName(coll), strings.Join(cols, ", "))
}

// createTable makes the collection exist.
func (c *collection) createTable(ctx context.Context, w runner) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+c.table+
		` (rid INTEGER PRIMARY KEY, id NOT NULL UNIQUE, doc BLOB NOT NULL)`); err != nil {
		return err
	}
	_, err := w.ExecContext(ctx, `INSERT OR IGNORE INTO mb_collections (name) VALUES (?)`, c.name)
	return err
}

func (c *collection) Drop(ctx context.Context) error {
	if err := c.ready(); err != nil {
		return err
	}
	defer c.s.forgetIndexes(c.name)
	return c.writeTx(ctx, "drop", func(w runner) error {
		for _, stmt := range []string{
			`DROP TABLE IF EXISTS ` + c.table,
			`DELETE FROM mb_indexes WHERE collection = ?`,
			`DELETE FROM mb_collections WHERE name = ?`,
		} {
			var args []any
			if strings.Contains(stmt, "?") {
				args = []any{c.name}
			}
			if _, err := w.ExecContext(ctx, stmt, args...); err != nil {
				return err
			}
		}
		return nil
	})
}
