package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// The accounts as data. backend.query("users", …) and the other data
// calls reach the account records (kept in _users) under the name users,
// so seed code such as
//
//	backend.query("users", {trialEndsAt = {["$lte"] = backend.now()}, isPaid = false})
//
// works as written. Only a run with full rights reaches them (the rights
// check the other collections use decides which run has them). A record
// shows every field but the password hash: _id, email, name, verified,
// created_at, updated_at and the app fields functions set (trialEndsAt,
// isPaid, plan …). backend.update sets app fields only; the email,
// password and verified flag change through the account calls, and
// accounts are created by registration and deleted by their owner, so
// backend.create and backend.delete refuse users. Each account an update
// changes fires user_updated (not doc_updated), committed with the write
// like the doc_* events of other writes: the account after the change,
// the names of the fields set, the run's user as by, the run as the cause,
// and its depth in the chain, so a loop of user_updated handlers stops at
// the same limit.

// usersTarget is the target of a data call on users: the account records,
// for full rights only.
func (v *vm) usersTarget(L *lua.LState, call string, ru *run, fullRights, write bool) dataTarget {
	if !fullRights {
		verb := "read"
		if write {
			verb = "change"
		}
		v.raise(L, call, fmt.Errorf("%w: only a run with full rights may %s users, the accounts (use backend.asServiceRole)", db.ErrForbidden, verb))
	}
	return dataTarget{ru: ru, col: v.reg.store.C(db.Users), name: db.UsersCollection, users: true}
}

// checkRead keeps the password hash out of a read of users: it cannot be
// filtered on nor returned.
func (t dataTarget) checkRead(v *vm, L *lua.LState, call string, filter bson.M, opts *db.FindOptions) {
	if !t.users {
		return
	}
	if err := db.CheckUserFilter(filter); err != nil {
		v.raise(L, call, err)
	}
	if opts != nil {
		opts.Projection = db.UserProjection(opts.Projection)
	}
}

// view is a found document as the function gets it.
func (t dataTarget) view(doc bson.M) bson.M {
	if !t.users {
		return doc
	}
	return db.UserView(doc)
}

// refuseUsers refuses a call that does not apply to accounts.
func (t dataTarget) refuseUsers(v *vm, L *lua.LState, call, why string) {
	if t.users {
		v.raise(L, call, errors.New(why))
	}
}

// accountUpdateOf is updateOf for users: plain fields are $set, operators
// are used as they are, no field the account calls keep may change, and
// updated_at is set.
func accountUpdateOf(changes bson.M) (bson.M, error) {
	update, err := operatorsOf(changes)
	if err != nil {
		return nil, err
	}
	for _, arg := range update {
		for path := range arg.(bson.M) {
			if strings.HasPrefix(path, "_") {
				return nil, fmt.Errorf("field %s: names starting with _ are reserved", path)
			}
		}
	}
	if err := db.CheckUserUpdate(update); err != nil {
		return nil, err
	}
	stamp(update, db.UserUpdatedAt)
	return update, nil
}

// updatedFields names the top-level fields an update of an account sets,
// sorted, for user_updated: updated_at, set on every change, is left out.
func updatedFields(update bson.M) []string {
	var fields []string
	add := func(path string) {
		top, _, _ := strings.Cut(path, ".")
		if top != db.UserUpdatedAt && !slices.Contains(fields, top) {
			fields = append(fields, top)
		}
	}
	for op, arg := range update {
		args, _ := arg.(bson.M)
		for path, val := range args {
			add(path)
			if to, ok := val.(string); ok && op == "$rename" {
				add(to)
			}
		}
	}
	slices.Sort(fields)
	return fields
}
