package mail

import (
	"fmt"
	"net/mail"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Size caps for a message.
const (
	// MaxRecipients bounds Message.To.
	MaxRecipients = 50
	// MaxAddressBytes bounds one address, display name included.
	MaxAddressBytes = 320
	// MaxSubjectBytes is the longest line RFC 5322 allows.
	MaxSubjectBytes = 998
	// MaxBodyBytes bounds Text and HTML together.
	MaxBodyBytes = 1 << 20
)

// Message is one email. To holds one address per entry, each either bare
// (ada@example.com) or with a display name (Ada Lovelace <ada@example.com>).
// From and ReplyTo are optional; an SMTP sender fills an empty From from
// its configuration. At least one of Text and HTML is required; with both,
// the mail is multipart/alternative.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	From    string
	ReplyTo string
}

// Validate checks the message before anything is sent: each address parses
// with net/mail as exactly one address, no header value contains CR, LF or
// NUL, bodies are UTF-8, at least one body is present and the size caps
// hold. Errors are *MessageError, wrapping ErrInvalidMessage.
func (m Message) Validate() error {
	if len(m.To) == 0 {
		return messageErr("to", "at least one recipient is required")
	}
	if len(m.To) > MaxRecipients {
		return messageErr("to", "%d recipients; the limit is %d", len(m.To), MaxRecipients)
	}
	for i, to := range m.To {
		if msg := checkAddress(to); msg != "" {
			return messageErr(fmt.Sprintf("to[%d]", i), "%s: %s", short(to), msg)
		}
	}
	for _, f := range []struct{ name, value string }{{"from", m.From}, {"reply_to", m.ReplyTo}} {
		if f.value == "" {
			continue
		}
		if msg := checkAddress(f.value); msg != "" {
			return messageErr(f.name, "%s: %s", short(f.value), msg)
		}
	}
	if msg := checkHeader(m.Subject); msg != "" {
		return messageErr("subject", "%s", msg)
	}
	if len(m.Subject) > MaxSubjectBytes {
		return messageErr("subject", "%d bytes; the limit is %d", len(m.Subject), MaxSubjectBytes)
	}
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.HTML) == "" {
		return messageErr("body", "a text or an html body is required")
	}
	if n := len(m.Text) + len(m.HTML); n > MaxBodyBytes {
		return messageErr("body", "%d bytes; the limit is %d", n, MaxBodyBytes)
	}
	if !utf8.ValidString(m.Text) {
		return messageErr("text", "not valid UTF-8")
	}
	if !utf8.ValidString(m.HTML) {
		return messageErr("html", "not valid UTF-8")
	}
	return nil
}

// checkHeader returns why s cannot be a header value, or "".
func checkHeader(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "line breaks (CR, LF) and NUL are not allowed"
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	return ""
}

// checkAddress returns why s is not exactly one email address, or "".
func checkAddress(s string) string {
	if s == "" {
		return "empty address"
	}
	if msg := checkHeader(s); msg != "" {
		return msg
	}
	if len(s) > MaxAddressBytes {
		return fmt.Sprintf("%d bytes; the limit is %d", len(s), MaxAddressBytes)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		if list, lerr := mail.ParseAddressList(s); lerr == nil && len(list) > 1 {
			return "one address per entry"
		}
		return "not a valid email address"
	}
	// An encoded display name (=?utf-8?q?…=0A…?=) decodes to its bytes;
	// those must not smuggle a line break either.
	if strings.ContainsAny(a.Name, "\r\n\x00") {
		return "line breaks (CR, LF) and NUL are not allowed in the display name"
	}
	return ""
}

// short quotes s for an error message, cut to a readable length.
func short(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// Payload keys, as stored in a job payload.
const (
	keyTo      = "to"
	keySubject = "subject"
	keyText    = "text"
	keyHTML    = "html"
	keyFrom    = "from"
	keyReplyTo = "reply_to"
)

// Payload returns the message as a job payload: to (a list of strings),
// subject, and text, html, from and reply_to when set.
func (m Message) Payload() map[string]any {
	to := make([]any, len(m.To))
	for i, a := range m.To {
		to[i] = a
	}
	p := map[string]any{keyTo: to, keySubject: m.Subject}
	for k, v := range map[string]string{keyText: m.Text, keyHTML: m.HTML, keyFrom: m.From, keyReplyTo: m.ReplyTo} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// MessageFromPayload rebuilds a message from a job payload written by
// Payload, and validates it. "to" may be one string or a list of strings
// (any slice type, as a store returns it); the other keys are strings.
// Unknown keys are refused so that a misspelt one does not silently drop a
// field.
func MessageFromPayload(p map[string]any) (Message, error) {
	var m Message
	for k, v := range p {
		var err error
		switch k {
		case keyTo:
			m.To, err = stringList(v)
		case keySubject:
			m.Subject, err = str(v)
		case keyText:
			m.Text, err = str(v)
		case keyHTML:
			m.HTML, err = str(v)
		case keyFrom:
			m.From, err = str(v)
		case keyReplyTo:
			m.ReplyTo, err = str(v)
		default:
			return Message{}, messageErr(k, "unknown field; the fields are to, subject, text, html, from and reply_to")
		}
		if err != nil {
			return Message{}, messageErr(k, "%v", err)
		}
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// str reads a string field; nil reads as "".
func str(v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	}
	return "", fmt.Errorf("must be a string, got %T", v)
}

// stringList reads a string or a slice of strings of any slice type.
func stringList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("must be a string or a list of strings, got %T", v)
	}
	out := make([]string, rv.Len())
	for i := range out {
		s, ok := rv.Index(i).Interface().(string)
		if !ok {
			return nil, fmt.Errorf("item %d must be a string, got %T", i, rv.Index(i).Interface())
		}
		out[i] = s
	}
	return out, nil
}
