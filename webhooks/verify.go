package webhooks

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Request is what a verifier looks at: an inbound request as its sender
// sent it. URL is the full URL the sender called, scheme and host
// included (Twilio signs it); Body is the raw body, byte for byte.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Options tune Verify and Sign. The zero value takes each scheme's
// defaults.
type Options struct {
	// Tolerance bounds how far a signed timestamp may be from now, either
	// way; zero takes the scheme's (five minutes for every timestamped
	// scheme). Schemes without a timestamp ignore it.
	Tolerance time.Duration
	// Header names the signature header of hmac-sha256 (default
	// X-Webhook-Signature).
	Header string
	// Encoding is "hex" or "base64" for hmac-sha256; empty accepts either.
	// Sign uses hex when it is empty.
	Encoding string
	// TimestampHeader, for hmac-sha256, names a header carrying a Unix
	// timestamp that is signed with the body as "<timestamp>.<body>" and
	// checked against Tolerance.
	TimestampHeader string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o Options) tolerance(def time.Duration) time.Duration {
	if o.Tolerance > 0 {
		return o.Tolerance
	}
	return def
}

// DefaultTolerance is how old (or how far ahead) a signed timestamp may be
// by default: Stripe's, Slack's and Standard Webhooks' own five minutes.
const DefaultTolerance = 5 * time.Minute

// scheme is one signature scheme: how to check a request and how to sign
// one the same way (senders, tests, fake providers).
type scheme struct {
	verify func(r Request, secret string, o Options) error
	sign   func(r *Request, secret string, o Options) error
}

// schemes is every scheme Verify knows, by name.
var schemes = map[string]scheme{
	"standard":    {verifyStandard, signStandard},
	"stripe":      {verifyStripe, signStripe},
	"github":      {verifyGitHub, signGitHub},
	"slack":       {verifySlack, signSlack},
	"twilio":      {verifyTwilio, signTwilio},
	"shopify":     {verifyShopify, signShopify},
	"hmac-sha256": {verifyHMAC, signHMAC},
}

// Schemes lists the names Verify accepts, sorted.
func Schemes() []string {
	names := make([]string, 0, len(schemes))
	for n := range schemes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Verify checks that r was signed with secret the way scheme signs, and,
// for timestamped schemes, that it is recent. A nil error means the body
// is authentic. Otherwise the error is a *VerifyError naming what failed,
// or wraps ErrUnknownScheme. Every comparison of signatures is constant
// time.
func Verify(name string, r Request, secret string, o Options) error {
	s, ok := schemes[name]
	if !ok {
		return fmt.Errorf("%w %q (use one of %s)", ErrUnknownScheme, name, strings.Join(Schemes(), ", "))
	}
	if secret == "" {
		return &VerifyError{Scheme: name, Reason: ErrInvalidSecret, Detail: "the secret is empty"}
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	return s.verify(r, secret, o)
}

// Sign sets on r the headers scheme's sender would set, signing r.Body
// (and for twilio r.URL and the form in the body) with secret at
// o.Now(). It is what a sender, a test or a fake provider calls.
func Sign(name string, r *Request, secret string, o Options) error {
	s, ok := schemes[name]
	if !ok {
		return fmt.Errorf("%w %q (use one of %s)", ErrUnknownScheme, name, strings.Join(Schemes(), ", "))
	}
	if secret == "" {
		return &VerifyError{Scheme: name, Reason: ErrInvalidSecret, Detail: "the secret is empty"}
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	return s.sign(r, secret, o)
}

func mac(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func sha256mac(key []byte, parts ...[]byte) []byte { return mac(sha256.New, key, parts...) }
func sha1mac(key []byte, parts ...[]byte) []byte   { return mac(sha1.New, key, parts...) }

// header returns the first value of name, trimmed, or a missing-header
// error.
func header(scheme string, r Request, name string) (string, error) {
	v := strings.TrimSpace(r.Header.Get(name))
	if v == "" {
		return "", fail(scheme, ErrMissingHeader, "%s", name)
	}
	return v, nil
}

// checkTime refuses a timestamp further than tol from now, either way.
func checkTime(scheme string, ts int64, o Options, tol time.Duration) error {
	now := o.now()
	at := time.Unix(ts, 0)
	switch d := now.Sub(at); {
	case d > tol:
		return fail(scheme, ErrTimestamp, "signed %s ago, the tolerance is %s", d.Truncate(time.Second), tol)
	case -d > tol:
		return fail(scheme, ErrTimestamp, "signed %s in the future, the tolerance is %s", (-d).Truncate(time.Second), tol)
	}
	return nil
}
