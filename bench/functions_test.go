package main

import (
	"bytes"
	"regexp"
	"testing"
)

// runScenarios runs the scenarios only selects with tiny sizes (-n makes
// the load scenarios use the built-in generator), and checks that a row
// starting with each of rows is there without errors.
func runScenarios(t *testing.T, only string, rows ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run([]string{"-only", only, "-docs", "300", "-n", "20", "-warmup", "0", "-dir", t.TempDir()}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, row := range rows {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(row) + `[^|]* \| \d+ \| \d+ \| .* \| 0 \|$`).MatchString(out.String()) {
			t.Errorf("no clean row for %s:\n%s", row, out.String())
		}
	}
	return out.String()
}

func TestFunctionScenarios(t *testing.T) {
	t.Parallel()
	runScenarios(t, "functions",
		"functions/fiber/hello [go]", "functions/lua/http [go]", "functions/lua/invoke [go]", "functions/lua/find-one [go]",
		"functions/lua/first-call-after-save", "functions/lua/1000-functions")
}
