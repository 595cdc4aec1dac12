package main

import (
	"os/exec"
	"testing"
)

// TestGoModTidy keeps go.mod and go.sum as `go mod tidy` leaves them:
// nothing required that the module does not import, nothing imported that
// it does not require.
func TestGoModTidy(t *testing.T) {
	out, err := exec.Command("go", "mod", "tidy", "-diff").CombinedOutput()
	if err != nil {
		t.Fatalf("go.mod or go.sum is not tidy; run go mod tidy:\n%s", out)
	}
}
