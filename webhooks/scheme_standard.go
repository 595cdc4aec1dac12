package webhooks

import (
	"crypto/hmac"
	"encoding/base64"
	"strconv"
	"strings"
)

// Standard Webhooks (and Svix): webhook-id, webhook-timestamp and
// webhook-signature headers; the signature is "v1," followed by the base64
// HMAC-SHA256 of "<id>.<timestamp>.<body>" under the secret's bytes, and
// the header may carry several, space-separated (during a secret
// rotation). The secret is "whsec_" followed by base64.

// SecretPrefix starts every Standard Webhooks secret.
const SecretPrefix = "whsec_"

// DecodeSecret returns the key bytes of a Standard Webhooks secret. The
// whsec_ prefix is optional, as in the reference libraries.
func DecodeSecret(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, &VerifyError{Scheme: "standard", Reason: ErrInvalidSecret, Detail: "a Standard Webhooks secret is whsec_ followed by base64"}
	}
	return key, nil
}

// StandardSignature is the webhook-signature entry for one message: "v1,"
// and the base64 HMAC-SHA256 of id.timestamp.body.
func StandardSignature(key []byte, id string, timestamp int64, body []byte) string {
	sum := sha256mac(key, []byte(id), []byte{'.'}, []byte(strconv.FormatInt(timestamp, 10)), []byte{'.'}, body)
	return "v1," + base64.StdEncoding.EncodeToString(sum)
}

func verifyStandard(r Request, secret string, o Options) error {
	const name = "standard"
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	id, err := header(name, r, "webhook-id")
	if err != nil {
		return err
	}
	tsText, err := header(name, r, "webhook-timestamp")
	if err != nil {
		return err
	}
	sigs, err := header(name, r, "webhook-signature")
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fail(name, ErrMalformedHeader, "webhook-timestamp %q is not Unix seconds", tsText)
	}
	if err := checkTime(name, ts, o, o.tolerance(DefaultTolerance)); err != nil {
		return err
	}
	want := sha256mac(key, []byte(id), []byte{'.'}, []byte(tsText), []byte{'.'}, r.Body)
	found := false
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		found = true
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return fail(name, ErrMalformedHeader, "webhook-signature has no v1 signature")
	}
	return fail(name, ErrBadSignature, "no v1 signature in webhook-signature matches")
}

func signStandard(r *Request, secret string, o Options) error {
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	id := r.Header.Get("webhook-id")
	if id == "" {
		return &VerifyError{Scheme: "standard", Reason: ErrMissingHeader, Detail: "set webhook-id before signing"}
	}
	ts := o.now().Unix()
	r.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("webhook-signature", StandardSignature(key, id, ts, r.Body))
	return nil
}
