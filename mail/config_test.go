package mail

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := Config{Host: "smtp.example.com", From: "Moonbase <noreply@example.com>"}
	with := func(f func(c *Config)) Config {
		c := good
		f(&c)
		return c
	}
	scenarios := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no host means outbox", Config{}, ""},
		{"no host ignores the rest", Config{TLS: "bogus"}, ""},
		{"minimal", good, ""},
		{"every field", Config{Host: "10.0.0.5", Port: 2525, Username: "u", Password: "p", From: "a@example.com", TLS: "TLS", Timeout: time.Minute}, ""},
		{"IPv6 host", with(func(c *Config) { c.Host = "::1" }), ""},
		{"port in host", with(func(c *Config) { c.Host = "smtp.example.com:587" }), `smtp.host: "smtp.example.com:587" includes a port: put the port in smtp.port`},
		{"URL as host", with(func(c *Config) { c.Host = "smtp://smtp.example.com" }), `smtp.host: "smtp://smtp.example.com" is not a host name or IP address`},
		{"port out of range", with(func(c *Config) { c.Port = 70000 }), "smtp.port: 70000 is not a port number (1-65535, or 0 for the default)"},
		{"unknown tls", with(func(c *Config) { c.TLS = "ssl" }), `smtp.tls: "ssl" is not one of starttls, tls, none`},
		{"no from", with(func(c *Config) { c.From = "" }), "smtp.from: a default sender address is required when smtp.host is set"},
		{"bad from", with(func(c *Config) { c.From = "noreply" }), `smtp.from: "noreply": not a valid email address`},
		{"password without user", with(func(c *Config) { c.Password = "p" }), "smtp.username: smtp.password is set but smtp.username is empty"},
		{"negative timeout", with(func(c *Config) { c.Timeout = -time.Second }), "smtp.timeout: -1s is negative"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := s.cfg.Validate()
			if s.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != s.want || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got  %v\nwant %s", err, s.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		cfg     Config
		enabled bool
		port    int
		tls     string
		timeout time.Duration
	}{
		{Config{}, false, 587, TLSStartTLS, DefaultTimeout},
		{Config{Host: "h", TLS: "tls"}, true, 465, TLSImplicit, DefaultTimeout},
		{Config{Host: "h", TLS: "None"}, true, 25, TLSNone, DefaultTimeout},
		{Config{Host: "h", Port: 2525, Timeout: time.Second}, true, 2525, TLSStartTLS, time.Second},
	}
	for _, s := range scenarios {
		if s.cfg.Enabled() != s.enabled || s.cfg.port() != s.port || s.cfg.tls() != s.tls || s.cfg.timeout() != s.timeout {
			t.Fatalf("%+v: enabled %v port %d tls %s timeout %s", s.cfg, s.cfg.Enabled(), s.cfg.port(), s.cfg.tls(), s.cfg.timeout())
		}
	}
}
