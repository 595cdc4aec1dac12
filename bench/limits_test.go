package main

import "testing"

// TestLimitScenarios runs one round of the memory bombs: every run is
// stopped by a limit, /healthz always answers, the server's peak RSS stays
// under 1.5 × memory_limit and its memory comes back (a row with an error
// otherwise).
func TestLimitScenarios(t *testing.T) {
	if raceDetector {
		// The detector's shadow memory multiplies the RSS measured, and
		// its slowness lets runs reach their timeout before the limit.
		// scripts/test runs this test again without -race.
		t.Skip("measures RSS, which the race detector multiplies; run it without -race")
	}
	t.Parallel()
	runScenarios(t, "limits", bombScenarioName)
}
