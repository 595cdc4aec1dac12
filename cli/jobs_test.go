package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestJobsCommands(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	dir := writeTree(t, map[string]string{
		// charge fails on every attempt and has no retries: its job goes
		// straight to the dead letters.
		"charge/function.yaml": "triggers:\n  - event: order_placed\nretries: 0\n",
		"charge/main.lua":      "function handle(event)\n  error(\"card declined\")\nend\n",
		"order/function.yaml":  "triggers:\n  - invoke: true\n",
		"order/main.lua":       "function handle(input)\n  return backend.publishEvent(\"order_placed\", {id = input.id})\nend\n",
	})
	cli.ok("deploy", dir)

	if out := cli.ok("jobs", "list", "--dead"); out != "no jobs\n" {
		t.Errorf("no dead jobs yet: %q", out)
	}
	cli.ok("functions", "invoke", "order", "--data", `{"id": 1}`)
	deadRow := regexp.MustCompile(`(?m)^(\S+) +function +charge +dead +1/1 +\S+ \S+ +.*line 2: card declined$`)
	var out string
	testsupport.WaitFor(t, "a dead job", func() bool {
		out = cli.ok("jobs", "list", "--dead")
		return deadRow.MatchString(out)
	})
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, " KIND ") || !strings.Contains(out, " LAST ERROR\n") || strings.Count(out, "\n") != 2 {
		t.Errorf("jobs list --dead:\n%s", out)
	}
	id := deadRow.FindStringSubmatch(out)[1]
	if out := cli.ok("jobs", "list", "--status", "pending"); strings.Contains(out, id) {
		t.Errorf("the dead job is listed as pending:\n%s", out)
	}
	if out := cli.ok("jobs", "list"); !strings.Contains(out, id) {
		t.Errorf("jobs list lacks the dead job:\n%s", out)
	}

	cli.fails("moonbase: --status \"failed\" is not a job status: use one of pending, running, done, dead\n", "jobs", "list", "--status", "failed")
	cli.fails("moonbase: --dead and --status done contradict each other; give one\n", "jobs", "list", "--dead", "--status", "done")
	cli.fails("moonbase: give a job ID or --all-dead (not both)\n", "jobs", "replay")
	cli.fails("moonbase: give a job ID or --all-dead (not both)\n", "jobs", "replay", id, "--all-dead")

	if out := cli.ok("jobs", "replay", id); !regexp.MustCompile(`^replayed job ` + id + `: \w+, attempt 0 of 1\n$`).MatchString(out) {
		t.Errorf("replay: %q", out)
	}
	// The replayed job runs again, and dies again.
	testsupport.WaitFor(t, "the replayed job to die again", func() bool {
		return deadRow.MatchString(cli.ok("jobs", "list", "--dead"))
	})
	if out := cli.ok("jobs", "replay", "--all-dead"); out != "replayed 1 dead job\n" {
		t.Errorf("replay --all-dead: %q", out)
	}
}

func TestSchedulesCommands(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	if out := cli.ok("schedules", "list"); out != "no schedules\n" {
		t.Errorf("schedules list: %q", out)
	}
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "report.lua", "function handle() end"), "--schedule", "every monday at 08:00", "--timezone", "America/New_York")
	if out := cli.ok("schedules", "pause", "report"); out != "paused the schedules of report\n" {
		t.Errorf("pause: %q", out)
	}
	out := cli.ok("schedules", "list")
	if !regexp.MustCompile(`^FUNCTION +SCHEDULE +TIMEZONE +STATE +NEXT RUN\nreport +every monday at 08:00 +America/New_York +paused +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$`).MatchString(out) {
		t.Errorf("schedules list:\n%s", out)
	}
	if out := cli.ok("schedules", "resume", "report"); out != "resumed the schedules of report\n" {
		t.Errorf("resume: %q", out)
	}
	if out := cli.ok("schedules", "list"); !strings.Contains(out, " active ") {
		t.Errorf("after resume:\n%s", out)
	}
	out = cli.ok("schedules", "run", "report")
	if !regexp.MustCompile("^queued a run of report as job \\S+ \\(see `moonbase functions logs report`\\)\n$").MatchString(out) {
		t.Errorf("run: %q", out)
	}
	testsupport.WaitFor(t, "the scheduled run", func() bool {
		return strings.Contains(cli.ok("functions", "logs", "report"), "  schedule  as system\n")
	})
	cli.fails("moonbase: schedule not found: function \"nope\" has no schedule\n", "schedules", "pause", "nope")
}

func TestSecretsCommands(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	if r := cli.run("secrets", "list"); r.err != nil || r.stdout != "" || r.stderr != "no secrets\n" {
		t.Errorf("secrets list: %+v", r)
	}
	if out := cli.ok("secrets", "set", "STRIPE_KEY", "sk_test_1"); out != "set secret STRIPE_KEY\n" {
		t.Errorf("secrets set: %q", out)
	}
	if r := cli.runWithInput("whsec_abc\n", "secrets", "set", "HOOK", "-"); r.err != nil {
		t.Errorf("secrets set from stdin: %+v", r)
	}
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "peek.lua", "function handle() return backend.env(\"HOOK\") end"))
	if out := cli.ok("functions", "invoke", "peek"); out != "\"whsec_abc\"\n" {
		t.Errorf("the secret read from stdin is %s", out)
	}
	if out := cli.ok("secrets", "list"); out != "HOOK\nSTRIPE_KEY\n" {
		t.Errorf("secrets list: %q", out)
	}
	if out := cli.ok("secrets", "list", "--json"); out != "{\n  \"secrets\": [\n    \"HOOK\",\n    \"STRIPE_KEY\"\n  ],\n  \"next\": \"\"\n}\n" {
		t.Errorf("secrets list --json: %q", out)
	}
	if out := cli.ok("secrets", "delete", "HOOK"); out != "deleted secret HOOK\n" {
		t.Errorf("secrets delete: %q", out)
	}
	cli.fails("moonbase: secret not found: \"HOOK\"\n", "secrets", "delete", "HOOK")
}
