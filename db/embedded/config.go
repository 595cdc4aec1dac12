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
	// CacheKB is how much of the database each connection (the write
	// connection and every read connection) may keep in its own page
	// cache, in KiB. Default 4096. The operating system caches the file
	// as well, so a larger cache saves system calls and page parsing on
	// reads, not disk reads, while every KiB of it costs about two of
	// resident memory per connection. Random lookups over 100,000
	// documents (a 40 MB file) with four readers peaked at about 200 MiB
	// resident with 16000, 120 MiB with 8192, 80 MiB with 4096 and 65 MiB
	// with 2048, and cost about 10-15% more processor time per lookup at
	// 4096 than at 16000.
	CacheKB int `yaml:"cache_kb"`
}

// Defaults of Config.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReadConns   = 4
	DefaultCacheKB     = 4096
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
	if c.CacheKB == 0 {
		c.CacheKB = DefaultCacheKB
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
	if c.CacheKB < 0 {
		return fmt.Errorf("%w: cache_kb is negative (%d)", ErrInvalidConfig, c.CacheKB)
	}
	return nil
}
