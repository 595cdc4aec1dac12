package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// parsed is a received message read back with net/mail and mime/multipart.
type parsed struct {
	header mail.Header
	// bodies by media type (text/plain, text/html), transfer-decoded.
	bodies map[string]string
	// mediaType is the top-level Content-Type without parameters.
	mediaType string
}

// parseReceived reads a raw message the way a mail client would.
func parseReceived(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	p := parsed{header: msg.Header, bodies: map[string]string{}, mediaType: mt}
	if !strings.HasPrefix(mt, "multipart/") {
		p.bodies[mt] = decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
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
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		p.bodies[pt] = decodeBody(t, part.Header.Get("Content-Transfer-Encoding"), part)
	}
}

// decodeBody undoes a Content-Transfer-Encoding.
func decodeBody(t *testing.T, cte string, r io.Reader) string {
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
	return string(b)
}

// lines normalises line ends: mail travels as CRLF-terminated lines, so a
// body arrives with CRLF and a final line break.
func lines(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// requireAddresses checks an address header against want (bare addresses).
func requireAddresses(t *testing.T, h mail.Header, name string, want ...string) {
	t.Helper()
	list, err := h.AddressList(name)
	if err != nil {
		t.Fatalf("%s: %v (%q)", name, err, h.Get(name))
	}
	var got []string
	for _, a := range list {
		got = append(got, a.Address)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s = %v, want %v", name, got, want)
	}
}

func TestSMTPDeliversHeadersAndBothBodies(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	m := Message{
		To:      []string{"Ada Lovelace <ada@example.com>", "bob@example.org"},
		Subject: "Bienvenue, Zoë — your trial ends soon",
		Text:    "Hello Ada,\nyour trial ends in 3 days.\n",
		HTML:    "<p>Hello <b>Ada</b>, your trial ends in 3 days.</p>",
		From:    "Acme <hello@acme.test>",
		ReplyTo: "support@acme.test",
	}
	if err := NewSMTP(srv.config()).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if got[0].From != "hello@acme.test" || strings.Join(got[0].To, ",") != "ada@example.com,bob@example.org" {
		t.Fatalf("envelope from %q to %v", got[0].From, got[0].To)
	}
	p := parseReceived(t, got[0].Data)
	requireAddresses(t, p.header, "From", "hello@acme.test")
	requireAddresses(t, p.header, "To", "ada@example.com", "bob@example.org")
	requireAddresses(t, p.header, "Reply-To", "support@acme.test")
	subject, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Fatalf("Subject = %q (%v), want %q", subject, err, m.Subject)
	}
	if p.header.Get("Message-Id") == "" || p.header.Get("Date") == "" {
		t.Fatalf("Message-ID or Date missing: %v", p.header)
	}
	if p.mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", p.mediaType)
	}
	if lines(p.bodies["text/plain"]) != lines(m.Text) || lines(p.bodies["text/html"]) != lines(m.HTML) {
		t.Fatalf("bodies = %q", p.bodies)
	}
}

func TestSMTPSingleBodyAndDefaultFrom(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name      string
		msg       Message
		mediaType string
		body      string
	}{
		{"text only", Message{To: []string{"ada@example.com"}, Subject: "Hi", Text: "plain words"}, "text/plain", "plain words"},
		{"html only", Message{To: []string{"ada@example.com"}, Subject: "Hi", HTML: "<i>rich</i>"}, "text/html", "<i>rich</i>"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t)
			if err := NewSMTP(srv.config()).Send(context.Background(), s.msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Received()
			if len(got) != 1 {
				t.Fatalf("received %d messages", len(got))
			}
			p := parseReceived(t, got[0].Data)
			requireAddresses(t, p.header, "From", "noreply@moonbase.test")
			if got[0].From != "noreply@moonbase.test" {
				t.Fatalf("envelope from %q", got[0].From)
			}
			if p.header.Get("Reply-To") != "" {
				t.Fatalf("unexpected Reply-To %q", p.header.Get("Reply-To"))
			}
			if p.mediaType != s.mediaType || lines(p.bodies[s.mediaType]) != lines(s.body) {
				t.Fatalf("got %s %q", p.mediaType, p.bodies)
			}
		})
	}
}

func TestSMTPServerRefusals(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name      string
		mail      *smtp.SMTPError
		rcpt      *smtp.SMTPError
		data      *smtp.SMTPError
		code      int
		permanent bool
		text      string
	}{
		{"451 on RCPT is temporary", nil, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox busy, try later"}, nil,
			451, false, `sending SMTP RCPT TO command: 451 "4.3.0 Mailbox busy, try later", affected recipient(s): <ada@example.com>`},
		{"550 on RCPT is permanent", nil, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}, nil,
			550, true, `sending SMTP RCPT TO command: 550 "5.1.1 No such user here", affected recipient(s): <ada@example.com>`},
		{"452 on DATA is temporary", nil, nil, &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient storage"},
			452, false, `closing SMTP DATA writer: 452 "4.3.1 Insufficient storage"`},
		{"554 on DATA is permanent", nil, nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"},
			554, true, `closing SMTP DATA writer: 554 "5.7.1 Message rejected as spam"`},
		{"553 on MAIL FROM is permanent", &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender not allowed"}, nil, nil,
			553, true, `sending SMTP MAIL FROM command: 553 "5.7.1 Sender not allowed"`},
		{"421 on MAIL FROM is temporary", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many connections"}, nil, nil,
			421, false, `sending SMTP MAIL FROM command: 421 "4.7.0 Too many connections"`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t)
			srv.Fail(s.mail, s.rcpt, s.data)
			err := NewSMTP(srv.config()).Send(context.Background(), Message{To: []string{"ada@example.com"}, Subject: "Hi", Text: "x"})
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SendError", err, err)
			}
			if se.Code != s.code || se.Permanent != s.permanent || IsPermanent(err) != s.permanent {
				t.Fatalf("code %d permanent %v (IsPermanent %v), want %d %v: %v", se.Code, se.Permanent, IsPermanent(err), s.code, s.permanent, err)
			}
			if !strings.Contains(err.Error(), s.text) || !strings.Contains(err.Error(), se.Server) {
				t.Fatalf("error %q lacks the server's answer %q", err, s.text)
			}
			if n := len(srv.Received()); n != 0 {
				t.Fatalf("server kept %d messages", n)
			}
		})
	}
}

func TestSMTPTemporaryFailureThenDelivered(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	sender := NewSMTP(srv.config())
	m := Message{To: []string{"ada@example.com"}, Subject: "Retry me", Text: "x"}
	srv.Fail(nil, &smtp.SMTPError{Code: 450, Message: "Greylisted, come back later"}, nil)
	err := sender.Send(context.Background(), m)
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), `450 "4.0.0 Greylisted, come back later"`) {
		t.Fatalf("first attempt: %v", err)
	}
	srv.Fail(nil, nil, nil)
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("delivered %d times, want 1", n)
	}
}

// closedPort returns a port on 127.0.0.1 nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestSMTPConnectionFailuresAreTemporary(t *testing.T) {
	t.Parallel()
	m := Message{To: []string{"ada@example.com"}, Subject: "Hi", Text: "x"}

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		cfg := Config{Host: "127.0.0.1", Port: closedPort(t), From: "noreply@moonbase.test", TLS: TLSNone, Timeout: 2 * time.Second}
		err := NewSMTP(cfg).Send(context.Background(), m)
		var se *SendError
		if !errors.As(err, &se) || se.Code != 0 || IsPermanent(err) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("server never answers", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { _ = c.Close() })
			}
		}()
		cfg := Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "noreply@moonbase.test", TLS: TLSNone, Timeout: 300 * time.Millisecond}
		start := time.Now()
		err = NewSMTP(cfg).Send(context.Background(), m)
		if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %s despite a 300ms timeout", d)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		srv := startSMTP(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := NewSMTP(srv.config()).Send(ctx, m)
		if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSMTPRefusesBeforeConnecting(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	scenarios := []struct {
		name string
		msg  Message
		want string
	}{
		{"newline in subject", Message{To: []string{"ada@example.com"}, Subject: "Hi\r\nBcc: everyone@example.com", Text: "x"},
			"invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
		{"invalid recipient", Message{To: []string{"ada@example.com", "not-an-address"}, Subject: "Hi", Text: "x"},
			`invalid email to[1]: "not-an-address": not a valid email address`},
		{"two recipients in one entry", Message{To: []string{"ada@example.com, eve@example.com"}, Subject: "Hi", Text: "x"},
			`invalid email to[0]: "ada@example.com, eve@example.com": one address per entry`},
		{"no body", Message{To: []string{"ada@example.com"}, Subject: "Hi"},
			"invalid email body: a text or an html body is required"},
	}
	for _, s := range scenarios {
		err := NewSMTP(srv.config()).Send(context.Background(), s.msg)
		if err == nil || err.Error() != s.want || !IsPermanent(err) || !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("%s: got %v, want %q (permanent)", s.name, err, s.want)
		}
	}
	if sessions, _ := srv.Counts(); sessions != 0 {
		t.Fatalf("%d SMTP sessions were opened for messages refused up front", sessions)
	}
}

func TestSMTPSecurityPolicies(t *testing.T) {
	t.Parallel()
	m := Message{To: []string{"ada@example.com"}, Subject: "Hi", Text: "x"}

	t.Run("starttls is mandatory by default", func(t *testing.T) {
		t.Parallel()
		srv := startSMTP(t)
		cfg := srv.config()
		cfg.TLS = ""
		err := NewSMTP(cfg).Send(context.Background(), m)
		if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "target host does not support STARTTLS") {
			t.Fatalf("got %v", err)
		}
		if len(srv.Received()) != 0 {
			t.Fatal("mail was sent without TLS")
		}
	})

	t.Run("password never sent in clear", func(t *testing.T) {
		t.Parallel()
		srv := startSMTP(t)
		srv.OfferPlainAuth()
		cfg := srv.config()
		cfg.Username, cfg.Password = "moonbase", "s3cret"
		err := NewSMTP(cfg).Send(context.Background(), m)
		if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "not able to detect a supported authentication mechanism") {
			t.Fatalf("got %v", err)
		}
		if _, auths := srv.Counts(); auths != 0 {
			t.Fatalf("client attempted AUTH PLAIN %d times over a plain connection", auths)
		}
	})
}

func TestSMTPWithoutHostIsAConfigError(t *testing.T) {
	t.Parallel()
	err := NewSMTP(Config{}).Send(context.Background(), Message{To: []string{"ada@example.com"}, Text: "x"})
	if err == nil || err.Error() != "smtp.host: no SMTP server is configured" || IsPermanent(err) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
}
