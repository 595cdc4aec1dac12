package main

import (
	"context"
	"fmt"
	"time"
)

// runMeasure runs a scenario that measures itself (Scenario.Measure).
func runMeasure(ctx context.Context, s Scenario, env *Env, opts RunOptions) (Result, error) {
	start := time.Now()
	res, err := s.Measure(ctx, env, opts)
	if res.Name == "" {
		res.Name = s.Name
	}
	if res.Workers == 0 {
		res.Workers = max(s.Workers, 1)
	}
	if res.Setup == 0 {
		res.Setup = time.Since(start) - res.Elapsed
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", s.Name, err)
	}
	return res, nil
}
