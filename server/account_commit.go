package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
)

// Every change to an account commits with the event that reports it, as a
// document write does (events.Bus.Commit): a crash leaves both or neither.
// user_updated carries {user, fields, by}: the account after the change,
// the names of the fields changed (never a value of a password) and who
// made the change — the account's own user for the account calls, the
// run's user for a function's write (left out for a run with no user).

// accountUpdate is one change to an account and what its user_updated
// event says of it.
type accountUpdate struct {
	id primitive.ObjectID
	// update is the store update ($set …); updated_at is set in it.
	update bson.M
	// fields are the names of the fields the change sets.
	fields []string
	// by is the user who made the change, as events carry users.
	by map[string]any
	// endSessions ends every session of the account but keepSession (the
	// hash of the request's own session; "" ends them all), in the same
	// transaction.
	endSessions bool
	keepSession string
	// dropTokens, when set, deletes the account's pending links it
	// selects (user_id is added), in the same transaction.
	dropTokens bson.M
	// token, when set, is the hash of the account link (_account_tokens)
	// that asks for the change: it is marked used in the same step, so a
	// change that fails leaves it usable, and a link used meanwhile by
	// another request fails the change with ErrInvalidToken.
	token string
	// cause and depth place a function's write in its chain of events.
	cause string
	depth int
}

// userUpdatedData is the data of user_updated.
func userUpdatedData(u *User, fields []string, by map[string]any) map[string]any {
	data := map[string]any{"user": u.EventData(), "fields": fields}
	if by != nil {
		data["by"] = by
	}
	return data
}

// commitAccountUpdate makes a change to an account and records its
// user_updated event in one step, and returns the account after it. An
// account that is gone is ErrInvalidSession.
func (s *Server) commitAccountUpdate(ctx context.Context, a accountUpdate) (*User, error) {
	at := now()
	update := a.update
	set, _ := update["$set"].(bson.M)
	if set == nil {
		set = bson.M{}
		update["$set"] = set
	}
	set[db.UserUpdatedAt] = at
	fields := slices.Clone(a.fields)
	slices.Sort(fields)
	fields = slices.Compact(fields)
	var fresh *User
	var ended []string
	claimed := false
	_, err := s.events.Commit(ctx, events.Change{
		Name: events.UserUpdated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			claimed = false
			if a.token != "" {
				res, err := tx.C(db.AccountTokens).UpdateOne(ctx,
					bson.M{"_id": a.token, "user_id": a.id.Hex(), "used_at": bson.M{"$exists": false}},
					bson.M{"$set": bson.M{"used_at": at}}, nil)
				if err != nil {
					return nil, err
				}
				if res.Matched == 0 {
					return nil, ErrInvalidToken
				}
				claimed = true
			}
			doc, err := tx.C(db.Users).FindOneAndUpdate(ctx, db.ByID(a.id), update, &db.FindOneAndUpdateOptions{ReturnAfter: true})
			if err != nil {
				return nil, err
			}
			if a.dropTokens != nil {
				if _, err := tx.C(db.AccountTokens).DeleteMany(ctx, db.And(a.dropTokens, bson.M{"user_id": a.id.Hex()})); err != nil {
					return nil, err
				}
			}
			ended = nil
			if a.endSessions {
				if ended, err = endSessionsIn(ctx, tx, a.id.Hex(), a.keepSession); err != nil {
					return nil, err
				}
			}
			if fresh, err = userFromDoc(doc); err != nil {
				return nil, err
			}
			return userUpdatedData(fresh, fields, a.by), nil
		},
		// Without transactions the event is recorded before the write,
		// with the account as it is then; should the process die before
		// it is settled, the event keeps that view of the account.
		Pending: func(ctx context.Context) (map[string]any, error) {
			u, err := s.userByOID(ctx, a.id)
			if err != nil {
				return nil, err
			}
			return userUpdatedData(u, fields, a.by), nil
		},
		Check: events.Check{Collection: db.Users, Filter: bson.M{"_id": a.id, db.UserUpdatedAt: at}, Exists: true},
		Cause: a.cause,
		Depth: a.depth,
	})
	if err != nil && claimed {
		// Without transactions the link was marked used on its own: give
		// it back. (With them the mark was rolled back with the change.)
		s.releaseToken(ctx, a.token, at)
	}
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrInvalidSession
	}
	if err != nil {
		return nil, err
	}
	s.forgetSessions(ended)
	return fresh, nil
}

// releaseToken makes a link marked used at at usable again, after the
// change it was used for failed.
func (s *Server) releaseToken(ctx context.Context, hash string, at time.Time) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.store.C(db.AccountTokens).UpdateOne(rctx, bson.M{"_id": hash, "used_at": at},
		bson.M{"$unset": bson.M{"used_at": ""}}, nil); err != nil {
		s.log.Warn("give back the link of a failed account change", "error", err.Error())
	}
}

// endSessionsIn deletes every session of a user but keep through tx and
// returns the hashes of those it deleted, for forgetSessions once the
// change is committed.
func endSessionsIn(ctx context.Context, tx db.Tx, userID, keep string) ([]string, error) {
	filter := bson.M{"user_id": userID}
	if keep != "" {
		filter["_id"] = bson.M{"$ne": keep}
	}
	docs, err := tx.C(db.Sessions).Find(ctx, filter, &db.FindOptions{Projection: bson.M{"_id": 1}})
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, d := range docs {
		if h, ok := d["_id"].(string); ok {
			ended = append(ended, h)
		}
	}
	if _, err := tx.C(db.Sessions).DeleteMany(ctx, filter); err != nil {
		return nil, err
	}
	return ended, nil
}

// forgetSessions drops ended sessions from this server's session cache and
// closes their sockets here at once; the other servers' caches drop them
// within auth.session_cache, their sockets close within
// channels.session_check.
func (s *Server) forgetSessions(hashes []string) {
	for _, h := range hashes {
		s.sessions.forget(h)
		s.channels.EndSession(h)
	}
}

// userByOID loads an account by its _id.
func (s *Server) userByOID(ctx context.Context, id primitive.ObjectID) (*User, error) {
	doc, err := s.store.C(db.Users).FindOne(ctx, db.ByID(id), nil)
	if err != nil {
		return nil, err
	}
	return userFromDoc(doc)
}

// commitFunctionAccountWrite is commitFunctionWrite for a function's
// update of users: the account write and its user_updated event, with the
// run's user as by, the run as the cause and the chain's depth.
func (s *Server) commitFunctionAccountWrite(ctx context.Context, w engine.DocWrite) (bool, error) {
	data := func(doc bson.M) (map[string]any, error) {
		u, err := userFromDoc(doc)
		if err != nil {
			return nil, err
		}
		return userUpdatedData(u, w.Fields, w.User), nil
	}
	ev, err := s.events.Commit(ctx, events.Change{
		Name: events.UserUpdated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			doc, err := w.Write(ctx, tx.C(db.Users))
			if err != nil {
				return nil, err
			}
			return data(doc)
		},
		Pending: func(ctx context.Context) (map[string]any, error) {
			doc, err := s.store.C(db.Users).FindOne(ctx, db.ByID(w.ID), nil)
			if err != nil {
				return nil, err
			}
			return data(doc)
		},
		Check: events.Check{Collection: db.Users, Filter: bson.M{"_id": w.ID, db.UserUpdatedAt: w.UpdatedAt}, Exists: true},
		Cause: w.Cause,
		Depth: w.Depth,
	})
	return ev.Stopped, err
}
