package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

func TestFunctionsCreateUpdateDelete(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "trial-reminder.lua", "function handle(input, ctx) return 1 end\n")

	if got, want := cli.ok("functions", "list"), "no functions yet: add one with `moonbase functions create FILE` or `moonbase deploy`\n"; got != want {
		t.Errorf("empty list: %q", got)
	}
	out := cli.ok("functions", "create", file, "--event", "user_registered", "--schedule", "daily at 09:00", "--timezone", "Europe/Paris", "--invoke", "--timeout", "30s", "--retries", "2")
	if want := "created trial-reminder v1 (triggers: invoke, event:user_registered, schedule:daily at 09:00 (Europe/Paris))\n"; out != want {
		t.Errorf("create: %q, want %q", out, want)
	}
	cli.fails("moonbase: function \"trial-reminder\" already exists; change it with `moonbase functions update trial-reminder "+file+"`\n",
		"functions", "create", file)
	cli.fails("moonbase: --timezone applies to a --schedule; give one\n", "functions", "create", file, "--name", "x", "--timezone", "UTC")
	cli.fails("moonbase: read "+filepath.Join(dir, "nope.lua")+": no such file or directory\n", "functions", "create", filepath.Join(dir, "nope.lua"))

	broken := writeFile(t, dir, "broken.lua", "function handle()\n  return = 1\nend\n")
	cli.fails("moonbase: function \"broken\": syntax error at line 2, column 10: syntax error near '='\n", "functions", "create", broken)
	r := cli.run("functions", "create", file, "--name", "other", "--schedule", "never")
	if want := "moonbase: function \"other\": trigger 1: schedule \"never\": unknown schedule \"never\": use cron"; r.err == nil || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("an unreadable schedule: stderr %q, want one line starting %q", r.stderr, want)
	}
	cli.fails("moonbase: function not found: \"broken\"\n", "functions", "delete", "broken")

	// update keeps the triggers and settings and changes the source.
	writeFile(t, dir, "trial-reminder.lua", "function handle(input, ctx) return 2 end\n")
	if out := cli.ok("functions", "update", "trial-reminder", file); out != "updated trial-reminder v2\n" {
		t.Errorf("update: %q", out)
	}
	var got struct {
		Function struct {
			Source   string              `json:"source"`
			Triggers []functions.Trigger `json:"triggers"`
			Timeout  string              `json:"timeout"`
			Retries  *int                `json:"retries"`
		} `json:"function"`
	}
	if err := json.Unmarshal([]byte(cli.ok("functions", "update", "trial-reminder", file, "--json")), &got); err != nil {
		t.Fatal(err)
	}
	fn := got.Function
	if fn.Source != "function handle(input, ctx) return 2 end\n" || len(fn.Triggers) != 3 || !fn.Triggers[2].Equal(functions.Trigger{Schedule: "daily at 09:00", Timezone: "Europe/Paris"}) ||
		fn.Timeout != "30s" || fn.Retries == nil || *fn.Retries != 2 {
		t.Errorf("after update: %+v", fn)
	}
	if out := cli.ok("functions", "update", "trial-reminder", file); out != "unchanged trial-reminder v2\n" {
		t.Errorf("update with the same source: %q", out)
	}
	cli.fails("moonbase: function not found: \"ghost\"\n", "functions", "update", "ghost", file)
	writeFile(t, dir, "trial-reminder.lua", "function handle()\n\n  x = = 1\nend\n")
	cli.fails("moonbase: function \"trial-reminder\": syntax error at line 3, column 7: syntax error near '='\n", "functions", "update", "trial-reminder", file)
	if out := cli.ok("functions", "versions", "trial-reminder"); strings.Count(out, "\n") != 3 {
		t.Errorf("a refused update made a version:\n%s", out)
	}

	list := cli.ok("functions", "list")
	if !regexp.MustCompile(`^NAME +VERSION +TRIGGERS +UPDATED\ntrial-reminder +v2 +invoke, event:user_registered, schedule:daily at 09:00 \(Europe/Paris\) +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$`).MatchString(list) {
		t.Errorf("list:\n%s", list)
	}
	var raw struct {
		Functions []map[string]any `json:"functions"`
	}
	if err := json.Unmarshal([]byte(cli.ok("functions", "list", "--json")), &raw); err != nil || len(raw.Functions) != 1 || raw.Functions[0]["name"] != "trial-reminder" {
		t.Errorf("list --json: %v %v", raw, err)
	}

	if out := cli.ok("functions", "delete", "trial-reminder"); out != "deleted trial-reminder\n" {
		t.Errorf("delete: %q", out)
	}
	cli.fails("moonbase: function not found: \"trial-reminder\"\n", "functions", "delete", "trial-reminder")
}

// TestFunctionsUpdateDefaultFile reads NAME.lua from the working
// directory; it changes directory, so it runs alone.
func TestFunctionsUpdateDefaultFile(t *testing.T) {
	cli := startMoonbase(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "hello.lua", "function handle() return 1 end")
	if out := cli.ok("functions", "create", "hello.lua", "--http"); out != "created hello v1 (triggers: http)\n" {
		t.Errorf("create: %q", out)
	}
	writeFile(t, dir, "hello.lua", "function handle() return 2 end")
	if out := cli.ok("functions", "update", "hello"); out != "updated hello v2\n" {
		t.Errorf("update: %q", out)
	}
	cli.fails("moonbase: no bye.lua or functions/bye/main.lua here; give the file: moonbase functions update bye FILE\n", "functions", "update", "bye")
}

// TestFunctionsUpdateInProject: in a project laid out for `moonbase
// deploy`, update NAME reads functions/NAME/ with its function.yaml's
// entry; it changes directory, so it runs alone.
func TestFunctionsUpdateInProject(t *testing.T) {
	cli := startMoonbase(t)
	dir := writeTree(t, map[string]string{
		"functions/greet/function.yaml": "triggers:\n  - invoke: true\n",
		"functions/greet/main.lua":      "function handle() return 1 end\n",
		"functions/other/function.yaml": "entry: other.lua\ntriggers:\n  - invoke: true\n",
		"functions/other/other.lua":     "function handle() return 1 end\n",
	})
	t.Chdir(dir)
	cli.ok("deploy", "functions")
	if err := os.Mkdir(filepath.Join(dir, "functions", "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "functions", "broken"), "function.yaml", "entry: [\n")
	writeFile(t, filepath.Join(dir, "functions", "greet"), "main.lua", "function handle() return 2 end\n")
	writeFile(t, filepath.Join(dir, "functions", "other"), "other.lua", "function handle() return 3 end\n")
	if out := cli.ok("functions", "update", "greet"); out != "updated greet v2\n" {
		t.Errorf("update greet: %q", out)
	}
	if out := cli.ok("functions", "update", "other"); out != "updated other v2\n" {
		t.Errorf("update other: %q", out)
	}
	for name, want := range map[string]string{"greet": "2\n", "other": "3\n"} {
		if out := cli.ok("functions", "invoke", name); out != want {
			t.Errorf("%s returns %q after update, want %q", name, out, want)
		}
	}
	r := cli.run("functions", "update", "broken")
	if r.err == nil || !strings.HasPrefix(r.stderr, "moonbase: "+filepath.Join("functions", "broken", "function.yaml")+": ") {
		t.Errorf("update with an unreadable function.yaml: %+v", r)
	}
}

func TestFunctionsVersionsRollback(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "f.lua", "-- one\nfunction handle() return 1 end")
	cli.ok("functions", "create", file, "--invoke")
	writeFile(t, dir, "f.lua", "-- two\nfunction handle() return 2 end")
	cli.ok("functions", "update", "f", file)

	out := cli.ok("functions", "versions", "f")
	if !regexp.MustCompile(`^VERSION +CREATED\nv2 +\d{4}-[^\n]+\nv1 +\d{4}-[^\n]+\n$`).MatchString(out) {
		t.Errorf("versions:\n%s", out)
	}
	if out := cli.ok("functions", "rollback", "f", "v1"); out != "rolled f back to the source of v1, now v3\n" {
		t.Errorf("rollback: %q", out)
	}
	if out := cli.ok("functions", "invoke", "f"); out != "1\n" {
		t.Errorf("after rollback the function returns %q", out)
	}
	// Rolling back to what is current changes nothing, and says so.
	if out := cli.ok("functions", "rollback", "f", "3"); out != "nothing changed: v3 is the current version of f\n" {
		t.Errorf("rollback to the current version: %q", out)
	}
	if out := cli.ok("functions", "rollback", "f", "1"); out != "nothing changed: f v3 is the same as v1\n" {
		t.Errorf("rollback to a version the same as the current one: %q", out)
	}
	if out := cli.ok("functions", "versions", "f"); strings.Count(out, "\n") != 4 {
		t.Errorf("a rollback that changed nothing made a version:\n%s", out)
	}
	cli.fails("moonbase: version \"latest\" is not a version number such as 3 or v3\n", "functions", "rollback", "f", "latest")
	cli.fails("moonbase: version not found: function \"f\" has no version 9\n", "functions", "rollback", "f", "9")
}

func TestFunctionsInvoke(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := t.TempDir()
	cli.ok("functions", "create", writeFile(t, dir, "echo.lua", `function handle(input, ctx)
  print("got", input.n)
  backend.log.warn("careful")
  if input.fail then
    error("input.fail was set")
  end
  return {echo = input}
end
`))

	r := cli.run("functions", "invoke", "echo", "--data", `{"n": 42}`)
	if r.err != nil {
		t.Fatalf("invoke: %v %s", r.err, r.stderr)
	}
	if want := "{\n  \"echo\": {\n    \"n\": 42\n  }\n}\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if want := "got\t42\n[warn] careful\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}

	r = cli.run("functions", "invoke", "echo", "--data", `{"fail": true}`)
	if r.err == nil {
		t.Fatal("a failed run exited 0")
	}
	if want := "got\tnil\n[warn] careful\nmoonbase: function \"echo\" failed at line 5: input.fail was set\n"; r.stderr != want {
		t.Errorf("failed run: stderr %q, want %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("failed run: stdout %q", r.stdout)
	}

	// --json prints the whole answer, and still exits non-zero on failure.
	r = cli.run("functions", "invoke", "echo", "--json", "--data", `{"fail": true}`)
	var ans map[string]any
	if r.err == nil || json.Unmarshal([]byte(r.stdout), &ans) != nil || ans["execution_id"] == nil || ans["line"] != 5.0 {
		t.Errorf("invoke --json of a failing run: %+v", r)
	}

	// The input from a file and from stdin.
	dataFile := writeFile(t, dir, "in.json", `{"n": 7}`)
	if out := cli.ok("functions", "invoke", "echo", "--data", "@"+dataFile); !strings.Contains(out, `"n": 7`) {
		t.Errorf("--data @file: %q", out)
	}
	if r := cli.runWithInput(`{"n": 8}`, "functions", "invoke", "echo", "--data", "-"); r.err != nil || !strings.Contains(r.stdout, `"n": 8`) {
		t.Errorf("--data -: %+v", r)
	}

	cli.fails("moonbase: --data is not valid JSON: invalid character 'n' looking for beginning of object key string\n", "functions", "invoke", "echo", "--data", "{n: 1}")
	cli.fails("moonbase: read "+filepath.Join(dir, "none.json")+": open "+filepath.Join(dir, "none.json")+": no such file or directory\n", "functions", "invoke", "echo", "--data", "@"+filepath.Join(dir, "none.json"))
	cli.fails("moonbase: function not found: \"nope\"\n", "functions", "invoke", "nope")

	// A timeout is a failed run too.
	cli.ok("functions", "create", writeFile(t, dir, "spin.lua", "function handle()\n  while true do end\nend\n"), "--timeout", "100ms")
	if r := cli.run("functions", "invoke", "spin"); r.err == nil || !strings.Contains(r.stderr, "spin") || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("a run that timed out: %+v", r)
	}
}

func TestFunctionsLogs(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "job.lua", "function handle(input)\n  print(\"got \" .. tostring(input.n))\n  backend.log.warn(\"careful\")\n  if input.fail then error(\"input.fail was set\") end\nend\n"))
	cli.ok("functions", "invoke", "job", "--data", `{"n": 1}`)
	cli.run("functions", "invoke", "job", "--data", `{"fail": true}`)
	cli.ok("functions", "invoke", "job", "--data", `{"n": 3}`)

	out := cli.ok("functions", "logs", "job")
	want := regexp.MustCompile(`^` +
		`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ok +\S+ +v1  test  as system\n    got 1\n    \[warn\] careful\n` +
		`\S+ \S+  error +\S+ +v1  test  as system\n    got nil\n    \[warn\] careful\n    error: function "job" failed at line 4: input.fail was set\n` +
		`\S+ \S+  ok +\S+ +v1  test  as system\n    got 3\n    \[warn\] careful\n$`)
	if !want.MatchString(out) {
		t.Errorf("logs, oldest first:\n%s", out)
	}
	if out := cli.ok("functions", "logs", "job", "--limit", "1"); strings.Count(out, "v1  test") != 1 || !strings.Contains(out, "got 3") {
		t.Errorf("logs --limit 1:\n%s", out)
	}
	var raw struct {
		Executions []map[string]any `json:"executions"`
	}
	if err := json.Unmarshal([]byte(cli.ok("functions", "logs", "job", "--json")), &raw); err != nil || len(raw.Executions) != 3 {
		t.Errorf("logs --json: %v %v", raw, err)
	}
	cli.fails("moonbase: --limit must be between 1 and 1000\n", "functions", "logs", "job", "--limit", "0")

	// --follow prints the runs so far, then each new one, until stopped.
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &testsupport.LockedBuffer{}
	done := make(chan cliRun)
	go func() {
		done <- runCLIContext(ctx, t, "", stdout, "functions", "logs", "job", "--follow", "--interval", "20ms", "--url", cli.url, "--token", cli.token)
	}()
	testsupport.WaitFor(t, "the runs so far", func() bool { return strings.Contains(stdout.String(), "got 3") })
	cli.ok("functions", "invoke", "job", "--data", `{"n": 4}`)
	cli.ok("functions", "invoke", "job", "--data", `{"n": 5}`)
	testsupport.WaitFor(t, "the new runs", func() bool { return strings.Contains(stdout.String(), "got 5") })
	cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Errorf("--follow ended with %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--follow did not stop when interrupted")
	}
	got := stdout.String()
	if strings.Count(got, "got 4") != 1 || strings.Index(got, "got 4") > strings.Index(got, "got 5") || strings.Count(got, "got 1") != 1 {
		t.Errorf("--follow printed each run once, in order:\n%s", got)
	}
}

// A run is listed by when it started but recorded when it ends, so --follow
// must still print a long run that ends after a shorter, later one it has
// already printed.
func TestFunctionsLogsFollowPrintsRunsThatEndLate(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := t.TempDir()
	cli.ok("functions", "create", writeFile(t, dir, "job.lua", `function handle(input)
  print("got " .. input.n)
  if input.spin then
    backend.create("started", {n = input.n})
    local t = os.clock()
    while os.clock() - t < input.spin do end
  end
end
`))
	cli.ok("functions", "create", writeFile(t, dir, "started.lua", "function handle()\n  return backend.count(\"started\")\nend\n"))
	cli.ok("functions", "invoke", "job", "--data", `{"n": 1}`)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &testsupport.LockedBuffer{}
	done := make(chan cliRun, 1)
	go func() {
		done <- runCLIContext(ctx, t, "", stdout, "functions", "logs", "job", "--follow", "--interval", "20ms", "--url", cli.url, "--token", cli.token)
	}()
	testsupport.WaitFor(t, "the first run", func() bool { return strings.Contains(stdout.String(), "got 1") })

	long := make(chan cliRun, 1)
	go func() { long <- cli.run("functions", "invoke", "job", "--data", `{"n": 2, "spin": 1}`) }()
	testsupport.WaitFor(t, "the long run to start", func() bool {
		return strings.TrimSpace(cli.ok("functions", "invoke", "started")) == "1"
	})
	cli.ok("functions", "invoke", "job", "--data", `{"n": 3}`)
	testsupport.WaitFor(t, "the short run", func() bool { return strings.Contains(stdout.String(), "got 3") })
	if r := <-long; r.err != nil {
		t.Fatalf("the long run: %+v", r)
	}
	testsupport.WaitFor(t, "the long run, ended after the short one", func() bool { return strings.Contains(stdout.String(), "got 2") })
	cancel()
	if r := <-done; r.err != nil {
		t.Errorf("--follow ended with %v", r.err)
	}
	got := stdout.String()
	for _, n := range []string{"got 1", "got 2", "got 3"} {
		if strings.Count(got, n) != 1 {
			t.Errorf("--follow printed %q %d times:\n%s", n, strings.Count(got, n), got)
		}
	}
}

// TestFunctionsCreateCollection: --collection narrows the --event triggers
// to one collection's documents.
func TestFunctionsCreateCollection(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	file := writeFile(t, t.TempDir(), "audit.lua", "function handle(event) end\n")
	if out := cli.ok("functions", "create", file, "--event", "doc_created", "--event", "doc_deleted", "--collection", "orders"); out != "created audit v1 (triggers: event:doc_created(orders), event:doc_deleted(orders))\n" {
		t.Errorf("create: %q", out)
	}
	cli.fails("moonbase: --collection applies to an --event; give one\n", "functions", "create", file, "--name", "x", "--collection", "orders")
	if out := cli.ok("functions", "create", file, "--name", "chat", "--event", "chan_in", "--channel", "room:*"); out != "created chat v1 (triggers: event:chan_in(room:*))\n" {
		t.Errorf("create --channel: %q", out)
	}
	cli.fails("moonbase: --channel applies to an --event (chan_in or channel_join); give one\n", "functions", "create", file, "--name", "z", "--channel", "room:*")
	r := cli.run("functions", "create", file, "--name", "y", "--event", "user_registered", "--collection", "orders")
	if r.err == nil || !strings.Contains(r.stderr, "collection") {
		t.Errorf("--collection on an event that is not about documents: %+v", r)
	}
}
