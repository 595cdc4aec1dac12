package channels

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Each becomes an error frame with the
// code the HTTP API uses for the same condition (see Code).
var (
	// ErrInvalidConfig: a Config that cannot work.
	ErrInvalidConfig = errors.New("invalid channels configuration")
	// ErrInvalidInput: a frame that is not what the protocol says.
	ErrInvalidInput = errors.New("invalid input")
	// ErrInvalidChannel: a channel name that is empty, too long or uses
	// characters names may not.
	ErrInvalidChannel = errors.New("invalid channel name")
	// ErrUnauthenticated: the channel needs a signed-in user, or the token
	// of an auth frame is unknown or expired.
	ErrUnauthenticated = errors.New("sign in required")
	// ErrForbidden: the channel's rules or its channel_join function
	// refuse.
	ErrForbidden = errors.New("not allowed")
	// ErrNotJoined: a send to a member-only channel, or a leave, from a
	// connection that has not joined it.
	ErrNotJoined = errors.New("not joined")
	// ErrTooLarge: a frame or a message's data over its limit.
	ErrTooLarge = errors.New("message too large")
	// ErrRateLimited: more frames per second than the connection may send,
	// or more channels than it may join.
	ErrRateLimited = errors.New("too many requests")
	// ErrClosed: the hub is shutting down.
	ErrClosed = errors.New("channels are shutting down")
	// ErrNotStored: a message's write was so slow that delivery went
	// past its offset; the message was not sent, and may be sent again.
	ErrNotStored = errors.New("message not stored")
)

// Code is the error code an error frame carries for err: the codes of the
// HTTP API (unauthenticated, forbidden, invalid_input, too_many_requests,
// …), or "internal" for a failure of the server itself.
func Code(err error) string {
	switch {
	case errors.Is(err, ErrInvalidChannel):
		return "invalid_channel"
	case errors.Is(err, ErrInvalidInput):
		return "invalid_input"
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrNotJoined):
		return "not_joined"
	case errors.Is(err, ErrTooLarge):
		return "message_too_large"
	case errors.Is(err, ErrRateLimited):
		return "too_many_requests"
	case errors.Is(err, ErrClosed), errors.Is(err, ErrNotStored):
		return "unavailable"
	}
	return "internal"
}

// RefusedError is a join a channel_join function refused, with the
// message it gave.
type RefusedError struct {
	Function string
	Message  string
}

func (e *RefusedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("join refused by function %s", e.Function)
	}
	return e.Message
}

// Unwrap makes a RefusedError an ErrForbidden.
func (e *RefusedError) Unwrap() error { return ErrForbidden }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}
