package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// dataRules: notes are owner-only (the default), posts readable by anyone
// and writable by signed-in users, vault closed to users.
func dataRules(col string) db.Access {
	switch col {
	case "posts":
		return db.Access{Read: db.RulePublic, Write: db.RuleAuthenticated}
	case "vault":
		return db.Access{Read: db.RuleNone, Write: db.RuleNone}
	}
	return db.Access{}
}

// asUser runs src as a saved invoke function called by user: a user's id,
// "anonymous" for nobody signed in, or "system" for a run with full rights.
func asUser(t *testing.T, r *Registry, user string, src string, input any) (any, error) {
	t.Helper()
	name := fmt.Sprintf("f%d", len(src)%97)
	def := functions.Definition{Name: name, Source: "function handle(input, ctx)\n" + src + "\nend", Triggers: []functions.Trigger{{Invoke: true}}}
	mustSave(t, r, def)
	opts := RunOptions{Trigger: functions.TriggerInvoke}
	switch user {
	case "system":
		opts.Rights = RightsFull
	case "anonymous":
	default:
		opts.User = map[string]any{"id": user}
	}
	res, err := r.Run(context.Background(), name, input, opts)
	return res.Value, err
}

func TestDataCallsActWithTheUsersRights(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{Rules: dataRules})
	ctx := context.Background()
	create := `return backend.create("notes", {text = input.text})`
	a, err := asUser(t, r, "alice", create, map[string]any{"text": "alice's"})
	if err != nil {
		t.Fatal(err)
	}
	alice := a.(bson.M)
	if alice["_owner"] != "alice" || alice["text"] != "alice's" || len(alice["_id"].(string)) != 24 || alice["_created_at"] == nil || alice["_updated_at"] == nil {
		t.Fatalf("created %#v", alice)
	}
	b, err := asUser(t, r, "bob", create, map[string]any{"text": "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	bobID := b.(bson.M)["_id"].(string)

	scenarios := []struct {
		name, user, src string
		want            any
	}{
		{"query sees only the user's own", "alice", `local out = {} for _, d in ipairs(backend.query("notes")) do out[#out+1] = d.text end return out`, bson.A{"alice's"}},
		{"count too", "alice", `return backend.count("notes")`, int64(1)},
		{"get of another's is nil", "alice", `return backend.get("notes", input.id) == nil`, true},
		{"findOne of another's is nil", "alice", `return backend.findOne("notes", {text = "bob's"}) == nil`, true},
		{"update of another's is nil", "alice", `return backend.update("notes", input.id, {text = "mine now"}) == nil`, true},
		{"update by filter touches only the user's", "alice", `return backend.update("notes", {}, {seen = true})`, int64(1)},
		{"delete of another's is false", "alice", `return backend.delete("notes", input.id)`, false},
		{"the owner may read it", "bob", `return backend.get("notes", input.id).text`, "bob's"},
		{"full rights see everyone's", "system", `return backend.count("notes")`, int64(2)},
		{"asServiceRole has full rights", "alice", `return backend.asServiceRole.count("notes")`, int64(2)},
		{"asServiceRole reads another's", "alice", `return backend.asServiceRole.get("notes", input.id).text`, "bob's"},
		{"public read", "bob", `backend.create("posts", {title = "hi"}) return backend.count("posts")`, int64(1)},
		{"public read sees everyone's", "alice", `return backend.query("posts")[1].title`, "hi"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			got, err := asUser(t, r, s.user, s.src, map[string]any{"id": bobID})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("got %#v, want %#v", got, s.want)
			}
		})
	}
	stored, err := r.store.C("notes").FindOne(ctx, db.ByID(parseID(bobID)), nil)
	if err != nil || stored["text"] != "bob's" || stored["seen"] != nil {
		t.Errorf("bob's note after alice's attempts: %v %v", stored, err)
	}
}

func TestDataCallsRefuse(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{Rules: dataRules})
	scenarios := []struct{ name, user, src, want string }{
		{"a closed collection", "alice", `backend.query("vault")`,
			`backend.query: not allowed: the rules of collection "vault" do not let this user read it; backend.asServiceRole acts with full rights`},
		{"writing a closed collection", "alice", `backend.create("vault", {x = 1})`,
			`backend.create: not allowed: the rules of collection "vault" do not let this user write it; backend.asServiceRole acts with full rights`},
		{"a system collection", "system", `backend.query("_users")`,
			`backend.query: "_users" is one of moonbase's system collections, which functions cannot reach`},
		{"a system collection with full rights", "system", `backend.asServiceRole.get("_secrets", "x")`,
			`backend.asServiceRole.get: "_secrets" is one of moonbase's system collections, which functions cannot reach`},
		{"a bad collection name", "system", `backend.count("a b")`,
			`backend.count: invalid name: collection "a b": use 1-64 letters, digits, _ or -, not starting with a digit or -`},
		{"setting _owner as a user", "alice", `backend.create("notes", {_owner = "bob"})`,
			`backend.create: field _owner: names starting with _ are reserved; moonbase sets _owner, _created_at and _updated_at`},
		{"setting _created_at", "system", `backend.create("notes", {_created_at = backend.now()})`,
			`backend.create: field _created_at: names starting with _ are reserved; moonbase sets _owner, _created_at and _updated_at`},
		{"an array as a document", "system", `backend.create("notes", {1, 2})`,
			`backend.create: the document must be a table with named fields, got an array`},
		{"a dotted field", "system", `backend.create("notes", {["a.b"] = 1})`,
			`backend.create: invalid document: a.b: field names may not contain "."`},
		{"a string that is not UTF-8", "system", `backend.create("notes", {text = "a\255b"})`,
			`backend.create: invalid document: text: string is not valid UTF-8`},
		{"a change that is not UTF-8", "system", `local d = backend.create("notes", {text = "x"}) backend.update("notes", d._id, {text = "\195"})`,
			`backend.update: invalid document: field "text": the string is not valid UTF-8`},
		{"changing _id", "system", `backend.update("notes", "x", {_id = "y"})`, `backend.update: _id cannot be changed`},
		{"changing _owner as a user", "alice", `backend.update("notes", "x", {["$set"] = {_owner = "bob"}})`,
			`backend.update: _owner can only be changed with full rights (backend.asServiceRole)`},
		{"mixed changes", "system", `backend.update("notes", "x", {["$inc"] = {n = 1}, text = "x"})`,
			`backend.update: the changes mix operators ($set, $inc, …) with plain fields; put the plain fields under $set`},
		{"empty changes", "system", `backend.update("notes", "x", {})`, `backend.update: the changes are empty`},
		{"a $where filter", "system", `backend.query("notes", {["$where"] = "1"})`,
			`backend.query: invalid query: $where: operator not allowed`},
		{"an unknown option", "system", `backend.query("notes", nil, {order = "x"})`,
			`backend.query: unknown option "order" (use sort, limit, skip, fields)`},
		{"a limit too large", "system", `backend.query("notes", nil, {limit = 1e6})`,
			`backend.query: limit must be a whole number from 0 to 10000`},
		{"a sort by two keys of a table", "system", `backend.query("notes", nil, {sort = {a = 1, b = -1}})`,
			`backend.query: sort by several fields needs a list, such as {"-created_at", "name"}: a table's keys have no order`},
		{"get by a filter", "system", `backend.get("notes", {text = "x"})`,
			`bad argument #2 to get (id expected (use findOne for a filter))`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := asUser(t, r, s.user, s.src, nil)
			re, ok := err.(*RunError)
			if !ok || re.Message != s.want {
				t.Errorf("error\n got: %v\nwant: %s", err, s.want)
			}
		})
	}
}

func TestDataCalls(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	src := `
for i = 1, 5 do backend.create("items", {n = i, half = i / 2, tag = (i % 2 == 0) and "even" or "odd", due = backend.date(i * 86400)}) end
local page = backend.query("items", {tag = "odd"}, {sort = "-n", limit = 2, skip = 1, fields = {"n"}})
local one = backend.findOne("items", {n = {["$gte"] = 2}}, {sort = {"-tag", "n"}})
local byId = backend.get("items", one._id)
local updated = backend.update("items", one._id, {["$inc"] = {n = 10}, ["$set"] = {note = "x"}})
local plain = backend.update("items", one._id, {note = "y"})
local many = backend.update("items", {tag = "even"}, {flag = true})
local gone = backend.delete("items", {tag = "odd"})
local again = backend.delete("items", one._id)
return {
  page = page, oneN = one.n, same = byId._id == one._id, dueIsDate = getmetatable(byId.due) == "date",
  updatedN = updated.n, note = plain.note, bumped = plain._updated_at >= plain._created_at,
  many = many, gone = gone, again = again, left = backend.count("items"),
}`
	got, err := asUser(t, r, "system", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(bson.M)
	page := m["page"].(bson.A)
	if len(page) != 2 || page[0].(bson.M)["n"] != int64(3) || page[1].(bson.M)["n"] != int64(1) || len(page[0].(bson.M)) != 2 {
		t.Errorf("page %#v", page)
	}
	want := bson.M{"oneN": int64(3), "same": true, "dueIsDate": true, "updatedN": int64(13), "note": "y", "bumped": true,
		"many": int64(2), "gone": int64(3), "again": false, "left": int64(2)}
	delete(m, "page")
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got  %#v\nwant %#v", m, want)
	}
	docs, err := r.store.C("items").Find(ctx, nil, &db.FindOptions{Sort: bson.D{{Key: "n", Value: 1}}})
	if err != nil || len(docs) != 2 {
		t.Fatalf("stored %v %v", docs, err)
	}
	d := docs[0]
	if _, ok := d["_id"].(primitive.ObjectID); !ok || d["n"] != int64(2) || d["half"] != int64(1) || d["flag"] != true {
		t.Errorf("stored types %#v", d)
	}
	if _, ok := d["due"].(primitive.DateTime); !ok {
		t.Errorf("a date is stored as %T", d["due"])
	}
	if h := docs[1]["half"]; h != int64(2) {
		t.Errorf("half of 4 stored as %#v", h)
	}
	got, err = asUser(t, r, "system", `local d = backend.create("items", {_id = "custom", n = 1.5}) return backend.get("items", "custom").n`, nil)
	if err != nil || got != 1.5 {
		t.Errorf("custom id: %v %v", got, err)
	}
}
