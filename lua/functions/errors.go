package functions

import "errors"

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrFunctionNotFound: no function of that name is saved, or it has no
	// trigger for the way it was called (an invoke of a function without
	// the invoke trigger looks the same as a missing one).
	ErrFunctionNotFound = errors.New("function not found")
	// ErrVersionNotFound: the function has no such version.
	ErrVersionNotFound = errors.New("version not found")
	// ErrInvalidDefinition: a definition's name, handler, triggers, timeout
	// or retries are not acceptable, or its source does not compile.
	ErrInvalidDefinition = errors.New("invalid function definition")
	// ErrInvalidExecutionID: a cursor given to ExecutionsAfter is not an
	// execution id.
	ErrInvalidExecutionID = errors.New("invalid execution id")
	// ErrInvalidConfig: a Config setting cannot work.
	ErrInvalidConfig = errors.New("invalid functions config")
	// ErrClosed: the functions (store and runtime) have been shut down.
	ErrClosed = errors.New("function registry is shut down")
	// ErrSecretNotFound: no secret of that name.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrInvalidSecret: a secret's name or value is not acceptable.
	ErrInvalidSecret = errors.New("invalid secret")
)
