package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

func TestDeployCommand(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := writeTree(t, map[string]string{
		"trial-reminder/function.yaml": "triggers:\n  - schedule: daily at 09:00\n    timezone: Europe/Paris\n",
		"trial-reminder/main.lua":      "function handle() end\n",
		"welcome/function.yaml":        "triggers:\n  - event: user_registered\n",
		"welcome/main.lua":             "function handle(event)\n  return = 1\nend\n",
		"report/function.yaml":         "triggers:\n  - schedule: every blue moon\n",
		"report/main.lua":              "function handle() end\n",
	})

	// One broken function refuses the whole deploy.
	r := cli.run("deploy", dir)
	lines := strings.Split(r.stderr, "\n")
	if r.err == nil || r.stdout != "" || len(lines) != 4 ||
		!strings.HasPrefix(lines[0], "function \"report\": trigger 1: schedule \"every blue moon\": unknown schedule \"every blue moon\": use cron") ||
		lines[1] != "function \"welcome\": syntax error at line 2, column 10: syntax error near '='" ||
		lines[2] != "moonbase: deploy refused, nothing was changed: 2 of 3 functions failed" {
		t.Errorf("deploy with broken functions: %+v", r)
	}
	if out := cli.ok("functions", "list"); !strings.HasPrefix(out, "no functions yet") {
		t.Errorf("a refused deploy changed something:\n%s", out)
	}
	if err := os.RemoveAll(filepath.Join(dir, "report")); err != nil {
		t.Fatal(err)
	}

	writeTree2(t, dir, "welcome/main.lua", "function handle(event) return event end\n")
	if out := cli.ok("deploy", dir, "--dry-run"); out != "would create trial-reminder\nwould create welcome\ndry run: nothing was changed\n" {
		t.Errorf("dry run: %q", out)
	}
	if out := cli.ok("functions", "list"); !strings.HasPrefix(out, "no functions yet") {
		t.Errorf("a dry run changed something:\n%s", out)
	}
	if out := cli.ok("deploy", dir); out != "created trial-reminder v1\ncreated welcome v1\n" {
		t.Errorf("deploy: %q", out)
	}
	writeTree2(t, dir, "welcome/main.lua", "function handle(event) return 1 end\n")
	if out := cli.ok("deploy", dir); out != "unchanged trial-reminder v1\nupdated welcome v2\n" {
		t.Errorf("second deploy: %q", out)
	}
	var ans struct {
		Functions []adminapi.DeployResult `json:"functions"`
	}
	if err := json.Unmarshal([]byte(cli.ok("deploy", dir, "--json")), &ans); err != nil || len(ans.Functions) != 2 || ans.Functions[1].Action != "unchanged" {
		t.Errorf("deploy --json: %+v %v", ans, err)
	}
	if out := cli.ok("schedules", "list"); !strings.Contains(out, "trial-reminder  daily at 09:00  Europe/Paris  active") {
		t.Errorf("the deployed schedule:\n%s", out)
	}
	if out := cli.ok("deploy", dir, "--dry-run"); out != "unchanged trial-reminder v1\nunchanged welcome v2\ndry run: nothing was changed\n" {
		t.Errorf("dry run with nothing to change: %q", out)
	}
}

func TestDeployCommandLocalProblems(t *testing.T) {
	t.Parallel()
	// Nothing listens at the URL: a folder with problems never gets as far
	// as connecting.
	cli := adminCLI{t, closedURL(t), cliTestToken}
	dir := writeTree(t, map[string]string{
		"a/function.yaml": "name: b\n",
		"a/main.lua":      "function handle() end\n",
		"c/function.yaml": "triggers:\n  - invoke: true\n    htp: true\n",
	})
	a := filepath.Join(dir, "a", "function.yaml")
	c := filepath.Join(dir, "c", "function.yaml")
	cli.fails(a+": line 1: name \"b\" does not match its folder \"a\"; rename one of them (or leave name out)\n"+
		c+": line 3: unknown trigger key \"htp\" (a trigger knows invoke, http, methods, event, collection, channel, schedule, timezone)\n"+
		"moonbase: nothing was deployed: 2 problems in "+dir+"\n", "deploy", dir)
	missing := filepath.Join(dir, "nope")
	cli.fails("moonbase: functions folder "+missing+" does not exist (give another one: moonbase deploy DIR)\n", "deploy", missing)
}

// writeTree2 writes one file under an existing folder.
func writeTree2(t *testing.T, dir, path, content string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, filepath.Dir(path)), filepath.Base(path), content)
}

// TestDeployExamples deploys the repository's examples folder as
// examples/README.md says: every function folder in it, nested ones too.
func TestDeployExamples(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	var want []string
	err := filepath.WalkDir(filepath.Join("..", "examples"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "function.yaml" {
			want = append(want, "created "+filepath.Base(filepath.Dir(p))+" v1")
		}
		return err
	})
	if err != nil || len(want) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	got := strings.Split(strings.TrimSpace(cli.ok("deploy", filepath.Join("..", "examples"))), "\n")
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("deploy examples:\n got %q\nwant %q", got, want)
	}
}
