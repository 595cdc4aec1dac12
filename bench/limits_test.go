package main

import "testing"

// TestLimitScenarios runs one round of the memory bombs, eight runs of
// each kind at once in turn: every run is stopped by a limit, /healthz
// always answers and the memory comes back after each wave (a row with an
// error otherwise). The peak RSS is the row's to report; server's
// TestMemoryBombsStayUnderTheLimit holds it to its bound.
func TestLimitScenarios(t *testing.T) {
	if raceDetector {
		// The detector's shadow memory multiplies the RSS measured, and
		// its slowness lets runs reach their timeout before the limit.
		// scripts/test runs this test again without -race.
		t.Skip("measures RSS, which the race detector multiplies; run it without -race")
	}
	t.Parallel()
	runScenarios(t, bombsEachKind, bombsEachKind)
}
