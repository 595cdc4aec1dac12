package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// The data calls. A run acts as its caller or as the system (see Rights):
// as a caller, backend.query and friends act under the collections' access
// rules exactly as the data API does for that caller — the owner rule sees
// and changes only the user's documents, anonymous callers reach only
// public collections, and a refused rule raises "sign in required" or "not
// allowed". Event, schedule and admin runs act as the system, with full
// rights, and backend.asServiceRole always does. System collections
// (names starting with "_") are refused: functions reach moonbase's own
// data only through the calls made for it (env, once, …), and the
// accounts as the collection users (api_users.go).
//
// A caller who may change documents they may not read (write broader than
// read) gets back only the _id of what they created or changed, as from
// the data API, and cannot update or delete by a filter, which would tell
// them what the documents hold.
//
// Documents keep the data API's conventions: create sets _created_at and
// _updated_at (and _owner to the signed-in user); update sets _updated_at;
// no call lets a function set _created_at or _updated_at or change _id, and
// only full rights may set _owner. Other top-level names starting with "_"
// are reserved. Writes fire doc_created, doc_updated and doc_deleted
// through Deps.Commit, together with the write (api_db_events.go); a chain
// of such events stops at the events' depth limit.

// Query result sizes.
const (
	DefaultQueryLimit = 1000  // documents backend.query returns without a limit
	MaxQueryLimit     = 10000 // the largest limit it accepts
)

// maxDataBytes is MongoDB's own cap on a document, which the documents,
// filters and changes functions send are held to.
const maxDataBytes = 16 << 20

// dataLimits bound the documents and filters functions send to the store:
// up to maxDataBytes, deeper and wider than client bodies.
func dataLimits() db.Limits {
	return db.Limits{MaxBytes: maxDataBytes, MaxKeys: 1_000_000, MaxDepth: 64}
}

func (v *vm) query(L *lua.LState) int   { return v.dataQuery(L, "backend.query", false) }
func (v *vm) get(L *lua.LState) int     { return v.dataGet(L, "backend.get", false) }
func (v *vm) findOne(L *lua.LState) int { return v.dataFindOne(L, "backend.findOne", false) }
func (v *vm) create(L *lua.LState) int  { return v.dataCreate(L, "backend.create", false) }
func (v *vm) update(L *lua.LState) int  { return v.dataUpdate(L, "backend.update", false) }
func (v *vm) delete(L *lua.LState) int  { return v.dataDelete(L, "backend.delete", false) }
func (v *vm) count(L *lua.LState) int   { return v.dataCount(L, "backend.count", false) }
func (v *vm) serviceQuery(L *lua.LState) int {
	return v.dataQuery(L, "backend.asServiceRole.query", true)
}
func (v *vm) serviceGet(L *lua.LState) int { return v.dataGet(L, "backend.asServiceRole.get", true) }
func (v *vm) serviceFindOne(L *lua.LState) int {
	return v.dataFindOne(L, "backend.asServiceRole.findOne", true)
}
func (v *vm) serviceCreate(L *lua.LState) int {
	return v.dataCreate(L, "backend.asServiceRole.create", true)
}
func (v *vm) serviceUpdate(L *lua.LState) int {
	return v.dataUpdate(L, "backend.asServiceRole.update", true)
}
func (v *vm) serviceDelete(L *lua.LState) int {
	return v.dataDelete(L, "backend.asServiceRole.delete", true)
}
func (v *vm) serviceCount(L *lua.LState) int {
	return v.dataCount(L, "backend.asServiceRole.count", true)
}

// dataTarget is the collection a data call addresses and the filter the
// caller's rights add to it.
type dataTarget struct {
	ru    *run
	col   db.Collection
	name  string
	scope bson.M
	// userScoped is set when the call acts with the caller's rights (a
	// user's, or anonymous), not full rights.
	userScoped bool
	access     db.Access
	users      bool // the accounts, under the name users (api_users.go)
}

// target reads the collection argument and works out the caller's rights.
func (v *vm) target(L *lua.LState, call string, service, write bool) dataTarget {
	ru := v.cur(L)
	name := L.CheckString(1)
	if db.IsSystemCollection(name) {
		v.raise(L, call, fmt.Errorf("%q is one of moonbase's system collections, which functions cannot reach", name))
	}
	if err := db.ValidateCollectionName(name); err != nil {
		v.raise(L, call, err)
	}
	if name == db.UsersCollection {
		return v.usersTarget(L, call, ru, service || ru.full, write)
	}
	t := dataTarget{ru: ru, col: v.reg.store.C(name), name: name}
	if service || ru.full {
		return t
	}
	if v.reg.deps.Rules != nil {
		t.access = v.reg.deps.Rules(name)
	}
	scope, err := t.access.Scope(ru.userID, write)
	if err != nil {
		v.raise(L, call, refusal(err, name, ru.userID, write))
	}
	t.scope, t.userScoped = scope, true
	return t
}

// refusal says why the rules refused a caller.
func refusal(err error, name, userID string, write bool) error {
	verb, who := "read", "this user"
	if write {
		verb = "write"
	}
	if userID == "" {
		who = "an anonymous caller (nobody signed in)"
	}
	return fmt.Errorf("%w: the rules of collection %q do not let %s %s it; backend.asServiceRole acts with full rights", err, name, who, verb)
}

// filterScope is the scope of a write selected by a filter: a caller needs
// the right to read the documents too, since what the call matches tells
// what they hold.
func (v *vm) filterScope(L *lua.LState, call string, t dataTarget) bson.M {
	if !t.userScoped {
		return nil
	}
	read, err := t.access.Scope(t.ru.userID, false)
	if err != nil {
		v.raise(L, call, fmt.Errorf("%w (a filter reads the documents it matches; change them by id)", refusal(err, t.name, t.ru.userID, false)))
	}
	return db.And(t.scope, read)
}

// answer is what a write hands back of doc: all of it, or only its _id
// when the caller may not read it.
func (t dataTarget) answer(doc bson.M) bson.M {
	if !t.userScoped {
		return doc
	}
	read, err := t.access.Scope(t.ru.userID, false)
	visible := err == nil
	for k, val := range read {
		visible = visible && doc[k] == val
	}
	if !visible {
		return bson.M{"_id": doc["_id"]}
	}
	return doc
}

func (v *vm) dataQuery(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, false)
	filter := v.filterArg(L, call, 2)
	opts := v.findOptions(L, call, 3, false)
	t.checkRead(v, L, call, filter, opts)
	defer t.ru.wait()()
	docs, err := t.col.Find(t.ru.ctx, db.And(filter, t.scope), opts)
	if err != nil {
		v.raise(L, call, err)
	}
	list := make([]any, len(docs))
	for i, d := range docs {
		list[i] = t.view(d)
	}
	v.push(L, call, list)
	return 1
}

func (v *vm) dataGet(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, false)
	sel, byID := v.selector(L, call, 2)
	if !byID {
		L.ArgError(2, "id expected (use findOne for a filter)")
	}
	opts := &db.FindOptions{}
	t.checkRead(v, L, call, nil, opts)
	defer t.ru.wait()()
	doc, err := t.col.FindOne(t.ru.ctx, db.And(sel, t.scope), opts)
	return v.pushFound(L, call, t.view(doc), err)
}

func (v *vm) dataFindOne(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, false)
	filter := v.filterArg(L, call, 2)
	opts := v.findOptions(L, call, 3, true)
	t.checkRead(v, L, call, filter, opts)
	defer t.ru.wait()()
	doc, err := t.col.FindOne(t.ru.ctx, db.And(filter, t.scope), opts)
	return v.pushFound(L, call, t.view(doc), err)
}

func (v *vm) dataCount(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, false)
	filter := v.filterArg(L, call, 2)
	t.checkRead(v, L, call, filter, nil)
	defer t.ru.wait()()
	n, err := t.col.Count(t.ru.ctx, db.And(filter, t.scope))
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

func (v *vm) dataCreate(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, true)
	t.refuseUsers(v, L, call, "accounts are created by registering (POST /api/auth/register), not with backend.create")
	doc, err := v.toDoc(L.CheckTable(2), maxDataBytes, "the document")
	if err != nil {
		v.raise(L, call, err)
	}
	for k := range doc {
		if strings.HasPrefix(k, "_") && k != "_id" && (k != db.OwnerField || t.userScoped) {
			v.raise(L, call, fmt.Errorf("field %s: names starting with _ are reserved; moonbase sets _owner, _created_at and _updated_at", k))
		}
	}
	if id, ok := doc["_id"].(string); ok {
		doc["_id"] = parseID(id)
	}
	if err := db.ValidateDocument(doc, dataLimits()); err != nil {
		v.raise(L, call, err)
	}
	if t.userScoped && t.ru.userID != "" {
		doc[db.OwnerField] = t.ru.userID
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	doc["_created_at"], doc["_updated_at"] = now, now
	defer t.ru.wait()()
	if _, owned := doc[db.OwnerField]; owned {
		if err := v.reg.ensureOwnerIndex(t.ru.ctx, t.name); err != nil {
			v.raise(L, call, err)
		}
	}
	if _, ok := doc["_id"]; !ok {
		// Chosen here, so that the event names the document.
		doc["_id"] = primitive.NewObjectID()
	}
	_, err = v.writeDoc(t, EventDocCreated, doc["_id"], now, func(ctx context.Context, c db.Collection) (bson.M, error) {
		_, err := c.InsertOne(ctx, doc)
		return doc, err
	})
	if err != nil {
		v.raise(L, call, err)
	}
	v.push(L, call, t.answer(doc))
	return 1
}

func (v *vm) dataUpdate(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, true)
	sel, byID := v.selector(L, call, 2)
	changes, err := v.toDoc(L.CheckTable(3), maxDataBytes, "the changes")
	if err != nil {
		v.raise(L, call, err)
	}
	var update bson.M
	if t.users {
		t.checkRead(v, L, call, sel, nil)
		update, err = accountUpdateOf(changes)
	} else {
		update, err = updateOf(changes, t.userScoped)
	}
	if err != nil {
		v.raise(L, call, err)
	}
	filter := db.And(sel, t.scope)
	if !byID {
		filter = db.And(sel, v.filterScope(L, call, t))
	}
	event, stamped, fields := EventDocUpdated, "_updated_at", []string(nil)
	if t.users {
		event, stamped, fields = EventUserUpdated, db.UserUpdatedAt, updatedFields(update)
	}
	at, _ := update["$set"].(bson.M)[stamped].(time.Time)
	updateOne := func(id any, filter bson.M) (bson.M, error) {
		return v.writeFields(t, event, id, at, fields, func(ctx context.Context, c db.Collection) (bson.M, error) {
			return c.FindOneAndUpdate(ctx, filter, update, &db.FindOneAndUpdateOptions{ReturnAfter: true})
		})
	}
	defer t.ru.wait()()
	if byID {
		doc, err := updateOne(sel["_id"], filter)
		if err == nil {
			doc = t.answer(t.view(doc))
		}
		return v.pushFound(L, call, doc, err)
	}
	if v.reg.deps.Commit == nil {
		res, err := t.col.UpdateMany(t.ru.ctx, filter, update)
		if err != nil {
			v.raise(L, call, err)
		}
		L.Push(lua.LNumber(res.Matched))
		return 1
	}
	n, err := v.eachMatch(t, filter, func(id any) (bool, error) {
		_, err := updateOne(id, db.And(db.ByID(id), filter))
		if errors.Is(err, db.ErrNotFound) { // changed meanwhile
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// updateOf turns a function's changes into an update document: a table of
// plain fields is $set, a table of operators is used as it is, and
// _updated_at is set either way.
func updateOf(changes bson.M, userScoped bool) (bson.M, error) {
	update, err := operatorsOf(changes)
	if err != nil {
		return nil, err
	}
	for _, arg := range update {
		for path := range arg.(bson.M) {
			top, _, _ := strings.Cut(path, ".")
			switch {
			case top == "_id":
				return nil, errors.New("_id cannot be changed")
			case top == "_created_at" || top == "_updated_at":
				return nil, fmt.Errorf("%s is set by moonbase", top)
			case top == db.OwnerField && userScoped:
				return nil, errors.New("_owner can only be changed with full rights (backend.asServiceRole)")
			case strings.HasPrefix(top, "_") && top != db.OwnerField:
				return nil, fmt.Errorf("field %s: names starting with _ are reserved", top)
			}
		}
	}
	stamp(update, "_updated_at")
	return update, nil
}

// operatorsOf reads a function's changes as update operators: a table of
// plain fields is $set, a table of operators is used as it is, and each
// operator must take a table of fields.
func operatorsOf(changes bson.M) (bson.M, error) {
	if len(changes) == 0 {
		return nil, errors.New("the changes are empty")
	}
	ops := 0
	for k := range changes {
		if strings.HasPrefix(k, "$") {
			ops++
		}
	}
	update := changes
	switch {
	case ops == 0:
		update = bson.M{"$set": changes}
	case ops != len(changes):
		return nil, errors.New("the changes mix operators ($set, $inc, …) with plain fields; put the plain fields under $set")
	}
	for op, arg := range update {
		if _, ok := arg.(bson.M); !ok {
			return nil, fmt.Errorf("%s takes a table of fields", op)
		}
	}
	return update, nil
}

// stamp sets field, a time stamp moonbase keeps, to now in update's $set.
func stamp(update bson.M, field string) {
	set, _ := update["$set"].(bson.M)
	if set == nil {
		set = bson.M{}
		update["$set"] = set
	}
	set[field] = time.Now().UTC().Truncate(time.Millisecond)
}

func (v *vm) dataDelete(L *lua.LState, call string, service bool) int {
	t := v.target(L, call, service, true)
	t.refuseUsers(v, L, call, "an account is deleted by its owner (DELETE /api/auth/me), not with backend.delete")
	sel, byID := v.selector(L, call, 2)
	filter := db.And(sel, t.scope)
	if !byID {
		filter = db.And(sel, v.filterScope(L, call, t))
	}
	deleteOne := func(id any, filter bson.M) (bool, error) {
		_, err := v.writeDoc(t, EventDocDeleted, id, time.Time{}, func(ctx context.Context, c db.Collection) (bson.M, error) {
			// Read first, so that doc_deleted carries what was deleted.
			doc, err := c.FindOne(ctx, filter, nil)
			if err != nil {
				return nil, err
			}
			if n, err := c.DeleteOne(ctx, filter); err != nil || n == 0 {
				return nil, cmp.Or(err, db.ErrNotFound)
			}
			return doc, nil
		})
		if errors.Is(err, db.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	defer t.ru.wait()()
	if byID {
		done, err := deleteOne(sel["_id"], filter)
		if err != nil {
			v.raise(L, call, err)
		}
		L.Push(lua.LBool(done))
		return 1
	}
	if v.reg.deps.Commit == nil {
		n, err := t.col.DeleteMany(t.ru.ctx, filter)
		if err != nil {
			v.raise(L, call, err)
		}
		L.Push(lua.LNumber(n))
		return 1
	}
	n, err := v.eachMatch(t, filter, func(id any) (bool, error) { return deleteOne(id, db.And(db.ByID(id), filter)) })
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// parseID reads an id as the data API does: 24 hex digits are an ObjectID,
// anything else the string itself.
func parseID(id string) any {
	if len(id) == 24 {
		if oid, err := primitive.ObjectIDFromHex(id); err == nil {
			return oid
		}
	}
	return id
}

// selector reads argument n as an id (string or number) or a filter table.
func (v *vm) selector(L *lua.LState, call string, n int) (bson.M, bool) {
	switch a := L.Get(n).(type) {
	case lua.LString:
		return db.ByID(parseID(string(a))), true
	case lua.LNumber:
		id, err := numberToGo(float64(a))
		if err != nil {
			v.raise(L, call, err)
		}
		return db.ByID(id), true
	case *lua.LTable:
		return v.filterArg(L, call, n), false
	}
	L.ArgError(n, "id or filter table expected, got "+typeName(L.Get(n)))
	return nil, false
}

// filterArg reads argument n as a filter (nil for none), with a top-level
// _id of 24 hex digits read as an ObjectID.
func (v *vm) filterArg(L *lua.LState, call string, n int) bson.M {
	if L.Get(n) == lua.LNil {
		return nil
	}
	f, err := v.toDoc(L.CheckTable(n), maxDataBytes, "the filter")
	if err != nil {
		v.raise(L, call, err)
	}
	if id, ok := f["_id"].(string); ok {
		f["_id"] = parseID(id)
	}
	if err := db.ValidateFilter(f, dataLimits()); err != nil {
		v.raise(L, call, err)
	}
	return f
}

// findOptions reads {sort, limit, skip, fields}.
func (v *vm) findOptions(L *lua.LState, call string, n int, one bool) *db.FindOptions {
	opts := &db.FindOptions{}
	if !one {
		opts.Limit = DefaultQueryLimit
	}
	t := L.OptTable(n, nil)
	if t == nil {
		return opts
	}
	var bad string
	t.ForEach(func(k, _ lua.LValue) {
		switch lua.LVAsString(k) {
		case "sort", "skip", "fields":
		case "limit":
			if one {
				bad = "limit"
			}
		default:
			bad = lua.LVAsString(k)
		}
	})
	if bad != "" {
		v.raise(L, call, fmt.Errorf("unknown option %q (use sort, limit, skip, fields)", bad))
	}
	if lim := t.RawGetString("limit"); lim != lua.LNil {
		n, ok := lim.(lua.LNumber)
		if !ok || n < 0 || float64(n) != float64(int64(n)) || n > MaxQueryLimit {
			v.raise(L, call, fmt.Errorf("limit must be a whole number from 0 to %d", MaxQueryLimit))
		}
		if n > 0 {
			opts.Limit = int64(n)
		}
	}
	if skip := t.RawGetString("skip"); skip != lua.LNil {
		n, ok := skip.(lua.LNumber)
		if !ok || n < 0 || float64(n) != float64(int64(n)) {
			v.raise(L, call, errors.New("skip must be a whole number, 0 or more"))
		}
		opts.Skip = int64(n)
	}
	if s := t.RawGetString("sort"); s != lua.LNil {
		sort, err := sortOf(s)
		if err == nil {
			err = db.ValidateSort(sort)
		}
		if err != nil {
			v.raise(L, call, err)
		}
		opts.Sort = sort
	}
	if f := t.RawGetString("fields"); f != lua.LNil {
		proj, err := v.projectionOf(f)
		if err == nil {
			err = db.ValidateProjection(proj)
		}
		if err != nil {
			v.raise(L, call, err)
		}
		opts.Projection = proj
	}
	return opts
}

// sortOf reads sort = "-created_at", {"-created_at", "name"} or
// {created_at = -1} (one field: a Lua table has no order).
func sortOf(s lua.LValue) (bson.D, error) {
	bad := errors.New(`sort must be "field", "-field", a list of them, or {field = 1 or -1}`)
	key := func(f string) bson.E {
		if strings.HasPrefix(f, "-") {
			return bson.E{Key: f[1:], Value: -1}
		}
		return bson.E{Key: strings.TrimPrefix(f, "+"), Value: 1}
	}
	switch x := s.(type) {
	case lua.LString:
		return bson.D{key(string(x))}, nil
	case *lua.LTable:
		if x.Len() > 0 {
			var out bson.D
			for i := 1; i <= x.Len(); i++ {
				f, ok := x.RawGetInt(i).(lua.LString)
				if !ok {
					return nil, bad
				}
				out = append(out, key(string(f)))
			}
			return out, nil
		}
		var out bson.D
		var err error
		x.ForEach(func(k, val lua.LValue) {
			n, ok := val.(lua.LNumber)
			if !ok || (n != 1 && n != -1) {
				err = bad
				return
			}
			out = append(out, bson.E{Key: lua.LVAsString(k), Value: int(n)})
		})
		if err == nil && len(out) > 1 {
			err = errors.New(`sort by several fields needs a list, such as {"-created_at", "name"}: a table's keys have no order`)
		}
		return out, err
	}
	return nil, bad
}

// projectionOf reads fields = {"name", "email"} or {name = 1, secret = 0}.
func (v *vm) projectionOf(f lua.LValue) (bson.M, error) {
	t, ok := f.(*lua.LTable)
	if !ok {
		return nil, errors.New(`fields must be a list of names, such as {"name", "email"}`)
	}
	proj := bson.M{}
	if t.Len() > 0 {
		for i := 1; i <= t.Len(); i++ {
			name, ok := t.RawGetInt(i).(lua.LString)
			if !ok {
				return nil, errors.New(`fields must be a list of names, such as {"name", "email"}`)
			}
			proj[string(name)] = 1
		}
		return proj, nil
	}
	var err error
	t.ForEach(func(k, val lua.LValue) {
		switch x := val.(type) {
		case lua.LNumber:
			proj[lua.LVAsString(k)] = int(x)
		case lua.LBool:
			proj[lua.LVAsString(k)] = bool(x)
		default:
			err = errors.New("fields = {name = 1 or 0} takes numbers or booleans")
		}
	})
	return proj, err
}

// pushFound pushes a found document, nil for not found, or raises.
func (v *vm) pushFound(L *lua.LState, call string, doc bson.M, err error) int {
	if errors.Is(err, db.ErrNotFound) {
		L.Push(lua.LNil)
		return 1
	}
	if err != nil {
		v.raise(L, call, err)
	}
	v.push(L, call, doc)
	return 1
}

// ensureOwnerIndex indexes _owner once per collection and registry, as the
// data API does: the owner rule filters every query on it.
func (r *Registry) ensureOwnerIndex(ctx context.Context, name string) error {
	if _, ok := r.ownerIndexed.Load(name); ok {
		return nil
	}
	if err := r.store.C(name).EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: db.OwnerField}}}); err != nil {
		return fmt.Errorf("ensure _owner index on %s: %w", name, err)
	}
	r.ownerIndexed.Store(name, struct{}{})
	return nil
}
