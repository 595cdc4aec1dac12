package events

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if c.Workers != DefaultWorkers || c.PollInterval != 500*time.Millisecond || c.Lease != 30*time.Second ||
		c.MaxAttempts != 6 || c.BackoffBase != 10*time.Second || c.BackoffMax != time.Hour ||
		c.Retention.Events != 30*24*time.Hour || c.Retention.Executions != 14*24*time.Hour ||
		c.Retention.DoneJobs != 7*24*time.Hour || c.Retention.DeadJobs != 30*24*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("the zero config is invalid: %v", err)
	}
}

func TestConfigFromYAML(t *testing.T) {
	t.Parallel()
	src := `
workers: 2
poll_interval: 250ms
lease: 1m
max_attempts: 3
backoff_base: 2s
backoff_max: 10m
retention:
  events: 2160h
  dead_jobs: 48h
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if c.Workers != 2 || c.PollInterval != 250*time.Millisecond || c.Lease != time.Minute || c.MaxAttempts != 3 ||
		c.BackoffBase != 2*time.Second || c.BackoffMax != 10*time.Minute || c.Retention.Events != 90*24*time.Hour ||
		c.Retention.DeadJobs != 48*time.Hour || c.Retention.DoneJobs != DefaultDoneJobRetention {
		t.Fatalf("decoded = %+v", c)
	}
}

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative workers", Config{Workers: -1}, "workers is -1; use 1 to 1024"},
		{"too many workers", Config{Workers: 2000}, "workers is 2000; use 1 to 1024"},
		{"tiny poll", Config{PollInterval: time.Microsecond}, "poll_interval is 1µs; use at least 1ms"},
		{"short lease", Config{Lease: 10 * time.Millisecond}, "lease is 10ms; use at least 100ms"},
		{"attempts", Config{MaxAttempts: 101}, "max_attempts is 101; use 1 to 100"},
		{"negative base", Config{BackoffBase: -time.Second}, "backoff_base is negative (-1s)"},
		{"max below base", Config{BackoffBase: time.Minute, BackoffMax: time.Second}, "backoff_max (1s) is shorter than backoff_base (1m0s)"},
		{"tick", Config{ScheduleTick: time.Millisecond}, "schedule_tick is 1ms; use at least 10ms"},
		{"event size", Config{MaxEventBytes: -1}, "max_event_bytes is negative (-1)"},
		{"negative chain depth", Config{MaxChainDepth: -1}, "max_chain_depth is -1; use 1 to 1000"},
		{"chain depth too deep", Config{MaxChainDepth: 1001}, "max_chain_depth is 1001; use 1 to 1000"},
		{"retention", Config{Retention: Retention{DoneJobs: -time.Hour}}, "retention.done_jobs is negative (-1h0m0s)"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := s.cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) || err.Error() != "invalid events configuration: "+s.want {
				t.Fatalf("Validate = %v, want %q", err, s.want)
			}
		})
	}
}

func TestExponentialBackoff(t *testing.T) {
	t.Parallel()
	backoff := ExponentialBackoff(10*time.Second, time.Hour)
	for attempt, full := range map[int]time.Duration{
		1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: 80 * time.Second,
		9: 2560 * time.Second, 10: time.Hour, 60: time.Hour, 1000: time.Hour,
	} {
		for range 50 {
			d := backoff(attempt)
			if d > full || d <= full*3/4 {
				t.Fatalf("backoff(%d) = %s, want within (%s, %s]", attempt, d, full*3/4, full)
			}
		}
	}
}
