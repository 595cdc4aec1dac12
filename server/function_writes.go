package server

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
)

// commitFunctionWrite makes a function's document write and records its
// doc_* event in one step, as the data API does for a client's write: the
// event carries the run's user, the run's execution id as its cause and
// its depth in the chain of function-caused events.
func (s *Server) commitFunctionWrite(ctx context.Context, w engine.DocWrite) (bool, error) {
	if w.Event == engine.EventUserUpdated {
		return s.commitFunctionAccountWrite(ctx, w)
	}
	data := func(doc bson.M) map[string]any {
		if doc == nil {
			doc = bson.M{fieldID: w.ID}
		}
		return map[string]any{"collection": w.Collection, "id": idString(w.ID), "doc": doc, "user": w.User}
	}
	check := events.Check{Collection: w.Collection, Filter: db.ByID(w.ID), Exists: w.Event != events.DocDeleted}
	if w.Event == events.DocUpdated {
		check.Filter = bson.M{fieldID: w.ID, fieldUpdatedAt: w.UpdatedAt}
	}
	ev, err := s.events.Commit(ctx, events.Change{
		Name: w.Event,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			doc, err := w.Write(ctx, tx.C(w.Collection))
			if err != nil {
				return nil, err
			}
			return data(doc), nil
		},
		Pending: func(ctx context.Context) (map[string]any, error) {
			doc, err := s.store.C(w.Collection).FindOne(ctx, db.ByID(w.ID), nil)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return nil, err
			}
			return data(doc), nil
		},
		Check: check,
		Cause: w.Cause,
		Depth: w.Depth,
	})
	return ev.Stopped, err
}
