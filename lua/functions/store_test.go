package functions

import (
	"context"
	"testing"

	"github.com/moonbase-dev/moonbase/db/embedded"
)

// newTestStore is a started store over a fresh embedded database.
func newTestStore(t testing.TB, deps Deps) *Store {
	t.Helper()
	db, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	deps.Store = db
	s, err := NewStore(Config{}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// mustSave saves def or fails the test.
func mustSave(t testing.TB, s *Store, def Definition) Function {
	t.Helper()
	fn, err := s.Save(context.Background(), def)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}
