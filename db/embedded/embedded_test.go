package embedded_test

import (
	"context"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/db/storetest"
)

// TestConformance holds the embedded store to the behaviour every store
// shares with MongoDB. It departs from MongoDB in no way the suite names.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) db.Store {
		s, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	}, storetest.Options{Parallel: true})
}
