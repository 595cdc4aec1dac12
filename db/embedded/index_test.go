package embedded

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"go.mongodb.org/mongo-driver/bson"
)

// TestDropIndexSharedDirectory drops indexes through one store while
// another store on the same directory, like a second process, has them
// in its cached list: its queries stay right at once, and it stops
// planning with them once the list expires.
func TestDropIndexSharedDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openDir(t, dir), openDir(t, dir)
	ca, cb := coll(a, "jobs"), coll(b, "jobs")
	mustIndex(t, ca, false, "status", "at")
	mustIndex(t, ca, true, "key")
	mustInsert(t, ca,
		bson.M{"_id": "1", "status": "new", "at": 3, "key": "k1"},
		bson.M{"_id": "2", "status": "done", "at": 1, "key": "k2"},
		bson.M{"_id": "3", "status": "new", "at": 1, "key": "k3"})

	filter := bson.M{"status": "new", "at": bson.M{"$gte": 1}}
	sort := bson.D{{Key: "at", Value: 1}}
	usesIndex := func(c *collection) bool {
		t.Helper()
		plan, err := c.explain(ctx, filter, sort)
		if err != nil {
			t.Fatalf("explain: %v", err)
		}
		return strings.Contains(plan, "USING INDEX i_jobs."+escapeName("status_1_at_1"))
	}
	if !usesIndex(cb) {
		t.Fatal("the second store does not plan with status_1_at_1 before the drop")
	}
	stale, err := b.indexSpecs(ctx, "jobs")
	if err != nil || len(stale) != 2 {
		t.Fatalf("the second store's indexes = %+v, %v; want two", stale, err)
	}

	for _, name := range []string{"status_1_at_1", "key_1"} {
		if err := ca.DropIndex(ctx, name); err != nil {
			t.Fatalf("DropIndex(%s): %v", name, err)
		}
	}
	if err := cb.DropIndex(ctx, "key_1"); err != nil {
		t.Fatalf("DropIndex of an index the other store dropped: %v", err)
	}
	if specs, err := a.indexSpecs(ctx, "jobs"); err != nil || len(specs) != 0 {
		t.Fatalf("indexes after the drop = %+v, %v; want none", specs, err)
	}
	if usesIndex(ca) {
		t.Error("the dropping store still plans with status_1_at_1")
	}

	// However long the drops took, the second store still trusts its list.
	b.indexes.mu.Lock()
	b.indexes.m["jobs"] = cachedSpecs{specs: stale, at: time.Now()}
	b.indexes.mu.Unlock()
	docs, err := cb.Find(ctx, filter, &db.FindOptions{Sort: sort})
	if err != nil {
		t.Fatalf("Find through the second store: %v", err)
	}
	if got := field(docs, "_id"); len(got) != 2 || got[0] != "3" || got[1] != "1" {
		t.Errorf("Find through the second store = %v, want [3 1]", got)
	}
	if _, err := cb.InsertOne(ctx, bson.M{"status": "new", "at": 2, "key": "k1"}); err != nil {
		t.Errorf("insert of a key whose unique index is dropped: %v", err)
	}
	testsupport.WaitFor(t, "the second store to forget the dropped indexes", func() bool {
		specs, err := b.indexSpecs(ctx, "jobs")
		return err == nil && len(specs) == 0
	})
}

func TestDropIndexRefused(t *testing.T) {
	t.Parallel()
	c := openTest(t).C("ix")
	scenarios := []struct {
		name, index string
		is          error
	}{
		{"_id", "_id_", db.ErrInvalidQuery},
		{"empty", "", db.ErrInvalidName},
		{"dollar", "$x", db.ErrInvalidName},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if err := c.DropIndex(context.Background(), sc.index); !errors.Is(err, sc.is) {
				t.Errorf("DropIndex(%q) = %v, want %v", sc.index, err, sc.is)
			}
		})
	}
}
