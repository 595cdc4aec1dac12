package main

import "context"

// harnessScenarios measure the harness itself: an operation that does
// nothing shows the timing loop's own cost, the ceiling every other
// scenario's figures sit under.
func harnessScenarios() []Scenario {
	return []Scenario{{
		Name:  "harness/noop",
		About: "an operation that does nothing: the measuring loop's own cost",
		Setup: func(context.Context, *Env) (Op, error) {
			return func(context.Context, *Worker) error { return nil }, nil
		},
	}}
}
