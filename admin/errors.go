package admin

import "errors"

// Errors of the dashboard's session. The server maps them to HTTP answers.
var (
	// ErrWrongToken: the admin token given to sign in is wrong.
	ErrWrongToken = errors.New("admin token is wrong")
	// ErrNoSession: the request has no session cookie, or one that is
	// unknown, signed out or expired.
	ErrNoSession = errors.New("not signed in to the dashboard, or the session has expired")
	// ErrCSRF: a write sent with the session cookie lacks the session's
	// CSRF token in X-CSRF-Token, or comes from another origin.
	ErrCSRF = errors.New("missing or wrong CSRF token")
	// ErrInvalidInput: a sign-in body that is not {"token": "…"}.
	ErrInvalidInput = errors.New("invalid input")
)
