package webhooks

import (
	"crypto/hmac"
	"encoding/hex"
	"strconv"
	"strings"
)

// Slack: X-Slack-Request-Timestamp and X-Slack-Signature "v0=<hex>", the
// HMAC-SHA256 of "v0:<timestamp>:<body>" under the signing secret; Slack
// asks receivers to refuse timestamps more than five minutes away.

func verifySlack(r Request, secret string, o Options) error {
	const name = "slack"
	ts, err := header(name, r, "X-Slack-Request-Timestamp")
	if err != nil {
		return err
	}
	h, err := header(name, r, "X-Slack-Signature")
	if err != nil {
		return err
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fail(name, ErrMalformedHeader, "X-Slack-Request-Timestamp %q is not Unix seconds", ts)
	}
	sig, ok := strings.CutPrefix(h, "v0=")
	if !ok {
		return fail(name, ErrMalformedHeader, "X-Slack-Signature does not start with v0=")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fail(name, ErrMalformedHeader, "X-Slack-Signature is not hex")
	}
	if err := checkTime(name, t, o, o.tolerance(DefaultTolerance)); err != nil {
		return err
	}
	if !hmac.Equal(got, sha256mac([]byte(secret), []byte("v0:"+ts+":"), r.Body)) {
		return fail(name, ErrBadSignature, "X-Slack-Signature does not match")
	}
	return nil
}

func signSlack(r *Request, secret string, o Options) error {
	ts := strconv.FormatInt(o.now().Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(sha256mac([]byte(secret), []byte("v0:"+ts+":"), r.Body)))
	return nil
}
