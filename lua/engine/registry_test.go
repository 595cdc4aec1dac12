package engine

import (
	"context"
	"testing"

	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// newTestRegistry is a started registry over a fresh embedded store.
func newTestRegistry(t testing.TB, cfg Config, deps Deps) *Registry {
	t.Helper()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	deps.Store = store
	r, err := NewRegistry(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// runSource runs src's handle(input, ctx) once without saving it.
func runSource(t testing.TB, r *Registry, src string, input any, opts RunOptions) (Result, error) {
	t.Helper()
	return r.Test(context.Background(), functions.Definition{Name: "t", Source: src}, input, opts)
}
