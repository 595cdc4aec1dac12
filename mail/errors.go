package mail

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped by the typed errors below.
var (
	// ErrInvalidMessage: a message cannot be sent as given. Permanent.
	ErrInvalidMessage = errors.New("invalid email")
	// ErrInvalidConfig: the SMTP configuration cannot work.
	ErrInvalidConfig = errors.New("invalid smtp configuration")
)

// MessageError says which part of a message is wrong and why.
// errors.Is(err, ErrInvalidMessage) holds for it.
type MessageError struct {
	// Field is to[i], from, reply_to, subject, text, html or body.
	Field string
	// Reason is the explanation, including the offending value if short.
	Reason string
}

func (e *MessageError) Error() string { return fmt.Sprintf("invalid email %s: %s", e.Field, e.Reason) }

// Unwrap makes errors.Is(err, ErrInvalidMessage) hold.
func (e *MessageError) Unwrap() error { return ErrInvalidMessage }

func messageErr(field, format string, args ...any) error {
	return &MessageError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ConfigError names the smtp setting that is wrong.
// errors.Is(err, ErrInvalidConfig) holds for it.
type ConfigError struct {
	// Key is the setting under smtp, e.g. "tls".
	Key    string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("smtp.%s: %s", e.Key, e.Reason) }

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configErr(key, format string, args ...any) error {
	return &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// SendError is a failed SMTP delivery. Its message includes the server's
// answer (code and text) when there was one, so a dead letter shows why.
type SendError struct {
	// Server is host:port.
	Server string
	// Code is the SMTP reply code (e.g. 451, 550), or 0 when the server
	// gave none (connection refused, timeout, TLS failure).
	Code int
	// Permanent is true when retrying the same message cannot succeed: a
	// 5xx answer to the sender, a recipient or the message data.
	Permanent bool
	// Err is the underlying error from go-mail or the network.
	Err error
}

func (e *SendError) Error() string { return fmt.Sprintf("smtp %s: %v", e.Server, e.Err) }

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether retrying err cannot help: a permanent
// *SendError (5xx on the sender, a recipient or the message) or an invalid
// message. Everything else — 4xx answers, refused connections, timeouts,
// configuration and TLS problems, a cancelled context — is worth retrying.
func IsPermanent(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent
	}
	return errors.Is(err, ErrInvalidMessage)
}
