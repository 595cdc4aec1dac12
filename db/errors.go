package db

import (
	"errors"
	"fmt"
)

// Sentinel errors every store returns (wrapped), never a driver's own.
var (
	// ErrNotFound: no document matched.
	ErrNotFound = errors.New("document not found")
	// ErrDuplicateKey: a write would break a unique index.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrInvalidQuery: a filter, update, sort or projection is malformed or
	// uses an operator the store does not support.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrInvalidDocument: a document cannot be stored as given (a bad _id,
	// a field name the store refuses, a value of an unknown type).
	ErrInvalidDocument = errors.New("invalid document")
	// ErrInvalidName: a collection or index name is not allowed.
	ErrInvalidName = errors.New("invalid name")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrNoTransactions: the store runs no multi-document transactions
	// (the MongoDB store, on every deployment); Transact returns it
	// without running anything.
	ErrNoTransactions = errors.New("multi-document transactions are not supported by this database")
)

// DuplicateKeyError names the collection and index a write collided on.
// errors.Is(err, ErrDuplicateKey) holds for it.
type DuplicateKeyError struct {
	Collection string
	Index      string // may be empty when the store cannot tell
}

func (e *DuplicateKeyError) Error() string {
	if e.Index == "" {
		return fmt.Sprintf("duplicate key in %s", e.Collection)
	}
	return fmt.Sprintf("duplicate key in %s (index %s)", e.Collection, e.Index)
}

// Unwrap makes errors.Is(err, ErrDuplicateKey) hold.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// QueryError explains why a filter, update, sort or projection was refused.
// errors.Is(err, ErrInvalidQuery) holds for it.
type QueryError struct {
	Op  string // the operator or field at fault, e.g. "$where"
	Msg string
}

func (e *QueryError) Error() string {
	if e.Op == "" {
		return "invalid query: " + e.Msg
	}
	return fmt.Sprintf("invalid query: %s: %s", e.Op, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidQuery) hold.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }
