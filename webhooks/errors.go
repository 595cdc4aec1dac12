package webhooks

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package; the server maps them to HTTP statuses.
var (
	// ErrVerification: a request failed verification. Every *VerifyError
	// wraps it, with one of the reasons below as well.
	ErrVerification = errors.New("webhook verification failed")
	// ErrUnknownScheme: a scheme name Verify does not know.
	ErrUnknownScheme = errors.New("unknown signature scheme")
	// ErrMissingHeader: the header that carries the signature or the
	// timestamp is absent or empty.
	ErrMissingHeader = errors.New("missing header")
	// ErrMalformedHeader: the header is present but does not parse.
	ErrMalformedHeader = errors.New("malformed header")
	// ErrBadSignature: no signature in the request matches the body.
	ErrBadSignature = errors.New("bad signature")
	// ErrTimestamp: the signed timestamp is outside the tolerance, so the
	// request is stale, from the future, or a replay.
	ErrTimestamp = errors.New("timestamp outside tolerance")
	// ErrInvalidSecret: the secret is empty or not in the scheme's form
	// (a Standard Webhooks secret is whsec_ followed by base64).
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrInvalidOptions: options that do not apply or do not parse.
	ErrInvalidOptions = errors.New("invalid verification options")
)

// VerifyError says which scheme refused a request and why. Its message
// names what failed (the header, the tolerance); errors.Is holds for
// ErrVerification and for the reason (ErrMissingHeader, ErrBadSignature…).
type VerifyError struct {
	Scheme string
	Reason error
	Detail string
}

func (e *VerifyError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s webhook: %v", e.Scheme, e.Reason)
	}
	return fmt.Sprintf("%s webhook: %v: %s", e.Scheme, e.Reason, e.Detail)
}

// Unwrap makes errors.Is hold for ErrVerification and the reason.
func (e *VerifyError) Unwrap() []error { return []error{ErrVerification, e.Reason} }

func fail(scheme string, reason error, format string, args ...any) error {
	return &VerifyError{Scheme: scheme, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Errors of outbound delivery.
var (
	// ErrInvalidConfig: a Config that cannot work.
	ErrInvalidConfig = errors.New("invalid webhooks configuration")
	// ErrInvalidEndpoint: an endpoint's URL, event filter or settings are
	// refused; the message says which.
	ErrInvalidEndpoint = errors.New("invalid webhook endpoint")
	// ErrInvalidMessage: an event type or payload that cannot be sent.
	ErrInvalidMessage = errors.New("invalid webhook message")
	// ErrPayloadTooLarge: a payload over Config.MaxPayloadBytes.
	ErrPayloadTooLarge = errors.New("webhook payload too large")
	// ErrEndpointNotFound: no endpoint has the id.
	ErrEndpointNotFound = errors.New("webhook endpoint not found")
	// ErrDeliveryNotFound: no delivery has the id.
	ErrDeliveryNotFound = errors.New("webhook delivery not found")
	// ErrNotReplayable: a delivery still pending cannot be replayed.
	ErrNotReplayable = errors.New("webhook delivery is still pending")
	// ErrInboundNotFound: no logged inbound request has the id.
	ErrInboundNotFound = errors.New("inbound request not found")
	// ErrInvalidQuery: a list filter that does not parse.
	ErrInvalidQuery = errors.New("invalid webhooks query")
)

// MaxAttemptsLimit caps the attempts of one delivery.
const MaxAttemptsLimit = 100
