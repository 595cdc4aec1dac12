package events

// Config configures the event bus, the job queue and the scheduler.
type Config struct{}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error { return nil }
