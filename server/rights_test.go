package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// probeSource tries every data call on one collection per access rule,
// with the run's own rights and through backend.asServiceRole, and sums
// up each as "read N, create OWNER, update yes|no": N is how many of the
// secrets bob seeded it could read, OWNER whose the created document is
// (mine, none), a refusal is "signin" or "forbidden". What it creates and
// each change to bob's documents carry a tag, trigger:user:own|service,
// so the store can be checked against the summary. Event and schedule
// runs keep their summary in probes; invoke and http runs answer it.
const probeSource = `local cols = {"notes", "board", "guestbook", "vault"}

local function try(f, ...)
  local ok, res = pcall(f, ...)
  if ok then return true, res end
  if string.find(res, "sign in required", 1, true) then return false, "signin" end
  if string.find(res, "not allowed", 1, true) then return false, "forbidden" end
  error(res, 0)
end

local function probe(api, ctx, mode)
  local tag = ctx.trigger .. ":" .. (ctx.user and ctx.user.id or "anonymous") .. ":" .. mode
  local out = {}
  for _, c in ipairs(cols) do
    local bobs = backend.asServiceRole.findOne(c, {secret = "bob's " .. c})._id
    local parts = {}
    local ok, docs = try(api.query, c, {})
    if ok then
      local n = 0
      for _, d in ipairs(docs) do if d.secret then n = n + 1 end end
      docs = n
    end
    parts[#parts + 1] = "read " .. docs
    local ok, made = try(api.create, c, {tag = tag})
    if ok then
      if made._owner == nil then made = "none"
      elseif ctx.user and made._owner == ctx.user.id then made = "mine"
      else made = "other" end
    end
    parts[#parts + 1] = "create " .. made
    local ok, changed = try(api.update, c, bobs, {["$push"] = {touched = tag}})
    if ok then changed = changed and "yes" or "no" end
    parts[#parts + 1] = "update " .. changed
    out[c] = table.concat(parts, ", ")
  end
  return out
end

function handle(input, ctx)
  local result = {
    own = probe(backend, ctx, "own"),
    service = probe(backend.asServiceRole, ctx, "service"),
    user = ctx.user and ctx.user.id or backend.null,
  }
  if ctx.trigger == "event" or ctx.trigger == "schedule" then
    backend.asServiceRole.create("probes", {trigger = ctx.trigger, result = result})
  end
  return result
end`

// TestFunctionsActAsTheirCaller is the rights matrix over HTTP: anonymous,
// a user and the document's owner calling through invoke and http, an
// event and a schedule run, each against an owner, an authenticated, a
// public and a closed collection, with the run's rights and through
// asServiceRole. No run reads or changes more than the data API would let
// its caller, and every run's record names the identity it used.
func TestFunctionsActAsTheirCaller(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	ctx := context.Background()
	alice := ts.register(t, "alice@example.com", "alice's password")
	bob := ts.register(t, "bob@example.com", "bob's password")
	for _, col := range []string{"notes", "board", "guestbook"} {
		if res := ts.do(t, "POST", "/api/db/"+col, `{"secret":"bob's `+col+`"}`, bob.token); res.status != http.StatusCreated {
			t.Fatalf("bob's %s: %d %s", col, res.status, res.body)
		}
	}
	if _, err := ts.Store().C("vault").InsertOne(ctx, bson.M{"secret": "bob's vault", db.OwnerField: bob.id}); err != nil {
		t.Fatal(err)
	}
	ts.putFunction(t, "probe", probeSource, `[{"invoke": true}, {"http": true}, {"event": "probe_now"}, {"schedule": "0 0 1 1 *"}]`)

	const (
		signin    = "read signin, create signin, update signin"
		forbidden = "read forbidden, create forbidden, update forbidden"
		mine      = "read 1, create mine, update yes"
		system    = "read 1, create none, update yes"
	)
	full := map[string]any{"notes": system, "board": system, "guestbook": system, "vault": system}
	anonymous := map[string]any{"notes": signin, "board": signin, "guestbook": system, "vault": forbidden}
	aliceSees := map[string]any{"notes": "read 0, create mine, update no", "board": mine, "guestbook": mine, "vault": forbidden}
	bobSees := map[string]any{"notes": mine, "board": mine, "guestbook": mine, "vault": forbidden}

	scenarios := []struct {
		name, method, path, token string
		header                    []string
		own                       map[string]any
		user                      any
		identity                  string
	}{
		{"invoke, anonymous", "POST", "/api/functions/probe", "", nil, anonymous, nil, "anonymous"},
		{"invoke, a user", "POST", "/api/functions/probe", alice.token, nil, aliceSees, alice.id, alice.id},
		{"invoke, the owner", "POST", "/api/functions/probe", bob.token, nil, bobSees, bob.id, bob.id},
		{"http, anonymous", "GET", "/functions/probe", "", nil, anonymous, nil, "anonymous"},
		{"http, a user's Bearer token", "POST", "/functions/probe", alice.token, nil, aliceSees, alice.id, alice.id},
		{"http, the owner's", "PUT", "/functions/probe/sub", bob.token, nil, bobSees, bob.id, bob.id},
		{"http, a sender's own Authorization", "POST", "/functions/probe", "", []string{"Authorization", "Bearer whsec_from_a_sender"}, anonymous, nil, "anonymous"},
		{"http, Basic credentials", "POST", "/functions/probe", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, anonymous, nil, "anonymous"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := ts.do(t, s.method, s.path, "", s.token, s.header...)
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			checkProbe(t, res.json(t), s.own, full, s.user)
			if strings.Contains(res.body, "bob's") {
				t.Errorf("the answer holds a secret: %s", res.body)
			}
			requireIdentity(t, ts, "probe", s.identity)
		})
	}

	t.Run("event run of a user's event", func(t *testing.T) {
		if res := ts.do(t, "POST", "/api/events", `{"name":"probe_now"}`, alice.token); res.status != http.StatusAccepted {
			t.Fatalf("publish: %d %s", res.status, res.body)
		}
		checkProbe(t, waitProbe(t, ts, "event"), full, full, alice.id)
		requireIdentity(t, ts, "probe", "system")
	})
	t.Run("schedule run", func(t *testing.T) {
		if res := ts.do(t, "POST", "/api/admin/schedules/probe/run", "", testAdminToken); res.status != http.StatusAccepted {
			t.Fatalf("run schedule: %d %s", res.status, res.body)
		}
		checkProbe(t, waitProbe(t, ts, "schedule"), full, full, nil)
		requireIdentity(t, ts, "probe", "system")
	})

	// The store holds exactly what the summaries said was written, in
	// the order of the runs: a refused write left nothing behind.
	type run struct {
		trigger, user string
		own           map[string]any
	}
	var runs []run
	for _, s := range scenarios {
		user, _ := s.user.(string)
		if user == "" {
			user = "anonymous"
		}
		trigger := "invoke"
		if strings.HasPrefix(s.path, "/functions/") {
			trigger = "http"
		}
		runs = append(runs, run{trigger, user, s.own})
	}
	runs = append(runs, run{"event", alice.id, full}, run{"schedule", "anonymous", full})
	for _, col := range []string{"notes", "board", "guestbook", "vault"} {
		var touched, created []string
		for _, r := range runs {
			tag := r.trigger + ":" + r.user + ":"
			summary := r.own[col].(string)
			if strings.HasSuffix(summary, "update yes") {
				touched = append(touched, tag+"own")
			}
			if !strings.Contains(summary, "create signin") && !strings.Contains(summary, "create forbidden") {
				created = append(created, tag+"own")
			}
			touched = append(touched, tag+"service")
			created = append(created, tag+"service")
		}
		doc, err := ts.Store().C(col).FindOne(ctx, bson.M{"secret": "bob's " + col}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strs(doc["touched"]); !reflect.DeepEqual(got, touched) {
			t.Errorf("bob's %s was changed by\n%v\nwant\n%v", col, got, touched)
		}
		docs, err := ts.Store().C(col).Find(ctx, bson.M{"tag": bson.M{"$exists": true}}, &db.FindOptions{Sort: bson.D{{Key: "_created_at", Value: 1}, {Key: "_id", Value: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range docs {
			got = append(got, d["tag"].(string))
		}
		if !reflect.DeepEqual(got, created) {
			t.Errorf("%s holds documents created by\n%v\nwant\n%v", col, got, created)
		}
	}
}

// strs reads a stored array of strings.
func strs(v any) []string {
	a, _ := v.(bson.A)
	var out []string
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// checkProbe compares a probe's summary with what its rights allow.
func checkProbe(t *testing.T, got map[string]any, own, service map[string]any, user any) {
	t.Helper()
	if !reflect.DeepEqual(got["own"], own) {
		t.Errorf("with its own rights:\n got %v\nwant %v", got["own"], own)
	}
	if !reflect.DeepEqual(got["service"], service) {
		t.Errorf("through asServiceRole:\n got %v\nwant %v", got["service"], service)
	}
	if got["user"] != user {
		t.Errorf("ctx.user %v, want %v", got["user"], user)
	}
}

// waitProbe waits for the summary an event or schedule run of the probe
// kept, and returns it as JSON would give it.
func waitProbe(t *testing.T, ts *testServer, trigger string) map[string]any {
	t.Helper()
	var doc bson.M
	testsupport.WaitFor(t, "a "+trigger+" run of the probe", func() bool {
		d, err := ts.Store().C("probes").FindOne(context.Background(), bson.M{"trigger": trigger}, nil)
		doc = d
		return err == nil
	})
	b, err := json.Marshal(db.ToJSONValue(doc["result"]))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// requireIdentity checks the newest execution record of function, as the
// admin API lists it, names identity.
func requireIdentity(t *testing.T, ts *testServer, function, identity string) {
	t.Helper()
	res := ts.do(t, "GET", "/api/admin/functions/"+function+"/executions?limit=1", "", testAdminToken)
	var ans struct {
		Executions []struct {
			Identity string `json:"identity"`
			Status   string `json:"status"`
		} `json:"executions"`
	}
	if err := json.Unmarshal([]byte(res.body), &ans); err != nil || len(ans.Executions) != 1 {
		t.Fatalf("executions: %d %s", res.status, res.body)
	}
	if e := ans.Executions[0]; e.Identity != identity || e.Status != "ok" {
		t.Errorf("the last run's record: %+v, want identity %q", e, identity)
	}
}

// TestWebhookHandlerWritesThroughServiceRole runs the README's webhook
// handler: anonymous by nature, it writes with asServiceRole once the
// signature holds, and the same write without asServiceRole is refused.
func TestWebhookHandlerWritesThroughServiceRole(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{}) // payments has the owner rule
	if res := ts.do(t, "PUT", "/api/admin/secrets/HOOK_SECRET", `{"value": "s3cret"}`, testAdminToken); res.status != http.StatusNoContent {
		t.Fatalf("secret: %d %s", res.status, res.body)
	}
	const hook = `function handle(req, ctx)
  local sig = backend.crypto.hmac("sha256", backend.env("HOOK_SECRET"), req.body)
  if not backend.crypto.equal(sig, req.headers["x-signature"] or "") then
    return {status = 400, body = "bad signature"}
  end
  -- nobody is signed in: backend.create("payments", …) would raise "sign in required"
  backend.asServiceRole.create("payments", {ref = req.json.id, amount = req.json.amount})
  return {status = 200, body = "ok"}
end`
	ts.putFunction(t, "paymentHook", hook, `[{"http": true}]`)
	ts.putFunction(t, "plainHook", strings.Replace(hook, "backend.asServiceRole.create", "backend.create", 1), `[{"http": true}]`)
	body := `{"id":"pay_1","amount":1200}`
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(body))
	sig := hex.EncodeToString(mac.Sum(nil))
	runScenarios(t, ts, nil, []scenario{
		{
			name: "a forged signature", method: "POST", path: "/functions/paymentHook", body: body, headers: []string{"X-Signature", "00"},
			wantStatus: http.StatusBadRequest, wantContent: []string{"bad signature"},
		},
		{
			name: "a signed delivery is written", method: "POST", path: "/functions/paymentHook", body: body, headers: []string{"X-Signature", sig},
			wantStatus: http.StatusOK, wantContent: []string{"ok"},
		},
		{
			name: "without asServiceRole the write is refused", method: "POST", path: "/functions/plainHook", body: body, headers: []string{"X-Signature", sig},
			wantStatus:  http.StatusInternalServerError,
			wantContent: []string{`backend.create: sign in required: the rules of collection \"payments\" do not let an anonymous caller (nobody signed in) write it`},
		},
	})
	docs, err := ts.Store().C("payments").Find(context.Background(), nil, nil)
	if err != nil || len(docs) != 1 || docs[0]["ref"] != "pay_1" || docs[0]["amount"] != int64(1200) {
		t.Errorf("payments %v %v, want the one signed delivery", docs, err)
	}
	requireIdentity(t, ts, "paymentHook", "anonymous")
}
