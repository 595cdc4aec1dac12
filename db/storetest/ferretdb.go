package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// FerretDB is an in-process FerretDB v1.24 server on a SQLite directory,
// listening on 127.0.0.1. It speaks MongoDB's wire protocol, so the MongoDB
// store can be tested without a MongoDB installation.
type FerretDB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// NewFerretDB starts FerretDB with its SQLite files under dir (which must
// exist). It is for TestMain, which has no testing.TB; tests use
// StartFerretDB. Start one per test binary: FerretDB records its version
// in package state, so starting several at once races.
func NewFerretDB(dir string) (*FerretDB, error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler:  "sqlite",
		// Test data need not survive a power cut; without an fsync per
		// commit the write-heavy cases run several times faster.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(OFF)",
	})
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &FerretDB{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		s.Close()
		return nil, errors.New("start ferretdb: it reported an unparsable URI")
	}
	// FerretDB's operations are atomic per document only on one
	// connection: with a pool, concurrent findAndModify calls claim the
	// same document twice. MongoDB has no such limit; the tests that run
	// over FerretDB stand in for it on this one connection.
	u.RawQuery = "maxPoolSize=1"
	s.uri = u.String()
	return s, nil
}

// URI is the mongodb:// URI of the server, with maxPoolSize=1.
func (f *FerretDB) URI() string { return f.uri }

// Close stops the server and waits until it has closed its connections
// and files.
func (f *FerretDB) Close() {
	f.cancel()
	<-f.done
}

// StartFerretDB starts FerretDB for the test in a temporary directory,
// stops it when the test ends, and returns its mongodb:// URI (with
// maxPoolSize=1).
func StartFerretDB(t testing.TB) string {
	t.Helper()
	f, err := NewFerretDB(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f.URI()
}
