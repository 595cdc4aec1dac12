package db

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// UsersCollection is the name under which functions reach the accounts
// (stored in _users) as data: seed code such as
// backend.query("users", {isPaid = false}) reads them there. The data API
// does not serve it; a signed-in user reads and changes their own record
// at /api/auth/me.
const UsersCollection = "users"

// Fields of an account record that only the account calls set. Functions
// read them (except the password hash, which never leaves the store) but
// cannot change them.
const (
	UserEmail        = "email"
	UserPasswordHash = "password_hash"
	UserVerified     = "verified"
	UserCreatedAt    = "created_at"
	UserUpdatedAt    = "updated_at"
)

// IsAccountField reports whether name is one of the fields the account
// calls keep (_id, email, password_hash, verified, created_at,
// updated_at); every other field of an account record is an app field
// (trialEndsAt, isPaid, plan …).
func IsAccountField(name string) bool {
	switch name {
	case "_id", UserEmail, UserPasswordHash, UserVerified, UserCreatedAt, UserUpdatedAt:
		return true
	}
	return false
}

// UserView is an account record as a function or the account's owner
// sees it: every field but the password hash. It copies the top level.
func UserView(doc bson.M) bson.M {
	if doc == nil {
		return nil
	}
	out := make(bson.M, len(doc))
	for k, v := range doc {
		if k != UserPasswordHash {
			out[k] = v
		}
	}
	return out
}

// UserProjection keeps the password hash out of a query's answer while
// leaving any projection the caller asked for.
func UserProjection(p bson.M) bson.M {
	for _, v := range p {
		if isInclusion(v) {
			q := bson.M{}
			for k, v := range p {
				if k != UserPasswordHash {
					q[k] = v
				}
			}
			return q
		}
	}
	q := bson.M{UserPasswordHash: 0}
	for k, v := range p {
		q[k] = v
	}
	return q
}

func isInclusion(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int:
		return x != 0
	case int32:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return false
}

// CheckUserFilter refuses a filter on the password hash, which would let
// a query learn it a character at a time.
func CheckUserFilter(filter bson.M) error {
	return walkFilterFields(filter, func(field string) error {
		if field == UserPasswordHash || strings.HasPrefix(field, UserPasswordHash+".") {
			return &QueryError{Op: field, Msg: "the password hash of an account cannot be queried"}
		}
		return nil
	})
}

func walkFilterFields(filter bson.M, f func(string) error) error {
	for k, v := range filter {
		switch k {
		case "$and", "$or", "$nor":
			branches, _ := v.(bson.A)
			for _, b := range branches {
				if m, ok := b.(bson.M); ok {
					if err := walkFilterFields(m, f); err != nil {
						return err
					}
				}
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			continue
		}
		if err := f(k); err != nil {
			return err
		}
	}
	return nil
}

// CheckUserUpdate refuses an update (operators such as $set, or a
// replacement's fields) of an account record that would touch a field
// only the account calls set: the email, password, verified flag, ids and
// time stamps change through /api/auth/… alone.
func CheckUserUpdate(update bson.M) error {
	for k, v := range update {
		if !strings.HasPrefix(k, "$") {
			if err := checkAppField(k); err != nil {
				return err
			}
			continue
		}
		fields, ok := v.(bson.M)
		if !ok {
			continue
		}
		for f, arg := range fields {
			if err := checkAppField(f); err != nil {
				return &QueryError{Op: k, Msg: err.Error()}
			}
			// $rename writes to the field its argument names.
			if to, ok := arg.(string); ok && k == "$rename" {
				if err := checkAppField(to); err != nil {
					return &QueryError{Op: k, Msg: err.Error()}
				}
			}
		}
	}
	return nil
}

func checkAppField(path string) error {
	top, _, _ := strings.Cut(path, ".")
	if IsAccountField(top) {
		return fmt.Errorf("field %s of an account is set only by the account calls (register, change password, verify email); functions set app fields such as plan or trialEndsAt", top)
	}
	return nil
}
