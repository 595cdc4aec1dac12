package main

import (
	"bytes"
	"regexp"
	"testing"
)

func TestHTTPDataScenarios(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run([]string{"-only", "http/fiber,http/data", "-docs", "300", "-n", "300", "-warmup", "0", "-dir", t.TempDir()}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, name := range []string{"http/fiber/create", "http/fiber/get-by-id", "http/data/create", "http/data/get-by-id"} {
		if !regexp.MustCompile(`(?m)^\| ` + name + ` \| 64 \| 300 \| .* \| 0 \|$`).MatchString(out.String()) {
			t.Errorf("no clean row for %s:\n%s", name, out.String())
		}
	}
}
