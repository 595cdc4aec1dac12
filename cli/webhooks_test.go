package cli

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

// TestWebhooksCommands registers an endpoint on a local receiver, lets a
// delivery to it die, lists it with --dead and replays it, once by ID and
// once by endpoint and time; and refuses bad input with one line naming
// the reason, the server's when the server refuses.
func TestWebhooksCommands(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	status := http.StatusInternalServerError
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(recv.Close)
	cli := startMoonbase(t, func(cfg *server.Config) {
		cfg.Functions.HTTP.AllowHosts = []string{"127.0.0.1"}
		cfg.Events.PollInterval = 20 * time.Millisecond
	})

	if r := cli.run("webhooks", "endpoints", "list"); r.err != nil || r.stdout != "" || r.stderr != "no endpoints\n" {
		t.Fatalf("empty list: %+v", r)
	}
	r := cli.run("webhooks", "endpoints", "create", recv.URL+"/in", "--events", "order.*,user.created", "--max-attempts", "1")
	m := regexp.MustCompile(`^created endpoint (\S+)\nsecret (whsec_\S+)\n$`).FindStringSubmatch(r.stdout)
	if r.err != nil || m == nil || r.stderr != "keep the secret now: it is not shown again\n" {
		t.Fatalf("create: %+v", r)
	}
	id, secret := m[1], m[2]
	out := cli.ok("webhooks", "endpoints", "list")
	if !regexp.MustCompile(`^ID +URL +EVENTS +VERSION +STATE\n`+regexp.QuoteMeta(id)+` +`+regexp.QuoteMeta(recv.URL)+`/in +order\.\*,user\.created +1 +enabled\n$`).MatchString(out) || strings.Contains(out, "whsec_") {
		t.Fatalf("list:\n%s", out)
	}
	if out := cli.ok("webhooks", "endpoints", "list", "--json"); !strings.Contains(out, `"id": "`+id+`"`) || strings.Contains(out, "whsec_") {
		t.Fatalf("list --json:\n%s", out)
	}
	cli.fails("moonbase: give --events: event types, prefixes such as \"order.*\", or \"*\"\n", "webhooks", "endpoints", "create", "https://x.example/")
	if r := cli.run("webhooks", "endpoints", "create", "https://x.example/", "--events", "order.**"); r.err == nil || !strings.HasPrefix(r.stderr, "moonbase: ") || !strings.Contains(r.stderr, `"order.**"`) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("create with a bad filter: %+v", r)
	}

	out = cli.ok("webhooks", "endpoints", "rotate", id)
	if !regexp.MustCompile(`^rotated endpoint `+regexp.QuoteMeta(id)+`\nsecret whsec_\S+\n$`).MatchString(out) || strings.Contains(out, secret) {
		t.Fatalf("rotate: %q", out)
	}

	if r := cli.run("webhooks", "deliveries", "list", "--dead"); r.err != nil || r.stderr != "no deliveries\n" {
		t.Fatalf("no dead deliveries yet: %+v", r)
	}
	c, err := newAPIClient(cli.url, cli.token, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.do(t.Context(), http.MethodPost, "/api/admin/webhooks/emit", map[string]any{"type": "order.paid", "payload": map[string]any{"id": 1}}); err != nil {
		t.Fatalf("emit: %v", err)
	}
	deadRow := regexp.MustCompile(`(?m)^(\S+) +order\.paid +` + regexp.QuoteMeta(id) + ` +dead +1/1 +\S+ \S+ +.+$`)
	var dead string
	testsupport.WaitFor(t, "the dead delivery", func() bool {
		m := deadRow.FindStringSubmatch(cli.ok("webhooks", "deliveries", "list", "--dead", "--endpoint", id))
		if m != nil {
			dead = m[1]
		}
		return m != nil
	})
	if out := cli.ok("webhooks", "deliveries", "list", "--status", "pending"); strings.Contains(out, dead) {
		t.Fatalf("the dead delivery is listed as pending:\n%s", out)
	}

	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	if out := cli.ok("webhooks", "replay", dead); out != "replaying delivery "+dead+": pending\n" {
		t.Fatalf("replay: %q", out)
	}
	testsupport.WaitFor(t, "the replayed delivery", func() bool {
		return strings.Contains(cli.ok("webhooks", "deliveries", "list", "--status", "delivered", "--endpoint", id), dead)
	})
	if out := cli.ok("webhooks", "replay", "--endpoint", id, "--since", "1h"); out != "replaying 0 dead deliveries of "+id+"\n" {
		t.Fatalf("replay since: %q", out)
	}
	if out := cli.ok("webhooks", "replay", "--endpoint", id, "--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--json"); out != "{\n  \"replayed\": 0\n}\n" {
		t.Fatalf("replay since --json: %q", out)
	}

	cli.fails("moonbase: give a delivery ID, or --endpoint with --since (not both)\n", "webhooks", "replay")
	cli.fails("moonbase: give a delivery ID, or --endpoint with --since (not both)\n", "webhooks", "replay", dead, "--endpoint", id)
	cli.fails("moonbase: give --since: a time (2026-12-01T00:00:00Z) or a duration ago (24h)\n", "webhooks", "replay", "--endpoint", id)
	cli.fails("moonbase: --since \"yesterday\": give a time (2026-12-01T00:00:00Z) or a duration ago (24h)\n", "webhooks", "replay", "--endpoint", id, "--since", "yesterday")
	cli.fails("moonbase: --dead and --status pending contradict each other; give one\n", "webhooks", "deliveries", "list", "--dead", "--status", "pending")
	cli.fails("moonbase: --status \"failed\" is not a delivery status: use one of pending, delivered, dead\n", "webhooks", "deliveries", "list", "--status", "failed")

	if out := cli.ok("webhooks", "endpoints", "disable", id); out != "disabled endpoint "+id+"\n" {
		t.Fatalf("disable: %q", out)
	}
	if out := cli.ok("webhooks", "endpoints", "list"); !strings.Contains(out, " disabled: disabled by an admin\n") {
		t.Fatalf("list after disable:\n%s", out)
	}
	if out := cli.ok("webhooks", "endpoints", "enable", id); out != "enabled endpoint "+id+"\n" {
		t.Fatalf("enable: %q", out)
	}
	if out := cli.ok("webhooks", "endpoints", "delete", id); out != "deleted endpoint "+id+"\n" {
		t.Fatalf("delete: %q", out)
	}
	cli.fails("moonbase: webhook endpoint not found: \""+id+"\"\n", "webhooks", "endpoints", "delete", id)
	cli.fails("moonbase: webhook endpoint not found: \"nope\"\n", "webhooks", "replay", "--endpoint", "nope", "--since", "24h")
	cli.fails("moonbase: webhook delivery not found: \"nope\"\n", "webhooks", "replay", "nope")
}
