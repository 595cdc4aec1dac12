package db

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// Rule says who may read or write a collection's documents.
type Rule string

// The access rules. Owner is the default.
const (
	RuleOwner         Rule = "owner"         // signed-in users, their own documents only
	RuleAuthenticated Rule = "authenticated" // any signed-in user, any document
	RulePublic        Rule = "public"        // anyone, signed in or not
	RuleNone          Rule = "none"          // nobody but the server and its functions
)

// OwnerField is the field that records who created a document.
const OwnerField = "_owner"

// Errors of access checks.
var (
	// ErrUnauthenticated: the rule needs a signed-in user and there is none.
	ErrUnauthenticated = errors.New("sign in required")
	// ErrForbidden: the rule refuses this caller.
	ErrForbidden = errors.New("not allowed")
)

// Access is a collection's pair of rules.
type Access struct {
	Read  Rule `yaml:"read" json:"read"`
	Write Rule `yaml:"write" json:"write"`
}

// Validate refuses a rule that is not one of the four.
func (a Access) Validate() error {
	for _, r := range []Rule{a.Read, a.Write} {
		switch r {
		case "", RuleOwner, RuleAuthenticated, RulePublic, RuleNone:
		default:
			return fmt.Errorf("unknown access rule %q (use owner, authenticated, public or none)", r)
		}
	}
	return nil
}

// Scope checks whether the caller (userID, empty for nobody signed in) may
// read (write=false) or write under the rules, and returns the filter that
// must be ANDed to every query it makes, or nil when it sees everything.
// Under the owner rule that filter is {_owner: userID}; a document outside
// it does not exist for the caller, so callers answer "not found".
func (a Access) Scope(userID string, write bool) (bson.M, error) {
	rule := a.Read
	if write {
		rule = a.Write
	}
	switch rule {
	case RulePublic:
		return nil, nil
	case RuleNone:
		return nil, ErrForbidden
	case RuleAuthenticated:
		if userID == "" {
			return nil, ErrUnauthenticated
		}
		return nil, nil
	default: // owner
		if userID == "" {
			return nil, ErrUnauthenticated
		}
		return bson.M{OwnerField: userID}, nil
	}
}

// And combines filters with $and, leaving out nil ones.
func And(filters ...bson.M) bson.M {
	var parts bson.A
	for _, f := range filters {
		if len(f) > 0 {
			parts = append(parts, f)
		}
	}
	switch len(parts) {
	case 0:
		return bson.M{}
	case 1:
		return parts[0].(bson.M)
	}
	return bson.M{"$and": parts}
}
