package engine

import (
	"errors"
	"fmt"
	"github.com/moonbase-dev/moonbase/lua/functions"
	"strings"
)

// Sentinel errors of runs. Callers test them with errors.Is; the typed
// errors below unwrap to them where they belong to one. The errors of
// stored functions (functions.ErrFunctionNotFound, functions.ErrClosed, …)
// are the functions package's, and Run returns them as they are.
var (
	// ErrInvalidInput: the input given to a run cannot be turned into Lua
	// values (an unsupported type, a NaN, nesting too deep).
	ErrInvalidInput = errors.New("invalid function input")
	// ErrTimeout: a run went past its timeout and was stopped.
	ErrTimeout = errors.New("timed out")
	// ErrMemoryLimit: the process heap went past Config.MemoryLimit while
	// the run was growing it, and the run was stopped.
	ErrMemoryLimit = errors.New("memory limit exceeded")
	// ErrCanceled: the caller's context ended (the client went away, the
	// server is shutting down) and the run was stopped.
	ErrCanceled = errors.New("canceled")
	// ErrInvalidConfig: a Config setting cannot work.
	ErrInvalidConfig = errors.New("invalid functions config")
)

// CompileError is a syntax (or compile) error in a function's source. Saving
// or validating such a source changes nothing.
type CompileError struct {
	Function string
	Line     int // 0 when the error is about the whole source
	Column   int // 0 when unknown
	Message  string
}

func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "function %q: ", e.Function)
	if e.Line > 0 {
		fmt.Fprintf(&b, "syntax error at line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap makes errors.Is(err, functions.ErrInvalidDefinition) hold, so a caller can
// answer every refused save the same way.
func (e *CompileError) Unwrap() error { return functions.ErrInvalidDefinition }

// RunError is a run that did not complete: an uncaught Lua error, a value
// the function returned that cannot be sent, a timeout, the memory limit or
// a canceled caller. Its message names the function and, when known, the
// Lua line; it never carries Go internals or file paths.
type RunError struct {
	Function string
	Version  int64
	Line     int    // the Lua line the error was raised at, 0 when unknown
	Message  string // what went wrong, without the function name or line
	// Traceback is the Lua call stack at the error (Lua frames only), for
	// the execution record; empty when unknown.
	Traceback string
	// Kind is ErrTimeout, ErrMemoryLimit or ErrCanceled when the run was
	// stopped, nil for an error of the function itself.
	Kind error
}

func (e *RunError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "function %q ", e.Function)
	switch {
	case e.Kind != nil:
		b.WriteString("stopped: ")
	default:
		b.WriteString("failed")
		if e.Line > 0 {
			fmt.Fprintf(&b, " at line %d", e.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Kind != nil && e.Line > 0 {
		fmt.Fprintf(&b, " (at line %d)", e.Line)
	}
	return b.String()
}

// Unwrap gives Kind, so errors.Is(err, ErrTimeout) and friends hold.
func (e *RunError) Unwrap() error { return e.Kind }
