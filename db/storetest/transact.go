package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// errAbort is what a transaction's function returns to roll it back.
var errAbort = errors.New("storetest: abort the transaction")

// testTransact covers Store.Transact: writes to several collections commit
// together or not at all, a transaction reads its own writes, and a call
// that fails inside one fails it whole when fn returns its error. A store
// without transactions says so without running anything.
func testTransact(t *testing.T, s *suite) {
	if s.opts.NoTransactions {
		t.Run("Unsupported", func(t *testing.T) {
			st := s.open(t)
			called := false
			err := st.Transact(t.Context(), func(context.Context, db.Tx) error {
				called = true
				return nil
			})
			isErr(t, "Transact without transactions", err, db.ErrNoTransactions)
			if called {
				t.Error("Transact ran its function on a store without transactions")
			}
		})
		return
	}
	t.Run("CommitsEveryCollection", func(t *testing.T) {
		s.parallel(t)
		st := s.open(t)
		a, b := coll(t, st, "a"), coll(t, st, "b")
		insert(t, a, bson.M{"_id": "x", "n": 1})
		err := st.Transact(t.Context(), func(ctx context.Context, tx db.Tx) error {
			if _, err := tx.C(a.Name()).UpdateOne(ctx, db.ByID("x"), bson.M{"$inc": bson.M{"n": 1}}, nil); err != nil {
				return err
			}
			// The transaction reads what it wrote.
			doc, err := tx.C(a.Name()).FindOne(ctx, db.ByID("x"), nil)
			if err != nil {
				return err
			}
			same(t, "n read inside the transaction", doc["n"], int32(2))
			_, err = tx.C(b.Name()).InsertOne(ctx, bson.M{"_id": "y", "of": "x"})
			return err
		})
		ok(t, err, "transaction")
		same(t, "a after commit", get(t, a, "x")["n"], int32(2))
		same(t, "b after commit", get(t, b, "y")["of"], "x")
	})
	t.Run("RollsBackEveryCollection", func(t *testing.T) {
		s.parallel(t)
		st := s.open(t)
		a, b := coll(t, st, "a"), coll(t, st, "b")
		insert(t, a, bson.M{"_id": "x", "n": 1})
		err := st.Transact(t.Context(), func(ctx context.Context, tx db.Tx) error {
			if _, err := tx.C(a.Name()).DeleteOne(ctx, db.ByID("x")); err != nil {
				return err
			}
			if _, err := tx.C(b.Name()).InsertOne(ctx, bson.M{"_id": "y"}); err != nil {
				return err
			}
			return errAbort
		})
		isErr(t, "Transact's answer", err, errAbort)
		same(t, "a after rollback", get(t, a, "x")["n"], int32(1))
		same(t, "documents of b after rollback", count(t, b, nil), int64(0))
	})
	t.Run("FailedCallFailsTheTransaction", func(t *testing.T) {
		s.parallel(t)
		st := s.open(t)
		a := coll(t, st)
		insert(t, a, bson.M{"_id": "x"})
		err := st.Transact(t.Context(), func(ctx context.Context, tx db.Tx) error {
			c := tx.C(a.Name())
			if _, err := c.InsertOne(ctx, bson.M{"_id": "y"}); err != nil {
				return err
			}
			_, err := c.InsertOne(ctx, bson.M{"_id": "x"})
			return err
		})
		isErr(t, "Transact with a duplicate _id inside", err, db.ErrDuplicateKey)
		same(t, "documents after the failed transaction", count(t, a, nil), int64(1))
	})
	t.Run("NotUsableAfterwards", func(t *testing.T) {
		s.parallel(t)
		st := s.open(t)
		a := coll(t, st)
		var kept db.Collection
		err := st.Transact(t.Context(), func(ctx context.Context, tx db.Tx) error {
			kept = tx.C(a.Name())
			_, err := kept.InsertOne(ctx, bson.M{"_id": "x"})
			return err
		})
		ok(t, err, "transaction")
		if _, err := kept.InsertOne(t.Context(), bson.M{"_id": "late"}); err == nil {
			t.Error("a collection of an ended transaction took a write")
		}
		same(t, "documents", count(t, a, nil), int64(1))
	})
}
