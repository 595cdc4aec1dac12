package mail

import (
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// smtpServer is the shared test SMTP server, with a client configuration
// for it.
type smtpServer struct{ *testsupport.SMTPServer }

// startSMTP starts a server for the duration of the test.
func startSMTP(t *testing.T) smtpServer { return smtpServer{testsupport.StartSMTP(t)} }

// config returns a client configuration for this server.
func (s smtpServer) config() Config {
	return Config{Host: "127.0.0.1", Port: s.Port, From: "Moonbase <noreply@moonbase.test>", TLS: TLSNone, Timeout: 5 * time.Second}
}
