package webhooks

import (
	"crypto/hmac"
	"encoding/hex"
	"strconv"
	"strings"
)

// Stripe: Stripe-Signature "t=<unix>,v1=<hex>[,v1=<hex>…]", each v1 the
// hex HMAC-SHA256 of "<t>.<body>" under the endpoint secret (its text,
// whsec_ included). Several v1 entries appear while a secret is rolled;
// any may match. v0 entries (test mode, SHA-1) are ignored, as Stripe's
// own libraries do.

func verifyStripe(r Request, secret string, o Options) error {
	const name = "stripe"
	h, err := header(name, r, "Stripe-Signature")
	if err != nil {
		return err
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" {
		return fail(name, ErrMalformedHeader, "Stripe-Signature has no t= timestamp")
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fail(name, ErrMalformedHeader, "Stripe-Signature timestamp %q is not Unix seconds", ts)
	}
	if len(sigs) == 0 {
		return fail(name, ErrMalformedHeader, "Stripe-Signature has no v1= signature")
	}
	if err := checkTime(name, t, o, o.tolerance(DefaultTolerance)); err != nil {
		return err
	}
	want := sha256mac([]byte(secret), []byte(ts), []byte{'.'}, r.Body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fail(name, ErrBadSignature, "no v1 signature in Stripe-Signature matches")
}

func signStripe(r *Request, secret string, o Options) error {
	ts := strconv.FormatInt(o.now().Unix(), 10)
	sum := sha256mac([]byte(secret), []byte(ts), []byte{'.'}, r.Body)
	r.Header.Set("Stripe-Signature", "t="+ts+",v1="+hex.EncodeToString(sum))
	return nil
}
