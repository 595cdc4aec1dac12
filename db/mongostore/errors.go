package mongostore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/mongo"
)

// ErrInvalidConfig is returned by Open and Config.Validate for a
// configuration that cannot work.
var ErrInvalidConfig = errors.New("invalid mongodb configuration")

// isQueryCode reports whether a MongoDB server error code means the
// request itself was malformed, so retrying it can never succeed.
func isQueryCode(code int32) bool {
	switch code {
	case 2, // BadValue
		9,     // FailedToParse
		14,    // TypeMismatch
		15,    // Overflow
		16,    // InvalidLength
		28,    // PathNotViable
		40,    // ConflictingUpdateOperators
		52,    // DollarPrefixedFieldName
		54,    // NotSingleValueField
		55,    // InvalidDBRef
		56,    // EmptyFieldName
		57,    // DottedFieldName
		66,    // ImmutableField
		67,    // CannotCreateIndex
		72,    // InvalidOptions
		238,   // NotImplemented
		51091, // invalid regular expression
		51108: // invalid regular expression flags
		return true
	}
	return false
}

var duplicateIndex = regexp.MustCompile(`index: (\S+)`)

// mapError turns a driver error into the db sentinels. Errors that are not
// about the request (network, timeouts) keep their text but not the
// driver's types, except context errors, which stay matchable.
func mapError(coll, op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return db.ErrNotFound
	case errors.Is(err, mongo.ErrClientDisconnected):
		return db.ErrClosed
	case mongo.IsDuplicateKeyError(err):
		dup := &db.DuplicateKeyError{Collection: coll}
		if m := duplicateIndex.FindStringSubmatch(err.Error()); m != nil {
			dup.Index = m[1]
		}
		return dup
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: %w", op, coll, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, coll, context.DeadlineExceeded)
	}
	if code, name, msg, ok := serverError(err); ok && (isQueryCode(code) || strings.HasPrefix(name, "Location")) {
		return &db.QueryError{Msg: msg}
	}
	return fmt.Errorf("%s %s: mongodb: %s", op, coll, err.Error())
}

// serverError extracts the first error code, code name and message the
// server sent, whichever shape the driver wrapped them in.
func serverError(err error) (code int32, name, msg string, ok bool) {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code, ce.Name, ce.Message, true
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if len(we.WriteErrors) > 0 {
			e := we.WriteErrors[0]
			return int32(e.Code), "", e.Message, true
		}
		if we.WriteConcernError != nil {
			return int32(we.WriteConcernError.Code), we.WriteConcernError.Name, we.WriteConcernError.Message, true
		}
	}
	var be mongo.BulkWriteException
	if errors.As(err, &be) && len(be.WriteErrors) > 0 {
		e := be.WriteErrors[0]
		return int32(e.Code), "", e.Message, true
	}
	return 0, "", "", false
}
