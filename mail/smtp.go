package mail

import (
	"context"
	"errors"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// Sender delivers messages. Implementations validate the message first and
// return an error for which IsPermanent tells whether to retry.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends messages through an SMTP server with go-mail, one connection
// per message. It is safe for concurrent use.
type SMTP struct {
	cfg Config
}

// NewSMTP returns a sender for cfg. The configuration is checked on every
// Send (an invalid one fails the send, retryably), so it can be built
// before the configuration is known to be complete.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg} }

// Send validates m and delivers it. An empty m.From is replaced by the
// configured sender. Delivery errors are *SendError with the server's
// answer; an invalid message is a *MessageError and nothing is sent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	if !s.cfg.Enabled() {
		return configErr("host", "no SMTP server is configured")
	}
	if err := m.Validate(); err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return &SendError{Server: s.cfg.addr(), Err: err}
	}
	err = client.DialAndSendWithContext(ctx, msg)
	// The server accepted the data; a failure after that (RSET, QUIT) must
	// not turn into a retry that delivers the mail twice.
	if err == nil || msg.IsDelivered() {
		return nil
	}
	return s.sendError(err)
}

// options translates the configuration into go-mail's.
func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port()),
		gomail.WithTimeout(s.cfg.timeout()),
	}
	switch s.cfg.tls() {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

// build turns a validated message into go-mail's.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.cfg.From
	}
	if err := msg.From(from); err != nil {
		return nil, messageErr("from", "%s: %v", short(from), err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, messageErr("to", "%v", err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, messageErr("reply_to", "%s: %v", short(m.ReplyTo), err)
		}
	}
	msg.Subject(m.Subject)
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// sendError classifies a go-mail error. Only a 5xx answer to MAIL FROM,
// RCPT TO or the data is permanent: it is about this message. A 5xx while
// connecting (greeting, EHLO, STARTTLS, AUTH) is about the server or the
// configuration and may pass once they are fixed.
func (s *SMTP) sendError(err error) error {
	out := &SendError{Server: s.cfg.addr(), Err: err}
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		out.Code = se.ErrorCode()
		switch se.Reason {
		case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
			out.Permanent = out.Code >= 500 && out.Code <= 599
		}
	case errors.As(err, &te):
		out.Code = te.Code
	}
	return out
}
