package webhooks

import (
	"fmt"
	"time"
)

// Defaults of Config. A zero field takes its default.
const (
	// DefaultMaxAttempts is how many times a delivery is tried before it
	// is dead; an endpoint's max_attempts overrides it.
	DefaultMaxAttempts = 8
	// DefaultTimeout is how long a receiver has to answer 2xx.
	DefaultTimeout = 15 * time.Second
	// DefaultBackoffBase is the delay before the first retry; it doubles
	// with each further one.
	DefaultBackoffBase = time.Minute
	// DefaultBackoffMax caps the delay between two attempts.
	DefaultBackoffMax = 24 * time.Hour
	// DefaultMaxPayloadBytes caps the JSON body of one message.
	DefaultMaxPayloadBytes = 256 << 10
	// DefaultDisableAfter is how long an endpoint may fail every attempt
	// before it is disabled.
	DefaultDisableAfter = 5 * 24 * time.Hour
	// DefaultRotationOverlap is how long a rotated-out secret keeps
	// signing beside the new one.
	DefaultRotationOverlap = 24 * time.Hour
	// DefaultInboundRetention is how long the raw-request log of http
	// triggers is kept.
	DefaultInboundRetention = 90 * 24 * time.Hour
	// DefaultDeliveryRetention is how long a finished delivery (delivered
	// or dead) with its attempts, and a message none of whose deliveries
	// is left, are kept: Svix's own 30 days.
	DefaultDeliveryRetention = 30 * 24 * time.Hour
)

// DefaultRedactHeaders are the request headers the inbound log stores as
// "[redacted]": credentials, never signatures (a replay needs them).
var DefaultRedactHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key", "X-Auth-Token"}

// Config configures outbound delivery (the webhooks section of
// config.yaml). The zero value is the default configuration.
type Config struct {
	// MaxAttempts is the attempts of a delivery to an endpoint that does
	// not set its own (1 to 100).
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds one attempt: connecting, sending, and the receiver's
	// answer.
	Timeout time.Duration `yaml:"timeout"`
	// BackoffBase and BackoffMax make the retry delay
	// min(BackoffBase·2^(n−1), BackoffMax) after the n-th failed attempt,
	// less up to a quarter of jitter.
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// MaxPayloadBytes caps a message's JSON body; a bigger payload is
	// refused when emitted, nothing queued.
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
	// DisableAfter disables an endpoint whose attempts have all failed for
	// this long, with a webhook_endpoint_disabled event.
	DisableAfter time.Duration `yaml:"disable_after"`
	// RotationOverlap is how long deliveries are signed with both the old
	// and the new secret after a rotation.
	RotationOverlap time.Duration `yaml:"rotation_overlap"`
	// InboundRetention is how long each request to an http trigger stays
	// in the raw-request log (_inbound).
	InboundRetention time.Duration `yaml:"inbound_retention"`
	// DeliveryRetention is how long a delivery that was delivered or went
	// dead stays in _deliveries with its attempts, counted from its last
	// attempt or replay, and how long a message stays in
	// _webhook_messages once none of its deliveries is left. Pending
	// deliveries, and their messages, stay until they finish.
	DeliveryRetention time.Duration `yaml:"delivery_retention"`
	// RedactHeaders are the request headers the inbound log stores as
	// "[redacted]"; nil takes DefaultRedactHeaders, an empty list keeps
	// every header.
	RedactHeaders []string `yaml:"redact_headers"`
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxPayloadBytes == 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	set(&c.Timeout, DefaultTimeout)
	set(&c.BackoffBase, DefaultBackoffBase)
	set(&c.BackoffMax, DefaultBackoffMax)
	set(&c.DisableAfter, DefaultDisableAfter)
	set(&c.RotationOverlap, DefaultRotationOverlap)
	set(&c.InboundRetention, DefaultInboundRetention)
	set(&c.DeliveryRetention, DefaultDeliveryRetention)
	if c.RedactHeaders == nil {
		c.RedactHeaders = DefaultRedactHeaders
	}
	return c
}

// Validate refuses values that cannot work.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: webhooks.%s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.MaxAttempts < 0 || c.MaxAttempts > MaxAttemptsLimit:
		return bad("max_attempts %d is not within 1 to %d", c.MaxAttempts, MaxAttemptsLimit)
	case c.Timeout < 0 || c.BackoffBase < 0 || c.BackoffMax < 0 || c.DisableAfter < 0 || c.RotationOverlap < 0 || c.InboundRetention < 0 || c.DeliveryRetention < 0:
		return bad("durations may not be negative")
	case c.MaxPayloadBytes < 0:
		return bad("max_payload_bytes may not be negative")
	case c.BackoffMax != 0 && c.BackoffBase > c.BackoffMax:
		return bad("backoff_base %s is longer than backoff_max %s", c.BackoffBase, c.BackoffMax)
	}
	return nil
}
