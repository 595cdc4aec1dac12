package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// TestReplayVerifiesAgainstTheOriginalReceipt replays requests of the
// timestamped schemes long after their signatures' tolerance: verify
// checks the timestamp against when the request first arrived, and the
// signature in full.
//
// The server has no clock to move, so "a request that arrived 20 minutes
// ago" is one signed then whose log entry is moved back to then: live, it
// is refused as stale, as it should be.
func TestReplayVerifiesAgainstTheOriginalReceipt(t *testing.T) {
	ts := startServer(t, webhookConfig(t, false), Deps{})
	ctx := context.Background()
	secrets := map[string]string{"stripe": "whsec_stripe_test_secret", "standard": webhooks.NewSecret(), "slack": "slack-signing-secret"}
	for scheme, secret := range secrets {
		saveFunctionAt(t, ts.URL(), "hook_"+scheme, map[string]any{
			"triggers": []any{map[string]any{"http": true, "methods": []string{"POST"}}},
			"source": fmt.Sprintf(`function handle(input)
  local ok, err = pcall(backend.webhooks.verify, %q, input, %q)
  if not ok then return backend.response(400, tostring(err)) end
  return {replayed = input.replayed == true, receivedAt = input.receivedAt and input.receivedAt:unix() or 0}
end`, scheme, secret),
		})
	}
	// send posts body to scheme's function signed at signedAt and returns
	// the answer and the id of its log entry.
	send := func(t *testing.T, scheme, body string, signedAt time.Time) (response, string) {
		t.Helper()
		r := webhooks.Request{URL: ts.URL() + "/functions/hook_" + scheme, Header: http.Header{"Webhook-Id": {"msg_replay"}}, Body: []byte(body)}
		if err := webhooks.Sign(scheme, &r, secrets[scheme], webhooks.Options{Now: func() time.Time { return signedAt }}); err != nil {
			t.Fatal(err)
		}
		var hdr []string
		for k, v := range r.Header {
			hdr = append(hdr, k, v[0])
		}
		res := ts.do(t, "POST", "/functions/hook_"+scheme, body, "", hdr...)
		// The log lists newest first; the newest that is not a replay is
		// this request's entry.
		var list struct {
			Requests []webhooks.Inbound `json:"requests"`
		}
		if l := ts.do(t, "GET", "/api/admin/inbound?function=hook_"+scheme, "", testAdminToken); l.status != http.StatusOK || json.Unmarshal([]byte(l.body), &list) != nil {
			t.Fatalf("list the inbound log: %d %s", l.status, l.body)
		}
		for _, in := range list.Requests {
			if in.ReplayOf == "" {
				return res, in.ID
			}
		}
		t.Fatalf("the request to hook_%s is not in the log", scheme)
		return res, ""
	}
	// arrivedAt moves a logged request's receipt to at.
	arrivedAt := func(t *testing.T, id string, at time.Time) {
		t.Helper()
		if _, err := ts.Store().C(db.Inbound).UpdateOne(ctx, db.ByID(id), bson.M{"$set": bson.M{"received_at": at.UTC()}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	replay := func(t *testing.T, id string) (status int, answer string, entry map[string]any) {
		t.Helper()
		res := ts.do(t, "POST", "/api/admin/inbound/"+id+"/replay", "", testAdminToken)
		if res.status != http.StatusOK {
			t.Fatalf("replay %s: %d %s", id, res.status, res.body)
		}
		entry = res.json(t)["request"].(map[string]any)
		return int(entry["status"].(float64)), entry["answer"].(string), entry
	}
	long := time.Now().Add(-20 * time.Minute).Truncate(time.Second)

	for _, scheme := range []string{"stripe", "standard", "slack"} {
		t.Run(scheme, func(t *testing.T) {
			body := `{"id":"evt_` + scheme + `","type":"invoice.paid"}`
			res, id := send(t, scheme, body, long)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, "timestamp outside tolerance") {
				t.Fatalf("a request signed 20 minutes ago, live: %d %s; want 400 timestamp outside tolerance", res.status, res.body)
			}
			arrivedAt(t, id, long)
			status, answer, entry := replay(t, id)
			if status != http.StatusOK {
				t.Fatalf("replay of a request that arrived when it was signed: %d %s", status, answer)
			}
			var got struct {
				Replayed   bool  `json:"replayed"`
				ReceivedAt int64 `json:"receivedAt"`
			}
			if err := json.Unmarshal([]byte(answer), &got); err != nil || !got.Replayed || got.ReceivedAt != long.Unix() {
				t.Fatalf("the replayed input = %s (%v), want replayed = true and receivedAt = %d", answer, err, long.Unix())
			}
			if entry["original_received_at"] == nil || entry["replay_of"] != id {
				t.Fatalf("replay's log entry = %v, want replay_of and original_received_at", entry)
			}
			// A replay of the replay keeps the first receipt.
			if status, answer, _ := replay(t, entry["id"].(string)); status != http.StatusOK {
				t.Fatalf("replay of a replay: %d %s", status, answer)
			}
		})
	}

	scenarios := []struct {
		name   string
		scheme string
		// arrived is how long after signing the request first arrived;
		// tamper changes the logged body.
		arrived time.Duration
		tamper  bool
		want    string
	}{
		{"stripe, arrived stale", "stripe", 10 * time.Minute, false, "timestamp outside tolerance"},
		{"standard, arrived stale", "standard", 10 * time.Minute, false, "timestamp outside tolerance"},
		{"stripe, body changed in the log", "stripe", 0, true, "bad signature"},
		{"standard, body changed in the log", "standard", 0, true, "bad signature"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, id := send(t, s.scheme, `{"id":"evt_x","amount":100}`, long)
			arrivedAt(t, id, long.Add(s.arrived))
			if s.tamper {
				if _, err := ts.Store().C(db.Inbound).UpdateOne(ctx, db.ByID(id), bson.M{"$set": bson.M{"body": `{"id":"evt_x","amount":999}`}}, nil); err != nil {
					t.Fatal(err)
				}
			}
			status, answer, _ := replay(t, id)
			if status != http.StatusBadRequest || !strings.Contains(answer, s.want) {
				t.Fatalf("replay: %d %s; want 400 %s", status, answer, s.want)
			}
		})
	}

	t.Run("a live request cannot pass for a replay", func(t *testing.T) {
		saveFunctionAt(t, ts.URL(), "echo_input", map[string]any{
			"triggers": []any{map[string]any{"http": true}},
			"source":   `function handle(input) return {replayed = input.replayed == true, hasReceivedAt = input.receivedAt ~= nil} end`,
		})
		res := ts.do(t, "POST", "/functions/echo_input", `{"replayed": true, "receivedAt": 1}`, "", "Replayed", "true", "Receivedat", "1")
		if res.status != http.StatusOK || res.body != `{"hasReceivedAt":false,"replayed":false}` {
			t.Fatalf("live request's input: %d %s", res.status, res.body)
		}
	})
}
