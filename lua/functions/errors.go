package functions

import (
	"errors"
	"fmt"
	"strings"
)

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
	// ErrExecutionNotFound: the function has no execution record of that
	// id (never recorded, or aged out).
	ErrExecutionNotFound = errors.New("execution not found")
	// ErrInputNotKept: an execution record does not hold its run's whole
	// input (it was over MaxInputBytes, or recorded before inputs were
	// kept), so the run cannot be made again with it.
	ErrInputNotKept = errors.New("the run's input was not kept whole")
	// ErrInvalidConfig: a Config setting cannot work.
	ErrInvalidConfig = errors.New("invalid functions config")
	// ErrClosed: the functions (store and runtime) have been shut down.
	ErrClosed = errors.New("function registry is shut down")
	// ErrSecretNotFound: no secret of that name.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrInvalidSecret: a secret's name or value is not acceptable.
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrMethodNotAllowed: an http trigger that lists its methods was
	// called with another. See *MethodError.
	ErrMethodNotAllowed = errors.New("method not allowed")
)

// MethodError is an http call with a method the function's http trigger
// does not list; Allow lists the ones it does.
type MethodError struct {
	Function string
	Method   string
	Allow    []string
}

func (e *MethodError) Error() string {
	return fmt.Sprintf("function %q answers %s, not %s", e.Function, strings.Join(e.Allow, ", "), e.Method)
}

// Unwrap makes errors.Is(err, ErrMethodNotAllowed) hold.
func (e *MethodError) Unwrap() error { return ErrMethodNotAllowed }
