package mail

import (
	"context"
	"errors"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// Config configures SMTP delivery.
type Config struct {
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	From     string        `yaml:"from"`
	TLS      string        `yaml:"tls"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error { return nil }

// Enabled reports whether SMTP delivery is configured.
func (c Config) Enabled() bool { return c.Host != "" }

// Message is one email.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	From    string
	ReplyTo string
}

// Validate checks addresses, header values, bodies and sizes.
func (m Message) Validate() error { return nil }

// MessageFromPayload rebuilds a message from a job payload.
func MessageFromPayload(p map[string]any) (Message, error) { return Message{}, errors.New("mail: not implemented") }

// Payload returns the message as a job payload.
func (m Message) Payload() map[string]any { return nil }

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends messages through an SMTP server.
type SMTP struct{ cfg Config }

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg} }

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error { return errors.New("mail: not implemented") }

// Outbox stores messages in the outbox collection instead of sending them.
type Outbox struct{ store db.Store }

// NewOutbox returns an outbox over store.
func NewOutbox(store db.Store) *Outbox { return &Outbox{store: store} }

// Send stores m in the outbox.
func (o *Outbox) Send(ctx context.Context, m Message) error { return errors.New("mail: not implemented") }

// IsPermanent reports whether retrying err cannot help.
func IsPermanent(err error) bool { return false }
