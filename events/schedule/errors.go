package schedule

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error Parse returns, so callers can tell a
// schedule the user must fix (errors.Is) from anything else.
var ErrInvalid = errors.New("invalid schedule")

// Error explains, in one line a user can act on, why a schedule or its
// time zone was refused. errors.Is(err, ErrInvalid) holds for it.
type Error struct {
	// Expr is the expression as given.
	Expr string
	// Msg is the explanation; Error returns it unchanged.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

// invalid builds an *Error for expr.
func invalid(expr, format string, args ...any) error {
	return &Error{Expr: expr, Msg: fmt.Sprintf(format, args...)}
}
