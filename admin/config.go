package admin

import (
	"fmt"
	"time"
)

// DefaultSessionTTL is how long a dashboard sign-in lasts.
const DefaultSessionTTL = 12 * time.Hour

// Config configures the dashboard's sessions.
type Config struct {
	// SessionTTL is how long a sign-in lasts before the page asks for the
	// admin token again; 0 is DefaultSessionTTL.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// SecureCookie marks the session cookie Secure, so a browser only
	// sends it over HTTPS. Set it when Moonbase is served over HTTPS (a
	// TLS-terminating proxy); the cookie is Secure anyway on a request
	// that arrived over TLS.
	SecureCookie bool `yaml:"secure_cookie"`
}

// WithDefaults fills the zero fields with their defaults.
func (c Config) WithDefaults() Config {
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	return c
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	if c.SessionTTL < 0 || (c.SessionTTL > 0 && c.SessionTTL < time.Minute) {
		return fmt.Errorf("admin.session_ttl must be at least 1m, not %s", c.SessionTTL)
	}
	return nil
}
