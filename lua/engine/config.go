package engine

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Config configures the function runtime. Every zero field takes the
// default named in its comment; Validate refuses the rest of what cannot
// work. In config.yaml it is the `functions:` section.
type Config struct {
	// Timeout is a run's time limit when its function sets none. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxTimeout caps the timeout a function may set for itself. Default 5m.
	MaxTimeout time.Duration `yaml:"max_timeout"`
	// PoolSize caps the Lua states kept ready between runs. A run that
	// finds none ready makes one rather than wait; the pool keeps as many
	// as runs were in flight at once recently (see pool.go), so under a
	// steady load no run makes a state. An idle state holds about 110 KiB.
	// Default 256.
	PoolSize int `yaml:"pool_size"`
	// MemoryLimit is the Go heap, in bytes, past which the runs growing it
	// are stopped with "memory limit exceeded" (see watchdog.go for how
	// they are chosen). It bounds the whole process, so leave room for
	// the server itself. Moonbase also sets the Go runtime's soft memory
	// limit to it, unless GOMEMLIMIT sets one. Default 256 MiB; -1 turns
	// the check off.
	MemoryLimit int64 `yaml:"memory_limit"`
	// MaxStringBytes caps a string built in one call or one chain of ..
	// (string.rep, string.format, table.concat, string.gsub, json.encode,
	// hex and base64 encodings, …).
	// Default 16 MiB.
	MaxStringBytes int64 `yaml:"max_string_bytes"`
	// MaxReturnBytes caps the size of what a function returns (counted as
	// its JSON would be, roughly). Default 8 MiB.
	MaxReturnBytes int64 `yaml:"max_return_bytes"`
	// MaxLogBytes caps the output (print and backend.log) one run keeps;
	// the rest is dropped with a note. Default 64 KiB.
	MaxLogBytes int64 `yaml:"max_log_bytes"`
	// CallStackSize caps nested Lua calls; deeper recursion ends the run
	// with "stack overflow". Default 200.
	CallStackSize int `yaml:"call_stack_size"`
	// MaxCallDepth caps how deeply backend.executeFunction may nest, so two
	// functions calling each other cannot loop forever. Default 8.
	MaxCallDepth int `yaml:"max_call_depth"`
	// HTTP configures backend.http.request.
	HTTP HTTPConfig `yaml:"http"`
}

// HTTPConfig configures the outgoing requests functions make.
type HTTPConfig struct {
	// AllowHosts lists host names or IP addresses (optionally with :port)
	// that requests may reach even though they resolve to a loopback,
	// private, link-local or unspecified address. Everything else on such
	// addresses is refused, checked on the address actually dialled.
	AllowHosts []string `yaml:"allow_hosts"`
	// Timeout caps one request, including reading its response. A request
	// may ask for less. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxResponseBytes caps a response body. Default 10 MiB.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// MaxRequestBytes caps a request body. Default 10 MiB.
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
}

// Defaults of Config.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxTimeout       = 5 * time.Minute
	DefaultPoolSize         = 256
	DefaultMemoryLimit      = 256 << 20
	DefaultMaxStringBytes   = 16 << 20
	DefaultMaxReturnBytes   = 8 << 20
	DefaultMaxLogBytes      = 64 << 10
	DefaultCallStackSize    = 200
	DefaultMaxCallDepth     = 8
	DefaultHTTPTimeout      = 10 * time.Second
	DefaultMaxResponseBytes = 10 << 20
	DefaultMaxRequestBytes  = 10 << 20
)

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setInt := func(n *int64, def int64) {
		if *n == 0 {
			*n = def
		}
	}
	setDur(&c.Timeout, DefaultTimeout)
	setDur(&c.MaxTimeout, DefaultMaxTimeout)
	setDur(&c.HTTP.Timeout, DefaultHTTPTimeout)
	setInt(&c.MemoryLimit, DefaultMemoryLimit)
	setInt(&c.MaxStringBytes, DefaultMaxStringBytes)
	setInt(&c.MaxReturnBytes, DefaultMaxReturnBytes)
	setInt(&c.MaxLogBytes, DefaultMaxLogBytes)
	setInt(&c.HTTP.MaxResponseBytes, DefaultMaxResponseBytes)
	setInt(&c.HTTP.MaxRequestBytes, DefaultMaxRequestBytes)
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.CallStackSize == 0 {
		c.CallStackSize = DefaultCallStackSize
	}
	if c.MaxCallDepth == 0 {
		c.MaxCallDepth = DefaultMaxCallDepth
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Timeout < 0:
		return bad("timeout is negative (%s)", c.Timeout)
	case c.MaxTimeout < 0:
		return bad("max_timeout is negative (%s)", c.MaxTimeout)
	case c.Timeout > c.MaxTimeout:
		return bad("timeout (%s) is longer than max_timeout (%s)", c.Timeout, c.MaxTimeout)
	case c.PoolSize < 0:
		return bad("pool_size is negative (%d)", c.PoolSize)
	case c.MemoryLimit < -1:
		return bad("memory_limit is %d; use a number of bytes, or -1 to turn the check off", c.MemoryLimit)
	case c.MemoryLimit > 0 && c.MemoryLimit < 16<<20:
		return bad("memory_limit is %d bytes; below 16 MiB the server itself would trip it", c.MemoryLimit)
	case c.MaxStringBytes < 1024:
		return bad("max_string_bytes is %d; use at least 1024", c.MaxStringBytes)
	case c.MaxReturnBytes < 1024:
		return bad("max_return_bytes is %d; use at least 1024", c.MaxReturnBytes)
	case c.MaxLogBytes < 256:
		return bad("max_log_bytes is %d; use at least 256", c.MaxLogBytes)
	case c.CallStackSize < 16 || c.CallStackSize > 100000:
		return bad("call_stack_size is %d; use 16 to 100000", c.CallStackSize)
	case c.MaxCallDepth < 1 || c.MaxCallDepth > 64:
		return bad("max_call_depth is %d; use 1 to 64", c.MaxCallDepth)
	case c.HTTP.Timeout < 0:
		return bad("http.timeout is negative (%s)", c.HTTP.Timeout)
	case c.HTTP.MaxResponseBytes < 0:
		return bad("http.max_response_bytes is negative")
	case c.HTTP.MaxRequestBytes < 0:
		return bad("http.max_request_bytes is negative")
	}
	for _, h := range c.HTTP.AllowHosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ ") {
			return bad("http.allow_hosts entry %q is not a host name or address (write it like api.internal, 10.0.0.5 or 127.0.0.1:8080)", h)
		}
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") && net.ParseIP(h) == nil {
			if _, _, err := net.SplitHostPort(h); err != nil {
				return bad("http.allow_hosts entry %q: %v", h, err)
			}
		}
	}
	return nil
}
