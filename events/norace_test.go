//go:build !race

package events

// raceDetector is true when the tests run under -race.
const raceDetector = false
