package server

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	mb "github.com/moonbase-dev/moonbase/mail"
)

// smtpServer is the shared test SMTP server, with the smtp section that
// sends to it.
type smtpServer struct{ *testsupport.SMTPServer }

// startSMTP starts a server for the duration of the test.
func startSMTP(t *testing.T) *smtpServer { return &smtpServer{testsupport.StartSMTP(t)} }

// config is the smtp section that sends to this server.
func (s *smtpServer) config() mb.Config {
	return mb.Config{Host: "127.0.0.1", Port: s.Port, From: "Moonbase <noreply@moonbase.test>", TLS: mb.TLSNone, Timeout: 5 * time.Second}
}

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
