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
