package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/storetest"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ferretURI is the FerretDB every test of the package shares; starting
// one costs more than all the tests that use it.
var ferretURI string

func TestMain(m *testing.M) {
	os.Exit(runWithFerretDB(m))
}

func runWithFerretDB(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mongostore-ferretdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	f, err := storetest.NewFerretDB(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	ferretURI = f.URI()
	return m.Run()
}

// ferretQuirks are FerretDB v1.24's departures from MongoDB that the
// conformance suite knows by name.
func ferretQuirks() map[string]bool {
	return map[string]bool{
		"ferretdb-duplicate-key-index-name":     true,
		"ferretdb-duplicate-key-on-update":      true,
		"ferretdb-unique-index-over-duplicates": true,
		"ferretdb-unique-missing-field":         true,
		"ferretdb-nested-arrays":                true,
		"ferretdb-pull-condition":               true,
		"ferretdb-inc-zero-modifies":            true,
		"ferretdb-findandmodify-projection":     true,
		"ferretdb-elemmatch-documents":          true,
		"ferretdb-elemmatch-any-element":        true,
		"ferretdb-upsert-and":                   true,
		"ferretdb-index-options-conflict":       true,
		"ferretdb-regex-dollar":                 true,
	}
}

// opener opens a store on cfg for each group of the suite, closing it when
// the group ends.
func opener(cfg Config) func(t *testing.T) db.Store {
	return func(t *testing.T) db.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	}
}

func TestConformanceFerretDB(t *testing.T) {
	storetest.Run(t, opener(Config{URI: ferretURI, Database: "conformance"}), storetest.Options{Quirks: ferretQuirks(), NoTransactions: true})
}

// TestConformanceMongoDB runs the suite against a real MongoDB when
// MOONBASE_TEST_MONGO_URI names one, in a database of its own that is
// dropped afterwards.
func TestConformanceMongoDB(t *testing.T) {
	uri := os.Getenv("MOONBASE_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("MOONBASE_TEST_MONGO_URI is not set")
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "moonbase_test_" + hex.EncodeToString(suffix)
	t.Cleanup(func() { dropDatabase(t, uri, name) })
	storetest.Run(t, opener(Config{URI: uri, Database: name}), storetest.Options{Parallel: true, NoTransactions: true})
}

func dropDatabase(t *testing.T, uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer client.Disconnect(ctx)
	if err := client.Database(name).Drop(ctx); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

func TestConfig(t *testing.T) {
	scenarios := []struct {
		name     string
		cfg      Config
		database string // after defaults; "" when Validate must fail
	}{
		{"DatabaseFromURI", Config{URI: "mongodb://localhost:27017/app"}, "app"},
		{"DatabaseFromURIWithOptions", Config{URI: "mongodb://u:p@h1,h2/app?replicaSet=rs0"}, "app"},
		{"DefaultDatabase", Config{URI: "mongodb://localhost:27017"}, "moonbase"},
		{"DefaultDatabaseWithSlash", Config{URI: "mongodb://localhost:27017/"}, "moonbase"},
		{"DatabaseWins", Config{URI: "mongodb://localhost/app", Database: "other"}, "other"},
		{"SRV", Config{URI: "mongodb+srv://cluster.example.com/app"}, "app"},
		{"Empty", Config{}, ""},
		{"OtherScheme", Config{URI: "postgres://localhost/app"}, ""},
		{"Unparsable", Config{URI: "mongodb://localhost:notaport/app"}, ""},
		{"DatabaseWithDot", Config{URI: "mongodb://localhost", Database: "a.b"}, ""},
		{"DatabaseWithSpace", Config{URI: "mongodb://localhost", Database: "a b"}, ""},
		{"DatabaseTooLong", Config{URI: "mongodb://localhost", Database: string(make([]byte, 64))}, ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := s.cfg.Validate()
			if s.database == "" {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got := s.cfg.withDefaults().Database; got != s.database {
				t.Errorf("database = %q, want %q", got, s.database)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	scenarios := []struct {
		name string
		cfg  Config
		want string
	}{
		{"Scheme", Config{URI: "http://localhost"}, "invalid mongodb configuration: uri must start with mongodb:// or mongodb+srv://"},
		{"PasswordNotEchoed", Config{URI: "mongodb://user:s3cret@localhost:notaport/app"}, "invalid mongodb configuration: uri is not a valid MongoDB connection string"},
		{"Database", Config{URI: "mongodb://localhost", Database: "a.b"}, `invalid mongodb configuration: database "a.b": use at most 63 characters, none of /\. "$*<>:|?`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), s.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Open = %v, want ErrInvalidConfig", err)
			}
			if err.Error() != s.want {
				t.Errorf("Open error:\n got  %s\n want %s", err, s.want)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The context ends before the driver's own 30 s server selection
	// timeout, so the error is the context's.
	s, err := Open(ctx, Config{URI: "mongodb://127.0.0.1:1/"})
	if err == nil {
		s.Close(context.Background())
		t.Fatal("Open succeeded against a port nothing listens on")
	}
	if want := "open mongodb database moonbase: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Open error = %q, want it to start with %q", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open error = %v, want it to match context.DeadlineExceeded", err)
	}
}

func TestDatabase(t *testing.T) {
	s := opener(Config{URI: ferretURI, Database: "named"})(t)
	if got := s.(*Store).Database(); got != "named" {
		t.Errorf("Database() = %q, want named", got)
	}
}

func TestIndexName(t *testing.T) {
	scenarios := []struct {
		keys []db.IndexKey
		want string
	}{
		{[]db.IndexKey{{Field: "email"}}, "email_1"},
		{[]db.IndexKey{{Field: "owner"}, {Field: "created", Desc: true}}, "owner_1_created_-1"},
		{[]db.IndexKey{{Field: "profile.email"}}, "profile.email_1"},
	}
	for _, s := range scenarios {
		if got := IndexName(s.keys); got != s.want {
			t.Errorf("IndexName(%v) = %q, want %q", s.keys, got, s.want)
		}
	}
}
