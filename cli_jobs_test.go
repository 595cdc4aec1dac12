package main

import (
	"strings"
	"testing"
)

func TestJobsSchedulesSecrets(t *testing.T) {
	t.Parallel()
	fake := newFakeAdmin(t)
	cli := adminCLI{t, fake.URL, fakeToken}

	out := cli.ok("jobs", "list", "--dead")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID  KIND      FUNCTION  STATUS  ATTEMPT  RUN AT") ||
		!strings.Contains(lines[1], "j1  function  charge    dead    4/4") || !strings.HasSuffix(lines[1], `function "charge" failed at line 7: card declined`) {
		t.Errorf("jobs list --dead:\n%s", out)
	}
	if out := cli.ok("jobs", "list"); strings.Count(out, "\n") != 4 {
		t.Errorf("jobs list:\n%s", out)
	}
	if out := cli.ok("jobs", "list", "--status", "done"); !strings.Contains(out, "j2  email") || strings.Contains(out, "j1") {
		t.Errorf("jobs list --status done:\n%s", out)
	}
	cli.fails("moonbase: --status \"failed\" is not a job status: use one of pending, running, done, dead\n", "jobs", "list", "--status", "failed")
	cli.fails("moonbase: --dead and --status done contradict each other; give one\n", "jobs", "list", "--dead", "--status", "done")
	if out := cli.ok("jobs", "replay", "j1"); out != "replayed job j1: pending, attempt 0 of 4\n" {
		t.Errorf("replay: %q", out)
	}
	cli.fails("moonbase: job \"j9\" not found\n", "jobs", "replay", "j9")
	cli.fails("moonbase: give a job ID or --all-dead (not both)\n", "jobs", "replay")
	cli.fails("moonbase: give a job ID or --all-dead (not both)\n", "jobs", "replay", "j1", "--all-dead")
	if out := cli.ok("jobs", "replay", "--all-dead"); out != "replayed 1 dead job\n" {
		t.Errorf("replay --all-dead: %q", out)
	}
	if out := cli.ok("jobs", "list", "--dead"); out != "no jobs\n" {
		t.Errorf("after replaying: %q", out)
	}

	if out := cli.ok("schedules", "list"); out != "no schedules\n" {
		t.Errorf("schedules list: %q", out)
	}
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "report.lua", "function handle() end"), "--schedule", "every monday at 08:00", "--timezone", "America/New_York")
	if out := cli.ok("schedules", "pause", "report"); out != "paused the schedules of report\n" {
		t.Errorf("pause: %q", out)
	}
	out = cli.ok("schedules", "list")
	if lines := strings.Split(out, "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "report    every monday at 08:00  America/New_York  paused  20") {
		t.Errorf("schedules list:\n%s", out)
	}
	if out := cli.ok("schedules", "resume", "report"); out != "resumed the schedules of report\n" {
		t.Errorf("resume: %q", out)
	}
	if out := cli.ok("schedules", "run", "report"); out != "queued a run of report as job j-run-report (see `moonbase functions logs report`)\n" {
		t.Errorf("run: %q", out)
	}
	cli.fails("moonbase: function \"nope\" has no schedule\n", "schedules", "pause", "nope")

	if r := runCLI(t, "", "secrets", "list", "--url", fake.URL, "--token", fakeToken); r.stdout != "" || r.stderr != "no secrets\n" {
		t.Errorf("secrets list: %+v", r)
	}
	if out := cli.ok("secrets", "set", "STRIPE_KEY", "sk_test_1"); out != "set secret STRIPE_KEY\n" {
		t.Errorf("secrets set: %q", out)
	}
	if r := runCLI(t, "whsec_abc\n", "secrets", "set", "HOOK", "-", "--url", fake.URL, "--token", fakeToken); r.err != nil || fake.secrets["HOOK"] != "whsec_abc" {
		t.Errorf("secrets set from stdin: %+v, stored %q", r, fake.secrets["HOOK"])
	}
	if out := cli.ok("secrets", "list"); out != "HOOK\nSTRIPE_KEY\n" {
		t.Errorf("secrets list: %q", out)
	}
	if out := cli.ok("secrets", "list", "--json"); out != "{\n  \"secrets\": [\n    \"HOOK\",\n    \"STRIPE_KEY\"\n  ]\n}\n" {
		t.Errorf("secrets list --json: %q", out)
	}
	if out := cli.ok("secrets", "delete", "HOOK"); out != "deleted secret HOOK\n" {
		t.Errorf("secrets delete: %q", out)
	}
	cli.fails("moonbase: secret \"HOOK\" not found\n", "secrets", "delete", "HOOK")
}
