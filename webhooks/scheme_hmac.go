package webhooks

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// hmac-sha256: the plain scheme of in-house senders. The header named by
// Options.Header (default X-Webhook-Signature) carries the HMAC-SHA256 of
// the body under the shared secret's text, in hex or base64, optionally
// prefixed "sha256=". With Options.TimestampHeader the signed content is
// "<timestamp>.<body>" and the timestamp must be within the tolerance, so
// a captured request cannot be replayed later.

// DefaultHMACHeader is the signature header of hmac-sha256 when
// Options.Header is empty.
const DefaultHMACHeader = "X-Webhook-Signature"

func hmacContent(r Request, o Options) (ts string, parts [][]byte) {
	if o.TimestampHeader == "" {
		return "", [][]byte{r.Body}
	}
	ts = strings.TrimSpace(r.Header.Get(o.TimestampHeader))
	return ts, [][]byte{[]byte(ts), {'.'}, r.Body}
}

func verifyHMAC(r Request, secret string, o Options) error {
	const name = "hmac-sha256"
	hname := o.Header
	if hname == "" {
		hname = DefaultHMACHeader
	}
	if o.Encoding != "" && o.Encoding != "hex" && o.Encoding != "base64" {
		return fail(name, ErrInvalidOptions, "encoding %q: use hex or base64", o.Encoding)
	}
	h, err := header(name, r, hname)
	if err != nil {
		return err
	}
	sig := strings.TrimPrefix(h, "sha256=")
	var got []byte
	if o.Encoding != "base64" {
		got, err = hex.DecodeString(sig)
	}
	if o.Encoding == "base64" || (o.Encoding == "" && err != nil) {
		got, err = base64.StdEncoding.DecodeString(sig)
	}
	if err != nil {
		return fail(name, ErrMalformedHeader, "%s is not %s", hname, map[string]string{"": "hex or base64", "hex": "hex", "base64": "base64"}[o.Encoding])
	}
	ts, parts := hmacContent(r, o)
	if o.TimestampHeader != "" {
		if ts == "" {
			return fail(name, ErrMissingHeader, "%s", o.TimestampHeader)
		}
		t, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return fail(name, ErrMalformedHeader, "%s %q is not Unix seconds", o.TimestampHeader, ts)
		}
		if err := checkTime(name, t, o, o.tolerance(DefaultTolerance)); err != nil {
			return err
		}
	}
	if !hmac.Equal(got, sha256mac([]byte(secret), parts...)) {
		return fail(name, ErrBadSignature, "%s does not match", hname)
	}
	return nil
}

func signHMAC(r *Request, secret string, o Options) error {
	hname := o.Header
	if hname == "" {
		hname = DefaultHMACHeader
	}
	if o.TimestampHeader != "" {
		r.Header.Set(o.TimestampHeader, strconv.FormatInt(o.now().Unix(), 10))
	}
	_, parts := hmacContent(*r, o)
	sum := sha256mac([]byte(secret), parts...)
	if o.Encoding == "base64" {
		r.Header.Set(hname, base64.StdEncoding.EncodeToString(sum))
	} else {
		r.Header.Set(hname, hex.EncodeToString(sum))
	}
	return nil
}
