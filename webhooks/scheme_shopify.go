package webhooks

import (
	"crypto/hmac"
	"encoding/base64"
)

// Shopify: X-Shopify-Hmac-Sha256, the base64 HMAC-SHA256 of the body under
// the app's client secret. No timestamp is signed; X-Shopify-Webhook-Id is
// the id to deduplicate on.

func verifyShopify(r Request, secret string, o Options) error {
	const name = "shopify"
	h, err := header(name, r, "X-Shopify-Hmac-Sha256")
	if err != nil {
		return err
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return fail(name, ErrMalformedHeader, "X-Shopify-Hmac-Sha256 is not base64")
	}
	if !hmac.Equal(got, sha256mac([]byte(secret), r.Body)) {
		return fail(name, ErrBadSignature, "X-Shopify-Hmac-Sha256 does not match the body")
	}
	return nil
}

func signShopify(r *Request, secret string, o Options) error {
	r.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(sha256mac([]byte(secret), r.Body)))
	return nil
}
