package embedded

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{}, "invalid embedded store configuration: dir is empty; name the directory that holds the database"},
		{"bad synchronous", Config{Dir: "x", Synchronous: "off"}, `invalid embedded store configuration: synchronous is "off"; use normal or full`},
		{"negative timeout", Config{Dir: "x", BusyTimeout: -time.Second}, "invalid embedded store configuration: busy_timeout is negative (-1s)"},
		{"negative conns", Config{Dir: "x", ReadConns: -1}, "invalid embedded store configuration: read_conns is negative (-1)"},
		{"negative cache", Config{Dir: "x", CacheKB: -1}, "invalid embedded store configuration: cache_kb is negative (-1)"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			err := sc.cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) || err.Error() != sc.want {
				t.Fatalf("Validate = %v, want %q", err, sc.want)
			}
			if _, err := Open(sc.cfg); err == nil || err.Error() != sc.want {
				t.Fatalf("Open = %v, want %q", err, sc.want)
			}
		})
	}
	for _, ok := range []Config{{Dir: "x"}, {Dir: "x", Synchronous: "FULL"}, {Dir: "x", Synchronous: "normal", BusyTimeout: time.Second, ReadConns: 2, CacheKB: 512}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", ok, err)
		}
	}
}

func TestOpenCreatesTheDirectoryAndOneFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := Open(Config{Dir: dir, Synchronous: "full"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if s.Path() != filepath.Join(dir, FileName) {
		t.Fatalf("Path = %q", s.Path())
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	if err := s.read.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	sync, err := s.writer.queryInt(context.Background(), "PRAGMA synchronous")
	if err != nil || sync != 2 {
		t.Fatalf("synchronous = %d, %v; want 2 (full)", sync, err)
	}
}

func TestOpenRefusesANewerFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openDir(t, dir)
	if _, err := s.writer.h.ExecContext(context.Background(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close(context.Background())
	_, err := Open(Config{Dir: dir})
	want := "embedded: " + filepath.Join(dir, FileName) + " has layout version 99; this Moonbase reads up to 1, so it is older than the one that wrote the file"
	if err == nil || err.Error() != want {
		t.Fatalf("Open = %v, want %q", err, want)
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("things")
	mustInsert(t, c, bson.M{"a": 1})
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	calls := map[string]error{
		"Ping":        s.Ping(ctx),
		"Collections": second(s.Collections(ctx)),
		"InsertOne":   second(c.InsertOne(ctx, bson.M{})),
		"Find":        second(c.Find(ctx, nil, nil)),
		"Count":       second(c.Count(ctx, nil)),
		"UpdateMany":  second(c.UpdateMany(ctx, nil, bson.M{"$set": bson.M{"a": 2}})),
		"DeleteMany":  second(c.DeleteMany(ctx, nil)),
		"EnsureIndex": c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "a"}}}),
		"Drop":        c.Drop(ctx),
	}
	for name, err := range calls {
		if !errors.Is(err, db.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestCollectionsDropAndNames(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if names, err := s.Collections(ctx); err != nil || len(names) != 0 {
		t.Fatalf("Collections of a new store = %v, %v", names, err)
	}
	// SQLite folds the case of table names; MongoDB does not.
	mustInsert(t, s.C("Orders"), bson.M{"n": 1})
	mustInsert(t, s.C("orders"), bson.M{"n": 2}, bson.M{"n": 3})
	mustInsert(t, s.C("_users"), bson.M{"n": 4})
	mustInsert(t, s.C("with-dash"), bson.M{"n": 5})
	mustIndex(t, s.C("idx_only"), false, "n")
	names, err := s.Collections(ctx)
	if want := []string{"Orders", "_users", "idx_only", "orders", "with-dash"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Fatalf("Collections = %v, %v; want %v", names, err, want)
	}
	for name, want := range map[string]int64{"Orders": 1, "orders": 2, "_users": 1, "with-dash": 1, "idx_only": 0, "never": 0} {
		if n, err := s.C(name).Count(ctx, nil); err != nil || n != want {
			t.Errorf("Count(%s) = %d, %v; want %d", name, n, err, want)
		}
	}
	if err := s.C("orders").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.C("never").Drop(ctx); err != nil {
		t.Fatalf("Drop of a collection that never existed: %v", err)
	}
	names, _ = s.Collections(ctx)
	if want := []string{"Orders", "_users", "idx_only", "with-dash"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Collections after Drop = %v; want %v", names, want)
	}
	if docs, err := s.C("orders").Find(ctx, nil, nil); err != nil || len(docs) != 0 || docs == nil {
		t.Fatalf("Find after Drop = %#v, %v; want an empty slice", docs, err)
	}
	// A dropped collection comes back empty, without its old indexes.
	mustInsert(t, s.C("orders"), bson.M{"n": 2})
	if specs, err := s.indexSpecs(ctx, "orders"); err != nil || len(specs) != 0 {
		t.Fatalf("indexes after Drop = %v, %v", specs, err)
	}
}

func TestInvalidCollectionNames(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	for _, name := range []string{"", "1abc", "-x", "a.b", "a b", `a"b`, "ü"} {
		c := s.C(name)
		if c.Name() != name {
			t.Errorf("Name() = %q, want %q", c.Name(), name)
		}
		_, err := c.InsertOne(ctx, bson.M{"a": 1})
		want := db.ValidateCollectionName(name)
		if !errors.Is(err, db.ErrInvalidName) || err.Error() != want.Error() {
			t.Errorf("InsertOne into %q = %v, want %v", name, err, want)
		}
		if _, err := c.Find(ctx, nil, nil); !errors.Is(err, db.ErrInvalidName) {
			t.Errorf("Find in %q = %v, want ErrInvalidName", name, err)
		}
	}
}

func TestEnsureIndex(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("ix")
	mustInsert(t, c, bson.M{"a": 1, "b": 1}, bson.M{"a": 1, "b": 2})
	idx := db.Index{Keys: []db.IndexKey{{Field: "b"}}, Unique: true}
	if err := c.EnsureIndex(ctx, idx); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureIndex(ctx, idx); err != nil {
		t.Fatalf("ensuring the same index again: %v", err)
	}
	if err := c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "_id"}}}); err != nil {
		t.Fatalf("index on _id: %v", err)
	}
	scenarios := []struct {
		name string
		idx  db.Index
		want string
		is   error
	}{
		{"duplicates", db.Index{Keys: []db.IndexKey{{Field: "a"}}, Unique: true}, "duplicate key in ix (index a_1)", db.ErrDuplicateKey},
		{"name taken", db.Index{Name: "b_1", Keys: []db.IndexKey{{Field: "a"}}}, `invalid name: index "b_1" on ix already exists with different keys or options`, db.ErrInvalidName},
		{"options differ", db.Index{Keys: []db.IndexKey{{Field: "b"}}}, `invalid name: index "b_1" on ix already exists with different keys or options`, db.ErrInvalidName},
		{"keys taken", db.Index{Name: "other", Keys: []db.IndexKey{{Field: "b"}}, Unique: true}, `invalid name: index "other" on ix has the same keys as the existing index "b_1"`, db.ErrInvalidName},
		{"no keys", db.Index{}, "invalid query: an index needs at least one field", db.ErrInvalidQuery},
		{"empty part", db.Index{Keys: []db.IndexKey{{Field: "a..b"}}}, `invalid query: a..b: field path "a..b" has an empty part`, db.ErrInvalidQuery},
		{"dollar", db.Index{Keys: []db.IndexKey{{Field: "a.$"}}}, `invalid query: a.$: field path "a.$": positional and $-prefixed parts are not supported`, db.ErrInvalidQuery},
		{"twice", db.Index{Keys: []db.IndexKey{{Field: "a"}, {Field: "a", Desc: true}}}, "invalid query: a: the field appears twice in the index", db.ErrInvalidQuery},
		{"bad name", db.Index{Name: "$x", Keys: []db.IndexKey{{Field: "a"}}}, `invalid name: index "$x": use 1-127 characters, not starting with $`, db.ErrInvalidName},
	}
	for _, sc := range scenarios {
		err := c.EnsureIndex(ctx, sc.idx)
		if !errors.Is(err, sc.is) || err.Error() != sc.want {
			t.Errorf("%s: EnsureIndex = %v, want %q", sc.name, err, sc.want)
		}
	}
	specs, err := s.indexSpecs(ctx, "ix")
	if err != nil || len(specs) != 1 || specs[0].Name != "b_1" {
		t.Fatalf("indexes = %+v, %v; want only b_1", specs, err)
	}
	// Names with any case and punctuation stay distinct in SQLite.
	for _, name := range []string{"Upper", "upper", "with space", `quo"te`, "dots.in.name"} {
		if err := c.EnsureIndex(ctx, db.Index{Name: name, Keys: []db.IndexKey{{Field: name + "f"}}}); err != nil {
			t.Errorf("EnsureIndex named %q: %v", name, err)
		}
	}
	_, err = c.InsertOne(ctx, bson.M{"b": 2})
	var dup *db.DuplicateKeyError
	if !asDup(err, &dup) || dup.Index != "b_1" {
		t.Fatalf("duplicate insert = %v, want index b_1", err)
	}
	_, err = c.InsertOne(ctx, bson.M{"_id": mustFirstID(t, c), "b": 99})
	if !asDup(err, &dup) || dup.Index != "_id_" || err.Error() != "duplicate key in ix (index _id_)" {
		t.Fatalf("duplicate _id = %v, want index _id_", err)
	}
}

func mustFirstID(t *testing.T, c db.Collection) any {
	t.Helper()
	docs, err := c.Find(context.Background(), nil, &db.FindOptions{Limit: 1})
	if err != nil || len(docs) == 0 {
		t.Fatalf("Find: %v, %v", docs, err)
	}
	return docs[0]["_id"]
}

func TestEscapedNamesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "A", "_users", "Mixed_Case-name", "__", "x.y", "über"} {
		if got := unescapeName(escapeName(name)); got != name {
			t.Errorf("unescape(escape(%q)) = %q", name, got)
		}
	}
	if escapeName("Orders") == escapeName("orders") {
		t.Fatal("Orders and orders share a table")
	}
	if got := uniqueIndexName("UNIQUE constraint failed: index 'i__orders.email__1'"); got != "email_1" {
		t.Errorf("uniqueIndexName = %q", got)
	}
	if got := uniqueIndexName("UNIQUE constraint failed: c_orders.id"); got != "_id_" {
		t.Errorf("uniqueIndexName = %q", got)
	}
}

// TestCacheKBSetsEveryConnection checks that the page cache each
// connection may keep is the configured one, on reads and on the write
// connection alike.
func TestCacheKBSetsEveryConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, sc := range []struct {
		cfg  Config
		want int64
	}{{Config{}, -DefaultCacheKB}, {Config{CacheKB: 512}, -512}} {
		sc.cfg.Dir = t.TempDir()
		s, err := Open(sc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		read, err := s.reader.queryInt(ctx, "PRAGMA cache_size")
		if err != nil {
			t.Fatal(err)
		}
		write, err := s.writer.queryInt(ctx, "PRAGMA cache_size")
		if err != nil {
			t.Fatal(err)
		}
		if read != sc.want || write != sc.want {
			t.Errorf("cache_size with %+v: read %d, write %d, want %d", sc.cfg, read, write, sc.want)
		}
		s.Close(ctx)
	}
}
