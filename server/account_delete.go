package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// Deleting an account. The account, its sessions and its pending links go
// in one step with user_deleted {user, on_delete}. With auth.on_delete:
// delete, each document the account owned is then deleted with its own
// doc_deleted, committed with it as a client's delete is, so functions and
// webhooks that keep other data in step with a collection (a search
// index, counters, a mirror) see every removal whoever made it — as
// Firestore's document triggers fire for the documents a user-data
// clean-up deletes, and PocketBase's cascade delete runs the record hooks
// of each record it removes. Those doc_deleted events say
// reason: "account_deleted" and carry the deleted account as their user,
// so a handler can tell them from a user's own deletes.
//
// The clean-up is durable: a KindAccountCleanup job, keyed by the
// account's id, is stored in the same step as the account's deletion and
// its user_deleted. The request deletes the documents at once as well, so
// that they are usually gone when it answers; should it fail or the
// process die part-way, the job deletes what is left, retried by the queue
// until it succeeds. Each document is deleted once with its doc_deleted,
// whoever of the two gets to it first.

// ReasonAccountDeleted is the reason of the doc_deleted events of the
// documents an account deletion removes.
const ReasonAccountDeleted = "account_deleted"

// KindAccountCleanup is the kind of the jobs that delete the documents of
// a deleted account (auth.on_delete: delete). Their payload holds the
// account as user_deleted reported it, as {"user": {...}}.
const KindAccountCleanup = "account_cleanup"

// accountCleanupAttempts is how many times a clean-up job runs before it
// is dead: enough, with the queue's backoff, to outlast a long outage of
// the store.
const accountCleanupAttempts = 50

// ownedDeleteBatch is how many ids of an account's documents are read at a
// time while deleting them.
const ownedDeleteBatch = 500

// commitAccountDelete deletes the account, its sessions and its pending
// links and records user_deleted, with the account as stored just before,
// in one step, with a KindAccountCleanup job when auth.on_delete is
// delete. It returns the deleted account. An account already gone is
// ErrInvalidSession.
func (s *Server) commitAccountDelete(ctx context.Context, id primitive.ObjectID) (*User, error) {
	cleanup := s.cfg.Auth.OnDelete == OnDeleteDelete
	if cleanup {
		// Index set-up writes outside the transaction, so it comes first.
		if err := s.jobs.Queue.EnsureIndexes(ctx); err != nil {
			return nil, err
		}
	}
	jobID := ""
	data := func(u *User) map[string]any {
		return map[string]any{"user": u.EventData(), "on_delete": s.cfg.Auth.OnDelete}
	}
	var (
		gone  *User
		ended []string
	)
	_, err := s.events.Commit(ctx, events.Change{
		Name: events.UserDeleted,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			doc, err := tx.C(db.Users).FindOne(ctx, db.ByID(id), nil)
			if err != nil {
				return nil, err
			}
			if gone, err = userFromDoc(doc); err != nil {
				return nil, err
			}
			if cleanup {
				// Before the account goes: on a store without transactions
				// a crash between the two then leaves a job that finds the
				// account still there, never an account gone with nobody
				// to delete its documents.
				jobID, err = s.jobs.Queue.EnqueueIn(ctx, tx, KindAccountCleanup,
					map[string]any{"user": gone.EventData()}, events.EnqueueOptions{Key: cleanupKey(id.Hex())})
				if err != nil && !errors.Is(err, events.ErrDuplicateJob) {
					return nil, err
				}
			}
			n, err := tx.C(db.Users).DeleteOne(ctx, db.ByID(id))
			if err != nil {
				return nil, err
			}
			if n == 0 { // deleted by another request meanwhile
				return nil, db.ErrNotFound
			}
			if ended, err = endSessionsIn(ctx, tx, id.Hex(), ""); err != nil {
				return nil, err
			}
			if _, err := tx.C(db.AccountTokens).DeleteMany(ctx, bson.M{"user_id": id.Hex()}); err != nil {
				return nil, err
			}
			return data(gone), nil
		},
		Pending: func(ctx context.Context) (map[string]any, error) {
			u, err := s.userByOID(ctx, id)
			if err != nil {
				return nil, err
			}
			return data(u), nil
		},
		Check: events.Check{Collection: db.Users, Filter: db.ByID(id), Exists: false},
	})
	if err != nil && jobID != "" {
		// Without transactions the job was stored on its own: withdraw
		// it, the account stays. (With them it was never stored.)
		s.withdrawCleanup(ctx, jobID)
	}
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrInvalidSession
	}
	if err != nil {
		return nil, err
	}
	s.forgetSessions(ended)
	if cleanup {
		s.jobs.Queue.Wake()
	}
	return gone, nil
}

// cleanupKey is the idempotency key of an account's clean-up job.
func cleanupKey(userID string) string { return KindAccountCleanup + ":" + userID }

// withdrawCleanup deletes the clean-up job of a deletion that failed, if
// it is still waiting; one that started finds the account there and fails
// until it runs out of attempts.
func (s *Server) withdrawCleanup(ctx context.Context, jobID string) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.store.C(db.Jobs).DeleteOne(wctx, bson.M{"_id": jobID, "status": events.StatusPending, "attempt": 0}); err != nil {
		s.log.Warn("withdraw the clean-up job of a failed account deletion", "job", jobID, "error", err.Error())
	}
}

// accountCleanupJob deletes what is left of the documents of the account
// a KindAccountCleanup job names, each with its doc_deleted. It may run
// any number of times: documents already deleted are skipped. An account
// still stored means its deletion has not committed (yet): the job fails
// and the queue retries it.
func (s *Server) accountCleanupJob(ctx context.Context, job events.Job) error {
	u, err := userFromEventData(job.Payload["user"])
	if err != nil {
		return events.Permanent(err)
	}
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return events.Permanent(fmt.Errorf("the job's user id %q is not an account id", u.ID))
	}
	if _, err := s.userByOID(ctx, oid); err == nil {
		return fmt.Errorf("the account %s is still stored: its deletion has not committed", u.ID)
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	n, err := s.deleteOwnedDocuments(ctx, u)
	if err != nil {
		return fmt.Errorf("deleted %d documents of account %s, the rest on retry: %w", n, u.ID, err)
	}
	s.log.Info("deleted the documents of a deleted account", "user", u.ID, "documents", n, "job", job.ID)
	return nil
}

// userFromEventData reads back an account as User.EventData wrote it.
func userFromEventData(v any) (*User, error) {
	var m map[string]any
	switch d := v.(type) {
	case map[string]any:
		m = d
	case bson.M:
		m = d
	}
	id, _ := m["id"].(string)
	if id == "" {
		return nil, errors.New("the job names no account")
	}
	u := &User{ID: id, Fields: map[string]any{}}
	u.Email, _ = m["email"].(string)
	u.Name, _ = m["name"].(string)
	u.Verified, _ = m["verified"].(bool)
	u.CreatedAt = db.TimeOf(m["created_at"])
	for k, v := range m {
		switch k {
		case "id", "email", "name", "verified", "created_at":
		default:
			u.Fields[k] = v
		}
	}
	return u, nil
}

// deleteOwnedDocuments deletes the documents whose _owner is u in every
// collection of the data API, each with its doc_deleted, and returns how
// many it deleted.
func (s *Server) deleteOwnedDocuments(ctx context.Context, u *User) (int64, error) {
	names, err := s.store.Collections(ctx)
	if err != nil {
		return 0, err
	}
	total := int64(0)
	for _, name := range names {
		if db.IsSystemCollection(name) {
			continue
		}
		n, err := s.deleteOwnedIn(ctx, name, u)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete the documents of %s: %w", name, err)
		}
	}
	return total, nil
}

// deleteOwnedIn deletes u's documents of one collection, a batch of ids
// at a time so that a large account does not sit in memory.
func (s *Server) deleteOwnedIn(ctx context.Context, name string, u *User) (int64, error) {
	t := dataTarget{name: name, col: s.store.C(name), user: u}
	owned := bson.M{db.OwnerField: u.ID}
	total := int64(0)
	for {
		docs, err := t.col.Find(ctx, owned, &db.FindOptions{Projection: bson.M{fieldID: 1}, Limit: ownedDeleteBatch})
		if err != nil || len(docs) == 0 {
			return total, err
		}
		n := int64(0)
		for _, d := range docs {
			done, err := s.deleteOwnedDoc(ctx, t, d[fieldID])
			if err != nil {
				return total + n, err
			}
			if done {
				n++
			}
		}
		total += n
		if n == 0 { // every one went meanwhile; what is left is new
			return total, nil
		}
	}
}

// deleteOwnedDoc deletes one document with its doc_deleted, as deleteDoc
// does; one deleted meanwhile is no error (false).
func (s *Server) deleteOwnedDoc(ctx context.Context, t dataTarget, id any) (bool, error) {
	data := func(doc bson.M) map[string]any {
		d := t.eventData(doc)
		d["reason"] = ReasonAccountDeleted
		return d
	}
	_, err := s.events.Commit(ctx, t.deleteChange(bson.M{fieldID: id, db.OwnerField: t.user.ID}, id, data))
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
