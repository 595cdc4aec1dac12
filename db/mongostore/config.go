package mongostore

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"
)

// DefaultDatabase is the database used when neither Config.Database nor the
// URI's path names one.
const DefaultDatabase = "moonbase"

// Config selects the MongoDB deployment and database.
type Config struct {
	// URI is a mongodb:// or mongodb+srv:// connection string.
	URI string `yaml:"uri"`
	// Database defaults to the URI's path ("mongodb://host/app" → "app"),
	// else DefaultDatabase.
	Database string `yaml:"database"`
	// MaxPoolSize caps the connections per server; 0 keeps the driver's
	// default (100).
	MaxPoolSize uint64 `yaml:"max_pool_size"`
}

// withDefaults fills Database from the URI or DefaultDatabase. It assumes
// the URI parses; Validate reports it when it does not.
func (c Config) withDefaults() Config {
	if c.Database == "" {
		if cs, err := parseOffline(c.URI); err == nil {
			c.Database = cs.Database
		}
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	return c
}

// Validate refuses a URI that is not a MongoDB connection string and a
// database name MongoDB would refuse.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.URI, "mongodb://") && !strings.HasPrefix(c.URI, "mongodb+srv://") {
		return fmt.Errorf("%w: uri must start with mongodb:// or mongodb+srv://", ErrInvalidConfig)
	}
	if _, err := parseOffline(c.URI); err != nil {
		// The driver's message can quote the password; say only what is wrong.
		return fmt.Errorf("%w: uri is not a valid MongoDB connection string", ErrInvalidConfig)
	}
	name := c.withDefaults().Database
	if len(name) > 63 || strings.ContainsAny(name, "/\\. \"$*<>:|?\x00") {
		return fmt.Errorf("%w: database %q: use at most 63 characters, none of /\\. \"$*<>:|?", ErrInvalidConfig, name)
	}
	return nil
}

// parseOffline parses a connection string without the DNS lookups the
// driver makes for mongodb+srv:// (so validating a config never touches
// the network): an SRV URI parses as the plain URI of its one host. Open
// checks the real thing.
func parseOffline(uri string) (*connstring.ConnString, error) {
	if rest, ok := strings.CutPrefix(uri, "mongodb+srv://"); ok {
		uri = "mongodb://" + rest
	}
	return connstring.Parse(uri)
}
