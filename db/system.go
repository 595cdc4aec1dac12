package db

import (
	"context"
	"fmt"
)

// SystemIndex is one index moonbase keeps on one of its own collections.
type SystemIndex struct {
	Collection string
	Index      Index
}

// SystemIndexes lists the indexes of the system collections. Every lookup
// the server makes on them by something other than _id is here, so none of
// them scans a collection.
func SystemIndexes() []SystemIndex {
	return []SystemIndex{
		// Sign-in finds a user by email; emails are stored lowercased, so a
		// unique index makes them unique case-insensitively.
		{Users, Index{Name: "email_unique", Keys: []IndexKey{{Field: "email"}}, Unique: true}},
		// A session's _id is the hash of its token; these serve signing a
		// user out everywhere and sweeping expired sessions.
		{Sessions, Index{Keys: []IndexKey{{Field: "user_id"}}}},
		{Sessions, Index{Keys: []IndexKey{{Field: "expires_at"}}}},
		// Deleting an account deletes its pending tokens.
		{AccountTokens, Index{Keys: []IndexKey{{Field: "user_id"}}}},
		// The event log is read newest first, by name or overall.
		{Events, Index{Keys: []IndexKey{{Field: "name"}, {Field: "at", Desc: true}}}},
		{Events, Index{Keys: []IndexKey{{Field: "at", Desc: true}}}},
	}
}

// EnsureSystemIndexes creates the indexes of SystemIndexes that do not exist
// yet. It is safe to run at every start and from several instances at once.
func EnsureSystemIndexes(ctx context.Context, store Store) error {
	for _, si := range SystemIndexes() {
		if err := store.C(si.Collection).EnsureIndex(ctx, si.Index); err != nil {
			return fmt.Errorf("ensure index on %s: %w", si.Collection, err)
		}
	}
	return nil
}
