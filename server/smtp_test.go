package server

import (
	"bytes"
	"encoding/base64"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	mb "github.com/moonbase-dev/moonbase/mail"
)

// smtpMessage is one message the test SMTP server accepted.
type smtpMessage struct {
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server (go-smtp) on 127.0.0.1 that records
// what it accepts and refuses recipients on demand.
type smtpServer struct {
	port int

	mu   sync.Mutex
	msgs []smtpMessage
	// rcptErr answers RCPT TO while rcptFails > 0 (each answer uses one);
	// a negative rcptFails answers every time.
	rcptErr   *smtp.SMTPError
	rcptFails int
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
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = ln.Close()
		<-done
	})
	return s
}

// config is the smtp section that sends to this server.
func (s *smtpServer) config() mb.Config {
	return mb.Config{Host: "127.0.0.1", Port: s.port, From: "Moonbase <noreply@moonbase.test>", TLS: mb.TLSNone, Timeout: 5 * time.Second}
}

// refuseRcpt makes the next n RCPT TO commands (every one when n < 0)
// answer e.
func (s *smtpServer) refuseRcpt(e *smtp.SMTPError, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcptErr, s.rcptFails = e, n
}

func (s *smtpServer) received() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

// NewSession implements smtp.Backend.
func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }

type smtpSession struct {
	srv  *smtpServer
	from string
	to   []string
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
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

func (x *smtpSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.srv.msgs = append(x.srv.msgs, smtpMessage{from: x.from, to: x.to, data: buf.Bytes()})
	return nil
}

func (x *smtpSession) Reset()        { x.from, x.to = "", nil }
func (x *smtpSession) Logout() error { return nil }

// parsedMail is a received message read the way a mail client reads it.
type parsedMail struct {
	header mail.Header
	// bodies by media type (text/plain, text/html), decoded, with CRLF
	// line ends turned into LF and the final line break removed.
	bodies map[string]string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	p := parsedMail{header: msg.Header, bodies: map[string]string{}}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		p.bodies[mt] = decodePart(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return p
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.bodies[pt] = decodePart(t, part.Header.Get("Content-Transfer-Encoding"), part)
	}
}

func decodePart(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", cte, err)
	}
	return strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

// decodedHeader is a header's value with RFC 2047 words decoded.
func (p parsedMail) decodedHeader(t *testing.T, name string) string {
	t.Helper()
	v, err := new(mime.WordDecoder).DecodeHeader(p.header.Get(name))
	if err != nil {
		t.Fatalf("header %s: %v", name, err)
	}
	return v
}
