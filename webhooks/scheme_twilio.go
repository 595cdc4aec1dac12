package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"net/url"
	"sort"
	"strings"
)

// Twilio: X-Twilio-Signature, the base64 HMAC-SHA1 under the auth token of
// the full URL Twilio called followed, for a form POST, by every parameter
// name and value in name order. A JSON body is signed through the URL
// instead: its bodySHA256 query parameter is the hex SHA-256 of the body.
// Like Twilio's libraries, the URL is tried as given and with its default
// port added or removed, since proxies differ in what they pass on.

func twilioContent(r Request, u string) ([]byte, error) {
	b := []byte(u)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return b, nil
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vals := append([]string(nil), form[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			b = append(b, k...)
			b = append(b, v...)
		}
	}
	return b, nil
}

// twilioURLs are the forms of u Twilio may have signed.
func twilioURLs(u string) []string {
	out := []string{u}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[p.Scheme]
	if def == "" {
		return out
	}
	q := *p
	if p.Port() == "" {
		q.Host = p.Host + ":" + def
	} else if p.Port() == def {
		q.Host = p.Hostname()
	} else {
		return out
	}
	return append(out, q.String())
}

func verifyTwilio(r Request, secret string, o Options) error {
	const name = "twilio"
	h, err := header(name, r, "X-Twilio-Signature")
	if err != nil {
		return err
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return fail(name, ErrMalformedHeader, "X-Twilio-Signature is not base64")
	}
	if r.URL == "" || !strings.Contains(r.URL, "://") {
		return fail(name, ErrInvalidOptions, "twilio signs the full URL it called; the request has %q", r.URL)
	}
	matched := false
	for _, u := range twilioURLs(r.URL) {
		content, err := twilioContent(r, u)
		if err != nil {
			return fail(name, ErrMalformedHeader, "form body does not parse: %v", err)
		}
		if hmac.Equal(got, sha1mac([]byte(secret), content)) {
			matched = true
			break
		}
	}
	if !matched {
		return fail(name, ErrBadSignature, "X-Twilio-Signature does not match the URL and parameters")
	}
	if p, err := url.Parse(r.URL); err == nil && p.Query().Has("bodySHA256") {
		sum := sha256.Sum256(r.Body)
		want, err := hex.DecodeString(p.Query().Get("bodySHA256"))
		if err != nil || !hmac.Equal(want, sum[:]) {
			return fail(name, ErrBadSignature, "the body does not match bodySHA256")
		}
	}
	return nil
}

func signTwilio(r *Request, secret string, o Options) error {
	content, err := twilioContent(*r, r.URL)
	if err != nil {
		return fail("twilio", ErrMalformedHeader, "form body does not parse: %v", err)
	}
	r.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(sha1mac([]byte(secret), content)))
	return nil
}
