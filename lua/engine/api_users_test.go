package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

func TestUsersAreTheAccounts(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{Rules: dataRules})
	ctx := context.Background()
	day := 24 * time.Hour
	now := time.Now().UTC().Truncate(time.Millisecond)
	ids := map[string]primitive.ObjectID{}
	for _, u := range []struct {
		email string
		ends  time.Duration
		paid  bool
	}{{"ended@example.com", -day, false}, {"paid@example.com", -day, true}, {"later@example.com", day, false}} {
		oid := primitive.NewObjectID()
		ids[u.email] = oid
		if _, err := r.store.C(db.Users).InsertOne(ctx, bson.M{
			"_id": oid, "email": u.email, "name": "N", "password_hash": "$2a$04$secret", "verified": true,
			"created_at": now, "updated_at": now, "trialEndsAt": now.Add(u.ends), "isPaid": u.paid,
		}); err != nil {
			t.Fatal(err)
		}
	}
	ended := ids["ended@example.com"].Hex()

	full := []struct {
		name string
		src  string
		want string // in the JSON of the result
		not  string
	}{
		{"query by app fields and dates", `local us = backend.query("users", {trialEndsAt = {["$lte"] = backend.now()}, isPaid = false})
  return {n = #us, email = us[1].email, id = us[1]._id, isDate = us[1].trialEndsAt < backend.now()}`,
			`"email":"ended@example.com","id":"` + ended + `","isDate":true,"n":1`, "password"},
		{"get by id hides the hash", `return backend.get("users", "` + ended + `")`, `"verified":true`, "password"},
		{"findOne with fields hides the hash", `return backend.findOne("users", {email = "paid@example.com"}, {fields = {"email", "password_hash"}})`,
			`"email":"paid@example.com"`, "password"},
		{"count", `return backend.count("users", {isPaid = false})`, `2`, ""},
		{"update app fields", `local u = backend.update("users", "` + ended + `", {plan = "pro", isPaid = true})
  return {plan = u.plan, isPaid = u.isPaid, changed = u.updated_at > u.created_at or u.updated_at == u.created_at}`,
			`"changed":true,"isPaid":true,"plan":"pro"`, ""},
		{"update many with an operator", `return backend.update("users", {isPaid = false}, {["$set"] = {reminded = true}})`, `1`, ""},
		{"through asServiceRole too", `return #backend.asServiceRole.query("users", {})`, `3`, ""},
	}
	for _, s := range full {
		t.Run(s.name, func(t *testing.T) {
			v, err := asUser(t, r, "system", s.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := jsonOf(t, v)
			if !strings.Contains(got, s.want) || (s.not != "" && strings.Contains(got, s.not)) {
				t.Errorf("got %s, want %s without %q", got, s.want, s.not)
			}
		})
	}

	if v, err := asUser(t, r, "alice", `return #backend.asServiceRole.query("users", {})`, nil); err != nil || jsonOf(t, v) != "3" {
		t.Errorf("asServiceRole in a signed-in caller's run: %v, %v", v, err)
	}

	refused := []struct {
		name, user, src, want string
	}{
		{"an anonymous caller", "anonymous", `return backend.count("users", {})`, "only a run with full rights may read users"},
		{"a signed-in caller", "alice", `return backend.query("users", {})`, "only a run with full rights may read users"},
		{"a signed-in caller writing", "alice", `return backend.update("users", "` + ended + `", {plan = "x"})`, "only a run with full rights may change users"},
		{"the email", "system", `return backend.update("users", "` + ended + `", {email = "mallory@example.com"})`, "field email of an account is set only by the account calls"},
		{"the password hash", "system", `return backend.update("users", "` + ended + `", {["$set"] = {password_hash = "x"}})`, "field password_hash of an account"},
		{"the verified flag", "system", `return backend.update("users", {}, {["$unset"] = {verified = ""}})`, "field verified of an account"},
		{"a reserved name", "system", `return backend.update("users", "` + ended + `", {_owner = "x"})`, "names starting with _ are reserved"},
		{"a filter on the hash", "system", `return backend.query("users", {password_hash = {["$regex"] = "^\\$2a"}})`, "the password hash of an account cannot be queried"},
		{"a filter on the hash in $or", "system", `return backend.count("users", {["$or"] = {{password_hash = "x"}}})`, "the password hash of an account cannot be queried"},
		{"create", "system", `return backend.create("users", {email = "new@example.com"})`, "accounts are created by registering"},
		{"delete", "system", `return backend.delete("users", "` + ended + `")`, "an account is deleted by its owner"},
	}
	for _, s := range refused {
		t.Run("refuses "+s.name, func(t *testing.T) {
			_, err := asUser(t, r, s.user, s.src, nil)
			if err == nil || !strings.Contains(err.Error(), s.want) {
				t.Errorf("err = %v, want %q", err, s.want)
			}
		})
	}
	doc, err := r.store.C(db.Users).FindOne(ctx, db.ByID(ids["ended@example.com"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc["email"] != "ended@example.com" || doc["password_hash"] != "$2a$04$secret" || doc["verified"] != true || doc["plan"] != "pro" {
		t.Errorf("the account after the refusals: %v", doc)
	}
	if n, _ := r.store.C(db.Users).Count(ctx, nil); n != 3 {
		t.Errorf("%d accounts, want 3", n)
	}
	if n, _ := r.store.C("users").Count(ctx, nil); n != 0 {
		t.Errorf("a users collection apart from the accounts holds %d documents", n)
	}
}

// jsonOf is a run's result as JSON, keys sorted.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(db.ToExtJSON(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
