package functions

import (
	"fmt"
	"time"
)

// Config configures the storage of functions. The server fills it from
// config.yaml's `functions:` section (see lua/engine's Config).
type Config struct {
	// MaxTimeout caps the timeout a function may set for itself. Default 5m.
	MaxTimeout time.Duration `yaml:"max_timeout"`
}

// DefaultMaxTimeout is Config.MaxTimeout's default.
const DefaultMaxTimeout = 5 * time.Minute

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.MaxTimeout == 0 {
		c.MaxTimeout = DefaultMaxTimeout
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.MaxTimeout < 0 {
		return fmt.Errorf("%w: max_timeout is negative (%s)", ErrInvalidConfig, c.MaxTimeout)
	}
	return nil
}
