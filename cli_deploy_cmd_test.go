package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestDeployCommand(t *testing.T) {
	t.Parallel()
	fake := newFakeAdmin(t)
	cli := adminCLI{t, fake.URL, fakeToken}
	dir := writeTree(t, map[string]string{
		"trial-reminder/function.yaml": "triggers:\n  - schedule: daily at 09:00\n    timezone: Europe/Paris\n",
		"trial-reminder/main.lua":      "function handle() end\n",
		"welcome/function.yaml":        "triggers:\n  - event: user_registered\n",
		"welcome/main.lua":             "function handle(event)\n  return !!\nend\n",
	})

	// One broken function refuses the whole deploy.
	r := cli.run("deploy", dir)
	want := "function \"welcome\": syntax error at line 2: unexpected symbol near '!'\n" +
		"moonbase: deploy refused, nothing was changed: 1 of 2 functions failed\n"
	if r.err == nil || r.stderr != want || r.stdout != "" {
		t.Errorf("deploy with a broken function: %+v\nwant stderr %q", r, want)
	}
	if len(fake.funcs) != 0 {
		t.Errorf("a refused deploy saved %d functions", len(fake.funcs))
	}

	writeTree2(t, dir, "welcome/main.lua", "function handle(event) return event end\n")
	if out := cli.ok("deploy", dir, "--dry-run"); out != "would create trial-reminder\nwould create welcome\ndry run: nothing was changed\n" {
		t.Errorf("dry run: %q", out)
	}
	if len(fake.funcs) != 0 {
		t.Errorf("a dry run saved %d functions", len(fake.funcs))
	}
	if out := cli.ok("deploy", dir); out != "created trial-reminder v1\ncreated welcome v1\n" {
		t.Errorf("deploy: %q", out)
	}
	writeTree2(t, dir, "welcome/main.lua", "function handle(event) return 1 end\n")
	if out := cli.ok("deploy", dir); out != "unchanged trial-reminder v1\nupdated welcome v2\n" {
		t.Errorf("second deploy: %q", out)
	}
	var ans struct {
		Functions []deployResult `json:"functions"`
	}
	if err := json.Unmarshal([]byte(cli.ok("deploy", dir, "--json")), &ans); err != nil || len(ans.Functions) != 2 || ans.Functions[1].Action != "unchanged" {
		t.Errorf("deploy --json: %+v %v", ans, err)
	}
	fn, _ := fake.current("trial-reminder")
	if len(fn.Triggers) != 1 || fn.Triggers[0] != (trigger{Schedule: "daily at 09:00", Timezone: "Europe/Paris"}) {
		t.Errorf("deployed triggers: %+v", fn.Triggers)
	}
	if len(fake.requests) != 5 {
		t.Errorf("each deploy is one request; got %v", fake.requests)
	}
}

func TestDeployCommandLocalProblems(t *testing.T) {
	t.Parallel()
	fake := newFakeAdmin(t)
	cli := adminCLI{t, fake.URL, fakeToken}
	dir := writeTree(t, map[string]string{
		"a/function.yaml": "name: b\n",
		"a/main.lua":      "function handle() end\n",
		"c/function.yaml": "triggers:\n  - invoke: true\n    htp: true\n",
	})
	a := filepath.Join(dir, "a", "function.yaml")
	c := filepath.Join(dir, "c", "function.yaml")
	cli.fails(a+": line 1: name \"b\" does not match its folder \"a\"; rename one of them (or leave name out)\n"+
		c+": line 3: unknown trigger key \"htp\" (a trigger knows invoke, http, event, collection, schedule, timezone)\n"+
		"moonbase: nothing was deployed: 2 problems in "+dir+"\n", "deploy", dir)
	missing := filepath.Join(dir, "nope")
	cli.fails("moonbase: functions folder "+missing+" does not exist (give another one: moonbase deploy DIR)\n", "deploy", missing)
	if len(fake.requests) != 0 {
		t.Errorf("a folder with problems reached the server: %v", fake.requests)
	}
}

// writeTree2 writes one file under an existing folder.
func writeTree2(t *testing.T, dir, path, content string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, filepath.Dir(path)), filepath.Base(path), content)
}
