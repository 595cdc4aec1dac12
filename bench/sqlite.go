package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// sqliteScenarios are the floor under the embedded store: the same indexed
// lookup straight through database/sql on the same SQLite build, with no
// store interface, no document decoding and no filter evaluation. The gap
// between this and store/embedded/find-one-by-indexed-field is what the
// store's own work costs.
func sqliteScenarios() []Scenario {
	return []Scenario{{
		Name:  "sqlite/raw/find-by-indexed-field",
		About: "SELECT doc … WHERE json_extract(doc,'$.email') = ? over an expression index, text not decoded",
		Setup: func(ctx context.Context, env *Env) (Op, error) {
			stmt, err := Shared(env, "sqlite/raw", func() (*sql.Stmt, error) { return openRawSQLite(ctx, env) })
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w *Worker) error {
				email := personEmail(w.Rand.IntN(env.Docs))
				var doc string
				if err := stmt.QueryRowContext(ctx, email).Scan(&doc); err != nil {
					return err
				}
				if !strings.Contains(doc, email) {
					return fmt.Errorf("looked up %s, got %.80s", email, doc)
				}
				return nil
			}, nil
		},
	}}
}

// openRawSQLite builds a table of env.Docs JSON documents with an
// expression index on email, in WAL mode like the embedded store, and
// returns the prepared lookup.
func openRawSQLite(ctx context.Context, env *Env) (*sql.Stmt, error) {
	dsn := "file:" + filepath.Join(env.Dir, "raw.db") +
		"?_pragma=journal_mode(wal)&_pragma=synchronous(normal)&_pragma=busy_timeout(5000)"
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	env.Cleanup(conn.Close)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)`); err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO docs (doc) VALUES (?)`)
	if err != nil {
		return nil, err
	}
	for i := range env.Docs {
		b, err := json.Marshal(db.ToJSONValue(person(i)))
		if err != nil {
			return nil, err
		}
		if _, err := ins.ExecContext(ctx, string(b)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE UNIQUE INDEX docs_email ON docs (json_extract(doc, '$.email'))`); err != nil {
		return nil, err
	}
	const lookup = `SELECT doc FROM docs WHERE json_extract(doc, '$.email') = ?`
	var id, parent, unused int
	var plan string
	if err := conn.QueryRowContext(ctx, "EXPLAIN QUERY PLAN "+lookup, "x").Scan(&id, &parent, &unused, &plan); err != nil {
		return nil, err
	}
	if !strings.Contains(plan, "docs_email") {
		return nil, fmt.Errorf("the lookup does not use the index: %s", plan)
	}
	stmt, err := conn.PrepareContext(ctx, lookup)
	if err != nil {
		return nil, err
	}
	env.Cleanup(stmt.Close)
	return stmt, nil
}
