package engine

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// rightsRules: one collection per access rule, and a drop box anyone may
// write but only the system may read.
func rightsRules(col string) db.Access {
	switch col {
	case "open":
		return db.Access{Read: db.RulePublic, Write: db.RulePublic}
	case "members":
		return db.Access{Read: db.RuleAuthenticated, Write: db.RuleAuthenticated}
	case "vault":
		return db.Access{Read: db.RuleNone, Write: db.RuleNone}
	case "dropbox":
		return db.Access{Read: db.RuleNone, Write: db.RulePublic}
	}
	return db.Access{} // owner
}

// TestRightsFollowTheTrigger checks whose rights each kind of run has, and
// that its execution record says so: invoke and http runs act as their
// caller (the user, or anonymous), event, schedule and test runs as the
// system even when an event names a user, and a function called by
// another has the rights of the run that called it.
func TestRightsFollowTheTrigger(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{Rules: rightsRules})
	ctx := context.Background()
	seed := `backend.asServiceRole.create("notes", {_owner = "bob", text = "bob's"})
backend.asServiceRole.create("open", {text = "for all"})`
	if _, err := runSource(t, r, "function handle() "+seed+" end", nil, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	// peek counts what the run sees of notes (nil when refused) and of
	// open, with ctx.user beside it.
	const peek = `function handle(input, ctx)
  local ok, notes = pcall(backend.count, "notes")
  return {notes = ok and notes or nil, open = backend.count("open"), user = ctx.user and ctx.user.id}
end`
	all := []functions.Trigger{{Invoke: true}, {HTTP: true}}
	mustSave(t, r, functions.Definition{Name: "peek", Source: peek, Triggers: all})
	mustSave(t, r, functions.Definition{Name: "outer", Triggers: all, Source: `function handle()
  return (backend.executeFunction("peek"))
end`})
	bob := map[string]any{"id": "bob"}
	alice := map[string]any{"id": "alice"}
	scenarios := []struct {
		name, fn, trigger string
		user              map[string]any
		rights            Rights
		want              bson.M
		identity          string
	}{
		{"invoke, anonymous", "peek", functions.TriggerInvoke, nil, 0, bson.M{"open": int64(1)}, functions.IdentityAnonymous},
		{"invoke, signed in", "peek", functions.TriggerInvoke, bob, 0, bson.M{"notes": int64(1), "open": int64(1), "user": "bob"}, "bob"},
		{"invoke, another user", "peek", functions.TriggerInvoke, alice, 0, bson.M{"notes": int64(0), "open": int64(1), "user": "alice"}, "alice"},
		{"http, anonymous", "peek", functions.TriggerHTTP, nil, 0, bson.M{"open": int64(1)}, functions.IdentityAnonymous},
		{"http, signed in", "peek", functions.TriggerHTTP, alice, 0, bson.M{"notes": int64(0), "open": int64(1), "user": "alice"}, "alice"},
		{"event: the system, ctx.user for reading", "peek", functions.TriggerEvent, alice, 0, bson.M{"notes": int64(1), "open": int64(1), "user": "alice"}, functions.IdentitySystem},
		{"schedule: the system", "peek", functions.TriggerSchedule, nil, 0, bson.M{"notes": int64(1), "open": int64(1)}, functions.IdentitySystem},
		{"an event run as a caller", "peek", functions.TriggerEvent, nil, RightsCaller, bson.M{"open": int64(1)}, functions.IdentityAnonymous},
		{"an invoke run with full rights", "peek", functions.TriggerInvoke, nil, RightsFull, bson.M{"notes": int64(1), "open": int64(1)}, functions.IdentitySystem},
		{"called by an anonymous run", "outer", functions.TriggerInvoke, nil, 0, bson.M{"open": int64(1)}, functions.IdentityAnonymous},
		{"called by a user's run", "outer", functions.TriggerInvoke, alice, 0, bson.M{"notes": int64(0), "open": int64(1), "user": "alice"}, "alice"},
		{"called by an event run", "outer", functions.TriggerEvent, nil, 0, bson.M{"notes": int64(1), "open": int64(1)}, functions.IdentitySystem},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res, err := r.Run(ctx, s.fn, nil, RunOptions{Trigger: s.trigger, User: s.user, Rights: s.rights})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Value, s.want) {
				t.Errorf("got %#v, want %#v", res.Value, s.want)
			}
			for _, fn := range []string{s.fn, "peek"} {
				execs, err := r.Executions(ctx, fn, 1)
				if err != nil || len(execs) != 1 || execs[0].Identity != s.identity {
					t.Errorf("%s's last record %+v (%v), want identity %q", fn, execs, err, s.identity)
				}
			}
		})
	}
	res, err := runSource(t, r, peek, nil, RunOptions{})
	if err != nil || !reflect.DeepEqual(res.Value, bson.M{"notes": int64(1), "open": int64(1)}) {
		t.Errorf("a test run: %#v %v, want full rights", res.Value, err)
	}
}

// TestAnonymousAndUsersKeepToTheRules runs every data call as anonymous and
// as a user over each kind of collection and checks nothing crosses the
// rules, while asServiceRole reaches everything.
func TestAnonymousAndUsersKeepToTheRules(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{Rules: rightsRules})
	seed := `for _, c in ipairs({"notes", "open", "members", "vault", "dropbox"}) do
  backend.asServiceRole.create(c, {_id = c .. "-bob", _owner = "bob", secret = "bob's " .. c})
end`
	if _, err := runSource(t, r, "function handle() "+seed+" end", nil, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	scenarios := []struct {
		name, user, src string
		want            any    // the result, when the call succeeds
		wantErr         string // part of the error, when it is refused
	}{
		{"anonymous reads a public collection", "anonymous", `return backend.get("open", "open-bob").secret`, "bob's open", ""},
		{"anonymous writes a public one, owned by nobody", "anonymous", `local d = backend.create("open", {x = 1}) return d._owner == nil and d.x == 1`, true, ""},
		{"anonymous cannot read an owner collection", "anonymous", `return backend.query("notes")`, nil, `backend.query: sign in required: the rules of collection "notes" do not let an anonymous caller (nobody signed in) read it`},
		{"anonymous cannot write one", "anonymous", `return backend.create("notes", {x = 1})`, nil, `sign in required: the rules of collection "notes" do not let an anonymous caller`},
		{"anonymous cannot count members", "anonymous", `return backend.count("members")`, nil, `backend.count: sign in required`},
		{"anonymous cannot get a member's", "anonymous", `return backend.get("members", "members-bob")`, nil, `backend.get: sign in required`},
		{"anonymous cannot reach the vault", "anonymous", `return backend.findOne("vault")`, nil, `backend.findOne: not allowed: the rules of collection "vault" do not let an anonymous caller`},
		{"anonymous deletes by filter in a public one", "anonymous", `return backend.delete("open", {secret = "bob's open"})`, int64(1), ""},
		{"anonymous cannot set _owner", "anonymous", `return backend.create("open", {_owner = "bob"})`, nil, `field _owner: names starting with _ are reserved`},
		{"a drop box answers only the _id of a write", "anonymous", `local d = backend.create("dropbox", {x = 1}) return {x = d.x, id = d._id ~= nil}`, bson.M{"id": true}, ""},
		{"a drop box hides what an update by id changed", "anonymous", `local d = backend.update("dropbox", "dropbox-bob", {x = 2}) return {secret = d.secret, id = d._id}`, bson.M{"id": "dropbox-bob"}, ""},
		{"a drop box refuses an update by filter", "anonymous", `return backend.update("dropbox", {secret = "bob's dropbox"}, {x = 3})`, nil, `backend.update: not allowed: the rules of collection "dropbox" do not let an anonymous caller (nobody signed in) read it; backend.asServiceRole acts with full rights (a filter reads the documents it matches; change them by id)`},
		{"a drop box refuses a delete by filter", "anonymous", `return backend.delete("dropbox", {})`, nil, `backend.delete: not allowed`},
		{"a user sees only their own notes", "alice", `return backend.count("notes")`, int64(0), ""},
		{"a user cannot change another's by filter", "alice", `return backend.update("notes", {}, {secret = "alice's"})`, int64(0), ""},
		{"a user reads members", "alice", `return backend.get("members", "members-bob").secret`, "bob's members", ""},
		{"a user cannot reach the vault", "alice", `return backend.count("vault")`, nil, `backend.count: not allowed: the rules of collection "vault" do not let this user read it`},
		{"a user cannot write the vault", "alice", `return backend.create("vault", {})`, nil, `backend.create: not allowed`},
		{"a user's write to a public collection is theirs", "alice", `return backend.create("open", {y = 1})._owner`, "alice", ""},
		{"asServiceRole reads the vault for anyone", "anonymous", `return backend.asServiceRole.get("vault", "vault-bob").secret`, "bob's vault", ""},
		{"asServiceRole reads another's notes", "alice", `return backend.asServiceRole.get("notes", "notes-bob").secret`, "bob's notes", ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			got, err := asUser(t, r, s.user, s.src, nil)
			switch {
			case s.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Errorf("error %v, want one holding %q (result %#v)", err, s.wantErr, got)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, s.want):
				t.Errorf("got %#v, want %#v", got, s.want)
			}
		})
	}
	stored, err := r.store.C("notes").FindOne(context.Background(), db.ByID("notes-bob"), nil)
	if err != nil || stored["secret"] != "bob's notes" {
		t.Errorf("bob's note after the others' attempts: %v %v", stored, err)
	}
	box, err := r.store.C("dropbox").FindOne(context.Background(), db.ByID("dropbox-bob"), nil)
	if err != nil || box["x"] != int64(2) || box["secret"] != "bob's dropbox" {
		t.Errorf("the drop box's document: %v %v", box, err)
	}
}
