package main

import "testing"

func TestEventScenarios(t *testing.T) {
	t.Parallel()
	runScenarios(t, "events",
		"events/embedded/latency (report received: p50 ", "events/embedded/jobs", "events/embedded/jobs-2-instances",
		"events/embedded/publish-and-run (published ", "events/embedded/publish-and-run-2-instances (published ")
}
