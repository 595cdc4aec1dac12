package mail

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestMessageValidate(t *testing.T) {
	t.Parallel()
	ok := Message{To: []string{"ada@example.com"}, Subject: "Hi", Text: "x"}
	with := func(f func(m *Message)) Message {
		m := ok
		m.To = append([]string(nil), ok.To...)
		f(&m)
		return m
	}
	manyTo := make([]string, MaxRecipients+1)
	for i := range manyTo {
		manyTo[i] = "user@example.com"
	}
	scenarios := []struct {
		name string
		msg  Message
		want string // "" means valid
	}{
		{"minimal", ok, ""},
		{"display names and html only", Message{To: []string{"Ada Lovelace <ada@example.com>", `"Bob, Jr." <bob@example.org>`}, From: "Acme <hi@acme.test>", ReplyTo: "help@acme.test", Subject: "Grüße", HTML: "<p>x</p>"}, ""},
		{"empty subject is allowed", with(func(m *Message) { m.Subject = "" }), ""},
		{"no recipient", with(func(m *Message) { m.To = nil }), "invalid email to: at least one recipient is required"},
		{"too many recipients", with(func(m *Message) { m.To = manyTo }), "invalid email to: 51 recipients; the limit is 50"},
		{"empty recipient", with(func(m *Message) { m.To = []string{""} }), `invalid email to[0]: "": empty address`},
		{"not an address", with(func(m *Message) { m.To = []string{"ada"} }), `invalid email to[0]: "ada": not a valid email address`},
		{"missing domain", with(func(m *Message) { m.To = []string{"ada@"} }), `invalid email to[0]: "ada@": not a valid email address`},
		{"two in one entry", with(func(m *Message) { m.To = []string{"a@example.com; b@example.com"} }), `invalid email to[0]: "a@example.com; b@example.com": not a valid email address`},
		{"two in one entry with comma", with(func(m *Message) { m.To = []string{"a@example.com,b@example.com"} }), `invalid email to[0]: "a@example.com,b@example.com": one address per entry`},
		{"newline in recipient", with(func(m *Message) { m.To = []string{"ada@example.com\nBcc: eve@example.com"} }), `invalid email to[0]: "ada@example.com\nBcc: eve@example.com": line breaks (CR, LF) and NUL are not allowed`},
		{"encoded newline in display name", with(func(m *Message) { m.To = []string{"=?utf-8?b?QWRhDQpCY2M6IGV2ZQ==?= <ada@example.com>"} }), `invalid email to[0]: "=?utf-8?b?QWRhDQpCY2M6IGV2ZQ==?= <ada@example.com>": line breaks (CR, LF) and NUL are not allowed in the display name`},
		{"overlong address", with(func(m *Message) { m.To = []string{strings.Repeat("a", 310) + "@example.com"} }), `invalid email to[0]: "` + strings.Repeat("a", 80) + `"…: 322 bytes; the limit is 320`},
		{"bad from", with(func(m *Message) { m.From = "Acme" }), `invalid email from: "Acme": not a valid email address`},
		{"CR in reply-to", with(func(m *Message) { m.ReplyTo = "a@example.com\r" }), `invalid email reply_to: "a@example.com\r": line breaks (CR, LF) and NUL are not allowed`},
		{"LF in subject", with(func(m *Message) { m.Subject = "Hi\nBcc: eve@example.com" }), "invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
		{"CR in subject", with(func(m *Message) { m.Subject = "Hi\r" }), "invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
		{"NUL in subject", with(func(m *Message) { m.Subject = "Hi\x00" }), "invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
		{"subject not UTF-8", with(func(m *Message) { m.Subject = "Hi \xff" }), "invalid email subject: not valid UTF-8"},
		{"subject too long", with(func(m *Message) { m.Subject = strings.Repeat("s", MaxSubjectBytes+1) }), "invalid email subject: 999 bytes; the limit is 998"},
		{"no body", with(func(m *Message) { m.Text = "" }), "invalid email body: a text or an html body is required"},
		{"blank body", with(func(m *Message) { m.Text = " \n\t" }), "invalid email body: a text or an html body is required"},
		{"body too large", with(func(m *Message) { m.Text = strings.Repeat("x", MaxBodyBytes); m.HTML = "y" }), "invalid email body: 1048577 bytes; the limit is 1048576"},
		{"text not UTF-8", with(func(m *Message) { m.Text = "\xfe" }), "invalid email text: not valid UTF-8"},
		{"html not UTF-8", with(func(m *Message) { m.HTML = "\xfe" }), "invalid email html: not valid UTF-8"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := s.msg.Validate()
			if s.want == "" {
				if err != nil {
					t.Fatalf("valid message refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != s.want {
				t.Fatalf("got  %v\nwant %s", err, s.want)
			}
			var me *MessageError
			if !errors.As(err, &me) || !errors.Is(err, ErrInvalidMessage) || !IsPermanent(err) {
				t.Fatalf("%T is not a permanent *MessageError", err)
			}
		})
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	full := Message{To: []string{"Ada <ada@example.com>", "bob@example.org"}, Subject: "Hi", Text: "t", HTML: "<b>h</b>", From: "a@acme.test", ReplyTo: "r@acme.test"}
	p := full.Payload()
	want := map[string]any{"to": []any{"Ada <ada@example.com>", "bob@example.org"}, "subject": "Hi", "text": "t", "html": "<b>h</b>", "from": "a@acme.test", "reply_to": "r@acme.test"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("Payload() = %#v", p)
	}
	back, err := MessageFromPayload(p)
	if err != nil || !reflect.DeepEqual(back, full) {
		t.Fatalf("MessageFromPayload = %#v, %v", back, err)
	}

	minimal := Message{To: []string{"ada@example.com"}, HTML: "h"}
	if p := minimal.Payload(); !reflect.DeepEqual(p, map[string]any{"to": []any{"ada@example.com"}, "subject": "", "html": "h"}) {
		t.Fatalf("optional fields not left out: %#v", p)
	}

	// As a store hands a payload back: to as a BSON array, or one string.
	for _, to := range []any{primitive.A{"ada@example.com"}, []string{"ada@example.com"}, "ada@example.com"} {
		m, err := MessageFromPayload(map[string]any{"to": to, "subject": "Hi", "text": "t", "html": nil})
		if err != nil || !reflect.DeepEqual(m.To, []string{"ada@example.com"}) {
			t.Fatalf("to %#v: %#v, %v", to, m, err)
		}
	}
}

func TestMessageFromPayloadRefusals(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		payload map[string]any
		want    string
	}{
		{"unknown field", map[string]any{"to": "a@example.com", "text": "t", "bcc": "eve@example.com"},
			"invalid email bcc: unknown field; the fields are to, subject, text, html, from and reply_to"},
		{"subject not a string", map[string]any{"to": "a@example.com", "text": "t", "subject": 42},
			"invalid email subject: must be a string, got int"},
		{"to not a list", map[string]any{"to": 42, "text": "t"},
			"invalid email to: must be a string or a list of strings, got int"},
		{"to item not a string", map[string]any{"to": []any{"a@example.com", 7}, "text": "t"},
			"invalid email to: item 1 must be a string, got int"},
		{"missing to", map[string]any{"text": "t"},
			"invalid email to: at least one recipient is required"},
		{"header injection", map[string]any{"to": "a@example.com", "text": "t", "subject": "x\r\nBcc: eve@example.com"},
			"invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			_, err := MessageFromPayload(s.payload)
			if err == nil || err.Error() != s.want || !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("got  %v\nwant %s", err, s.want)
			}
		})
	}
}
