package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestEndToEnd deploys a folder to a real server, refused while one
// function is broken, then invokes a function and reads its logs.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := writeTree(t, map[string]string{
		"greet/function.yaml": "triggers:\n  - invoke: true\ntimeout: 5s\n",
		"greet/main.lua": `function handle(input, ctx)
  print("greeting " .. input.name)
  if input.name == "nobody" then
    error("nobody to greet")
  end
  return {message = "hello " .. input.name}
end
`,
		"welcome/function.yaml": "handler: onRegistered\ntriggers:\n  - event: user_registered\n",
		"welcome/main.lua":      "function onRegistered(event)\n  local x = = 1\nend\n",
	})

	r := cli.run("deploy", dir)
	if r.err == nil || r.stdout != "" {
		t.Fatalf("deploy with a broken function succeeded: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "welcome") || !strings.Contains(lines[0], "line 2") ||
		lines[1] != "moonbase: deploy refused, nothing was changed: 1 of 2 functions failed" {
		t.Errorf("refused deploy: stderr\n%s", r.stderr)
	}
	if out := cli.ok("functions", "list"); !strings.HasPrefix(out, "no functions yet") {
		t.Errorf("a refused deploy changed something:\n%s", out)
	}

	writeTree2(t, dir, "welcome/main.lua", "function onRegistered(event)\n  return true\nend\n")
	if out := cli.ok("deploy", dir, "--dry-run"); !strings.HasSuffix(out, "dry run: nothing was changed\n") {
		t.Errorf("dry run: %q", out)
	}
	if out := cli.ok("functions", "list"); !strings.HasPrefix(out, "no functions yet") {
		t.Errorf("a dry run changed something:\n%s", out)
	}
	if out := cli.ok("deploy", dir); out != "created greet v1\ncreated welcome v1\n" {
		t.Errorf("deploy: %q", out)
	}
	if out := cli.ok("deploy", dir); out != "unchanged greet v1\nunchanged welcome v1\n" {
		t.Errorf("deploy again: %q", out)
	}
	list := cli.ok("functions", "list")
	if !regexp.MustCompile(`(?m)^greet +v1 +invoke +\S+ \S+\nwelcome +v1 +event:user_registered +`).MatchString(list) {
		t.Errorf("list:\n%s", list)
	}

	r = cli.run("functions", "invoke", "greet", "--data", `{"name": "Ada"}`)
	if r.err != nil {
		t.Fatalf("invoke: %v\n%s", r.err, r.stderr)
	}
	var result map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil || result["message"] != "hello Ada" {
		t.Errorf("invoke result %q (%v)", r.stdout, err)
	}
	if r.stderr != "greeting Ada\n" {
		t.Errorf("invoke output %q, want the print on stderr", r.stderr)
	}
	r = cli.run("functions", "invoke", "greet", "--data", `{"name": "nobody"}`)
	if r.err == nil || !strings.Contains(r.stderr, "line 4") || !strings.Contains(r.stderr, "nobody to greet") {
		t.Errorf("failing invoke: %+v", r)
	}

	logs := cli.ok("functions", "logs", "greet")
	want := regexp.MustCompile(`(?s)^\S+ \S+  ok .*v1 .*\n    greeting Ada\n\S+ \S+  error .*v1 .*\n    greeting nobody\n    error: .*line 4.*nobody to greet\n$`)
	if !want.MatchString(logs) {
		t.Errorf("logs:\n%s", logs)
	}

	// update keeps the triggers; versions and rollback.
	src := writeFile(t, t.TempDir(), "greet.lua", "function handle(input) return {message = \"hi \" .. input.name} end\n")
	if out := cli.ok("functions", "update", "greet", src); out != "updated greet v2\n" {
		t.Errorf("update: %q", out)
	}
	if out := cli.ok("functions", "list"); !regexp.MustCompile(`(?m)^greet +v2 +invoke `).MatchString(out) {
		t.Errorf("update lost the triggers:\n%s", out)
	}
	if out := cli.ok("functions", "rollback", "greet", "1"); out != "rolled greet back to the source of v1, now v3\n" {
		t.Errorf("rollback: %q", out)
	}
	if out := cli.ok("functions", "versions", "greet"); !regexp.MustCompile(`^VERSION +CREATED\nv3 .*\nv2 .*\nv1 .*\n$`).MatchString(out) {
		t.Errorf("versions:\n%s", out)
	}

	// create, secrets, delete.
	created := writeFile(t, t.TempDir(), "hook.lua", "function handle(req) return {ok = backend.env(\"HOOK_SECRET\") ~= nil} end\n")
	if out := cli.ok("functions", "create", created, "--http"); out != "created hook v1 (triggers: http)\n" {
		t.Errorf("create: %q", out)
	}
	cli.ok("secrets", "set", "HOOK_SECRET", "whsec_x")
	if out := cli.ok("functions", "invoke", "hook"); !strings.Contains(out, `"ok": true`) {
		t.Errorf("invoke with a secret: %q", out)
	}
	if out := cli.ok("secrets", "list"); out != "HOOK_SECRET\n" {
		t.Errorf("secrets list: %q", out)
	}
	cli.ok("functions", "delete", "hook")
	cli.fails("moonbase: function not found: \"hook\"\n", "functions", "delete", "hook")
}
