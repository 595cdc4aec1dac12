// Package webhooks signs and verifies webhooks and delivers them.
//
// Inbound, Verify checks a request the way its sender signed it: stripe,
// github, slack, twilio, shopify, standard (Standard Webhooks / Svix) and
// hmac-sha256 for in-house senders. Each comparison is constant time and
// each refusal is a *VerifyError that names what failed: a missing or
// malformed header, a bad signature, a timestamp outside the tolerance.
// Sign does the reverse, for senders, tests and fake providers.
//
//	err := webhooks.Verify("stripe", webhooks.Request{
//		URL:    "https://api.example.com/functions/stripeWebhook",
//		Header: r.Header,
//		Body:   body,
//	}, os.Getenv("STRIPE_WEBHOOK_SECRET"), webhooks.Options{})
//	if errors.Is(err, webhooks.ErrVerification) {
//		// answer 400
//	}
//
// Outbound, a Service keeps endpoints (_webhook_endpoints) and delivers
// messages to them: Emit records one message and one delivery per
// subscribed endpoint (_deliveries) and queues each delivery as a job of
// kind KindDelivery on the durable queue of package events, which retries
// it on min(60 s·2^n, 24 h) with jitter. Every delivery is signed the
// Standard Webhooks way, and every attempt is recorded.
package webhooks
