package db

import (
	"fmt"
	"regexp"
	"strings"
)

var collectionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)

// ValidateCollectionName refuses names that are empty, longer than 64
// characters, or hold anything but letters, digits, "_" and "-" (so a name
// is safe as a SQLite table name and a MongoDB collection name alike).
func ValidateCollectionName(name string) error {
	if !collectionName.MatchString(name) {
		return fmt.Errorf("%w: collection %q: use 1-64 letters, digits, _ or -, not starting with a digit or -", ErrInvalidName, name)
	}
	return nil
}

// IsSystemCollection reports whether name belongs to moonbase itself.
func IsSystemCollection(name string) bool { return strings.HasPrefix(name, "_") }

// IDIndex is the name of the index on _id every collection has; it cannot
// be made or dropped by name.
const IDIndex = "_id_"

// ValidateIndexName refuses what MongoDB refuses as an index name (empty,
// over 127 characters, starting with "$" or holding a NUL byte) and "*",
// which MongoDB's dropIndexes takes to mean every index.
func ValidateIndexName(name string) error {
	if name == "" || name == "*" || strings.HasPrefix(name, "$") || strings.ContainsRune(name, 0) || len(name) > 127 {
		return fmt.Errorf("%w: index %q: use 1-127 characters, not starting with $", ErrInvalidName, name)
	}
	return nil
}
