package embedded

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestExplainUsesIndexes proves with SQLite's own EXPLAIN QUERY PLAN that
// indexed queries search the index instead of scanning the table.
func TestExplainUsesIndexes(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := coll(s, "plans")
	mustInsert(t, c, bson.M{"email": "a@example.com", "owner": "u1", "created": time.Now(), "n": 1})
	mustIndex(t, c, true, "email")
	mustIndex(t, c, false, "n")
	if err := c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "owner"}, {Field: "created", Desc: true}}}); err != nil {
		t.Fatal(err)
	}
	ix := func(name string) string { return "USING INDEX " + strings.Trim(indexSQLName("plans", name), `"`) }
	id := primitive.NewObjectID()
	scenarios := []struct {
		name   string
		filter bson.M
		want   []string // substrings of the plan, in order
	}{
		{"unique equality", bson.M{"email": "a@example.com"}, []string{ix("email_1") + " (<expr>=?)"}},
		{"$eq", bson.M{"email": bson.M{"$eq": "a@example.com"}}, []string{ix("email_1") + " (<expr>=?)"}},
		{"$in", bson.M{"n": bson.M{"$in": bson.A{1, 2, 3}}}, []string{ix("n_1") + " (<expr>=?)"}},
		{"range", bson.M{"n": bson.M{"$gt": 5, "$lte": 10}}, []string{ix("n_1") + " (<expr>>? AND <expr><?)"}},
		{"open range", bson.M{"n": bson.M{"$gte": 5}}, []string{ix("n_1") + " (<expr>>? AND <expr><?)"}},
		{"compound prefix", bson.M{"owner": "u1"}, []string{ix("owner_1_created_-1") + " (<expr>=?)"}},
		{"compound equality and range", bson.M{"owner": "u1", "created": bson.M{"$lt": time.Now()}},
			[]string{ix("owner_1_created_-1") + " (<expr>=? AND <expr>>? AND <expr><?)"}},
		{"compound equalities", bson.M{"owner": "u1", "created": time.Now()},
			[]string{ix("owner_1_created_-1") + " (<expr>=? AND <expr>=?)"}},
		{"$and", bson.M{"$and": bson.A{bson.M{"email": "x"}, bson.M{"other": 1}}}, []string{ix("email_1")}},
		{"unique wins over prefix", bson.M{"owner": "u1", "email": "x"}, []string{ix("email_1")}},
		{"_id", bson.M{"_id": id}, []string{"USING INDEX sqlite_autoindex_c_plans_1 (id=?)"}},
		{"_id $in", bson.M{"_id": bson.M{"$in": bson.A{id, "x"}}}, []string{"USING INDEX sqlite_autoindex_c_plans_1 (id=?)"}},
		{"_id beats an index", bson.M{"_id": id, "email": "x"}, []string{"(id=?)"}},
		{"unindexed field scans", bson.M{"other": 1}, []string{"SCAN c_plans"}},
		{"$or scans", bson.M{"$or": bson.A{bson.M{"email": "x"}, bson.M{"n": 1}}}, []string{"SCAN c_plans"}},
		{"regex scans", bson.M{"email": primitive.Regex{Pattern: "^a"}}, []string{"SCAN c_plans"}},
		{"$ne scans", bson.M{"n": bson.M{"$ne": 1}}, []string{"SCAN c_plans"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			plan, err := c.explain(ctx, sc.filter, nil)
			if err != nil {
				t.Fatal(err)
			}
			rest := plan
			for _, w := range sc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("plan of %v lacks %q:\n%s", sc.filter, w, plan)
				}
				rest = rest[i+len(w):]
			}
			if !strings.HasPrefix(sc.want[0], "SCAN") && strings.Contains(plan, "SCAN c_plans") {
				t.Fatalf("plan of %v scans the table:\n%s", sc.filter, plan)
			}
		})
	}
}

// narrowingValues are field values of every shape an index must cope
// with: every type bracket, arrays, documents and nothing at all.
var narrowingValues = []any{
	int32(1), int64(2), 2.0, 2.5, -3, math.NaN(), math.Inf(1),
	"", "a", "b", "ab",
	true, false, nil,
	primitive.DateTime(1000), primitive.DateTime(2000),
	primitive.ObjectID{1}, primitive.ObjectID{2},
	bson.A{}, bson.A{1, 2}, bson.A{2, 3}, bson.A{"a", bson.A{1, 2}}, bson.A{nil}, bson.A{bson.M{"b": 1}},
	bson.M{"b": 1}, bson.M{"b": 2.0}, bson.M{"b": "a"}, bson.M{"c": 1},
	primitive.MinKey{}, primitive.MaxKey{},
}

// TestIndexNarrowingMatchesScan runs the same filters against a collection
// with indexes and one without: the index may only narrow what is read,
// never change what matches.
func TestIndexNarrowingMatchesScan(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	plain, indexed := s.C("plain"), s.C("indexed")
	mustIndex(t, indexed, false, "v")
	mustIndex(t, indexed, false, "a.b")
	mustIndex(t, indexed, false, "k", "v")
	var docs []bson.M
	for i, v := range narrowingValues {
		docs = append(docs,
			bson.M{"_id": i, "v": v, "k": i % 2},
			bson.M{"_id": 1000 + i, "a": bson.M{"b": v}, "k": i % 2},
			bson.M{"_id": 2000 + i, "a": bson.A{bson.M{"b": v}}},
		)
	}
	docs = append(docs, bson.M{"_id": "none"}, bson.M{"_id": "scalar-a", "a": 5})
	for _, c := range []db.Collection{plain, indexed} {
		if _, err := c.InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	var filters []bson.M
	for _, v := range narrowingValues {
		filters = append(filters,
			bson.M{"v": v}, bson.M{"a.b": v}, bson.M{"v": bson.M{"$eq": v}},
			bson.M{"k": 1, "v": v},
			bson.M{"v": bson.M{"$in": bson.A{v, "a"}}},
			bson.M{"$and": bson.A{bson.M{"v": v}, bson.M{"k": 0}}},
		)
		for _, op := range []string{"$gt", "$gte", "$lt", "$lte"} {
			filters = append(filters, bson.M{"v": bson.M{op: v}}, bson.M{"a.b": bson.M{op: v}})
		}
		filters = append(filters, bson.M{"v": bson.M{"$gt": v, "$lt": "zzz"}})
	}
	for i, f := range filters {
		want, err := plain.Find(ctx, f, nil)
		if err != nil {
			t.Fatalf("Find(%v) without index: %v", f, err)
		}
		got, err := indexed.Find(ctx, f, nil)
		if err != nil {
			t.Fatalf("Find(%v) with index: %v", f, err)
		}
		if !reflect.DeepEqual(field(got, "_id"), field(want, "_id")) {
			t.Errorf("Find(%v): with index %v, by scan %v", f, field(got, "_id"), field(want, "_id"))
		}
		if i%7 != 0 {
			continue // Count takes the same path; a sample keeps -race fast
		}
		n, err := indexed.Count(ctx, f)
		if err != nil || n != int64(len(want)) {
			t.Errorf("Count(%v) = %d, %v; want %d", f, n, err, len(want))
		}
	}
}

// TestUniqueIndexTreatsMissingAsNull matches MongoDB: two documents
// without the field collide in a unique index.
func TestUniqueIndexTreatsMissingAsNull(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := s.C("users")
	mustIndex(t, c, true, "email")
	mustInsert(t, c, bson.M{"name": "no email"})
	for _, doc := range []bson.M{{"name": "also none"}, {"email": nil}} {
		_, err := c.InsertOne(ctx, doc)
		var dup *db.DuplicateKeyError
		if !asDup(err, &dup) || dup.Index != "email_1" || dup.Collection != "users" {
			t.Fatalf("InsertOne(%v) = %v, want a duplicate on users.email_1", doc, err)
		}
	}
	// Numbers collide across types, as MongoDB compares them by value.
	mustInsert(t, c, bson.M{"email": int32(1)})
	if _, err := c.InsertOne(ctx, bson.M{"email": 1.0}); err == nil {
		t.Fatal("1.0 beside 1 in a unique index was accepted")
	}
	// The one known difference: arrays compare whole.
	mustInsert(t, c, bson.M{"email": bson.A{1, 2}}, bson.M{"email": bson.A{2, 3}})
	if _, err := c.InsertOne(ctx, bson.M{"email": bson.A{1, 2}}); err == nil {
		t.Fatal("an equal array in a unique index was accepted")
	}
}

func asDup(err error, dup **db.DuplicateKeyError) bool {
	d, ok := err.(*db.DuplicateKeyError)
	if ok {
		*dup = d
	}
	return ok
}

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	specs := []indexSpec{
		{Name: "a_1", Keys: []db.IndexKey{{Field: "a"}}},
		{Name: "b_1", Keys: []db.IndexKey{{Field: "b"}}},
	}
	first := fmt.Sprint(choose(conditions(bson.M{"a": 1, "b": 2}), specs))
	for i := 0; i < 20; i++ {
		if got := fmt.Sprint(choose(conditions(bson.M{"a": 1, "b": 2}), specs)); got != first {
			t.Fatalf("plan changed between runs: %s then %s", first, got)
		}
	}
}

// TestWhereClauseText pins the clause written for a compound index: every
// combination of the fields' alternatives, the first field's varying
// slowest, with the arguments in the order of their placeholders.
func TestWhereClauseText(t *testing.T) {
	t.Parallel()
	specs := []indexSpec{{Name: "a_1_b_1", Keys: []db.IndexKey{{Field: "a"}, {Field: "b"}}}}
	p := choose(conditions(bson.M{"a": bson.M{"$in": bson.A{1, "x"}}, "b": bson.M{"$gt": 2}}), specs)
	a, b := keyExpr("a"), keyExpr("b")
	want := "(" + a + " IN (?, ?) AND " + b + " > ? AND " + b + " < ?) OR " +
		"(" + a + " IN (?, ?) AND " + b + " >= ? AND " + b + " < ?) OR " +
		"(" + a + " >= ? AND " + a + " < ? AND " + b + " > ? AND " + b + " < ?) OR " +
		"(" + a + " >= ? AND " + a + " < ? AND " + b + " >= ? AND " + b + " < ?)"
	if p.where != want || p.index != "a_1_b_1" || p.score != 15 {
		t.Fatalf("plan %q on %s (score %d), want %q", p.where, p.index, p.score, want)
	}
	if len(p.args) != 16 {
		t.Fatalf("%d arguments for 16 placeholders", len(p.args))
	}
	one, _, _ := goValueKey(1)
	if !reflect.DeepEqual(p.args[0], one) || !reflect.DeepEqual(p.args[8], []byte{tagArray}) || !reflect.DeepEqual(p.args[9], []byte{tagArray + 1}) {
		t.Fatalf("arguments out of order: %v", p.args)
	}
}
