package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// followLogs runs `functions logs NAME --follow` with args until the test
// stops it, and returns what it printed so far and a stop function that
// waits for it to end.
func followLogs(t *testing.T, cli adminCLI, args ...string) (*testsupport.LockedBuffer, func() cliRun) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &testsupport.LockedBuffer{}
	done := make(chan cliRun, 1)
	args = append(append([]string{"functions", "logs"}, args...), "--follow", "--interval", "20ms", "--url", cli.url, "--token", cli.token)
	go func() { done <- runCLIContext(ctx, t, "", stdout, args...) }()
	stopped := false
	stop := func() cliRun {
		cancel()
		if stopped {
			return cliRun{}
		}
		stopped = true
		select {
		case r := <-done:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("--follow did not stop when interrupted")
			return cliRun{}
		}
	}
	t.Cleanup(func() { stop() })
	return stdout, stop
}

// TestFunctionsLogsFollowHonoursLimit: --follow with --limit N prints the N
// latest runs and then only new ones, never the older runs --limit left
// out.
func TestFunctionsLogsFollowHonoursLimit(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "job.lua", "function handle(input)\n  print(\"got \" .. input.n)\nend\n"))
	for n := 1; n <= 3; n++ {
		cli.ok("functions", "invoke", "job", "--data", fmt.Sprintf(`{"n": %d}`, n))
	}
	stdout, stop := followLogs(t, cli, "job", "--limit", "1")
	testsupport.WaitFor(t, "the latest run", func() bool { return strings.Contains(stdout.String(), "got 3") })
	cli.ok("functions", "invoke", "job", "--data", `{"n": 4}`)
	testsupport.WaitFor(t, "the new run", func() bool { return strings.Contains(stdout.String(), "got 4") })
	cli.ok("functions", "invoke", "job", "--data", `{"n": 5}`)
	testsupport.WaitFor(t, "the next new run", func() bool { return strings.Contains(stdout.String(), "got 5") })
	if r := stop(); r.err != nil {
		t.Errorf("--follow ended with %v", r.err)
	}
	got := stdout.String()
	lines := []string{}
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "    got ") {
			lines = append(lines, strings.TrimPrefix(l, "    "))
		}
	}
	if want := "got 3,got 4,got 5"; strings.Join(lines, ",") != want {
		t.Errorf("--follow --limit 1 printed %q, want %q:\n%s", strings.Join(lines, ","), want, got)
	}
}

// TestLogPrinterPrintsEachRunOnce polls with a lookback shorter than a
// second, so the runs of the newest run's second fall before the lookback
// but inside the whole second the query asks from: none may print twice.
func TestLogPrinterPrintsEachRunOnce(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	cli.ok("functions", "create", writeFile(t, t.TempDir(), "job.lua", "function handle(input)\n  print(\"got \" .. input.n)\nend\n"))
	// Start early in a second, so that the three runs share it.
	testsupport.WaitFor(t, "the start of a second", func() bool { return time.Now().Nanosecond() < int(300*time.Millisecond) })
	for n := 1; n <= 3; n++ {
		cli.ok("functions", "invoke", "job", "--data", fmt.Sprintf(`{"n": %d}`, n))
	}
	c, err := newAPIClient(cli.url, cli.token, "test")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l := newLogPrinter(c, "job", &out, false)
	l.lookback = time.Millisecond
	ctx := context.Background()
	if err := l.first(ctx, 50, true); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 3; n++ {
		if c := strings.Count(out.String(), fmt.Sprintf("got %d\n", n)); c != 1 {
			t.Errorf("run %d printed %d times:\n%s", n, c, out.String())
		}
	}
}

// TestFunctionsLogsOfMissingFunction: logs of a function that does not
// exist says so and fails, with or without --follow.
func TestFunctionsLogsOfMissingFunction(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	cli.fails("moonbase: function not found: \"ghost\"\n", "functions", "logs", "ghost")
	cli.fails("moonbase: function not found: \"ghost\"\n", "functions", "logs", "ghost", "--follow")
	cli.fails("moonbase: function not found: \"ghost\"\n", "functions", "logs", "ghost", "--json")
}
