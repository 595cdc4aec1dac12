package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Concurrent transactions commit in groups, yet each one stands or falls
// alone: the failed ones leave nothing, the others everything.
func TestTransactGroupsKeepEachCallApart(t *testing.T) {
	s := openTest(t)
	const calls = 200
	errOdd := errors.New("odd calls fail")
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Transact(context.Background(), func(ctx context.Context, tx db.Tx) error {
				if _, err := tx.C("docs").InsertOne(ctx, bson.M{"_id": i}); err != nil {
					return err
				}
				if _, err := tx.C("events").InsertOne(ctx, bson.M{"_id": i}); err != nil {
					return err
				}
				if i%2 == 1 {
					return errOdd
				}
				// A refused call inside a member undoes only itself.
				if _, err := tx.C("docs").InsertOne(ctx, bson.M{"_id": i}); !errors.Is(err, db.ErrDuplicateKey) {
					return fmt.Errorf("second insert of %d: %v, want a duplicate key", i, err)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%2 == 1; want != errors.Is(err, errOdd) || !want && err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	for _, col := range []string{"docs", "events"} {
		docs, err := s.C(col).Find(context.Background(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		even := 0
		for _, d := range docs {
			if id, _ := d["_id"].(int32); id%2 == 0 {
				even++
			}
		}
		if len(docs) != calls/2 || even != calls/2 {
			t.Errorf("%s holds %d documents, %d of even calls; want the %d of the even calls", col, len(docs), even, calls/2)
		}
	}
}

// A call whose context has ended by its turn does not run.
func TestTransactSkipsAnEndedContext(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Transact(ctx, func(ctx context.Context, tx db.Tx) error {
		ran = true
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Transact with an ended context: %v, ran %v", err, ran)
	}
}
