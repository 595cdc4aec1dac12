package webhooks

import (
	"crypto/hmac"
	"encoding/hex"
	"strings"
)

// GitHub: X-Hub-Signature-256 "sha256=<hex>", the HMAC-SHA256 of the body
// under the webhook secret. GitHub signs no timestamp; X-GitHub-Delivery
// is the id to deduplicate on.

func verifyGitHub(r Request, secret string, o Options) error {
	const name = "github"
	h, err := header(name, r, "X-Hub-Signature-256")
	if err != nil {
		return err
	}
	sig, ok := strings.CutPrefix(h, "sha256=")
	if !ok {
		return fail(name, ErrMalformedHeader, "X-Hub-Signature-256 does not start with sha256=")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fail(name, ErrMalformedHeader, "X-Hub-Signature-256 is not hex")
	}
	if !hmac.Equal(got, sha256mac([]byte(secret), r.Body)) {
		return fail(name, ErrBadSignature, "X-Hub-Signature-256 does not match the body")
	}
	return nil
}

func signGitHub(r *Request, secret string, o Options) error {
	r.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(sha256mac([]byte(secret), r.Body)))
	return nil
}
