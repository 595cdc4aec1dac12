package mail

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server got it.
type received struct {
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server (go-smtp) on 127.0.0.1 that records what
// it receives and answers with an error on demand.
type smtpServer struct {
	port int

	mu       sync.Mutex
	sessions int
	auths    int
	msgs     []received
	// Answers to give instead of accepting, by command; nil accepts.
	failMail, failRcpt, failData *smtp.SMTPError
	// offerAuth makes the server advertise AUTH PLAIN.
	offerAuth bool
}

// startSMTP starts a server for the duration of the test.
func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{port: ln.Addr().(*net.TCPAddr).Port}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Close only closes listeners Serve has registered; closing ln too
		// ends a Serve that has not got that far yet.
		_ = srv.Close()
		_ = ln.Close()
		<-done
	})
	return s
}

// config returns a client configuration for this server.
func (s *smtpServer) config() Config {
	return Config{Host: "127.0.0.1", Port: s.port, From: "Moonbase <noreply@moonbase.test>", TLS: TLSNone, Timeout: 5 * time.Second}
}

// fail sets the answers the next sessions give.
func (s *smtpServer) fail(mail, rcpt, data *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMail, s.failRcpt, s.failData = mail, rcpt, data
}

// offerPlainAuth makes later sessions advertise AUTH PLAIN.
func (s *smtpServer) offerPlainAuth() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offerAuth = true
}

// received returns the messages accepted so far.
func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// counts returns how many sessions were opened and AUTH attempts made.
func (s *smtpServer) counts() (sessions, auths int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions, s.auths
}

// NewSession implements smtp.Backend.
func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions++
	if s.offerAuth {
		return &authSession{session{srv: s}}, nil
	}
	return &session{srv: s}, nil
}

// session records one SMTP transaction.
type session struct {
	srv  *smtpServer
	from string
	to   []string
}

func (x *session) answer(e *smtp.SMTPError) error {
	if e == nil {
		return nil
	}
	return e
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.from = from
	return x.answer(x.srv.failMail)
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.to = append(x.to, to)
	return x.answer(x.srv.failRcpt)
}

func (x *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if x.srv.failData != nil {
		return x.srv.failData
	}
	x.srv.msgs = append(x.srv.msgs, received{from: x.from, to: x.to, data: buf.Bytes()})
	return nil
}

func (x *session) Reset() { x.from, x.to = "", nil }

func (x *session) Logout() error { return nil }

// authSession also offers AUTH PLAIN and counts attempts.
type authSession struct{ session }

func (x *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *authSession) Auth(string) (sasl.Server, error) {
	x.srv.mu.Lock()
	x.srv.auths++
	x.srv.mu.Unlock()
	return sasl.NewPlainServer(func(_, _, _ string) error { return errors.New("no") }), nil
}
