package storetest

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
)

// Options adapt Run to one store.
type Options struct {
	// Quirks names the store's known departures from MongoDB (see the
	// package documentation for the list). Each one skips only the
	// assertions it names, with a message saying what the store does
	// instead; an unknown name fails the run.
	Quirks map[string]bool
	// Parallel runs the subtests in parallel. Every subtest uses its own
	// collections, so this is safe for any store whose separate opens (or
	// one shared store) take concurrent use.
	Parallel bool
	// NoTransactions says the store never runs multi-document
	// transactions (the MongoDB store, by design: see its Transact). The
	// suite then checks that Transact says so without running anything,
	// in place of the transaction behaviours.
	NoTransactions bool
}

// Run runs every behaviour of db.Store and db.Collection as subtests of t.
// open returns a usable store; it is called once per group of subtests
// and must arrange (with t.Cleanup) to close what it opened. Run may
// close a store itself, so Close must be idempotent, as the interface
// requires. Stores opened by one Run may share a database: every subtest
// works in collections named after it.
func Run(t *testing.T, open func(t *testing.T) db.Store, opts Options) {
	for name := range opts.Quirks {
		if quirkText(name) == "" {
			t.Fatalf("storetest: unknown quirk %q; the known ones are listed in the storetest package documentation", name)
		}
	}
	s := &suite{open: open, opts: opts}
	groups := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"Insert", testInsert},
		{"Types", testTypes},
		{"Find", testFind},
		{"Sort", testSort},
		{"ExtJSON", testExtJSON},
		{"Projection", testProjection},
		{"Update", testUpdate},
		{"UpdateScope", testUpdateScope},
		{"Upsert", testUpsert},
		{"Replace", testReplace},
		{"FindOneAndUpdate", testFindOneAndUpdate},
		{"Delete", testDelete},
		{"Count", testCount},
		{"Index", testIndex},
		{"Lifecycle", testLifecycle},
		{"RefusedFilters", testRefusedFilters},
		{"RefusedUpdates", testRefusedUpdates},
		{"RefusedDocuments", testRefusedDocuments},
		{"RefusedOptions", testRefusedOptions},
		{"RefusedNames", testRefusedNames},
		{"Concurrency", testConcurrency},
		{"Transact", testTransact},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			s.parallel(t)
			g.run(t, s)
		})
	}
}

// suite carries what every group needs.
type suite struct {
	open func(t *testing.T) db.Store
	opts Options
}

func (s *suite) parallel(t *testing.T) {
	if s.opts.Parallel {
		t.Parallel()
	}
}

// has reports whether the store has the named quirk, logging that the
// assertion it guards is skipped. Use it when later assertions of the
// same test still hold.
func (s *suite) has(t *testing.T, quirk string) bool {
	t.Helper()
	if quirkText(quirk) == "" {
		t.Fatalf("storetest: assertion guarded by unknown quirk %q", quirk)
	}
	if s.opts.Quirks[quirk] {
		t.Logf("assertion skipped (quirk %s): %s", quirk, quirkText(quirk))
		return true
	}
	return false
}

// skipIf skips the rest of the test when the store has the named quirk.
func (s *suite) skipIf(t *testing.T, quirk string) {
	t.Helper()
	if quirkText(quirk) == "" {
		t.Fatalf("storetest: test guarded by unknown quirk %q", quirk)
	}
	if s.opts.Quirks[quirk] {
		t.Skipf("quirk %s: %s", quirk, quirkText(quirk))
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// collName is a collection name unique to the test: a readable tail of
// its name and a hash of all of it, within db.ValidateCollectionName's
// 64 characters.
func collName(t testing.TB, suffix ...string) string {
	full := strings.Join(append([]string{t.Name()}, suffix...), "/")
	h := fnv.New32a()
	h.Write([]byte(full))
	tail := unsafeChars.ReplaceAllString(full, "_")
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	return fmt.Sprintf("st_%08x_%s", h.Sum32(), strings.Trim(tail, "_"))
}

// coll returns a collection of st unique to the test.
func coll(t *testing.T, st db.Store, suffix ...string) db.Collection {
	return st.C(collName(t, suffix...))
}
