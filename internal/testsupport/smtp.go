package testsupport

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

// SMTPMessage is one message the test SMTP server accepted.
type SMTPMessage struct {
	From string
	To   []string
	Data []byte
}

// SMTPServer is a real SMTP server (go-smtp) on 127.0.0.1 that records what
// it accepts and refuses commands on demand.
type SMTPServer struct {
	// Port is the port it listens on.
	Port int

	mu       sync.Mutex
	sessions int
	auths    int
	msgs     []SMTPMessage
	// Answers to give instead of accepting, by command; nil accepts.
	failMail, failData *smtp.SMTPError
	// rcptErr answers RCPT TO while rcptFails > 0 (each answer uses one);
	// a negative rcptFails answers every time.
	rcptErr   *smtp.SMTPError
	rcptFails int
	// offerAuth makes the server advertise AUTH PLAIN.
	offerAuth bool
}

// StartSMTP starts a server for the duration of the test.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Port: ln.Addr().(*net.TCPAddr).Port}
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

// Fail sets the answers later commands give: MAIL FROM, every RCPT TO and
// DATA; nil accepts.
func (s *SMTPServer) Fail(mail, rcpt, data *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMail, s.failData = mail, data
	s.rcptErr, s.rcptFails = rcpt, -1
}

// RefuseRcpt makes the next n RCPT TO commands (every one when n < 0)
// answer e.
func (s *SMTPServer) RefuseRcpt(e *smtp.SMTPError, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcptErr, s.rcptFails = e, n
}

// OfferPlainAuth makes later sessions advertise AUTH PLAIN, which refuses
// every attempt.
func (s *SMTPServer) OfferPlainAuth() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offerAuth = true
}

// Received returns the messages accepted so far.
func (s *SMTPServer) Received() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.msgs...)
}

// Counts returns how many sessions were opened and AUTH attempts made.
func (s *SMTPServer) Counts() (sessions, auths int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions, s.auths
}

// NewSession implements smtp.Backend.
func (s *SMTPServer) NewSession(*smtp.Conn) (smtp.Session, error) {
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
	srv  *SMTPServer
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if x.srv.failMail != nil {
		return x.srv.failMail
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if x.srv.rcptErr != nil && x.srv.rcptFails != 0 {
		if x.srv.rcptFails > 0 {
			x.srv.rcptFails--
		}
		return x.srv.rcptErr
	}
	x.to = append(x.to, to)
	return nil
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
	x.srv.msgs = append(x.srv.msgs, SMTPMessage{From: x.from, To: x.to, Data: buf.Bytes()})
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
