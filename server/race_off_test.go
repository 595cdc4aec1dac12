//go:build !race

package server

// raceDetector is true when the tests run under the race detector, which
// multiplies a process's memory and slows it many times over.
const raceDetector = false
