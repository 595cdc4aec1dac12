package mail

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// TLS policies for Config.TLS.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS; a
	// server that does not offer STARTTLS is refused, so neither the
	// credentials nor the mail ever cross the network in clear. Default port
	// 587.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS). Default port 465.
	TLSImplicit = "tls"
	// TLSNone never encrypts; for a relay on the same host or network, and
	// for local mail catchers. Default port 25.
	TLSNone = "none"
)

// DefaultTimeout bounds connecting and each SMTP command when
// Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Config configures SMTP delivery (the smtp section of config.yaml). With no
// Host, mail is stored in the outbox instead of being sent.
type Config struct {
	// Host is the SMTP server's name or IP address, without the port.
	Host string `yaml:"host"`
	// Port defaults by TLS policy: 587 for starttls, 465 for tls, 25 for none.
	Port int `yaml:"port"`
	// Username and Password authenticate when Username is set. Mechanisms
	// that send the password readable (PLAIN, LOGIN) are used only over
	// TLS; on a plain connection only challenge mechanisms (CRAM-MD5,
	// SCRAM) are tried.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the sender of messages that do not name their own.
	From string `yaml:"from"`
	// TLS is starttls (the default), tls or none.
	TLS string `yaml:"tls"`
	// Timeout bounds connecting and each SMTP command; DefaultTimeout when 0.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether SMTP delivery is configured, that is whether Host
// is set.
func (c Config) Enabled() bool { return c.Host != "" }

// Validate reports a configuration that cannot work. A configuration without
// Host is valid: mail goes to the outbox.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		return configErr("host", "%q is not a host name or IP address", c.Host)
	}
	if _, _, err := net.SplitHostPort(c.Host); err == nil {
		return configErr("host", "%q includes a port: put the port in smtp.port", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		return configErr("port", "%d is not a port number (1-65535, or 0 for the default)", c.Port)
	}
	switch c.tls() {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return configErr("tls", "%q is not one of starttls, tls, none", c.TLS)
	}
	if c.From == "" {
		return configErr("from", "a default sender address is required when smtp.host is set")
	}
	if msg := checkAddress(c.From); msg != "" {
		return configErr("from", "%q: %s", c.From, msg)
	}
	if c.Password != "" && c.Username == "" {
		return configErr("username", "smtp.password is set but smtp.username is empty")
	}
	if c.Timeout < 0 {
		return configErr("timeout", "%s is negative", c.Timeout)
	}
	return nil
}

// tls returns the TLS policy with its default applied.
func (c Config) tls() string {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return strings.ToLower(c.TLS)
}

// port returns the port with its default for the TLS policy applied.
func (c Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.tls() == TLSImplicit:
		return 465
	case c.tls() == TLSNone:
		return 25
	}
	return 587
}

// timeout returns the timeout with its default applied.
func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// addr is host:port, for error messages.
func (c Config) addr() string {
	return net.JoinHostPort(c.Host, fmt.Sprint(c.port()))
}
