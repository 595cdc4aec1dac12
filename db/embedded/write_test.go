package embedded

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	_ "modernc.org/sqlite" // a second, independent connection to the file
)

func TestInsertManyKeepsTheDocumentsBeforeADuplicate(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("batch")
	mustIndex(t, c, true, "k")
	ids, err := c.InsertMany(ctx, []bson.M{{"k": 1}, {"k": 2}, {"k": 1}, {"k": 3}})
	var dup *db.DuplicateKeyError
	if !errors.As(err, &dup) || dup.Index != "k_1" || len(ids) != 2 {
		t.Fatalf("InsertMany = %v, %v; want 2 ids and a duplicate on k_1", ids, err)
	}
	docs, _ := c.Find(ctx, nil, nil)
	if got := field(docs, "k"); !reflect.DeepEqual(got, []any{int32(1), int32(2)}) {
		t.Fatalf("stored k = %v, want [1 2]", got)
	}
	if !reflect.DeepEqual(field(docs, "_id"), ids) {
		t.Fatalf("ids %v do not name the stored documents %v", ids, field(docs, "_id"))
	}
}

func TestInsertManyRefusesAnInvalidBatchWhole(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("batch")
	ids, err := c.InsertMany(ctx, []bson.M{{"ok": 1}, {"$bad": 1}})
	if !errors.Is(err, db.ErrInvalidDocument) || err.Error() != `document 1: invalid document: field "$bad" starts with "$"` || ids != nil {
		t.Fatalf("InsertMany = %v, %v", ids, err)
	}
	if n, _ := c.Count(ctx, nil); n != 0 {
		t.Fatalf("%d documents stored from a refused batch", n)
	}
}

func TestUpdateManyIsAllOrNothing(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("many")
	mustIndex(t, c, true, "k")
	mustInsert(t, c, bson.M{"k": 1}, bson.M{"k": 2}, bson.M{"k": 3})
	_, err := c.UpdateMany(ctx, nil, bson.M{"$set": bson.M{"k": 9}})
	var dup *db.DuplicateKeyError
	if !errors.As(err, &dup) || dup.Index != "k_1" {
		t.Fatalf("UpdateMany = %v, want a duplicate on k_1", err)
	}
	docs, _ := c.Find(ctx, nil, nil)
	if got := field(docs, "k"); !reflect.DeepEqual(got, []any{int32(1), int32(2), int32(3)}) {
		t.Fatalf("k after a failed UpdateMany = %v, want it unchanged", got)
	}
}

func TestUpsertAppliesSetOnInsertOnce(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("upsert")
	update := bson.M{"$inc": bson.M{"n": 1}, "$setOnInsert": bson.M{"first": "yes"}}
	for i := 1; i <= 2; i++ {
		res, err := c.UpdateOne(ctx, bson.M{"_id": "a", "kind": "x"}, update, &db.UpdateOptions{Upsert: true})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && (res.UpsertedID != "a" || res.Matched != 0) {
			t.Fatalf("first upsert = %+v, want UpsertedID a", res)
		}
		if i == 2 && (res.UpsertedID != nil || res.Matched != 1 || res.Modified != 1) {
			t.Fatalf("second upsert = %+v, want an update", res)
		}
	}
	doc, err := c.FindOne(ctx, db.ByID("a"), nil)
	want := bson.M{"_id": "a", "kind": "x", "n": int32(2), "first": "yes"}
	if err != nil || !reflect.DeepEqual(doc, want) {
		t.Fatalf("upserted document = %v, %v; want %v", doc, err, want)
	}
}

func TestReplaceOneKeepsID(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("replace")
	mustInsert(t, c, bson.M{"_id": int32(1), "a": 1})
	scenarios := []struct {
		name string
		doc  bson.M
		want string
		is   error
	}{
		{"other _id", bson.M{"_id": 2, "a": 2}, "invalid query: _id: _id is immutable; the replacement has a different one", db.ErrInvalidQuery},
		{"operators", bson.M{"$set": bson.M{"a": 2}}, `invalid document: a replacement cannot hold the operator "$set"; use UpdateOne to apply update operators`, db.ErrInvalidDocument},
		{"bad field", bson.M{"a.b": 2}, `invalid document: field "a.b" contains "."`, db.ErrInvalidDocument},
	}
	for _, sc := range scenarios {
		_, err := c.ReplaceOne(ctx, db.ByID(1), sc.doc, nil)
		if !errors.Is(err, sc.is) || err.Error() != sc.want {
			t.Errorf("%s: ReplaceOne = %v, want %q", sc.name, err, sc.want)
		}
	}
	// The same _id of another numeric type is the same _id.
	res, err := c.ReplaceOne(ctx, db.ByID(1), bson.M{"_id": 1.0, "b": 2}, nil)
	if err != nil || res.Matched != 1 || res.Modified != 1 {
		t.Fatalf("ReplaceOne = %+v, %v", res, err)
	}
	doc, _ := c.FindOne(ctx, nil, nil)
	if want := (bson.M{"_id": int32(1), "b": int32(2)}); !reflect.DeepEqual(doc, want) {
		t.Fatalf("replaced document = %v, want %v", doc, want)
	}
	res, err = c.ReplaceOne(ctx, db.ByID(1), bson.M{"b": 2}, nil)
	if err != nil || res.Matched != 1 || res.Modified != 0 {
		t.Fatalf("identical ReplaceOne = %+v, %v; want matched 1, modified 0", res, err)
	}
}

func TestNaturalOrderDoesNotDependOnTheIndex(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("order")
	mustIndex(t, c, false, "v")
	for _, v := range []int{5, 3, 9, 1, 7} {
		mustInsert(t, c, bson.M{"v": v})
	}
	docs, err := c.Find(ctx, bson.M{"v": bson.M{"$gte": 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := field(docs, "v"); !reflect.DeepEqual(got, []any{int32(5), int32(3), int32(9), int32(1), int32(7)}) {
		t.Fatalf("indexed range in natural order = %v", got)
	}
	docs, _ = c.Find(ctx, bson.M{"v": bson.M{"$gte": 0}}, &db.FindOptions{Sort: bson.D{{Key: "v", Value: -1}}, Skip: 1, Limit: 2})
	if got := field(docs, "v"); !reflect.DeepEqual(got, []any{int32(7), int32(5)}) {
		t.Fatalf("sorted, skipped, limited = %v, want [7 5]", got)
	}
	docs, _ = c.Find(ctx, nil, &db.FindOptions{Skip: 3, Limit: 5})
	if got := field(docs, "v"); !reflect.DeepEqual(got, []any{int32(1), int32(7)}) {
		t.Fatalf("skip 3 of all = %v, want [1 7]", got)
	}
}

func TestFindOneAndUpdateTakesTheFirstInSortOrder(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("queue")
	for _, p := range []int{2, 8, 5, 8} {
		mustInsert(t, c, bson.M{"p": p, "state": "new"})
	}
	ids := field(mustFind(t, c), "_id")
	doc, err := c.FindOneAndUpdate(ctx, bson.M{"state": "new"}, bson.M{"$set": bson.M{"state": "taken"}},
		&db.FindOneAndUpdateOptions{Sort: bson.D{{Key: "p", Value: -1}}, Projection: bson.M{"p": 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The first of the two 8s, returned as it was, projected.
	if want := (bson.M{"_id": ids[1], "p": int32(8)}); !reflect.DeepEqual(doc, want) {
		t.Fatalf("FindOneAndUpdate = %v, want %v", doc, want)
	}
	if got := field(mustFind(t, c), "state"); !reflect.DeepEqual(got, []any{"new", "taken", "new", "new"}) {
		t.Fatalf("states = %v", got)
	}
}

func mustFind(t *testing.T, c db.Collection) []bson.M {
	t.Helper()
	docs, err := c.Find(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestBusyIsAClearError holds the write lock from another connection,
// as another process would.
func TestBusyIsAClearError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx := context.Background()
	c := s.C("busy")
	mustInsert(t, c, bson.M{"a": 1})

	other, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO "c_busy" (id, doc) VALUES ('uncommitted', x'0500000000')`); err != nil {
		t.Fatal(err)
	}
	_, err = c.InsertOne(ctx, bson.M{"a": 2})
	want := "insert into busy: database busy: another process held the write lock for more than 50ms"
	if !errors.Is(err, ErrBusy) || err.Error() != want {
		t.Fatalf("InsertOne while locked = %v, want %q", err, want)
	}
	// Reads go on, seeing what was committed.
	if n, err := c.Count(ctx, nil); err != nil || n != 1 {
		t.Fatalf("Count while locked = %d, %v; want 1", n, err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, c, bson.M{"a": 3})
}
