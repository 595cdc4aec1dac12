package embedded

import (
	"fmt"
	"strings"
	"time"
)

// Config configures the embedded store.
type Config struct {
	// Dir is the data directory; the database is the one file
	// Dir/moonbase.db (with its -wal and -shm companions). Open creates it.
	Dir string `yaml:"dir"`
	// Synchronous is "normal" (the default) or "full". Under "normal" a
	// crashed process loses nothing it acknowledged, and only a power loss
	// or kernel crash can lose the last writes; "full" syncs the log on
	// every commit so that even those survive, at the cost of an fsync
	// per write.
	Synchronous string `yaml:"synchronous"`
	// BusyTimeout is how long a write waits for another process holding
	// the database's write lock before it fails with ErrBusy. Default 5s.
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// ReadConns is the number of connections reads share. Default 4.
	ReadConns int `yaml:"read_conns"`
}

// Defaults of Config.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReadConns   = 4
)

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Synchronous == "" {
		c.Synchronous = "normal"
	}
	c.Synchronous = strings.ToLower(c.Synchronous)
	if c.BusyTimeout == 0 {
		c.BusyTimeout = DefaultBusyTimeout
	}
	if c.ReadConns == 0 {
		c.ReadConns = DefaultReadConns
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c = c.WithDefaults()
	if c.Dir == "" {
		return fmt.Errorf("%w: dir is empty; name the directory that holds the database", ErrInvalidConfig)
	}
	switch c.Synchronous {
	case "normal", "full":
	default:
		return fmt.Errorf("%w: synchronous is %q; use normal or full", ErrInvalidConfig, c.Synchronous)
	}
	if c.BusyTimeout < 0 {
		return fmt.Errorf("%w: busy_timeout is negative (%s)", ErrInvalidConfig, c.BusyTimeout)
	}
	if c.ReadConns < 0 {
		return fmt.Errorf("%w: read_conns is negative (%d)", ErrInvalidConfig, c.ReadConns)
	}
	return nil
}
